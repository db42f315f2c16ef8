import ConnectorKit
import StewardProtocol

/// Groups as the `group` entitlement type: listed from `/Groups`, granted and revoked by
/// adding and removing members (RFC 7644 §3.5.2), and read back as grants from each group's
/// `members`.
///
/// Membership is only ever read from the group itself. A User's `groups` is derived and
/// read-only (RFC 7643 §4.1.2), and many providers declare it in /Schemas yet never fill it:
/// trusting it made a revoke answer "already so" for a member who was still there.
struct GroupOperations: Sendable {
    static let coreURN = "urn:ietf:params:scim:schemas:core:2.0:Group"
    static let type = "group"

    let scim: ScimService
    let features: ProviderFeatures
    let pager: ResourcePager
    let endpoint: String
    let defaultPageSize: Int
    let learned: LearnedForms

    private var patcher: PatchSender { PatchSender(scim: scim, learned: learned) }

    func list(_ params: ListParams, ctx: RequestContext) async throws -> StewardProtocol.Page<Entitlement> {
        let page = try await pager.page(endpoint, cursor: params.cursor, count: params.pageSize ?? defaultPageSize,
                                        query: [("attributes", "displayName,externalId")], ctx: ctx)
        let items = page.resources.compactMap { group -> Entitlement? in
            guard let id = group["id"]?.stringValue else { return nil }
            return Entitlement(type: Self.type, id: id, name: AttributePath.member(group, "displayName")?.stringValue ?? id)
        }
        return StewardProtocol.Page(items: items, nextCursor: page.next)
    }

    // MARK: Writes

    /// Adds the member, unless the group's own `members` already lists them. Adding a member
    /// who is there is harmless, so anything short of that answer sends the PATCH.
    func grant(_ params: GrantChangeParams, ctx: RequestContext) async throws -> MutationResult {
        let (userId, groupId) = (params.accountId, params.entitlementId)
        guard features.patch else { return try await replaceMembers(groupId, adding: true, userId, ctx: ctx) }
        if try await members(of: groupId, ctx: ctx)?.contains(userId) == true { return MutationResult(alreadyApplied: true) }
        let reply = try await patcher.send(ScimService.resourcePath(endpoint, groupId), [
            PatchOperation(op: "add", path: "members", value: [["value": .string(userId)]]),
        ], current: nil, ifMatch: nil, ctx: ctx)
        try check(reply, groupId)
        return MutationResult(alreadyApplied: false)
    }

    /// Removes the member. "Already so" needs the group's `members` in hand without them, the
    /// provider's filter on the group's members finding nothing, or its own 400 `noTarget` to
    /// the remove. A group read without `members` (empty, or a provider that leaves them out)
    /// proves nothing by itself.
    func revoke(_ params: GrantChangeParams, ctx: RequestContext) async throws -> MutationResult {
        let (userId, groupId) = (params.accountId, params.entitlementId)
        guard features.patch else { return try await replaceMembers(groupId, adding: false, userId, ctx: ctx) }
        if let members = try await members(of: groupId, ctx: ctx) {
            if !members.contains(userId) { return MutationResult(alreadyApplied: true) }
        } else if try await filterFinds(userId, in: groupId, ctx: ctx) == false {
            return MutationResult(alreadyApplied: true)
        }
        let reply = try await patcher.send(ScimService.resourcePath(endpoint, groupId), [
            PatchOperation(op: "remove", path: "members[value eq \(JSONWriter.string(.string(userId)))]"),
        ], current: nil, ifMatch: nil, ctx: ctx)
        if reply.status == 400, reply.scimType == "noTarget" { return MutationResult(alreadyApplied: true) }
        try check(reply, groupId)
        if Self.memberIds(reply.object)?.contains(userId) == true {
            // The provider said yes and showed the member still there: it ignored the remove.
            throw ConnectorError(.internal, "the provider accepted removing \(userId) from group \(groupId) but its answer still lists them",
                                 outcome: .notApplied)
        }
        return MutationResult(alreadyApplied: false)
    }

    /// For providers without PATCH: reads the whole group, edits `members` and PUTs it back
    /// under its version. Only a read that lists members can show the change already made.
    private func replaceMembers(_ groupId: String, adding: Bool, _ userId: String, ctx: RequestContext) async throws -> MutationResult {
        let path = ScimService.resourcePath(endpoint, groupId)
        for attempt in 1...2 {
            let current = try await scim.send("GET", path, ctx: ctx)
            try check(current, groupId)
            var group = current.object
            let members = Self.memberIds(group)
            if adding, members?.contains(userId) == true { return MutationResult(alreadyApplied: true) }
            if !adding, let members, !members.contains(userId) { return MutationResult(alreadyApplied: true) }
            let operation = adding
                ? PatchOperation(op: "add", path: "members", value: [["value": .string(userId)]])
                : PatchOperation(op: "remove", path: "members", value: [["value": .string(userId)]])
            try LocalPatch.apply([operation], to: &group)
            let reply = try await scim.send("PUT", path, body: LocalPatch.replacement(group),
                                            ifMatch: features.etag ? current.etag : nil, ctx: ctx)
            if reply.status == 412, attempt == 1 { continue }
            try check(reply, groupId)
            return MutationResult(alreadyApplied: false)
        }
        throw ConnectorError(.preconditionFailed, "group \(groupId) kept changing while it was being edited", outcome: .notApplied)
    }

    // MARK: Reads

    /// The ids in the group's `members`, read from the group; nil when the answer has no
    /// `members` at all (an empty group, or a provider that does not return them).
    func members(of groupId: String, ctx: RequestContext) async throws -> [String]? {
        let reply = try await scim.send("GET", ScimService.resourcePath(endpoint, groupId), query: [("attributes", "members")], ctx: ctx)
        try check(reply, groupId)
        return Self.memberIds(reply.object)
    }

    /// Whether `filter=id eq "group" and members.value eq "user"` finds the group; nil where
    /// the provider cannot filter on members (it says so once, and is not asked again).
    private func filterFinds(_ userId: String, in groupId: String, ctx: RequestContext) async throws -> Bool? {
        guard features.filter, !learned.avoidsMembersFilter else { return nil }
        let filter = "id eq \(JSONWriter.string(.string(groupId))) and members.value eq \(JSONWriter.string(.string(userId)))"
        let reply = try await scim.send("GET", endpoint, query: [("filter", filter), ("attributes", "displayName"), ("count", "1")], ctx: ctx)
        if reply.status == 400, reply.scimType == "invalidFilter" {
            refuseMembersFilter(ctx)
            return nil
        }
        guard reply.isSuccess else { throw scim.error(reply) }
        let found = (reply.json["Resources"].arrayValue ?? []).contains { $0["id"].stringValue == groupId }
        return found || (reply.json["totalResults"].intValue ?? 0) > 0
    }

    private func refuseMembersFilter(_ ctx: RequestContext) {
        ctx.log(.info, "the provider cannot filter groups on members (invalidFilter); reading the groups instead from now on")
        learned.refuseMembersFilter()
    }

    static func memberIds(_ group: [String: JSONValue]) -> [String]? {
        guard let members = AttributePath.member(group, "members")?.arrayValue else { return nil }
        return members.compactMap { $0["value"].stringValue }
    }

    /// The group grants in one page of groups, each group's members read from the group; or,
    /// for one account, the groups whose `members` name it.
    func grantsPage(cursor: String?, pageSize: Int, onlyAccount: String?, ctx: RequestContext) async throws -> ([Grant], String?) {
        if let onlyAccount { return try await grantsPage(of: onlyAccount, cursor: cursor, pageSize: pageSize, ctx: ctx) }
        return try await walkPage(cursor: cursor, pageSize: pageSize, onlyAccount: nil, ctx: ctx)
    }

    private func walkPage(cursor: String?, pageSize: Int, onlyAccount: String?, ctx: RequestContext) async throws -> ([Grant], String?) {
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

    /// One account's groups: by the filter `members.value eq "id"` (RFC 7644 §3.4.2.2) where
    /// the provider filters, else by walking every group. The inner cursor says which
    /// (`f...` or `w...`), so a listing keeps the way it started.
    private func grantsPage(of accountId: String, cursor: String?, pageSize: Int, ctx: RequestContext) async throws -> ([Grant], String?) {
        let byFilter: Bool
        var inner: String?
        if let cursor {
            guard let mode = cursor.first, mode == "f" || mode == "w" else {
                throw ConnectorError(.invalidArgument, "params.cursor: not a cursor this connector issued")
            }
            byFilter = mode == "f"
            inner = String(cursor.dropFirst())
        } else {
            byFilter = features.filter && !learned.avoidsMembersFilter
        }
        if !byFilter {
            let (grants, next) = try await walkPage(cursor: inner, pageSize: pageSize, onlyAccount: accountId, ctx: ctx)
            return (grants, next.map { "w" + $0 })
        }
        let filter = "members.value eq \(JSONWriter.string(.string(accountId)))"
        do {
            let page = try await pager.page(endpoint, cursor: inner, count: pageSize,
                                            query: [("filter", filter), ("attributes", "displayName")], ctx: ctx)
            let grants = page.resources.compactMap { group in
                group["id"]?.stringValue.map { Grant(accountId: accountId, type: Self.type, entitlementId: $0) }
            }
            return (grants, page.next.map { "f" + $0 })
        } catch let error as ConnectorError where cursor == nil && error.details["scimType"].stringValue == "invalidFilter" {
            refuseMembersFilter(ctx)
            let (grants, next) = try await walkPage(cursor: nil, pageSize: pageSize, onlyAccount: accountId, ctx: ctx)
            return (grants, next.map { "w" + $0 })
        }
    }

    private func check(_ reply: ScimService.Reply, _ groupId: String) throws {
        if reply.status == 404 { throw ConnectorError(.notFound, "no group has id \"\(groupId)\"", outcome: .notApplied) }
        guard reply.isSuccess else { throw scim.error(reply) }
    }
}
