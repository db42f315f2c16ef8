import StewardJSON

/// Checks client JSON against a resource type and converts it to stored form: canonical
/// attribute names, typed values, read-only and write-only attributes dropped, extension
/// attributes under their URN. Errors name the attribute at fault.
struct ResourceInput {
    let type: SCIMResourceType

    /// The attributes of a full resource (POST, PUT, or a saved state file).
    func attributes(from body: JSONValue) throws(SCIMError) -> [String: JSONValue] {
        guard case .object(let object) = body else {
            throw SCIMError.badRequest(.invalidSyntax, "a \(type.name) must be a JSON object")
        }
        try checkSchemas(object["schemas"])
        var out: [String: JSONValue] = [:]
        for (key, value) in object {
            let lowered = key.lowercased()
            if lowered == "schemas" { continue }
            if let ext = type.extensionSchema(key) {
                guard case .object(let members) = value else {
                    if value.isNull { continue }
                    throw SCIMError.badRequest(.invalidValue, "'\(ext.id)' must be an object")
                }
                var stored: [String: JSONValue] = [:]
                for (name, member) in members {
                    guard let attribute = ext.attribute(named: name) else {
                        throw SCIMError.badRequest(.invalidValue, "'\(name)' is not an attribute of \(ext.id)")
                    }
                    if isStored(attribute), let normalized = try normalize(member, as: attribute, path: "\(ext.id):\(attribute.name)") {
                        stored[attribute.name] = normalized
                    }
                }
                if !stored.isEmpty { out[ext.id] = .object(stored) }
                continue
            }
            guard let attribute = SCIMSchemas.common.first(where: { $0.name.lowercased() == lowered }) ?? type.schema.attribute(named: key) else {
                throw SCIMError.badRequest(.invalidValue, "'\(key)' is not an attribute of \(type.name)")
            }
            if isStored(attribute), let normalized = try normalize(value, as: attribute, path: attribute.name) {
                out[attribute.name] = normalized
            }
        }
        try checkRequired(out)
        return out
    }

    /// Every required attribute of the core schema has a value.
    func checkRequired(_ attributes: [String: JSONValue]) throws(SCIMError) {
        for attribute in type.schema.attributes where attribute.required {
            guard let value = attributes[attribute.name], FilterEvaluator.isPresent(value) else {
                throw SCIMError.badRequest(.invalidValue, "'\(attribute.name)' is required")
            }
        }
    }

    /// Read-only values from a client are ignored (RFC 7643 §2.2); passwords are accepted but
    /// never kept, so they can never be returned or saved.
    func isStored(_ attribute: SCIMAttribute) -> Bool {
        attribute.mutability != .readOnly && attribute.mutability != .writeOnly
    }

    private func checkSchemas(_ value: JSONValue?) throws(SCIMError) {
        guard case .array(let items)? = value, !items.isEmpty else {
            throw SCIMError.badRequest(.invalidSyntax, "'schemas' is required and must list \(type.schema.id)")
        }
        var hasCore = false
        for item in items {
            guard case .string(let urn) = item else {
                throw SCIMError.badRequest(.invalidSyntax, "'schemas' must be an array of strings")
            }
            if urn.lowercased() == type.schema.id.lowercased() {
                hasCore = true
            } else if type.extensionSchema(urn) == nil {
                throw SCIMError.badRequest(.invalidSyntax, "'schemas' lists '\(urn)', which \(type.name) does not support")
            }
        }
        guard hasCore else { throw SCIMError.badRequest(.invalidSyntax, "'schemas' must list \(type.schema.id)") }
    }

    /// A value converted to stored form, or nil when it is null or empty (unassigned).
    /// A single value for a multi-valued attribute is taken as a one-element array.
    func normalize(_ value: JSONValue, as attribute: SCIMAttribute, path: String) throws(SCIMError) -> JSONValue? {
        if value.isNull { return nil }
        guard attribute.multiValued else { return try normalizeSingle(value, as: attribute, path: path) }
        let items: [JSONValue]
        if case .array(let array) = value { items = array } else { items = [value] }
        var out: [JSONValue] = []
        for (index, item) in items.enumerated() {
            if let normalized = try normalizeSingle(item, as: attribute, path: "\(path)[\(index)]"), !out.contains(normalized) {
                out.append(normalized)
            }
        }
        if attribute.subAttribute(named: "primary") != nil, out.filter({ $0["primary"] == .bool(true) }).count > 1 {
            throw SCIMError.badRequest(.invalidValue, "more than one value of '\(path)' is primary")
        }
        return out.isEmpty ? nil : .array(out)
    }

    func normalizeSingle(_ value: JSONValue, as attribute: SCIMAttribute, path: String) throws(SCIMError) -> JSONValue? {
        switch (attribute.type, value) {
        case (_, .null):
            return nil
        case (.complex, .object(let object)):
            var out: [String: JSONValue] = [:]
            for (key, member) in object {
                guard let sub = attribute.subAttribute(named: key) else {
                    throw SCIMError.badRequest(.invalidValue, "'\(key)' is not a sub-attribute of '\(path)'")
                }
                if sub.mutability == .readOnly { continue }
                if let normalized = try normalizeSingle(member, as: sub, path: "\(path).\(sub.name)") { out[sub.name] = normalized }
            }
            return out.isEmpty ? nil : .object(out)
        case (.string, .string), (.reference, .string), (.binary, .string):
            return value
        case (.boolean, .bool):
            return value
        case (.boolean, .string(let text)) where ["true", "false"].contains(text.lowercased()):
            // Some clients (notably Entra ID) send booleans as strings.
            return .bool(text.lowercased() == "true")
        case (.integer, _) where value.intValue != nil:
            return value.intValue.map { .int($0) }
        case (.decimal, .int), (.decimal, .double):
            return value
        case (.dateTime, .string(let text)):
            guard let millis = SCIMTime.parse(text) else {
                throw SCIMError.badRequest(.invalidValue, "'\(path)' must be an RFC 3339 date-time, not '\(text)'")
            }
            return .string(SCIMTime.format(millis))
        default:
            let expected = attribute.type == .complex ? "object" : attribute.type.rawValue
            throw SCIMError.badRequest(.invalidValue, "'\(path)' must be \(expected == "integer" ? "an" : "a") \(expected), not \(value.typeName)")
        }
    }
}

/// The `attributes` / `excludedAttributes` request parameters (RFC 7644 §3.9).
struct AttributeSelection {
    struct Key: Hashable {
        var container: String?
        var name: String
    }

    enum Mode {
        case all
        case only([Key: Set<String>?])
        case except([Key: Set<String>?])
    }

    var mode: Mode

    static let all = AttributeSelection(mode: .all)

    static func parse(attributes: String?, excluded: String?, type: SCIMResourceType) throws(SCIMError) -> AttributeSelection {
        if let attributes, !attributes.isEmpty {
            return AttributeSelection(mode: .only(try keys(attributes, type: type)))
        }
        if let excluded, !excluded.isEmpty {
            return AttributeSelection(mode: .except(try keys(excluded, type: type)))
        }
        return .all
    }

    /// Names grouped by attribute: nil means the whole attribute, a set means those sub-attributes.
    private static func keys(_ list: String, type: SCIMResourceType) throws(SCIMError) -> [Key: Set<String>?] {
        var keys: [Key: Set<String>?] = [:]
        for raw in list.split(separator: ",") {
            let name = raw.trimmingSpaces()
            if let ext = type.extensionSchema(name) {
                for attribute in ext.attributes { keys[Key(container: ext.id, name: attribute.name)] = .some(nil) }
                continue
            }
            guard let resolved = type.resolve(name) else {
                throw SCIMError.badRequest(.invalidPath, "'\(name)' is not an attribute of \(type.name)")
            }
            let key = Key(container: resolved.container, name: resolved.attribute.name)
            if let sub = resolved.sub {
                if case .some(.some(var subs)) = keys[key] {
                    subs.insert(sub.name)
                    keys[key] = subs
                } else if keys[key] == nil {
                    keys[key] = [sub.name]
                }
            } else {
                keys[key] = .some(nil)
            }
        }
        return keys
    }

    func apply(_ full: [String: JSONValue], type: SCIMResourceType) -> [String: JSONValue] {
        switch mode {
        case .all:
            return full
        case .only(let keys):
            var out: [String: JSONValue] = [:]
            for (key, value) in full where key == "id" || key == "schemas" { out[key] = value }
            for (key, subs) in keys {
                guard let value = AttributeSelection.lookup(full, key) else { continue }
                let kept = subs.map { AttributeSelection.keepOnly($0, in: value) } ?? value
                if let kept { AttributeSelection.store(&out, key, kept) }
            }
            return out
        case .except(let keys):
            var out = full
            for (key, subs) in keys where !(key.container == nil && ["id", "schemas"].contains(key.name)) {
                guard let value = AttributeSelection.lookup(full, key) else { continue }
                if let subs {
                    AttributeSelection.store(&out, key, AttributeSelection.remove(subs, from: value))
                } else {
                    AttributeSelection.store(&out, key, nil)
                }
            }
            return out
        }
    }

    private static func lookup(_ object: [String: JSONValue], _ key: Key) -> JSONValue? {
        guard let container = key.container else { return object[key.name] }
        return object[container]?[key.name].nonNull
    }

    private static func store(_ object: inout [String: JSONValue], _ key: Key, _ value: JSONValue?) {
        guard let container = key.container else {
            object[key.name] = value
            return
        }
        var inner = object[container]?.objectValue ?? [:]
        inner[key.name] = value
        object[container] = inner.isEmpty ? nil : .object(inner)
    }

    private static func keepOnly(_ subs: Set<String>, in value: JSONValue) -> JSONValue? {
        switch value {
        case .object(let o):
            let kept = o.filter { subs.contains($0.key) }
            return kept.isEmpty ? nil : .object(kept)
        case .array(let items):
            let kept = items.compactMap { keepOnly(subs, in: $0) }
            return kept.isEmpty ? nil : .array(kept)
        default:
            return value
        }
    }

    private static func remove(_ subs: Set<String>, from value: JSONValue) -> JSONValue? {
        switch value {
        case .object(let o):
            let kept = o.filter { !subs.contains($0.key) }
            return kept.isEmpty ? nil : .object(kept)
        case .array(let items):
            let kept = items.compactMap { remove(subs, from: $0) }
            return kept.isEmpty ? nil : .array(kept)
        default:
            return value
        }
    }
}

extension JSONValue {
    /// nil for `.null`, so optional chaining treats JSON null as absent.
    var nonNull: JSONValue? { isNull ? nil : self }
}

extension StringProtocol {
    func trimmingSpaces() -> String {
        var s = Substring(self)
        while s.first == " " { s.removeFirst() }
        while s.last == " " { s.removeLast() }
        return String(s)
    }
}
