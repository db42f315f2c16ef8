/// A type that crosses the wire: read from and written to `JSONValue` by hand.
public protocol JSONConvertible: Sendable {
    /// Reads the value; errors are `ConnectorError(.invalidArgument)` naming `path`.
    init(json: JSONValue, path: String) throws
    var json: JSONValue { get }
}

extension JSONConvertible {
    public init(json: JSONValue) throws { try self.init(json: json, path: "") }
}

/// Typed access to an object's members, with errors that name the member's path
/// (`params.account.userName: expected a string, got number`).
public struct JSONFields {
    public let object: [String: JSONValue]
    public let path: String

    public init(_ json: JSONValue, path: String) throws {
        switch json {
        case .object(let o): object = o
        case .null where path.isEmpty: object = [:]
        default: throw ConnectorError(.invalidArgument, "\(path.isEmpty ? "params" : path): expected an object, got \(json.typeName)")
        }
        self.path = path
    }

    public func childPath(_ key: String) -> String { path.isEmpty ? key : path + "." + key }

    public func has(_ key: String) -> Bool { object[key].map { !$0.isNull } ?? false }

    public func string(_ key: String) throws -> String {
        guard let v = try optionalString(key) else { throw missing(key, "a string") }
        return v
    }

    public func optionalString(_ key: String) throws -> String? {
        guard let v = object[key], !v.isNull else { return nil }
        guard case .string(let s) = v else { throw wrongType(key, "a string", v) }
        return s
    }

    public func nonEmptyString(_ key: String) throws -> String {
        let s = try string(key)
        if s.isEmpty { throw ConnectorError(.invalidArgument, "\(childPath(key)): must not be empty") }
        return s
    }

    public func int(_ key: String) throws -> Int {
        guard let v = try optionalInt(key) else { throw missing(key, "an integer") }
        return v
    }

    public func optionalInt(_ key: String) throws -> Int? {
        guard let v = object[key], !v.isNull else { return nil }
        guard let i = v.intValue else { throw wrongType(key, "an integer", v) }
        return i
    }

    public func optionalDouble(_ key: String) throws -> Double? {
        guard let v = object[key], !v.isNull else { return nil }
        guard let d = v.doubleValue else { throw wrongType(key, "a number", v) }
        return d
    }

    public func bool(_ key: String, default defaultValue: Bool) throws -> Bool {
        try optionalBool(key) ?? defaultValue
    }

    public func optionalBool(_ key: String) throws -> Bool? {
        guard let v = object[key], !v.isNull else { return nil }
        guard case .bool(let b) = v else { throw wrongType(key, "a boolean", v) }
        return b
    }

    public func array(_ key: String) throws -> [JSONValue] {
        guard let v = object[key], !v.isNull else { return [] }
        guard case .array(let a) = v else { throw wrongType(key, "an array", v) }
        return a
    }

    public func stringArray(_ key: String) throws -> [String] {
        try array(key).enumerated().map { i, v in
            guard case .string(let s) = v else {
                throw ConnectorError(.invalidArgument, "\(childPath(key))[\(i)]: expected a string, got \(v.typeName)")
            }
            return s
        }
    }

    public func objectValue(_ key: String) throws -> [String: JSONValue] {
        guard let v = object[key], !v.isNull else { return [:] }
        guard case .object(let o) = v else { throw wrongType(key, "an object", v) }
        return o
    }

    public func stringMap(_ key: String) throws -> [String: String] {
        var result: [String: String] = [:]
        for (k, v) in try objectValue(key) {
            switch v {
            case .string(let s): result[k] = s
            case .null: continue
            case .int, .double, .bool: result[k] = JSONWriter.string(v)
            default: throw ConnectorError(.invalidArgument, "\(childPath(key)).\(k): expected a string, got \(v.typeName)")
            }
        }
        return result
    }

    public func decode<T: JSONConvertible>(_ key: String, as type: T.Type) throws -> T {
        guard let v = object[key], !v.isNull else { throw missing(key, "an object") }
        return try T(json: v, path: childPath(key))
    }

    public func decodeIfPresent<T: JSONConvertible>(_ key: String, as type: T.Type) throws -> T? {
        guard let v = object[key], !v.isNull else { return nil }
        return try T(json: v, path: childPath(key))
    }

    public func decodeArray<T: JSONConvertible>(_ key: String, of type: T.Type) throws -> [T] {
        let items = try array(key)
        var result: [T] = []
        result.reserveCapacity(items.count)
        let base = childPath(key)
        for (i, v) in items.enumerated() {
            result.append(try T(json: v, path: "\(base)[\(i)]"))
        }
        return result
    }

    func missing(_ key: String, _ expected: String) -> ConnectorError {
        ConnectorError(.invalidArgument, "\(childPath(key)): required, expected \(expected)")
    }

    func wrongType(_ key: String, _ expected: String, _ got: JSONValue) -> ConnectorError {
        ConnectorError(.invalidArgument, "\(childPath(key)): expected \(expected), got \(got.typeName)")
    }
}

extension Dictionary where Key == String, Value == String {
    /// The map as a JSON object of strings.
    public var json: JSONValue { .object(mapValues { .string($0) }) }
}
