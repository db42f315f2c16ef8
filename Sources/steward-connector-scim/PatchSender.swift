import ConnectorKit
import StewardProtocol

/// Sends PATCH requests in the form the provider takes.
///
/// The connector builds RFC 7644 operations, with value-filter paths where they name one
/// element (`members[value eq "id"]`, `emails[type eq "work"].value`). A provider that refuses
/// those (400 `invalidPath`) gets the same change in the forms common providers accept instead,
/// and from then on only those. The RFC form comes first on purpose: some providers treat
/// `{"op":"remove","path":"members","value":[...]}` as "remove every member", which is only safe
/// to send to one that has just said it does not take value filters.
struct PatchSender: Sendable {
    let scim: ScimService
    let learned: LearnedForms

    /// Sends `operations` to `path`. `current` is the resource as last read; without it, only
    /// changes that need no copy of the resource can be rewritten (removing elements by value).
    func send(_ path: String, _ operations: [PatchOperation], current: [String: JSONValue]?, ifMatch: String?,
              ctx: RequestContext) async throws -> ScimService.Reply {
        let filtered = operations.contains(where: FilterlessPatch.hasValueFilter)
        if filtered, learned.avoidsValueFilterPaths {
            return try await patch(path, try FilterlessPatch.rewrite(operations, current: current), ifMatch: ifMatch, ctx: ctx)
        }
        let reply = try await patch(path, operations, ifMatch: ifMatch, ctx: ctx)
        // A refused PATCH changed nothing (RFC 7644 §3.5.2: all operations or none), so the
        // same change can be sent again in the other form.
        guard filtered, reply.status == 400, let refusal = reply.scimType, ["invalidPath", "invalidFilter"].contains(refusal) else {
            return reply
        }
        let retry = try await patch(path, try FilterlessPatch.rewrite(operations, current: current), ifMatch: ifMatch, ctx: ctx)
        // Taken (or answered noTarget: parsed, nothing to remove): this is the form from now on.
        if retry.isSuccess || (retry.status == 400 && retry.scimType == "noTarget") {
            ctx.log(.info, "the provider refuses value filters in PATCH paths (\(refusal)); sending whole attributes and removes by value from now on")
            learned.refuseValueFilterPaths()
        }
        return retry
    }

    private func patch(_ path: String, _ operations: [PatchOperation], ifMatch: String?, ctx: RequestContext) async throws -> ScimService.Reply {
        try await scim.send("PATCH", path, body: PatchOperation.body(operations), ifMatch: ifMatch, idempotent: true, ctx: ctx)
    }
}

/// The connector's PATCH operations without value-filter paths, for providers that refuse them:
/// removing an element by its value becomes `{"op":"remove","path":"roles","value":[{"value":"x"}]}`,
/// and any other filtered operation becomes a `replace` of the whole attribute as it will be.
enum FilterlessPatch {
    static func hasValueFilter(_ operation: PatchOperation) -> Bool {
        guard let text = operation.path else { return false }
        return (try? AttributePath(parsing: text, field: "PATCH path"))?.filter != nil
    }

    static func rewrite(_ operations: [PatchOperation], current: [String: JSONValue]?) throws -> [PatchOperation] {
        // The resource as each operation finds it, so a whole-attribute replace carries the
        // effect of the operations before it.
        var resource = current
        var rewritten: [PatchOperation] = []
        for operation in operations {
            var after = resource
            if var edited = after {
                try LocalPatch.apply([operation], to: &edited)
                after = edited
            }
            rewritten.append(try rewrite(operation, after: after))
            resource = after
        }
        return rewritten
    }

    /// One operation without a value filter; `after` is the resource with it applied.
    private static func rewrite(_ operation: PatchOperation, after: [String: JSONValue]?) throws -> PatchOperation {
        guard let text = operation.path, let path = try? AttributePath(parsing: text, field: "PATCH path"), let filter = path.filter else {
            return operation
        }
        if operation.op == "remove", filter.attribute.lowercased() == "value", path.subAttribute == nil {
            return PatchOperation(op: "remove", path: path.topLevel, value: [["value": filter.value]])
        }
        guard let after else {
            throw ConnectorError(.internal, "cannot send PATCH path \"\(text)\" without its value filter: the resource was not read",
                                 outcome: .notApplied)
        }
        guard let whole = path.lookupWhole(after) else { return PatchOperation(op: "remove", path: path.topLevel) }
        return PatchOperation(op: "replace", path: path.topLevel, value: whole)
    }
}
