import ConnectorKit
import Foundation
import StewardJSON
import StewardProtocol

// steward-connector-browser: apps with no API, driven through their admin pages in headless
// Chromium from a declarative recipe (plugins/browser/recipes/*.json, docs/browser-recipes.md).

let connector = Connector(name: "steward-connector-browser", version: "1.0.0") { setup in
    let recipe = try Recipe.load(path: try BrowserSettings.recipePath(setup))
    let settings = try BrowserSettings(setup, recipe: recipe)
    return makeHandlers(recipe: recipe, session: AppSession(recipe: recipe, settings: settings))
}
await connector.run()

/// One closure per flow the recipe has; capabilities follow from which exist.
func makeHandlers(recipe: Recipe, session: AppSession) -> Handlers {
    var handlers = Handlers()
    if let flow = recipe.accounts[.list] {
        let pager = ListingPager<Account>()
        handlers.listAccounts = { params, ctx in
            try await pager.page(params) {
                let outcome = try await session.run(flow, args: [:], context: ctx, mutation: false)
                return try Results.accounts(flow, outcome)
            }
        }
    }
    if let flow = recipe.accounts[.create] {
        let list = recipe.accounts[.list]
        handlers.createAccount = { params, ctx in
            let outcome = try await session.run(flow, args: params.json, context: ctx, mutation: true)
            if outcome.finishedEarly {
                // The host grants to the account next, so it needs its id: from what the flow
                // read, else from the listing.
                var existing = try? Results.templatedAccount(flow, outcome)
                if existing == nil, let list {
                    let listed = try await session.run(list, args: [:], context: ctx, mutation: false)
                    existing = try Results.accounts(list, listed).first { $0.userName.lowercased() == params.account.userName.lowercased() }
                }
                return AccountCreateResult(status: .alreadyExists, account: existing ?? nil,
                                           message: "\(params.account.userName) already exists in \(recipe.app)")
            }
            return AccountCreateResult(status: .created, account: try Results.templatedAccount(flow, outcome))
        }
    }
    if let flow = recipe.accounts[.get] {
        let list = recipe.accounts[.list]
        handlers.getAccount = { params, ctx in
            // The get flow opens an account's page by id; other keys search the listing.
            if params.id != nil {
                do {
                    let outcome = try await session.run(flow, args: params.json, context: ctx, mutation: false)
                    return outcome.finishedEarly ? nil : try Results.templatedAccount(flow, outcome)
                } catch let error as ConnectorError where error.kind == .notFound {
                    return nil
                }
            }
            guard let list else { throw ConnectorError(.invalidArgument, "params.id: \(recipe.app)'s recipe finds accounts by id only") }
            let outcome = try await session.run(list, args: [:], context: ctx, mutation: false)
            return try Results.accounts(list, outcome).first { account in
                (params.userName.map { $0.lowercased() == account.userName.lowercased() } ?? true)
                    && (params.email.map { $0.lowercased() == account.email?.lowercased() } ?? true)
                    && (params.externalId.map { $0 == account.externalId } ?? true)
                    && (params.employeeNumber.map { $0 == account.employeeNumber } ?? true)
            }
        }
    }
    func mutation(_ flow: Flow?) -> Handlers.Write<AccountRefParams, MutationResult>? {
        guard let flow else { return nil }
        return { params, ctx in
            let outcome = try await session.run(flow, args: params.json, context: ctx, mutation: true)
            return MutationResult(alreadyApplied: outcome.finishedEarly)
        }
    }
    handlers.disableAccount = mutation(recipe.accounts[.disable])
    handlers.enableAccount = mutation(recipe.accounts[.enable])
    handlers.deleteAccount = mutation(recipe.accounts[.delete])
    if let flow = recipe.grantsList {
        let pager = ListingPager<Grant>()
        handlers.listGrants = { params, ctx in
            try await pager.page(params) {
                let outcome = try await session.run(flow, args: params.json, context: ctx, mutation: false)
                return try Results.grants(flow, outcome).filter { grant in
                    (params.accountId == nil || grant.accountId == params.accountId) && (params.type == nil || grant.type == params.type)
                }
            }
        }
    }
    handlers.entitlementTypes = recipe.entitlementTypes.map { spec in
        Handlers.EntitlementType(spec.type, cardinality: spec.cardinality, values: spec.values?.map(\.id),
                                 list: entitlementList(spec, session: session),
                                 grant: grantChange(spec.add, session: session),
                                 revoke: grantChange(spec.remove, session: session))
    }
    handlers.shutdown = { await session.close() }
    return handlers
}

private func entitlementList(_ spec: Recipe.EntitlementType, session: AppSession) -> Handlers.List<Entitlement>? {
    let pager = ListingPager<Entitlement>()
    if let flow = spec.list {
        return { params, ctx in
            try await pager.page(params) {
                let outcome = try await session.run(flow, args: [:], context: ctx, mutation: false)
                return try Results.entitlements(flow, outcome, type: spec.type, ranked: spec.cardinality == .single ? spec.values?.map(\.id) : nil)
            }
        }
    }
    guard let values = spec.values else { return nil }
    // Values are listed most privileged first; the protocol's rank is higher for more privilege.
    let items = values.enumerated().map { index, value in
        Entitlement(type: spec.type, id: value.id, name: value.name, rank: spec.cardinality == .single ? values.count - index : nil)
    }
    return { params, _ in try await pager.page(params) { items } }
}

private func grantChange(_ flow: Flow?, session: AppSession) -> Handlers.Write<GrantChangeParams, MutationResult>? {
    guard let flow else { return nil }
    return { params, ctx in
        let outcome = try await session.run(flow, args: params.json, context: ctx, mutation: true)
        return MutationResult(alreadyApplied: outcome.finishedEarly)
    }
}
