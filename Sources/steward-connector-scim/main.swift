import ConnectorKit
import Foundation
import StewardProtocol

// steward-connector-scim: provisions accounts and groups into any app that speaks SCIM 2.0
// (RFC 7643, RFC 7644).
//
// At initialize it reads the provider's /ServiceProviderConfig, /ResourceTypes and /Schemas
// and declares only what the provider supports: groups when it has a Group resource type,
// `role` and `entitlement` when its User schema has `roles` and `entitlements`. Settings and
// secrets are described in plugins/scim/plugin.json.

let connector = Connector(name: "scim", version: "1.0.0") { setup in
    let settings = try ScimSettings(setup)
    let redactor = SecretRedactor(setup.secrets)
    let http = HTTPClient(configuration: .init(auth: settings.auth, timeout: settings.timeout,
                                               userAgent: "steward-connector-scim/1.0.0"),
                          redactor: redactor)
    let scim = ScimService(http: http, baseURL: settings.baseURL)
    let features = try await ProviderFeatures.discover(scim, ctx: setup)
    setup.log(.info, "SCIM provider at \(settings.baseURL.absoluteString): \(features.summary)")
    if settings.sortBy != nil, !features.sort {
        setup.log(.warning, "settings.sortBy is ignored: the provider does not support sorting")
    }
    return makeHandlers(settings: settings, scim: scim, features: features)
}

/// The handlers for what this provider supports.
func makeHandlers(settings: ScimSettings, scim: ScimService, features: ProviderFeatures) -> Handlers {
    let pager = ResourcePager(scim: scim, features: features, preference: settings.pagination)
    let learned = LearnedForms()
    let users = UserOperations(scim: scim, features: features, mapping: settings.mapping, pager: pager,
                               defaultPageSize: settings.pageSize, sortBy: settings.sortBy, learned: learned)
    var handlers = Handlers()
    handlers.validate = { ctx in
        let reply = try await scim.expect("GET", features.userEndpoint, query: [("count", "0")], ctx: ctx)
        let total = reply.json["totalResults"].intValue.map { "\($0) users" } ?? "users readable"
        return ValidateResult(ok: true, message: "\(total) at \(settings.baseURL.absoluteString); \(features.summary)")
    }
    handlers.listAccounts = { params, ctx in try await users.list(params, ctx: ctx) }
    handlers.getAccount = { params, ctx in try await users.get(params, ctx: ctx) }
    handlers.createAccount = { params, ctx in try await users.create(params, ctx: ctx) }
    handlers.updateAccount = { params, ctx in try await users.update(params, ctx: ctx) }
    handlers.disableAccount = { params, ctx in try await users.setActive(false, params, ctx: ctx) }
    handlers.enableAccount = { params, ctx in try await users.setActive(true, params, ctx: ctx) }
    handlers.deleteAccount = { params, ctx in try await users.delete(params, ctx: ctx) }

    var groups: GroupOperations?
    if let endpoint = features.groupEndpoint {
        let g = GroupOperations(scim: scim, features: features, pager: pager, endpoint: endpoint, defaultPageSize: settings.pageSize,
                                learned: learned)
        groups = g
        handlers.entitlementTypes.append(Handlers.EntitlementType(
            GroupOperations.type, cardinality: .multi,
            list: { params, ctx in try await g.list(params, ctx: ctx) },
            grant: { params, ctx in try await g.grant(params, ctx: ctx) },
            revoke: { params, ctx in try await g.revoke(params, ctx: ctx) }))
    }

    var valueTypes: [UserValueEntitlements] = []
    if features.userHas("roles") {
        let known = settings.roleTiers ?? (settings.roleValues.isEmpty ? features.roleCanonicalValues : settings.roleValues)
        valueTypes.append(UserValueEntitlements(type: "role", attribute: "roles", tiers: settings.roleTiers, knownValues: known, users: users))
    }
    if features.userHas("entitlements") {
        let known = settings.entitlementValues.isEmpty ? features.entitlementCanonicalValues : settings.entitlementValues
        valueTypes.append(UserValueEntitlements(type: "entitlement", attribute: "entitlements", tiers: nil, knownValues: known, users: users))
    }
    for v in valueTypes {
        // Without known values there is nothing to list: SCIM has no endpoint for them.
        var list: Handlers.List<Entitlement>?
        if !v.knownValues.isEmpty { list = { params, ctx in try await v.list(params, ctx: ctx) } }
        handlers.entitlementTypes.append(Handlers.EntitlementType(
            v.type, cardinality: v.cardinality, values: v.tiers, list: list,
            grant: { params, ctx in try await v.grant(params, ctx: ctx) },
            revoke: { params, ctx in try await v.revoke(params, ctx: ctx) }))
    }

    let grants = GrantLister(users: users, groups: groups, valueTypes: valueTypes, defaultPageSize: settings.pageSize)
    if groups != nil || !valueTypes.isEmpty {
        handlers.listGrants = { params, ctx in try await grants.list(params, ctx: ctx) }
    }
    return handlers
}

await connector.run()
