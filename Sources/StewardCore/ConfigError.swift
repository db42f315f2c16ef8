import StewardProtocol

/// A configuration value Steward cannot use, located by its key path so the config loader can
/// turn it into a file and line.
public struct ConfigError: Error, Sendable, Hashable, CustomStringConvertible {
    /// Dotted keys with `[i]` for array elements (`policies[2].when.title.prefix`): the form
    /// `JSONParser.parseWithLines` records lines under.
    public var path: String
    public var message: String

    public init(path: String, _ message: String) {
        self.path = path
        self.message = message
    }

    public var description: String { path.isEmpty ? message : "\(path): \(message)" }
}

/// A value inside a config document together with its key path, so every read can fail with an
/// error that says where.
struct ConfigNode {
    let value: JSONValue
    let path: String

    init(_ value: JSONValue, path: String = "") {
        self.value = value
        self.path = path
    }

    /// Absent and `null` count the same: not given.
    var isMissing: Bool { value.isNull }

    func child(_ key: String) -> ConfigNode {
        ConfigNode(value[key], path: path.isEmpty ? key : path + "." + key)
    }

    func error(_ message: String) -> ConfigError { ConfigError(path: path, message) }

    func expected(_ what: String) -> ConfigError { error("expected \(what), got \(value.typeName)") }

    /// The members of an object, sorted by key so errors come out in a stable order. With
    /// `allowedKeys`, an unknown key is an error: in access rules a typo must not pass silently.
    func members(allowedKeys: [String]? = nil) throws -> [(key: String, node: ConfigNode)] {
        guard case .object(let object) = value else { throw expected("an object") }
        let sorted = object.keys.sorted()
        if let allowedKeys {
            for key in sorted where !allowedKeys.contains(key) {
                throw child(key).error("unknown key (expected one of \(allowedKeys.joined(separator: ", ")))")
            }
        }
        return sorted.map { ($0, child($0)) }
    }

    /// Checks the node is an object with only `allowedKeys`; missing counts as empty.
    func requireObject(allowedKeys: [String]) throws {
        if isMissing { return }
        _ = try members(allowedKeys: allowedKeys)
    }

    /// The members of an object; missing counts as empty.
    func optionalMembers() throws -> [(key: String, node: ConfigNode)] {
        isMissing ? [] : try members()
    }

    /// The elements of an array; missing counts as empty.
    func elements() throws -> [ConfigNode] {
        if isMissing { return [] }
        guard case .array(let items) = value else { throw expected("an array") }
        return items.indices.map { ConfigNode(items[$0], path: "\(path)[\($0)]") }
    }

    func string() throws -> String {
        guard case .string(let s) = value else {
            throw isMissing ? error("required, expected a string") : expected("a string")
        }
        return s
    }

    func nonEmptyString() throws -> String {
        let s = try string()
        if s.trimmingSpaces.isEmpty { throw error("must not be empty") }
        return s
    }

    func optionalString() throws -> String? {
        isMissing ? nil : try string()
    }

    /// A list of strings; a single string is accepted as a list of one.
    func stringList() throws -> [String] {
        switch value {
        case .string(let s): return [s]
        case .array, .null: return try elements().map { try $0.string() }
        default: throw expected("a string or a list of strings")
        }
    }

    func optionalBool() throws -> Bool? {
        if isMissing { return nil }
        guard case .bool(let b) = value else { throw expected("true or false") }
        return b
    }

    func optionalInt(in range: ClosedRange<Int>) throws -> Int? {
        if isMissing { return nil }
        guard let i = value.intValue else { throw expected("an integer") }
        guard range.contains(i) else { throw error("must be between \(range.lowerBound) and \(range.upperBound), got \(i)") }
        return i
    }

    func optionalNumber(in range: ClosedRange<Double>) throws -> Double? {
        if isMissing { return nil }
        guard let d = value.doubleValue else { throw expected("a number") }
        guard range.contains(d) else { throw error("must be between \(range.lowerBound.compactText) and \(range.upperBound.compactText), got \(d.compactText)") }
        return d
    }

    /// One of an enumeration's raw values, with the choices named in the error.
    func optionalChoice<T: RawRepresentable & CaseIterable>(_ type: T.Type) throws -> T? where T.RawValue == String {
        guard let s = try optionalString() else { return nil }
        guard let v = T(rawValue: s) else {
            throw error("unknown value \"\(s)\" (expected one of \(T.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        return v
    }
}

extension String {
    var trimmingSpaces: Substring {
        var s = self[...]
        while let c = s.first, c == " " || c == "\t" { s = s.dropFirst() }
        while let c = s.last, c == " " || c == "\t" { s = s.dropLast() }
        return s
    }
}

extension Double {
    /// `10` rather than `10.0` for whole numbers, one decimal otherwise: for messages.
    var compactText: String {
        if rounded() == self && abs(self) < 1e15 { return String(Int(self)) }
        return String((self * 10).rounded() / 10)
    }
}
