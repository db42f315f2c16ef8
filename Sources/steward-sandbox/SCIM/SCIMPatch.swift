import StewardJSON

/// One operation of a PATCH request (RFC 7644 §3.5.2).
struct PatchOperation {
    enum Kind: String { case add, replace, remove }

    var kind: Kind
    var path: PatchPath?
    var value: JSONValue?

    /// Parses a `PatchOp` message, checking every operation before any is applied.
    static func parseRequest(_ body: JSONValue, type: SCIMResourceType) throws(SCIMError) -> [PatchOperation] {
        guard case .object(let object) = body else { throw SCIMError.badRequest(.invalidSyntax, "a PATCH body must be a JSON object") }
        guard case .array(let schemas)? = object["schemas"],
              schemas.contains(where: { $0.stringValue?.lowercased() == SCIMSchemas.patchOpURN.lowercased() })
        else { throw SCIMError.badRequest(.invalidSyntax, "'schemas' must list \(SCIMSchemas.patchOpURN)") }
        let operationsValue = object["Operations"] ?? object.first(where: { $0.key.lowercased() == "operations" })?.value
        guard case .array(let items)? = operationsValue, !items.isEmpty else {
            throw SCIMError.badRequest(.invalidSyntax, "'Operations' must be a non-empty array")
        }
        var operations: [PatchOperation] = []
        for (index, item) in items.enumerated() {
            guard case .object(let fields) = item else {
                throw SCIMError.badRequest(.invalidSyntax, "Operations[\(index)] must be an object")
            }
            func field(_ name: String) -> JSONValue? { fields.first { $0.key.lowercased() == name }?.value.nonNull }
            guard case .string(let opText)? = field("op"), let kind = Kind(rawValue: opText.lowercased()) else {
                throw SCIMError.badRequest(.invalidSyntax, "Operations[\(index)].op must be \"add\", \"replace\" or \"remove\"")
            }
            var path: PatchPath?
            if let pathValue = field("path") {
                guard case .string(let text) = pathValue else {
                    throw SCIMError.badRequest(.invalidPath, "Operations[\(index)].path must be a string")
                }
                path = try PatchPath.parse(text, in: type)
            }
            let value = field("value")
            switch kind {
            case .remove:
                guard path != nil else {
                    throw SCIMError.badRequest(.noTarget, "Operations[\(index)]: 'remove' needs a path")
                }
            case .add, .replace:
                guard value != nil || (kind == .replace && path != nil) else {
                    throw SCIMError.badRequest(.invalidValue, "Operations[\(index)]: '\(kind.rawValue)' needs a value")
                }
                if path == nil, value?.objectValue == nil {
                    throw SCIMError.badRequest(.invalidValue, "Operations[\(index)]: '\(kind.rawValue)' without a path needs an object value")
                }
            }
            operations.append(PatchOperation(kind: kind, path: path, value: value))
        }
        return operations
    }
}

/// Applies operations to a copy of a resource's stored attributes. The caller commits the
/// result only if every operation succeeded, so a failed PATCH changes nothing.
struct PatchApplier {
    let type: SCIMResourceType
    private(set) var attributes: [String: JSONValue]
    private var input: ResourceInput { ResourceInput(type: type) }

    init(type: SCIMResourceType, attributes: [String: JSONValue]) {
        self.type = type
        self.attributes = attributes
    }

    mutating func apply(_ operation: PatchOperation) throws(SCIMError) {
        guard let path = operation.path else {
            // No path: the value's members each name a target (RFC 7644 §3.5.2.1 and .3).
            guard case .object(let members)? = operation.value else { return }
            for (key, value) in members {
                if key.lowercased() == "schemas" { continue }
                if let ext = type.extensionSchema(key) {
                    guard case .object(let extMembers) = value else {
                        throw SCIMError.badRequest(.invalidValue, "'\(ext.id)' must be an object")
                    }
                    for (name, member) in extMembers {
                        try apply(operation.kind, PatchPath.parse("\(ext.id):\(name)", in: type), member)
                    }
                } else {
                    try apply(operation.kind, PatchPath.parse(key, in: type), value)
                }
            }
            return
        }
        try apply(operation.kind, path, operation.value)
    }

    private mutating func apply(_ kind: PatchOperation.Kind, _ path: PatchPath, _ value: JSONValue?) throws(SCIMError) {
        try checkMutable(path, removing: kind == .remove)
        let attribute = path.target.attribute
        if attribute.mutability == .writeOnly { return }  // accepted, never stored
        switch kind {
        case .add, .replace:
            let value = value ?? .null
            if path.filter != nil {
                try changeElements(path, value, replacing: kind == .replace)
            } else if let sub = path.target.sub {
                let normalized = try input.normalizeSingle(value, as: sub, path: path.text)
                if attribute.multiValued {
                    // Every element's sub-attribute, e.g. `emails.primary`.
                    let items = (get(path.target)?.arrayValue ?? []).map { item -> JSONValue in
                        var object = item.objectValue ?? [:]
                        object[sub.name] = normalized
                        return .object(object)
                    }
                    set(path.target, items.isEmpty ? nil : .array(items))
                } else {
                    var object = get(path.target)?.objectValue ?? [:]
                    object[sub.name] = normalized
                    set(path.target, object.isEmpty ? nil : .object(object))
                }
            } else if attribute.multiValued {
                let incoming = try input.normalize(value, as: attribute, path: path.text)?.arrayValue ?? []
                if kind == .replace {
                    set(path.target, incoming.isEmpty ? nil : .array(incoming))
                } else {
                    var items = get(path.target)?.arrayValue ?? []
                    let added = incoming.filter { item in !items.contains { PatchApplier.sameElement($0, item, of: attribute) } }
                    // A new primary value takes over from the old one (RFC 7643 §2.4).
                    if added.contains(where: { $0["primary"] == .bool(true) }) {
                        items = items.map { PatchApplier.clearingPrimary($0) }
                    }
                    items.append(contentsOf: added)
                    set(path.target, items.isEmpty ? nil : .array(items))
                }
            } else if attribute.isComplex {
                // Sub-attributes given replace or add; the others stay (§3.5.2.3).
                guard let incoming = try input.normalizeSingle(value, as: attribute, path: path.text)?.objectValue else {
                    if kind == .replace { set(path.target, nil) }
                    return
                }
                var object = get(path.target)?.objectValue ?? [:]
                for (key, member) in incoming { object[key] = member }
                set(path.target, .object(object))
            } else {
                set(path.target, try input.normalizeSingle(value, as: attribute, path: path.text))
            }
        case .remove:
            if let filter = path.filter {
                let items = get(path.target)?.arrayValue ?? []
                var kept: [JSONValue] = []
                for item in items {
                    guard case .object(let object) = item, FilterEvaluator.matches(filter, element: object) else {
                        kept.append(item)
                        continue
                    }
                    if let sub = path.elementSub {
                        var trimmed = object
                        trimmed[sub.name] = nil
                        if !trimmed.isEmpty { kept.append(.object(trimmed)) }
                    }
                }
                set(path.target, kept.isEmpty ? nil : .array(kept))
            } else if let sub = path.target.sub {
                if attribute.multiValued {
                    let items = (get(path.target)?.arrayValue ?? []).compactMap { item -> JSONValue? in
                        var object = item.objectValue ?? [:]
                        object[sub.name] = nil
                        return object.isEmpty ? nil : .object(object)
                    }
                    set(path.target, items.isEmpty ? nil : .array(items))
                } else {
                    var object = get(path.target)?.objectValue ?? [:]
                    object[sub.name] = nil
                    set(path.target, object.isEmpty ? nil : .object(object))
                }
            } else if attribute.multiValued, let value, !value.isNull {
                // Not in RFC 7644 but sent by common clients: remove the listed values,
                // e.g. `{"op":"remove","path":"members","value":[{"value":"id"}]}`.
                let doomed = try input.normalize(value, as: attribute, path: path.text)?.arrayValue ?? []
                let kept = (get(path.target)?.arrayValue ?? []).filter { item in
                    !doomed.contains { PatchApplier.sameElement(item, $0, of: attribute) || PatchApplier.selects($0, item) }
                }
                set(path.target, kept.isEmpty ? nil : .array(kept))
            } else {
                set(path.target, nil)
            }
        }
    }

    /// `add`/`replace` with a value filter: change the matching elements, or create one from
    /// the filter's `eq` terms when the attribute has no value at all (or for `add`).
    private mutating func changeElements(_ path: PatchPath, _ value: JSONValue, replacing: Bool) throws(SCIMError) {
        guard let filter = path.filter else { return }
        let attribute = path.target.attribute
        var items = get(path.target)?.arrayValue ?? []
        var matched = false
        let sub = path.elementSub
        let subValue = try sub.map { (s: SCIMAttribute) throws(SCIMError) in try input.normalizeSingle(value, as: s, path: path.text) }
        var newElement: [String: JSONValue]?
        if sub == nil {
            newElement = try input.normalizeSingle(value, as: attribute, path: path.text)?.objectValue
            if newElement == nil, !value.isNull {
                throw SCIMError.badRequest(.invalidValue, "'\(path.text)' needs an object value")
            }
        }
        for index in items.indices {
            guard case .object(var object) = items[index], FilterEvaluator.matches(filter, element: object) else { continue }
            matched = true
            if let sub {
                object[sub.name] = subValue ?? nil
            } else if replacing {
                object = newElement ?? [:]
            } else {
                for (key, member) in newElement ?? [:] { object[key] = member }
            }
            items[index] = .object(object)
        }
        if !matched {
            if replacing, !items.isEmpty {
                throw SCIMError.badRequest(.noTarget, "no value of '\(attribute.name)' matches '\(path.text)'")
            }
            guard var created = filter.equalityAssignments else {
                throw SCIMError.badRequest(.noTarget, "no value of '\(attribute.name)' matches '\(path.text)'")
            }
            if let sub {
                created[sub.name] = subValue ?? nil
            } else {
                for (key, member) in newElement ?? [:] { created[key] = member }
            }
            if created[("primary")] == .bool(true) { items = items.map { PatchApplier.clearingPrimary($0) } }
            items.append(.object(created))
        }
        items = items.filter { FilterEvaluator.isPresent($0) }
        set(path.target, items.isEmpty ? nil : .array(items))
    }

    private func checkMutable(_ path: PatchPath, removing: Bool) throws(SCIMError) {
        let attribute = path.target.attribute
        if attribute.mutability == .readOnly || path.target.sub?.mutability == .readOnly || path.elementSub?.mutability == .readOnly {
            throw SCIMError.badRequest(.mutability, "'\(path.text)' is read-only")
        }
        if removing, attribute.required, path.target.sub == nil, path.filter == nil {
            throw SCIMError.badRequest(.mutability, "'\(attribute.name)' is required and cannot be removed")
        }
    }

    private func get(_ target: ResolvedAttribute) -> JSONValue? {
        guard let container = target.container else { return attributes[target.attribute.name] }
        return attributes[container]?[target.attribute.name].nonNull
    }

    private mutating func set(_ target: ResolvedAttribute, _ value: JSONValue?) {
        let value = value.flatMap { FilterEvaluator.isPresent($0) ? $0 : nil }
        guard let container = target.container else {
            attributes[target.attribute.name] = value
            return
        }
        var inner = attributes[container]?.objectValue ?? [:]
        inner[target.attribute.name] = value
        attributes[container] = inner.isEmpty ? nil : .object(inner)
    }

    /// Members are the same member when their `value`s match, whatever else is sent with them.
    static func sameElement(_ a: JSONValue, _ b: JSONValue, of attribute: SCIMAttribute) -> Bool {
        if attribute.name == "members", let x = a["value"].stringValue, let y = b["value"].stringValue { return x == y }
        return a == b
    }

    /// Whether a listed element of a remove names `item`: every sub-attribute it gives has
    /// that value in `item` (`{"value":"Admin"}` removes `{"value":"Admin","primary":true}`).
    static func selects(_ listed: JSONValue, _ item: JSONValue) -> Bool {
        guard case .object(let wanted) = listed, case .object(let object) = item else { return listed == item }
        return !wanted.isEmpty && wanted.allSatisfy { object[$0.key] == $0.value }
    }

    static func clearingPrimary(_ item: JSONValue) -> JSONValue {
        guard case .object(var object) = item, object["primary"] == .bool(true) else { return item }
        object["primary"] = .bool(false)
        return .object(object)
    }
}

extension CompiledFilter {
    /// For a filter made only of `sub eq value` terms joined by `and`: those assignments.
    var equalityAssignments: [String: JSONValue]? {
        switch self {
        case .compare(.element(let sub), .eq, .string(let value, _)): return [sub.name: .string(value)]
        case .compare(.element(let sub), .eq, .bool(let value)): return [sub.name: .bool(value)]
        case .and(let a, let b):
            guard let left = a.equalityAssignments, let right = b.equalityAssignments else { return nil }
            return left.merging(right) { first, _ in first }
        default: return nil
        }
    }
}
