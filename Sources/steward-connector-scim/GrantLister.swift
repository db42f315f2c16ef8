import ConnectorKit
import StewardProtocol

/// `grants/list`: roles and entitlements from a pass over the users, then group memberships
/// from a pass over the groups. The cursor names the pass: `u:<inner>` or `g:<inner>`.
///
/// Group memberships always come from the groups, even for one account: a User's `groups` is
/// derived, and a provider may declare it and leave it empty, which would read a member as
/// gone (and verify a revoke that never happened).
struct GrantLister: Sendable {
    let users: UserOperations
    let groups: GroupOperations?
    let valueTypes: [UserValueEntitlements]
    let defaultPageSize: Int

    func list(_ params: ListParams, ctx: RequestContext) async throws -> StewardProtocol.Page<Grant> {
        let wantGroups = groups != nil && (params.type == nil || params.type == GroupOperations.type)
        let types = valueTypes.filter { params.type == nil || $0.type == params.type }
        if let type = params.type, !wantGroups, types.isEmpty {
            throw ConnectorError(.invalidArgument, "params.type: no entitlement type \"\(type)\" (this app has: \(([groups == nil ? nil : GroupOperations.type] + valueTypes.map(\.type)).compactMap { $0 }.joined(separator: ", ")))")
        }
        var phases: [String] = []
        if !types.isEmpty { phases.append("u") }
        if wantGroups { phases.append("g") }
        guard !phases.isEmpty else { return StewardProtocol.Page(items: []) }

        var phase = phases[0]
        var inner: String?
        if let cursor = params.cursor {
            let parts = cursor.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
            guard parts.count == 2, phases.contains(String(parts[0])) else {
                throw ConnectorError(.invalidArgument, "params.cursor: not a cursor this connector issued")
            }
            phase = String(parts[0])
            inner = parts[1].isEmpty ? nil : String(parts[1])
        }
        let pageSize = params.pageSize ?? defaultPageSize
        let grants: [Grant]
        let next: String?
        switch phase {
        case "u":
            (grants, next) = try await userPass(types, accountId: params.accountId, cursor: inner, pageSize: pageSize, ctx: ctx)
        default:
            guard let groups else { return StewardProtocol.Page(items: []) }
            (grants, next) = try await groups.grantsPage(cursor: inner, pageSize: pageSize, onlyAccount: params.accountId, ctx: ctx)
        }
        if let next { return StewardProtocol.Page(items: grants, nextCursor: "\(phase):\(next)") }
        if let index = phases.firstIndex(of: phase), index + 1 < phases.count {
            return StewardProtocol.Page(items: grants, nextCursor: "\(phases[index + 1]):")
        }
        return StewardProtocol.Page(items: grants)
    }

    private func userPass(_ types: [UserValueEntitlements], accountId: String?, cursor: String?,
                          pageSize: Int, ctx: RequestContext) async throws -> ([Grant], String?) {
        let attributes = ["id"] + types.map(\.attribute)
        let query = [("attributes", attributes.joined(separator: ","))]
        let resources: [[String: JSONValue]]
        let next: String?
        if let accountId {
            let reply = try await users.scim.send("GET", ScimService.resourcePath(users.endpoint, accountId), query: query, ctx: ctx)
            if reply.status == 404 { return ([], nil) }
            guard reply.isSuccess else { throw users.scim.error(reply) }
            resources = [reply.object]
            next = nil
        } else {
            let page = try await users.pager.page(users.endpoint, cursor: cursor, count: pageSize, query: query, ctx: ctx)
            resources = page.resources
            next = page.next
        }
        var grants: [Grant] = []
        for user in resources {
            for type in types { grants.append(contentsOf: type.grants(of: user)) }
        }
        return (grants, next)
    }
}
