import ConnectorKit
import StewardProtocol

/// Groups as the `group` entitlement type: listed from `/Groups`, granted and revoked by
/// adding and removing members (RFC 7644 §3.5.2), and read back as grants from each group's
/// `members`.
struct GroupOperations: Sendable {
    static let coreURN = "urn:ietf:params:scim:schemas:core:2.0:Group"
    static let type = "group"

    let scim: ScimService
    let features: ProviderFeatures
    let pager: ResourcePager
    let endpoint: String
    let defaultPageSize: Int

    func list(_ params: ListParams, ctx: RequestContext) async throws -> StewardProtocol.Page<Entitlement> {
        let page = try await pager.page(endpoint, cursor: params.cursor, count: params.pageSize ?? defaultPageSize,
                                        query: [("attributes", "displayName,externalId")], ctx: ctx)
        let items = page.resources.compactMap { group -> Entitlement? in
            guard let id = group["id"]?.stringValue else { return nil }
            return Entitlement(type: Self.type, id: id, name: AttributePath.member(group, "displayName")?.stringValue ?? id)
        }
        return StewardProtocol.Page(items: items, nextCursor: page.next)
    }

    func grant(_ params: GrantChangeParams, ctx: RequestContext) async throws -> MutationResult {
        if try await isMember(params.accountId, of: params.entitlementId, ctx: ctx) { return MutationResult(alreadyApplied: true) }
        try await change(params.entitlementId, ctx: ctx, [
            PatchOperation(op: "add", path: "members", value: [["value": .string(params.accountId)]]),
        ])
        return MutationResult(alreadyApplied: false)
    }

    func revoke(_ params: GrantChangeParams, ctx: RequestContext) async throws -> MutationResult {
        if try await !isMember(params.accountId, of: params.entitlementId, ctx: ctx) { return MutationResult(alreadyApplied: true) }
        try await change(params.entitlementId, ctx: ctx, [
            PatchOperation(op: "remove", path: "members[value eq \(JSONWriter.string(.string(params.accountId)))]"),
        ])
        return MutationResult(alreadyApplied: false)
    }

    /// The group grants in one page of groups, each group's members read from the group.
    func grantsPage(cursor: String?, pageSize: Int, onlyAccount: String?, ctx: RequestContext) async throws -> ([Grant], String?) {
        // Groups carry their members: a few per page keeps answers a sensible size.
        let page = try await pager.page(endpoint, cursor: cursor, count: min(pageSize, 100),
                                        query: [("attributes", "members")], ctx: ctx)
        var grants: [Grant] = []
        for group in page.resources {
            guard let groupId = group["id"]?.stringValue else { continue }
            for member in AttributePath.member(group, "members")?.arrayValue ?? [] {
                guard let memberId = member["value"].stringValue else { continue }
                if let type = member["type"].stringValue, type.lowercased() != "user" { continue }
                if let onlyAccount, memberId != onlyAccount { continue }
                grants.append(Grant(accountId: memberId, type: Self.type, entitlementId: groupId))
            }
        }
        return (grants, page.next)
    }

    /// The groups a user is in, from the user's `groups` attribute (only when the provider has it).
    func groups(ofUser user: [String: JSONValue]) -> [String] {
        (AttributePath.member(user, "groups")?.arrayValue ?? []).compactMap { group in
            if let type = group["type"].stringValue, type.lowercased() != "direct" { return nil }
            return group["value"].stringValue
        }
    }

    /// Whether the user is a member: from the user's `groups` where the provider derives it,
    /// else from the group's `members`.
    private func isMember(_ userId: String, of groupId: String, ctx: RequestContext) async throws -> Bool {
        if features.userHas("groups") {
            let reply = try await scim.send("GET", ScimService.resourcePath(features.userEndpoint, userId),
                                            query: [("attributes", "groups")], ctx: ctx)
            if reply.status == 404 { throw ConnectorError(.notFound, "no user has id \"\(userId)\"", outcome: .notApplied) }
            guard reply.isSuccess else { throw scim.error(reply) }
            return groups(ofUser: reply.object).contains(groupId)
        }
        let reply = try await scim.send("GET", ScimService.resourcePath(endpoint, groupId), query: [("attributes", "members")], ctx: ctx)
        if reply.status == 404 { throw ConnectorError(.notFound, "no group has id \"\(groupId)\"", outcome: .notApplied) }
        guard reply.isSuccess else { throw scim.error(reply) }
        return (AttributePath.member(reply.object, "members")?.arrayValue ?? []).contains { $0["value"].stringValue == userId }
    }

    /// Sends membership operations: PATCH, or GET, edit and PUT where PATCH is missing.
    private func change(_ groupId: String, ctx: RequestContext, _ operations: [PatchOperation]) async throws {
        let path = ScimService.resourcePath(endpoint, groupId)
        if features.patch {
            // Member adds and removes commute, so no If-Match: a concurrent change elsewhere in
            // the group must not fail this one.
            let reply = try await scim.send("PATCH", path, body: PatchOperation.body(operations), idempotent: true, ctx: ctx)
            try check(reply, groupId)
            return
        }
        for attempt in 1...2 {
            let current = try await scim.send("GET", path, ctx: ctx)
            try check(current, groupId)
            var group = current.object
            try LocalPatch.apply(operations, to: &group)
            let reply = try await scim.send("PUT", path, body: LocalPatch.replacement(group),
                                            ifMatch: features.etag ? current.etag : nil, ctx: ctx)
            if reply.status == 412, attempt == 1 { continue }
            try check(reply, groupId)
            return
        }
    }

    private func check(_ reply: ScimService.Reply, _ groupId: String) throws {
        if reply.status == 404 { throw ConnectorError(.notFound, "no group has id \"\(groupId)\"", outcome: .notApplied) }
        guard reply.isSuccess else { throw scim.error(reply) }
    }
}
