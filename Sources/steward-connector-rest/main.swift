import ConnectorKit
import Foundation
import StewardProtocol

// steward-connector-rest: provisions into any app with a REST API, from a declarative app
// definition (plugins/rest/apps/*.json, described by schemas/rest-app.schema.json and
// docs/rest-apps.md). Adding an app is writing a JSON file, not a program.
//
// At initialize it loads and checks the definition named by `settings.definition` (relative
// to the config file); a definition with a mistake is a configuration error naming the file,
// line, key path and reason. The capabilities it declares are the definition's.

let restConnectorVersion = "1.0.0"

let connector = Connector(name: "rest", version: restConnectorVersion) { setup in
    let settings = try RestSettings(setup)
    let client = try AppClient(settings: settings, secrets: setup.secrets)
    setup.log(.info, "\(settings.definition.title ?? settings.definition.name) at \(settings.baseURL.absoluteString): \(settings.definition.capabilities.methods.joined(separator: ", "))")
    return makeHandlers(client)
}

/// Handlers for exactly what the definition declares: the definition was checked to define an
/// operation for every capability it claims.
func makeHandlers(_ client: AppClient) -> Handlers {
    let definition = client.definition
    let caps = definition.capabilities
    let accounts = AccountOperations(client: client)
    let entitlements = EntitlementOperations(client: client, accounts: accounts)
    var h = Handlers()

    if let validate = definition.operations.validate {
        h.validate = { ctx in
            let scope = JSONValue.object(client.baseScope)
            let exchange = try await client.send(validate.request, scope: scope, operation: Method.validate, ctx: ctx)
            _ = try client.expectSuccess(exchange, validate.request, scope: scope, operation: Method.validate)
            var messageScope = client.baseScope
            messageScope["record"] = exchange.body
            let message = (try? validate.message?.render(.object(messageScope))) ?? nil
            return ValidateResult(ok: true, message: message ?? "\(definition.name): HTTP \(exchange.status) from \(exchange.request.method) \(exchange.request.url.path)")
        }
    }
    if let persons = definition.operations.personsList {
        let lister = Lister(client: client)
        h.listPersons = { params, ctx in
            let cursor = try params.cursor.map(ListCursor.init(decoding:)) ?? ListCursor()
            var scope = client.baseScope
            scope["params"] = params.json
            let (items, next) = try await lister.page(persons, cursor: cursor, scope: scope, pageSize: params.pageSize,
                                                      operation: Method.personsList, ctx: ctx) { record, _ in
                [try RecordMapper.person(record, persons.sources[cursor.source].fields, scope: scope, operation: Method.personsList)]
            }
            return Page(items: items, nextCursor: next?.encoded)
        }
    }
    if caps.accounts.contains(.list) { h.listAccounts = { params, ctx in try await accounts.list(params, ctx: ctx) } }
    if caps.accounts.contains(.get) { h.getAccount = { params, ctx in try await accounts.get(params, ctx: ctx) } }
    if caps.accounts.contains(.create) { h.createAccount = { params, ctx in try await accounts.create(params, ctx: ctx) } }
    if caps.accounts.contains(.update) { h.updateAccount = { params, ctx in try await accounts.update(params, ctx: ctx) } }
    if caps.accounts.contains(.disable) {
        h.disableAccount = { params, ctx in try await accounts.change(Method.accountsDisable, params, ctx: ctx) }
    }
    if caps.accounts.contains(.enable) {
        h.enableAccount = { params, ctx in try await accounts.change(Method.accountsEnable, params, ctx: ctx) }
    }
    if caps.accounts.contains(.delete) {
        h.deleteAccount = { params, ctx in try await accounts.change(Method.accountsDelete, params, ctx: ctx) }
    }
    for type in caps.entitlementTypes {
        let name = type.type
        var handler = Handlers.EntitlementType(name, cardinality: type.cardinality, values: type.values)
        if type.list { handler.list = { params, ctx in try await entitlements.list(type: name, params, ctx: ctx) } }
        if type.grant { handler.grant = { params, ctx in try await entitlements.change(adding: true, params, ctx: ctx) } }
        if type.revoke { handler.revoke = { params, ctx in try await entitlements.change(adding: false, params, ctx: ctx) } }
        h.entitlementTypes.append(handler)
    }
    if caps.grantsList { h.listGrants = { params, ctx in try await entitlements.listGrants(params, ctx: ctx) } }
    return h
}

await connector.run()
