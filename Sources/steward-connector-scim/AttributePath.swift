import StewardProtocol

/// A SCIM attribute path as the connector's attribute mapping uses it (RFC 7644 §3.5.2):
/// `userName`, `name.givenName`, `emails[type eq "work"].value`,
/// `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber`.
///
/// It reads a value out of a resource, writes one into a resource being built (create, PUT),
/// and says which PATCH operation changes it. Value filters are limited to one `eq` comparison,
/// which is what mappings need; anything more is refused when the settings are read.
struct AttributePath: Sendable, Hashable, CustomStringConvertible {
    /// The extension schema URN, or nil for the core schema.
    var schema: String?
    var attribute: String
    /// `emails[type eq "work"]`: the element of a multi-valued attribute this path points at.
    var filter: ValueFilter?
    var subAttribute: String?

    struct ValueFilter: Sendable, Hashable {
        var attribute: String
        var value: JSONValue
    }

    init(schema: String? = nil, attribute: String, filter: ValueFilter? = nil, subAttribute: String? = nil) {
        self.schema = schema
        self.attribute = attribute
        self.filter = filter
        self.subAttribute = subAttribute
    }

    /// Parses `text`; errors name `field` (the setting it came from).
    init(parsing text: String, field: String) throws {
        var rest = Substring(text.trimmingCharacters(in: .whitespaces))
        func fail(_ why: String) -> ConnectorError {
            ConnectorError(.configuration, "\(field): \"\(text)\" is not a SCIM attribute path: \(why)")
        }
        if rest.lowercased().hasPrefix("urn:") {
            // The URN ends at the last ':' before the attribute (and before any '[' or '.').
            let stop = rest.firstIndex { $0 == "[" } ?? rest.endIndex
            guard let colon = rest[..<stop].lastIndex(of: ":") else { throw fail("a URN needs \":attribute\" at its end") }
            schema = String(rest[..<colon])
            rest = rest[rest.index(after: colon)...]
        }
        let nameEnd = rest.firstIndex { $0 == "[" || $0 == "." } ?? rest.endIndex
        attribute = String(rest[..<nameEnd])
        guard Self.isName(attribute) else { throw fail("\"\(attribute)\" is not an attribute name") }
        rest = rest[nameEnd...]
        if rest.first == "[" {
            guard let close = rest.firstIndex(of: "]") else { throw fail("\"[\" without \"]\"") }
            let inside = rest[rest.index(after: rest.startIndex)..<close].trimmingCharacters(in: .whitespaces)
            let parts = inside.split(separator: " ", maxSplits: 2, omittingEmptySubsequences: true)
            guard parts.count == 3, parts[1].lowercased() == "eq", Self.isName(String(parts[0])) else {
                throw fail("a value filter must look like [type eq \"work\"]")
            }
            let literal = String(parts[2])
            let value: JSONValue
            switch literal {
            case "true": value = true
            case "false": value = false
            default:
                guard let parsed = try? JSONParser.parse(literal), case .string = parsed else {
                    throw fail("the filter value must be a quoted string, true or false")
                }
                value = parsed
            }
            filter = ValueFilter(attribute: String(parts[0]), value: value)
            rest = rest[rest.index(after: close)...]
        }
        if rest.first == "." {
            let sub = String(rest.dropFirst())
            guard Self.isName(sub) else { throw fail("\"\(sub)\" is not a sub-attribute name") }
            subAttribute = sub
        } else if !rest.isEmpty {
            throw fail("unexpected \"\(rest)\"")
        }
    }

    private static func isName(_ s: String) -> Bool {
        guard let first = s.unicodeScalars.first, first.properties.isAlphabetic || first == "$" else { return false }
        return s.unicodeScalars.allSatisfy { $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || $0 == "_" || $0 == "-" || $0 == "$") }
    }

    /// The path as SCIM writes it, for PATCH `path` and filters.
    var description: String {
        var s = schema.map { $0 + ":" } ?? ""
        s += attribute
        if let filter { s += "[\(filter.attribute) eq \(JSONWriter.string(filter.value))]" }
        if let subAttribute { s += "." + subAttribute }
        return s
    }

    /// The path of the whole attribute (`emails`, `urn:...:User:manager`).
    var topLevel: String { (schema.map { $0 + ":" } ?? "") + attribute }

    /// What to name in an `attributes=` request parameter to get this path's value back:
    /// the sub-attribute where there is no filter (`name.givenName`), else the attribute.
    var selection: String { filter == nil ? topLevel + (subAttribute.map { "." + $0 } ?? "") : topLevel }

    // MARK: Reading

    /// The value at this path in `resource`, as text; multi-valued attributes without a filter
    /// give their primary (or first) element's value.
    func read(_ resource: [String: JSONValue]) -> String? {
        guard let value = lookup(resource) else { return nil }
        return Self.text(value)
    }

    /// The raw value at this path.
    func lookup(_ resource: [String: JSONValue]) -> JSONValue? {
        guard let container = container(in: resource), var value = Self.member(container, attribute) else { return nil }
        if case .array(let items) = value {
            let element: JSONValue?
            if let filter {
                element = items.first { Self.matches($0, filter) }
            } else {
                element = items.first { Self.member($0.objectValue ?? [:], "primary")?.boolValue == true } ?? items.first
            }
            guard let element else { return nil }
            value = element
        } else if filter != nil {
            return nil
        }
        if let subAttribute {
            guard case .object(let o) = value, let sub = Self.member(o, subAttribute) else { return nil }
            return sub
        }
        return value
    }

    /// The schema's part of the resource: the root, or the extension's object.
    private func container(in resource: [String: JSONValue]) -> [String: JSONValue]? {
        guard let schema else { return resource }
        return Self.member(resource, schema)?.objectValue
    }

    static func matches(_ element: JSONValue, _ filter: ValueFilter) -> Bool {
        guard case .object(let o) = element, let v = member(o, filter.attribute) else { return false }
        switch (v, filter.value) {
        case (.string(let a), .string(let b)): return a.lowercased() == b.lowercased()
        default: return v == filter.value
        }
    }

    /// A member by name, ignoring case as SCIM attribute names do (RFC 7643 §2.1).
    static func member(_ object: [String: JSONValue], _ name: String) -> JSONValue? {
        if let v = object[name] { return v.isNull ? nil : v }
        for (k, v) in object where sameName(k, name) { return v.isNull ? nil : v }
        return nil
    }

    /// ASCII case-insensitive equality without allocating (names are ASCII; URNs too).
    private static func sameName(_ a: String, _ b: String) -> Bool {
        guard a.utf8.count == b.utf8.count else { return false }
        for (x, y) in zip(a.utf8, b.utf8) where x != y {
            let lx = x >= 0x41 && x <= 0x5A ? x | 0x20 : x
            let ly = y >= 0x41 && y <= 0x5A ? y | 0x20 : y
            if lx != ly { return false }
        }
        return true
    }

    static func text(_ value: JSONValue) -> String? {
        switch value {
        case .string(let s): return s
        case .int, .double, .bool: return JSONWriter.string(value)
        default: return nil
        }
    }

    // MARK: Writing into a resource (create, PUT)

    /// Sets (or with nil, removes) the value at this path in `resource`.
    func write(_ newValue: JSONValue?, into resource: inout [String: JSONValue]) {
        if let schema {
            var ext = Self.member(resource, schema)?.objectValue ?? [:]
            writeInContainer(newValue, into: &ext)
            let key = resource.keys.first { $0.lowercased() == schema.lowercased() } ?? schema
            if ext.isEmpty { resource[key] = nil } else { resource[key] = .object(ext) }
            if !ext.isEmpty { addSchema(schema, to: &resource) }
        } else {
            writeInContainer(newValue, into: &resource)
        }
    }

    private func writeInContainer(_ newValue: JSONValue?, into container: inout [String: JSONValue]) {
        let key = container.keys.first { $0.lowercased() == attribute.lowercased() } ?? attribute
        if let filter {
            var items = container[key]?.arrayValue ?? []
            let index = items.firstIndex { Self.matches($0, filter) }
            if let newValue {
                var element = index.flatMap { items[$0].objectValue } ?? [filter.attribute: filter.value]
                if let subAttribute { element[subAttribute] = newValue } else if case .object(let o) = newValue { element.merge(o) { _, b in b } }
                if let index { items[index] = .object(element) } else { items.append(.object(element)) }
            } else if let index {
                items.remove(at: index)
            }
            container[key] = items.isEmpty ? nil : .array(items)
            return
        }
        guard let subAttribute else {
            container[key] = newValue
            return
        }
        var object = container[key]?.objectValue ?? [:]
        let subKey = object.keys.first { $0.lowercased() == subAttribute.lowercased() } ?? subAttribute
        object[subKey] = newValue
        container[key] = object.isEmpty ? nil : .object(object)
    }

    private func addSchema(_ urn: String, to resource: inout [String: JSONValue]) {
        var schemas = resource["schemas"]?.arrayValue ?? []
        if !schemas.contains(where: { $0.stringValue?.lowercased() == urn.lowercased() }) {
            schemas.append(.string(urn))
            resource["schemas"] = .array(schemas)
        }
    }

    // MARK: PATCH

    /// The PATCH operation that gives this path `newValue` (nil removes it), given the
    /// resource as it is now.
    func patchOperation(setting newValue: JSONValue?, current resource: [String: JSONValue]) -> PatchOperation {
        guard let newValue else {
            // Removing a filtered sub-attribute removes the element it lives in: an email entry
            // without a value would be invalid.
            if filter != nil {
                var whole = self
                whole.subAttribute = nil
                return PatchOperation(op: "remove", path: whole.description)
            }
            return PatchOperation(op: "remove", path: description)
        }
        if let filter, lookupElement(resource) == nil {
            // replace on a filter that matches nothing is a noTarget error (RFC 7644 §3.5.2.3):
            // add the element instead.
            var element: [String: JSONValue] = [filter.attribute: filter.value]
            if let subAttribute { element[subAttribute] = newValue } else if case .object(let o) = newValue { element.merge(o) { _, b in b } }
            return PatchOperation(op: "add", path: (schema.map { $0 + ":" } ?? "") + attribute, value: .array([.object(element)]))
        }
        return PatchOperation(op: "replace", path: description, value: newValue)
    }

    private func lookupElement(_ resource: [String: JSONValue]) -> JSONValue? {
        var whole = self
        whole.subAttribute = nil
        return whole.lookup(resource)
    }

    /// A filter expression matching resources whose value here equals `value`.
    func equalityFilter(_ value: String) -> String {
        let literal = JSONWriter.string(.string(value))
        let prefix = (schema.map { $0 + ":" } ?? "") + attribute
        switch (filter, subAttribute) {
        case (let f?, let sub?):
            return "\(prefix)[\(f.attribute) eq \(JSONWriter.string(f.value)) and \(sub) eq \(literal)]"
        case (let f?, nil):
            return "\(prefix)[\(f.attribute) eq \(JSONWriter.string(f.value)) and value eq \(literal)]"
        case (nil, let sub?):
            return "\(prefix).\(sub) eq \(literal)"
        case (nil, nil):
            return "\(prefix) eq \(literal)"
        }
    }
}

/// One operation of a PATCH request (RFC 7644 §3.5.2).
struct PatchOperation: Sendable, Equatable {
    var op: String
    var path: String?
    var value: JSONValue?

    var json: JSONValue {
        var b = JSONObjectBuilder(capacity: 3)
        b.set("op", op)
        b.set("path", path)
        b.set("value", value)
        return b.value
    }

    /// The request body for `operations`.
    static func body(_ operations: [PatchOperation]) -> JSONValue {
        ["schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": .array(operations.map(\.json))]
    }
}
