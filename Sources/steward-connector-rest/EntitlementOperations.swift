import ConnectorKit
import Foundation
import StewardProtocol

/// `entitlements/list`, `grants/list` and `grants/add|remove`, per entitlement type.
struct EntitlementOperations: Sendable {
    let client: AppClient
    let accounts: AccountOperations
    let lister: Lister
    private let operations: AppDefinition.Operations
    private let cache = ItemCache()

    init(client: AppClient, accounts: AccountOperations) {
        self.client = client
        self.accounts = accounts
        lister = Lister(client: client)
        operations = client.definition.operations
    }

    private var types: [EntitlementTypeCapability] { client.definition.capabilities.entitlementTypes }

    // MARK: Entitlements

    func list(type: String, _ params: ListParams, ctx: RequestContext) async throws -> Page<Entitlement> {
        let values = client.definition.entitlementValues[type]
        guard let op = operations.entitlementsList[type] else {
            // Fixed values: no request, paged by position so that pageSize is honoured.
            let all = values ?? []
            let start = params.cursor.map { Int($0) ?? -1 } ?? 0
            guard all.indices.contains(start) || start == all.count else {
                throw ConnectorError(.invalidArgument, "params.cursor: \"\(params.cursor ?? "")\" is not a cursor this connector issued")
            }
            let end = min(start + (params.pageSize ?? all.count), all.count)
            return Page(items: Array(all[start..<end]), nextCursor: end < all.count ? String(end) : nil)
        }
        let cursor = try params.cursor.map(ListCursor.init(decoding:)) ?? ListCursor()
        var scope = client.baseScope
        scope["params"] = params.json
        let (items, next) = try await lister.page(op, cursor: cursor, scope: scope, pageSize: params.pageSize,
                                                  operation: Method.entitlementsList, ctx: ctx) { record, _ in
            var e = try RecordMapper.entitlement(record, op.sources[cursor.source].fields, type: type, scope: scope,
                                                 operation: "\(Method.entitlementsList) (\(type))")
            e.rank = values?.first { $0.id == e.id }?.rank
            return [e]
        }
        return Page(items: items, nextCursor: next?.encoded)
    }

    /// Every entitlement of `type`, cached briefly: per-entitlement grant listings walk them.
    private func allEntitlements(_ type: String, fresh: Bool, ctx: RequestContext) async throws -> [Entitlement] {
        if !fresh, let cached = await cache.entitlements(type) { return cached }
        var all: [Entitlement] = []
        var cursor: String?
        repeat {
            let page = try await list(type: type, ListParams(cursor: cursor), ctx: ctx)
            all += page.items
            cursor = page.nextCursor
        } while cursor != nil
        await cache.store(type, all)
        return all
    }

    // MARK: Grants

    /// Grants of every listable type, or of `params.type`, optionally only `params.accountId`'s.
    /// The cursor remembers the type, the entitlement or account being walked, and the page.
    func listGrants(_ params: ListParams, ctx: RequestContext) async throws -> Page<Grant> {
        let listable = types.filter { operations.grantsList[$0.type] != nil }.map(\.type)
        var selected = listable
        if let type = params.type {
            guard listable.contains(type) else {
                throw ConnectorError(.invalidArgument, "params.type: no entitlement type \"\(type)\" with listable grants (have: \(listable.joined(separator: ", ")))")
            }
            selected = [type]
        }
        var cursor = try params.cursor.map(ListCursor.init(decoding:)) ?? ListCursor()
        guard selected.indices.contains(cursor.type) else { throw ConnectorError(.invalidArgument, "params.cursor: not a cursor this connector issued") }
        var items: [Grant] = []
        // Skip quickly over empty teams and the like, but never hold the host for long.
        for _ in 0..<20 {
            let type = selected[cursor.type]
            let (page, next) = try await grantsPage(type: type, cursor: cursor, params: params, ctx: ctx)
            items += page
            if let next {
                cursor = next
            } else if cursor.type + 1 < selected.count {
                cursor = ListCursor(type: cursor.type + 1)
            } else {
                return Page(items: items, nextCursor: nil)
            }
            if !items.isEmpty { break }
        }
        return Page(items: items, nextCursor: cursor.encoded)
    }

    /// One page of one type's grants; the cursor's `type` is kept as given.
    private func grantsPage(type: String, cursor: ListCursor, params: ListParams, ctx: RequestContext) async throws -> ([Grant], ListCursor?) {
        guard let op = operations.grantsList[type] else { return ([], nil) }
        let operation = "\(Method.grantsList) (\(type))"
        var scope = client.baseScope
        scope["params"] = params.json
        var cursor = cursor
        let onlyAccount = params.accountId
        // A type's listing reads the entitlements or accounts it walks afresh when it starts,
        // and reuses them for the pages after.
        let starting = cursor.item == 0 && cursor.itemId == nil && cursor.source == 0 && cursor.position == .start

        switch op.forEach {
        case nil:
            let (grants, next) = try await lister.page(op, cursor: cursor, scope: scope, pageSize: params.pageSize, operation: operation, ctx: ctx) { record, _ in
                try RecordMapper.grants(record, op.sources[cursor.source].fields, type: type, entitlementId: nil, scope: scope, operation: operation)
            }
            return (grants.filter { onlyAccount == nil || $0.accountId == onlyAccount }, next)

        case .entitlement?:
            let entitlements = try await allEntitlements(type, fresh: starting, ctx: ctx)
            var index = cursor.item
            if let id = cursor.itemId, !(entitlements.indices.contains(index) && entitlements[index].id == id) {
                // The list changed since the cursor was issued: find the entitlement again.
                index = entitlements.firstIndex { $0.id == id } ?? index
            }
            guard entitlements.indices.contains(index) else { return ([], nil) }
            let entitlement = entitlements[index]
            scope["entitlement"] = entitlement.json
            cursor.item = index
            cursor.itemId = entitlement.id
            let (grants, next) = try await lister.page(op, cursor: cursor, scope: scope, pageSize: params.pageSize, operation: operation, ctx: ctx) { record, _ in
                try RecordMapper.grants(record, op.sources[cursor.source].fields, type: type, entitlementId: entitlement.id, scope: scope, operation: operation)
            }
            let filtered = grants.filter { onlyAccount == nil || $0.accountId == onlyAccount }
            if let next { return (filtered, next) }
            guard index + 1 < entitlements.count else { return (filtered, nil) }
            return (filtered, ListCursor(type: cursor.type, item: index + 1, itemId: entitlements[index + 1].id))

        case .account?:
            let targets: [Account]
            if let onlyAccount {
                targets = [Account(id: onlyAccount, userName: onlyAccount)]
            } else if !starting, let cached = await cache.accounts() {
                targets = cached
            } else {
                targets = try await accounts.all(ctx: ctx)
                await cache.store(accounts: targets)
            }
            var index = cursor.item
            if let id = cursor.itemId, !(targets.indices.contains(index) && targets[index].id == id) {
                index = targets.firstIndex { $0.id == id } ?? index
            }
            guard targets.indices.contains(index) else { return ([], nil) }
            let account = targets[index]
            scope["account"] = account.json
            cursor.item = index
            cursor.itemId = account.id
            let (grants, next) = try await lister.page(op, cursor: cursor, scope: scope, pageSize: params.pageSize, operation: operation, ctx: ctx) { record, _ in
                var fields = op.sources[cursor.source].fields
                if !fields.has("accountId") { fields.fields.append(("accountId", FieldSource(constant: .string(account.id)))) }
                return try RecordMapper.grants(record, fields, type: type, entitlementId: nil, scope: scope, operation: operation)
            }
            if let next { return (grants, next) }
            guard index + 1 < targets.count else { return (grants, nil) }
            return (grants, ListCursor(type: cursor.type, item: index + 1, itemId: targets[index + 1].id))
        }
    }

    func change(adding: Bool, _ params: GrantChangeParams, ctx: RequestContext) async throws -> MutationResult {
        let method = adding ? Method.grantsAdd : Method.grantsRemove
        guard let choice = adding ? operations.grantsAdd[params.type] : operations.grantsRemove[params.type] else {
            throw ConnectorError(.invalidArgument, "params.type: \(client.definition.name) cannot \(adding ? "grant" : "revoke") \"\(params.type)\"")
        }
        if let values = client.definition.entitlementValues[params.type], !values.contains(where: { $0.id == params.entitlementId }) {
            throw ConnectorError(.invalidArgument, "params.entitlementId: \"\(params.entitlementId)\" is not a \(params.type) of \(client.definition.name) (expected one of \(values.map(\.id).joined(separator: ", ")))")
        }
        var scope = client.baseScope
        scope["params"] = params.json
        let operation = "\(method) (\(params.type))"
        return try await accounts.write(try choice.choose(scope, operation: operation), scope: scope, operation: operation, ctx: ctx)
    }
}

/// Entitlement and account lists that per-item grant listings walk, kept for a few minutes so
/// a listing does not re-read them for every page.
actor ItemCache {
    private var entitlementsByType: [String: (items: [Entitlement], at: Date)] = [:]
    private var accountList: (items: [Account], at: Date)?
    private let lifetime: TimeInterval = 300

    func entitlements(_ type: String) -> [Entitlement]? {
        guard let entry = entitlementsByType[type], Date().timeIntervalSince(entry.at) < lifetime else { return nil }
        return entry.items
    }

    func store(_ type: String, _ items: [Entitlement]) { entitlementsByType[type] = (items, Date()) }

    func accounts() -> [Account]? {
        guard let entry = accountList, Date().timeIntervalSince(entry.at) < lifetime else { return nil }
        return entry.items
    }

    func store(accounts items: [Account]) { accountList = (items, Date()) }
}
