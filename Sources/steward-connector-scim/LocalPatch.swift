import StewardProtocol

/// Applies the connector's own PATCH operations to a resource in memory, for providers that do
/// not support PATCH: the connector reads the resource, edits it here, and PUTs it back.
///
/// It understands exactly the operations the connector builds (paths that `AttributePath`
/// parses), not every PATCH a client could send.
enum LocalPatch {
    static func apply(_ operations: [PatchOperation], to resource: inout [String: JSONValue]) throws {
        for operation in operations {
            guard let pathText = operation.path else {
                if case .object(let values)? = operation.value { resource.merge(values) { _, new in new } }
                continue
            }
            let path = try AttributePath(parsing: pathText, field: "PATCH path")
            switch operation.op {
            case "remove" where path.filter == nil && path.subAttribute == nil:
                // With a value, only the listed elements go (the form of providers without
                // value-filter paths); without, the whole attribute.
                if case .array(let doomed)? = operation.value {
                    let kept = (path.lookupWhole(resource)?.arrayValue ?? []).filter { item in !doomed.contains { sameValue(item, $0) } }
                    path.write(kept.isEmpty ? nil : .array(kept), into: &resource)
                } else {
                    path.write(nil, into: &resource)
                }
            case "remove":
                path.write(nil, into: &resource)
            case "add" where path.filter == nil && path.subAttribute == nil:
                if case .array(let added)? = operation.value {
                    var items = (path.lookupWhole(resource)?.arrayValue) ?? []
                    for item in added where !items.contains(where: { sameValue($0, item) }) { items.append(item) }
                    path.write(.array(items), into: &resource)
                } else {
                    path.write(operation.value, into: &resource)
                }
            default:
                path.write(operation.value, into: &resource)
            }
        }
    }

    /// Whether two elements of a multi-valued attribute are the same entry (same `value`).
    private static func sameValue(_ a: JSONValue, _ b: JSONValue) -> Bool {
        if let x = a["value"].stringValue, let y = b["value"].stringValue { return x == y }
        return a == b
    }

    /// The resource as a PUT body: without `meta` and the read-only `groups`.
    static func replacement(_ resource: [String: JSONValue]) -> JSONValue {
        var body = resource
        for key in body.keys where ["meta", "groups"].contains(key.lowercased()) { body[key] = nil }
        return .object(body)
    }
}

extension AttributePath {
    /// The attribute's whole value (the array of a multi-valued one), ignoring filter and
    /// sub-attribute.
    func lookupWhole(_ resource: [String: JSONValue]) -> JSONValue? {
        let container = schema.map { AttributePath.member(resource, $0)?.objectValue ?? [:] } ?? resource
        return AttributePath.member(container, attribute)
    }
}
