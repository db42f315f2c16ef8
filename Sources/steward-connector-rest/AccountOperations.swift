import ConnectorKit
import Foundation
import StewardProtocol

/// The `accounts/*` methods, as the definition describes them.
struct AccountOperations: Sendable {
    let client: AppClient
    let lister: Lister
    let operations: AppDefinition.Operations

    init(client: AppClient) {
        self.client = client
        lister = Lister(client: client)
        operations = client.definition.operations
    }

    // MARK: Reads

    func list(_ params: ListParams, ctx: RequestContext) async throws -> Page<Account> {
        guard let op = operations.accountsList else { throw missing(Method.accountsList) }
        let cursor = try params.cursor.map(ListCursor.init(decoding:)) ?? ListCursor()
        let scope = listScope(params)
        let (items, next) = try await lister.page(op, cursor: cursor, scope: scope, pageSize: params.pageSize,
                                                  operation: Method.accountsList, ctx: ctx) { record, _ in
            [try RecordMapper.account(record, op.sources[cursor.source].fields, scope: scope, operation: Method.accountsList)]
        }
        return Page(items: items, nextCursor: next?.encoded)
    }

    /// Every account, for scans and per-account grant listings.
    func all(ctx: RequestContext) async throws -> [Account] {
        guard let op = operations.accountsList else { throw missing(Method.accountsList) }
        var results: [Account] = []
        // Walk source by source so each record is mapped with its own source's fields.
        for source in op.sources {
            let single = ListOperation(sources: [source])
            results += try await lister.all(single, scope: client.baseScope, operation: Method.accountsList, ctx: ctx) { record, _ in
                [try RecordMapper.account(record, source.fields, scope: client.baseScope, operation: Method.accountsList)]
            }
        }
        return results
    }

    func get(_ params: AccountGetParams, ctx: RequestContext) async throws -> Account? {
        guard let op = operations.accountsGet else { throw missing(Method.accountsGet) }
        let keys = params.keys
        if !op.scan, let request = op.request, let fields = op.fields, keys.contains(where: { op.by.contains($0.key) }) {
            var scope = client.baseScope
            scope["params"] = params.json
            try await client.runSteps(op.steps, scope: &scope, operation: Method.accountsGet, ctx: ctx)
            let exchange = try await client.send(request, scope: .object(scope), operation: Method.accountsGet, ctx: ctx)
            if op.notFound.match(status: exchange.status, body: exchange.body, headers: exchange.response.headers) { return nil }
            _ = try client.expectSuccess(exchange, request, scope: .object(scope), operation: Method.accountsGet)
            guard let record = op.record.resolve(in: exchange.body), !record.isNull else { return nil }
            return try RecordMapper.account(record, fields, scope: scope, operation: Method.accountsGet)
        }
        guard operations.accountsList != nil else {
            throw ConnectorError(.invalidArgument, "\(Method.accountsGet): this app can only look accounts up by \(op.by.joined(separator: ", "))")
        }
        return try await all(ctx: ctx).first { params.matches($0) }
    }

    // MARK: Writes

    func create(_ params: AccountCreateParams, ctx: RequestContext) async throws -> AccountCreateResult {
        guard let choice = operations.accountWrites[Method.accountsCreate] else { throw missing(Method.accountsCreate) }
        let operation = Method.accountsCreate
        var scope = client.baseScope
        scope["account"] = params.account.json
        let op = try choice.choose(scope, operation: operation)
        try await client.runSteps(op.steps, scope: &scope, operation: operation, ctx: ctx)
        // With "exists" statuses a repeated create is harmless: the second answer finds the first.
        let exchange = try await client.send(op.request, scope: .object(scope), operation: operation, ctx: ctx,
                                             idempotent: op.exists.isEmpty ? nil : true)
        let headers = exchange.response.headers
        if !op.exists.isEmpty, op.exists.match(status: exchange.status, body: exchange.body, headers: headers) {
            if let existing = try await findExisting(params.account, ctx: ctx) {
                return AccountCreateResult(status: .alreadyExists, account: existing,
                                           message: "\(params.account.userName) already exists (HTTP \(exchange.status))")
            }
            throw client.failure(exchange, op.request, scope: .object(scope), operation: operation)
        }
        _ = try client.expectSuccess(exchange, op.request, scope: .object(scope), operation: operation)
        let record = op.record.resolve(in: exchange.body) ?? .null
        var account: Account?
        if let fields = op.fields, !record.isNull {
            account = try RecordMapper.account(record, fields, scope: scope, operation: operation)
        } else if op.result == .created, operations.accountsGet != nil {
            account = try await findExisting(params.account, ctx: ctx)
        }
        var messageScope = scope
        messageScope["record"] = record
        var message: String?
        if let template = op.message {
            do {
                message = try template.render(.object(messageScope))
            } catch {
                throw ConnectorError(.internal, "\(operation): message: \(error.description)")
            }
        }
        return AccountCreateResult(status: op.result, account: account, message: message)
    }

    /// The account a create collided with: looked up by userName, then email, then externalId.
    private func findExisting(_ spec: AccountSpec, ctx: RequestContext) async throws -> Account? {
        guard operations.accountsGet != nil else { return nil }
        let lookups = [AccountGetParams(userName: spec.userName), spec.email.map { AccountGetParams(email: $0) },
                       spec.externalId.map { AccountGetParams(externalId: $0) }].compactMap { $0 }
        for lookup in lookups {
            if let found = try await get(lookup, ctx: ctx) { return found }
        }
        return nil
    }

    func update(_ params: AccountUpdateParams, ctx: RequestContext) async throws -> MutationResult {
        guard let choice = operations.accountWrites[Method.accountsUpdate] else { throw missing(Method.accountsUpdate) }
        var scope = client.baseScope
        scope["params"] = ["id": .string(params.id), "idempotencyKey": .string(params.idempotencyKey)]
        scope["changes"] = .object(params.changes)
        let op = try choice.choose(scope, operation: Method.accountsUpdate)
        let supported = Set(op.request.templates(at: "").flatMap(\.1.references).filter { $0.root == "changes" }.compactMap(\.member))
        for key in params.changes.keys.sorted() where !supported.contains(key) {
            throw ConnectorError(.invalidArgument, "params.changes.\(key): \(client.definition.name) cannot update \(key) (it can update: \(supported.sorted().joined(separator: ", ")))")
        }
        return try await write(op, scope: scope, operation: Method.accountsUpdate, ctx: ctx)
    }

    /// `accounts/disable`, `accounts/enable`, `accounts/delete`. An "already so" answer is
    /// checked against the account as the app shows it.
    func change(_ method: String, _ params: AccountRefParams, ctx: RequestContext) async throws -> MutationResult {
        guard let choice = operations.accountWrites[method] else { throw missing(method) }
        var scope = client.baseScope
        scope["params"] = params.json
        let result = try await write(try choice.choose(scope, operation: method), scope: scope, operation: method, ctx: ctx)
        guard result.alreadyApplied else { return result }
        return try await confirmAlreadyApplied(method, id: params.id, ctx: ctx)
    }

    /// An `alreadyApplied` rule matches the app's answer to the write, and some answers are
    /// refusals rather than the state: Okta's "cannot suspend a user that is not active" also
    /// comes for users who are locked out or awaiting activation, who can still get in. So
    /// where `accounts/get` can read the account (and its status, for disable and enable), the
    /// account must show the state before the write counts as already made.
    private func confirmAlreadyApplied(_ method: String, id: String, ctx: RequestContext) async throws -> MutationResult {
        guard let get = operations.accountsGet else { return MutationResult(alreadyApplied: true) }
        let readsStatus = get.scan ? operations.accountsList?.sources.allSatisfy { $0.fields.has("status") } == true
                                   : get.fields?.has("status") == true
        if method != Method.accountsDelete, !readsStatus { return MutationResult(alreadyApplied: true) }
        let account = try await self.get(AccountGetParams(id: id), ctx: ctx)
        let name = client.definition.name
        switch (method, account) {
        case (Method.accountsDelete, nil):
            return MutationResult(alreadyApplied: true)
        case (Method.accountsDelete, _?):
            throw ConnectorError(.preconditionFailed, "\(method): \(name) answered as if account \(id) were already gone, but it still reads it",
                                 outcome: .notApplied)
        case (_, nil):
            throw ConnectorError(.notFound, "\(method): \(name) has no account \(id)", outcome: .notApplied)
        case (_, let account?):
            let wanted = method == Method.accountsDisable ? account.status == .disabled : account.status != .disabled
            if wanted { return MutationResult(alreadyApplied: true, account: account) }
            throw ConnectorError(.preconditionFailed, "\(method): \(name) refused the change with an answer the definition takes as already done, but account \(id) reads as \(account.status.rawValue)",
                                 outcome: .notApplied)
        }
    }

    /// Runs a write's steps and request: success, already applied, or the error it means.
    func write(_ op: WriteOperation, scope: [String: JSONValue], operation: String, ctx: RequestContext) async throws -> MutationResult {
        var scope = scope
        try await client.runSteps(op.steps, scope: &scope, operation: operation, ctx: ctx)
        let exchange = try await client.send(op.request, scope: .object(scope), operation: operation, ctx: ctx)
        if op.alreadyApplied.match(status: exchange.status, body: exchange.body, headers: exchange.response.headers) {
            return MutationResult(alreadyApplied: true)
        }
        _ = try client.expectSuccess(exchange, op.request, scope: .object(scope), operation: operation)
        var account: Account?
        if let fields = op.fields, let record = op.record.resolve(in: exchange.body), !record.isNull {
            account = try RecordMapper.account(record, fields, scope: scope, operation: operation)
        }
        return MutationResult(alreadyApplied: false, account: account)
    }

    private func listScope(_ params: ListParams) -> [String: JSONValue] {
        var scope = client.baseScope
        scope["params"] = params.json
        return scope
    }

    private func missing(_ method: String) -> ConnectorError {
        ConnectorError(.internal, "\(method) is not defined in \(client.definition.file)")
    }
}

extension AccountGetParams {
    /// The lookup keys given, in the order they identify an account best.
    var keys: [(key: String, value: String)] {
        [("id", id), ("userName", userName), ("email", email), ("externalId", externalId), ("employeeNumber", employeeNumber)]
            .compactMap { k, v in v.map { (k, $0) } }
    }

    /// Whether `account` has every key given (userName and email ignoring case).
    func matches(_ account: Account) -> Bool {
        func same(_ a: String?, _ b: String?) -> Bool {
            guard let b else { return true }
            return a?.lowercased() == b.lowercased()
        }
        return (id == nil || account.id == id) && same(account.userName, userName) && same(account.email, email)
            && (externalId == nil || account.externalId == externalId) && (employeeNumber == nil || account.employeeNumber == employeeNumber)
    }
}
