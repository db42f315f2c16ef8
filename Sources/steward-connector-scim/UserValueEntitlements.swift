import ConnectorKit
import StewardProtocol

/// A multi-valued User attribute (`roles`, `entitlements`) as an entitlement type whose ids are
/// the values themselves.
///
/// With `tiers` (settings `roleTiers`, most privileged first) the type is single-valued: a user
/// holds at most one tier, and granting one replaces the others, so Admin to Viewer is one
/// change. Values outside the tiers are left alone.
struct UserValueEntitlements: Sendable {
    /// The entitlement type: `role` or `entitlement`.
    let type: String
    /// The User attribute: `roles` or `entitlements`.
    let attribute: String
    let tiers: [String]?
    /// The values that can be listed; empty when only grants can be read.
    let knownValues: [String]
    let users: UserOperations

    var cardinality: EntitlementTypeCapability.Cardinality { tiers == nil ? .multi : .single }

    func list(_ params: ListParams, ctx: RequestContext) async throws -> StewardProtocol.Page<Entitlement> {
        if params.cursor != nil { throw ConnectorError(.invalidArgument, "params.cursor: not a cursor this connector issued") }
        let items = knownValues.enumerated().map { index, value in
            Entitlement(type: type, id: value, name: value, rank: tiers.map { $0.count - index })
        }
        return StewardProtocol.Page(items: items)
    }

    func grant(_ params: GrantChangeParams, ctx: RequestContext) async throws -> MutationResult {
        let value = params.entitlementId
        if let tiers, !tiers.contains(value) {
            throw ConnectorError(.invalidArgument, "params.entitlementId: \"\(value)\" is not one of the role tiers (\(tiers.joined(separator: ", ")))",
                                 outcome: .notApplied)
        }
        return try await users.modify(params.accountId, ctx: ctx) { user in
            let held = values(of: user)
            var operations: [PatchOperation] = []
            if let tiers {
                for other in held where other != value && tiers.contains(other) {
                    operations.append(PatchOperation(op: "remove", path: elementPath(other)))
                }
            }
            if !held.contains(value) {
                operations.append(PatchOperation(op: "add", path: attribute, value: [["value": .string(value)]]))
            }
            return operations
        }
    }

    /// Removes the value. Only a read that carries the attribute without it shows the revoke
    /// already made; a user read without the attribute at all gets the remove (a 400
    /// `noTarget` to it then says the value is not there).
    func revoke(_ params: GrantChangeParams, ctx: RequestContext) async throws -> MutationResult {
        try await users.modify(params.accountId, ctx: ctx) { user in
            if let held = heldValues(of: user), !held.contains(params.entitlementId) { return [] }
            return [PatchOperation(op: "remove", path: elementPath(params.entitlementId))]
        }
    }

    /// The values the user holds.
    func values(of user: [String: JSONValue]) -> [String] { heldValues(of: user) ?? [] }

    /// The values the user holds; nil when the read has no such attribute.
    func heldValues(of user: [String: JSONValue]) -> [String]? {
        AttributePath.member(user, attribute)?.arrayValue?.compactMap { $0["value"].stringValue }
    }

    func grants(of user: [String: JSONValue]) -> [Grant] {
        guard let id = user["id"]?.stringValue else { return [] }
        return values(of: user).map { Grant(accountId: id, type: type, entitlementId: $0) }
    }

    private func elementPath(_ value: String) -> String {
        "\(attribute)[value eq \(JSONWriter.string(.string(value)))]"
    }
}
