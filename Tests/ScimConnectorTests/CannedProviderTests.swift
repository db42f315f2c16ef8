import Foundation
import StewardHost
import StewardHTTP
import StewardProtocol
import StewardTestSupport
import Testing

/// The SCIM connector through the host against canned providers: behaviour the sandbox does not
/// have (cursor paging, no PATCH, no filters, no /Schemas), races (412), and hostile answers.
@Suite("SCIM connector against canned providers")
struct CannedProviderTests {
    @Test func pagesWithCursorsWhereTheProviderOffersThem() async throws {
        let provider = try CannedProvider(config: ["pagination": ["cursor": true, "index": false, "defaultPaginationMethod": "cursor"]]) { request in
            guard request.method == .get, request.path == "/scim/v2/Users" else { return nil }
            switch request.queryItems["cursor"] {
            case ""?: return .scim(200, CannedProvider.list([user("u1"), user("u2")], next: "page-2"))
            case "page-2"?: return .scim(200, CannedProvider.list([user("u3"), user("u4")], next: "page+3/="))
            case "page+3/="?: return .scim(200, CannedProvider.list([user("u5")]))
            default: return .scim(400, ["status": "400", "scimType": "invalidCursor", "detail": "unknown cursor"])
            }
        }
        defer { provider.stop() }
        let c = try provider.connector()
        let accounts = try await c.listAll(Method.accountsList, params: ListParams(pageSize: 2), of: Account.self)
        #expect(accounts.map(\.id) == ["u1", "u2", "u3", "u4", "u5"])
        let listings = provider.server.requests.filter { $0.path == "/scim/v2/Users" }
        #expect(listings.map { $0.queryItems["cursor"] } == ["", "page-2", "page+3/="])
        #expect(listings.allSatisfy { $0.queryItems["startIndex"] == nil && $0.queryItems["count"] == "2" })

        let stale = await #expect(throws: ConnectorFailure.self) {
            try await c.call(Method.accountsList, params: ListParams(cursor: "x.cexpired").json, as: Page<Account>.self)
        }
        #expect(stale?.connectorError?.kind == .preconditionFailed)
        await c.stop()
    }

    @Test func indexPagingAdvancesByWhatTheProviderReturned() async throws {
        // The provider caps pages at 2 whatever the count asked for.
        let all = (1...5).map { user("u\($0)") }
        let provider = try CannedProvider(config: ["filter": ["supported": true, "maxResults": 2]]) { request in
            guard request.method == .get, request.path == "/scim/v2/Users" else { return nil }
            let start = Int(request.queryItems["startIndex"] ?? "1") ?? 1
            let slice = Array(all.dropFirst(start - 1).prefix(2))
            return .scim(200, ["schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"], "totalResults": 5,
                               "startIndex": .int(start), "itemsPerPage": .int(slice.count), "Resources": .array(slice)])
        }
        defer { provider.stop() }
        let c = try provider.connector()
        let accounts = try await c.listAll(Method.accountsList, params: ListParams(pageSize: 50), of: Account.self)
        #expect(accounts.map(\.id) == ["u1", "u2", "u3", "u4", "u5"])
        let asked = provider.server.requests.filter { $0.path == "/scim/v2/Users" }
        // Pages 2 and 3 are fetched ahead, at once, so their order varies; none is asked twice.
        #expect(asked.compactMap { $0.queryItems["startIndex"] }.sorted() == ["1", "3", "5"])
        #expect(asked.allSatisfy { $0.queryItems["count"] == "2" }, "the page size is capped at the provider's maxResults")
        await c.stop()
    }

    @Test func mapsAFullUserIncludingMappedLastLogin() async throws {
        // RFC 7643 §8.3's enterprise user, with a vendor attribute for the last login.
        let full: JSONValue = [
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
            "id": "2819c223-7f76-453a-919d-413861904646", "externalId": "701984", "userName": "bjensen@example.com",
            "name": ["formatted": "Ms. Barbara J Jensen, III", "familyName": "Jensen", "givenName": "Barbara"],
            "displayName": "Babs Jensen", "title": "Tour Guide", "active": false,
            "emails": [["value": "bjensen@example.com", "type": "work", "primary": true], ["value": "babs@jensen.org", "type": "home"]],
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": [
                "employeeNumber": "701984", "costCenter": "4130", "department": "Tour Operations",
                "manager": ["value": "26118915-6090-4610-87e4-49d8ca9f808d", "displayName": "John Smith"],
            ],
            "urn:example:params:scim:schemas:extension:activity:2.0:User": ["lastLogin": "2024-05-01T09:00:00Z"],
            "meta": ["resourceType": "User", "created": "2010-01-23T04:56:22Z", "lastModified": "2011-05-13T04:42:34Z",
                     "version": "W/\"3694e05e9dff591\""],
        ]
        let provider = try CannedProvider { request in
            request.method == .get && request.path.hasPrefix("/scim/v2/Users") ? .scim(200, CannedProvider.list([full])) : nil
        }
        defer { provider.stop() }
        let c = try provider.connector(settings: ["attributeMapping": [
            "lastLoginAt": "urn:example:params:scim:schemas:extension:activity:2.0:User:lastLogin",
            "costCenter": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:costCenter",
            "homeEmail": "emails[type eq \"home\"].value",
            "title": nil,
        ]])
        let accounts = try await c.listAll(Method.accountsList, of: Account.self)
        let expected = Account(
            id: "2819c223-7f76-453a-919d-413861904646", userName: "bjensen@example.com", email: "bjensen@example.com",
            displayName: "Babs Jensen", givenName: "Barbara", familyName: "Jensen", externalId: "701984", employeeNumber: "701984",
            status: .disabled, lastLoginAt: "2024-05-01T09:00:00Z", createdAt: "2010-01-23T04:56:22Z",
            attributes: ["department": "Tour Operations", "managerId": "26118915-6090-4610-87e4-49d8ca9f808d",
                         "costCenter": "4130", "homeEmail": "babs@jensen.org"])
        #expect(accounts == [expected])
        await c.stop()
    }

    @Test func updatesWithPutWherePatchIsMissing() async throws {
        let store = UserStore(user("u1", version: 1))
        let provider = try CannedProvider(config: ["patch": ["supported": false], "etag": ["supported": true]]) { request in
            guard request.path == "/scim/v2/Users/u1" else { return nil }
            switch request.method {
            case .get: return store.get()
            case .put: return store.put(request)
            default: return .scim(405, ["detail": "no"])
            }
        }
        defer { provider.stop() }
        let c = try provider.connector()
        #expect(!(try await c.start().capabilities.accounts.isEmpty))
        let result = try await c.call(Method.accountsUpdate, params: AccountUpdateParams(
            idempotencyKey: "k", id: "u1", changes: ["givenName": "Babs", "email": "new@example.com"]).json, as: MutationResult.self)
        #expect(result.alreadyApplied == false)
        let put = try #require(provider.server.requests.first { $0.method == .put })
        #expect(put.headers["if-match"] == "W/\"1\"")
        let body = put.json
        #expect(body["meta"].isNull, "meta is the provider's, not sent back")
        #expect(body["userName"].stringValue == "u1@example.com")
        #expect(body["name"]["givenName"].stringValue == "Babs")
        #expect(body["emails"].arrayValue?.first?["value"].stringValue == "new@example.com")
        #expect(!provider.server.requests.contains { $0.method == .patch })

        let disabled = try await c.call(Method.accountsDisable, params: AccountRefParams(idempotencyKey: "d", id: "u1").json, as: MutationResult.self)
        #expect(disabled.alreadyApplied == false)
        #expect(store.current["active"].boolValue == false)
        await c.stop()
    }

    @Test func aConcurrentChangeIsReReadAndRetriedOnceWithTheNewETag() async throws {
        let store = UserStore(user("u1", version: 1))
        let patches = Counter()
        let provider = try CannedProvider(config: ["patch": ["supported": true], "etag": ["supported": true]]) { request in
            guard request.path == "/scim/v2/Users/u1" else { return nil }
            if request.method == .get { return store.get() }
            // Someone else changes the user just before our first PATCH lands.
            if patches.next() == 1 {
                store.bump()
                return .scim(412, ["status": "412", "detail": "version mismatch"])
            }
            return request.headers["if-match"] == store.etag ? .scim(200, store.current) : .scim(412, ["status": "412"])
        }
        defer { provider.stop() }
        let c = try provider.connector()
        let result = try await c.call(Method.accountsUpdate, params: AccountUpdateParams(
            idempotencyKey: "k", id: "u1", changes: ["title": "Boss"]).json, as: MutationResult.self)
        #expect(result.alreadyApplied == false)
        let sent = provider.server.requests.filter { $0.path == "/scim/v2/Users/u1" }.map { "\($0.method) \($0.headers["if-match"] ?? "-")" }
        #expect(sent == ["GET -", "PATCH W/\"1\"", "GET -", "PATCH W/\"2\""])
        let patch = try #require(provider.server.requests.last?.json)
        #expect(patch["Operations"] == [["op": "replace", "path": "title", "value": "Boss"]])
        await c.stop()
    }

    @Test func updatesSendOnlyWhatChangedWithValueFilterPaths() async throws {
        let store = UserStore(user("u1", version: 1))
        let provider = try CannedProvider(config: ["etag": ["supported": true]]) { request in
            guard request.path == "/scim/v2/Users/u1" else { return nil }
            return request.method == .get ? store.get() : HTTPResponse(status: .noContent)
        }
        defer { provider.stop() }
        let c = try provider.connector()
        let result = try await c.call(Method.accountsUpdate, params: AccountUpdateParams(
            idempotencyKey: "k", id: "u1",
            changes: ["email": "new@example.com", "familyName": .null, "givenName": "Given", "employeeNumber": "42"]).json,
            as: MutationResult.self)
        #expect(result.alreadyApplied == false)
        let patch = try #require(provider.server.requests.first { $0.method == .patch })
        #expect(patch.headers["content-type"] == "application/scim+json")
        #expect(patch.json["schemas"] == ["urn:ietf:params:scim:api:messages:2.0:PatchOp"])
        // givenName is already "Given": not sent.
        #expect(patch.json["Operations"] == [
            ["op": "replace", "path": "emails[type eq \"work\"].value", "value": "new@example.com"],
            ["op": "replace", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber", "value": "42"],
            ["op": "remove", "path": "name.familyName"],
        ])
        await c.stop()
    }

    @Test func aSecond412IsPreconditionFailed() async throws {
        let store = UserStore(user("u1", version: 1))
        let provider = try CannedProvider(config: ["patch": ["supported": true], "etag": ["supported": true]]) { request in
            guard request.path == "/scim/v2/Users/u1" else { return nil }
            if request.method == .get { return store.get() }
            store.bump()
            return .scim(412, ["status": "412", "detail": "version mismatch"])
        }
        defer { provider.stop() }
        let c = try provider.connector()
        let error = await #expect(throws: ConnectorFailure.self) {
            try await c.call(Method.accountsUpdate, params: AccountUpdateParams(
                idempotencyKey: "k", id: "u1", changes: ["title": "Boss"]).json, as: MutationResult.self)
        }
        #expect(error?.connectorError?.kind == .preconditionFailed)
        #expect(error?.connectorError?.outcome == .notApplied)
        #expect(provider.server.requests.filter { $0.method == .patch }.count == 2)
        await c.stop()
    }

    @Test func createFindsTheExistingUserOnAUniquenessConflict() async throws {
        let provider = try CannedProvider { request in
            if request.method == .post, request.path == "/scim/v2/Users" {
                return .scim(409, ["schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"], "status": "409",
                                   "scimType": "uniqueness", "detail": "userName taken"])
            }
            if request.method == .get, request.path == "/scim/v2/Users", request.queryItems["filter"] == "userName eq \"u7@example.com\"" {
                return .scim(200, CannedProvider.list([user("u7")]))
            }
            return nil
        }
        defer { provider.stop() }
        let c = try provider.connector()
        let result = try await c.call(Method.accountsCreate, params: AccountCreateParams(
            idempotencyKey: "k", account: AccountSpec(userName: "u7@example.com", employeeNumber: "7")).json, as: AccountCreateResult.self)
        #expect(result.status == .alreadyExists)
        #expect(result.account?.id == "u7")
        let post = try #require(provider.server.requests.first { $0.method == .post }?.json)
        #expect(post["schemas"].arrayValue?.contains("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User") == true)
        #expect(post["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"]["employeeNumber"] == "7")
        await c.stop()
    }

    @Test func looksUpByScanningWhenTheProviderCannotFilter() async throws {
        let provider = try CannedProvider(config: ["filter": ["supported": false]]) { request in
            guard request.method == .get, request.path == "/scim/v2/Users" else { return nil }
            return .scim(200, CannedProvider.list([user("u1"), user("u2"), user("u3")]))
        }
        defer { provider.stop() }
        let c = try provider.connector()
        let found = try await c.call(Method.accountsGet, params: AccountGetParams(userName: "U2@example.com").json, as: AccountGetResult.self)
        #expect(found.account?.id == "u2")
        #expect(provider.server.requests.allSatisfy { $0.queryItems["filter"] == nil })
        await c.stop()
    }

    @Test func declaresOnlyWhatDiscoveryShows() async throws {
        // No /Schemas, and resource types without Group: no roles, no entitlements, no groups.
        let provider = try CannedProvider(schemas: nil, resourceTypes: [[
            "id": "User", "name": "User", "endpoint": "/Accounts", "schema": "urn:ietf:params:scim:schemas:core:2.0:User",
        ]]) { request in
            request.path == "/scim/v2/Accounts" ? .scim(200, CannedProvider.list([user("a1")])) : nil
        }
        defer { provider.stop() }
        let c = try provider.connector()
        let caps = try await c.start().capabilities
        #expect(caps.entitlementTypes.isEmpty)
        #expect(!caps.grantsList)
        #expect(caps.accounts.contains(.create))
        let accounts = try await c.listAll(Method.accountsList, of: Account.self)
        #expect(accounts.map(\.id) == ["a1"], "the User endpoint comes from /ResourceTypes")
        await c.stop()
    }

    @Test func aLongRetryAfterIsHandedToTheHost() async throws {
        let provider = try CannedProvider { request in
            request.path == "/scim/v2/Users" ? HTTPResponse(status: .tooManyRequests, headers: ["Retry-After": "600", "X-RateLimit-Remaining": "0"]) : nil
        }
        defer { provider.stop() }
        let events = ConnectorEventLog()
        let c = try provider.connector(events: events.events)
        let error = await #expect(throws: ConnectorFailure.self) {
            try await c.call(Method.accountsList, params: ListParams().json, as: Page<Account>.self)
        }
        #expect(error?.connectorError?.kind == .rateLimited)
        #expect(error?.connectorError?.retryAfterMs == 600_000)
        #expect(provider.server.requests.filter { $0.path == "/scim/v2/Users" }.count == 1)
        #expect(events.rateLimits.contains { $0.remaining == 0 && $0.resetMs == 600_000 })
        await c.stop()
    }

    @Test func aWriteThatKeepsFailingWithServerErrorsHasAnUnknownOutcome() async throws {
        let provider = try CannedProvider { request in
            if request.path == "/scim/v2/Users/u1" {
                return request.method == .get ? .scim(200, user("u1")) : .scim(500, ["status": "500", "detail": "database on fire"])
            }
            return nil
        }
        defer { provider.stop() }
        let c = try provider.connector()
        let error = await #expect(throws: ConnectorFailure.self) {
            try await c.call(Method.accountsDisable, params: AccountRefParams(idempotencyKey: "k", id: "u1").json, as: MutationResult.self)
        }
        let e = error?.connectorError
        #expect(e?.kind == .connectionFailed)
        #expect(e?.outcome == .unknown)
        #expect(e?.retryable == true)
        #expect(e?.message.contains("database on fire") == true)
        #expect(e?.details["status"].intValue == 500)
        await c.stop()
    }

    @Test func theTokenNeverAppearsInErrorsOrLogs() async throws {
        let provider = try CannedProvider { request in
            request.path == "/scim/v2/Users" ? .scim(400, ["status": "400", "scimType": "invalidFilter",
                                                           "detail": .string("cannot parse; you sent \(request.headers["authorization"] ?? "")")]) : nil
        }
        defer { provider.stop() }
        let events = ConnectorEventLog()
        let c = try provider.connector(events: events.events)
        let error = await #expect(throws: ConnectorFailure.self) {
            try await c.call(Method.accountsGet, params: AccountGetParams(userName: "x").json, as: AccountGetResult.self)
        }
        let message = error?.connectorError?.message ?? ""
        #expect(error?.connectorError?.kind == .invalidArgument)
        #expect(message.contains("invalidFilter"))
        #expect(message.contains("Bearer ***"))
        #expect(!message.contains(CannedProvider.token))
        #expect(!events.logMessages.contains { $0.contains(CannedProvider.token) })
        await c.stop()
    }

    @Test func sortsListingsByTheConfiguredAttributeWhereTheProviderCan() async throws {
        let provider = try CannedProvider(config: ["sort": ["supported": true]]) { request in
            request.path == "/scim/v2/Users" ? .scim(200, CannedProvider.list([user("u1")])) : nil
        }
        defer { provider.stop() }
        let c = try provider.connector(settings: ["sortBy": "meta.created"])
        _ = try await c.listAll(Method.accountsList, of: Account.self)
        let listing = try #require(provider.server.requests.first { $0.path == "/scim/v2/Users" })
        #expect(listing.queryItems["sortBy"] == "meta.created")
        // Only the mapped attributes are asked for, in one parameter.
        #expect(listing.queryItems["attributes"]?.split(separator: ",").contains("name.givenName") == true)
        #expect(listing.queryItems["attributes"]?.split(separator: ",").contains("emails") == true)
        await c.stop()
    }

    @Test func theManifestDescribesEverySettingTheConnectorTakes() async throws {
        let manifest = try PluginManifest.load(Products.repoRoot.appendingPathComponent("plugins/scim/plugin.json"))
        #expect(manifest.name == "scim")
        #expect(manifest.command == ["steward-connector-scim"])
        #expect(Set(manifest.secrets) == ["token", "username", "password", "clientId", "clientSecret"])
        let schema = try #require(manifest.settingsSchema)
        #expect(schema["required"] == ["baseURL"])
        let properties = try #require(schema["properties"].objectValue)
        // A value for every documented setting; the connector must accept them all.
        let values: [String: JSONValue] = [
            "auth": "bearer", "tokenURL": "https://idp.example.com/token", "scope": "scim", "tokenAuth": "body",
            "pageSize": 50, "pagination": "index", "timeoutSeconds": 5, "attributeMapping": ["lastLoginAt": "meta.lastModified"],
            "roleTiers": ["Admin", "Viewer"], "roles": ["Admin"], "entitlements": ["E1"], "sortBy": "userName",
        ]
        #expect(Set(properties.keys) == Set(values.keys).union(["baseURL"]))
        let provider = try CannedProvider { _ in nil }
        defer { provider.stop() }
        let c = try provider.connector(settings: values)
        let handshake = try await c.start()
        #expect(handshake.connector.name == "scim")
        await c.stop()
    }

    @Test func badSettingsAreRefusedNamingTheSetting() async throws {
        let exe = try Products.executable("steward-connector-scim")
        let cases: [(JSONValue, [String: String], String)] = [
            ([:], ["token": "t0ken"], "settings.baseURL: required"),
            (["baseURL": "ftp://example.com"], ["token": "t0ken"], "settings.baseURL: \"ftp://example.com\" is not an http(s) URL"),
            (["baseURL": "https://example.com/scim"], [:], "settings.auth: not set and no \"token\" secret"),
            (["baseURL": "https://example.com/scim", "auth": "oauth2"], ["clientId": "id", "clientSecret": "secret"], "settings.tokenURL: required"),
            (["baseURL": "https://example.com/scim", "auth": "basic"], ["username": "u"], "secret \"password\" is not configured"),
            (["baseURL": "https://example.com/scim", "pagesize": 5], ["token": "t0ken"], "settings.pagesize: unknown setting"),
            (["baseURL": "https://example.com/scim", "attributeMapping": ["email": "emails[type ne \"work\"].value"]], ["token": "t0ken"],
             "settings.attributeMapping.email: \"emails[type ne \"work\"].value\" is not a SCIM attribute path"),
        ]
        for (settings, secrets, expected) in cases {
            let c = SupervisedConnector(ConnectorLaunch(appId: "scim", command: [exe], settings: settings, secrets: secrets))
            let error = await #expect(throws: ConnectorFailure.self) { try await c.start() }
            #expect(error?.connectorError?.kind == .configuration, "\(settings)")
            #expect(error?.connectorError?.message.contains(expected) == true, "\(error?.connectorError?.message ?? "no error") should contain \(expected)")
            await c.stop()
        }
    }
}

// MARK: - A canned provider

/// A SCIM provider made of discovery answers plus a closure for everything else.
struct CannedProvider {
    static let token = "canned-bearer-token-value"
    let server: StubServer

    init(config: [String: JSONValue] = [:], schemas: [JSONValue]? = CannedProvider.defaultSchemas,
         resourceTypes: [JSONValue]? = CannedProvider.defaultResourceTypes,
         _ routes: @escaping @Sendable (HTTPRequest) -> HTTPResponse?) throws {
        var spc: [String: JSONValue] = [
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"],
            "patch": ["supported": true], "bulk": ["supported": false, "maxOperations": 0, "maxPayloadSize": 0],
            "filter": ["supported": true, "maxResults": 200], "changePassword": ["supported": false],
            "sort": ["supported": false], "etag": ["supported": false], "authenticationSchemes": [],
        ]
        spc.merge(config) { _, b in b }
        let spcAnswer = HTTPResponse.scim(200, .object(spc))
        let schemasAnswer = schemas.map { HTTPResponse.scim(200, CannedProvider.list($0)) }
        let typesAnswer = resourceTypes.map { HTTPResponse.scim(200, CannedProvider.list($0)) }
        server = try StubServer { request in
            guard request.headers["authorization"] == "Bearer \(CannedProvider.token)" else {
                return .scim(401, ["status": "401", "detail": "unauthenticated"])
            }
            switch request.path {
            case "/scim/v2/ServiceProviderConfig": return spcAnswer
            case "/scim/v2/Schemas": return schemasAnswer ?? .scim(404, ["status": "404"])
            case "/scim/v2/ResourceTypes": return typesAnswer ?? .scim(404, ["status": "404"])
            default: return routes(request) ?? .scim(404, ["status": "404", "detail": .string("not canned: \(request.method) \(request.path)")])
            }
        }
    }

    func stop() { server.stop() }

    func connector(settings extra: [String: JSONValue] = [:], events: ConnectorEvents = ConnectorEvents(log: { _ in })) throws -> SupervisedConnector {
        var settings: [String: JSONValue] = ["baseURL": .string(server.baseURL + "/scim/v2")]
        settings.merge(extra) { _, b in b }
        return SupervisedConnector(ConnectorLaunch(appId: "canned", command: [try Products.executable("steward-connector-scim")],
                                                   settings: .object(settings), secrets: ["token": Self.token], events: events))
    }

    static func list(_ resources: [JSONValue], next: String? = nil) -> JSONValue {
        var body: [String: JSONValue] = ["schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"],
                                         "totalResults": .int(resources.count), "itemsPerPage": .int(resources.count),
                                         "startIndex": 1, "Resources": .array(resources)]
        if let next { body["nextCursor"] = .string(next) }
        return .object(body)
    }

    static let defaultResourceTypes: [JSONValue] = [
        ["id": "User", "name": "User", "endpoint": "/Users", "schema": "urn:ietf:params:scim:schemas:core:2.0:User",
         "schemaExtensions": [["schema": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User", "required": false]]],
        ["id": "Group", "name": "Group", "endpoint": "/Groups", "schema": "urn:ietf:params:scim:schemas:core:2.0:Group"],
    ]

    static let defaultSchemas: [JSONValue] = [
        ["id": "urn:ietf:params:scim:schemas:core:2.0:User", "name": "User",
         "attributes": .array(["userName", "name", "displayName", "emails", "active", "title"].map { ["name": .string($0)] })],
    ]
}

func user(_ id: String, version: Int? = nil) -> JSONValue {
    var u: [String: JSONValue] = [
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "id": .string(id), "userName": .string("\(id)@example.com"),
        "name": ["givenName": "Given", "familyName": .string(id)], "active": true,
        "emails": [["value": .string("\(id)@example.com"), "type": "work", "primary": true]],
    ]
    if let version { u["meta"] = ["resourceType": "User", "version": .string("W/\"\(version)\"")] }
    return .object(u)
}

/// One user held by a canned provider, with a version that PUT and `bump()` advance.
final class UserStore: @unchecked Sendable {  // `user` is guarded by `lock`
    private let lock = NSLock()
    private var user: [String: JSONValue]
    private var version = 1

    init(_ user: JSONValue) { self.user = user.objectValue ?? [:] }

    var current: JSONValue { lock.withLock { .object(user) } }
    var etag: String { lock.withLock { "W/\"\(version)\"" } }

    func bump() {
        lock.withLock {
            version += 1
            user["meta"] = ["resourceType": "User", "version": .string("W/\"\(version)\"")]
        }
    }

    func get() -> HTTPResponse {
        let (u, tag) = lock.withLock { (user, "W/\"\(version)\"") }
        return .scim(200, .object(u), headers: ["ETag": tag])
    }

    func put(_ request: HTTPRequest) -> HTTPResponse {
        guard var body = request.json.objectValue else { return .scim(400, ["detail": "not JSON"]) }
        return lock.withLock {
            guard request.headers["if-match"] == "W/\"\(version)\"" else { return .scim(412, ["status": "412"]) }
            version += 1
            body["meta"] = ["resourceType": "User", "version": .string("W/\"\(version)\"")]
            user = body
            return .scim(200, .object(body), headers: ["ETag": "W/\"\(version)\""])
        }
    }
}
