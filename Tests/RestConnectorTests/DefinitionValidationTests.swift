import Foundation
import StewardHost
import StewardJSON
import StewardProtocol
import StewardTestSupport
import Testing

/// A definition with a mistake is refused at `initialize` with a configuration error that
/// names the file, the line, the key path and the reason; nothing is sent to the app.
@Suite("Definition validation")
struct DefinitionValidationTests {
    /// A valid definition to break one piece at a time.
    static let valid: JSONValue = [
        "name": "demo",
        "settings": ["tenant": ["required": true]],
        "baseURL": "https://{{settings.tenant}}.example.com/api",
        "auth": ["type": "bearer", "token": "{{secrets.token}}"],
        "paging": ["type": "offset", "param": "offset", "sizeParam": "limit"],
        "capabilities": [
            "accounts": ["list": true, "get": true, "create": true],
            "entitlementTypes": [["type": "group", "list": true, "grant": true, "revoke": true]],
            "grants": ["list": true],
        ],
        "operations": [
            "accounts/list": ["path": "/users", "records": "/data", "fields": ["id": "/id", "email": "profile.emails[0].value"]],
            "accounts/get": ["path": "/users/{{params.id}}", "fields": ["id": "/id"]],
            "accounts/create": ["path": "/users", "body": ["email": "{{account.email}}"], "exists": [409], "fields": ["id": "/id"]],
            "entitlements/list": ["group": ["path": "/groups", "fields": ["id": "/id", "name": "/name"]]],
            "grants/list": ["group": ["forEach": "entitlement", "path": "/groups/{{entitlement.id}}/members", "fields": ["accountId": "/id"]]],
            "grants/add": ["group": ["method": "PUT", "path": "/groups/{{params.entitlementId}}/members/{{params.accountId}}"]],
            "grants/remove": ["group": ["method": "DELETE", "path": "/groups/{{params.entitlementId}}/members/{{params.accountId}}", "alreadyApplied": [404]]],
        ],
    ]

    /// Starts the connector on `definition` (pretty-printed, so mistakes have distinct lines)
    /// and returns the initialize error, or nil when it starts.
    static func initializeError(_ definition: JSONValue, settings: [String: JSONValue] = ["tenant": "acme"]) async throws -> ConnectorError? {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let path = try dir.write("demo.json", JSONWriter.pretty(definition)).path
        let c = try restConnector(definition: path, settings: settings, secrets: ["token": "t0k3n-secret"])
        let error = await connectorError { try await c.start() }
        await c.stop()
        return error
    }

    @Test func theValidDefinitionStarts() async throws {
        let error = try await Self.initializeError(Self.valid)
        #expect(error == nil, "\(error?.message ?? "")")
    }

    /// Each mistake, the key path the error must name, and words of the reason.
    static let mistakes: [Mistake] = [
        Mistake("unknown top-level field", { $0.set(["pagination"], ["type": "link"]) }, "pagination", "unknown field"),
        Mistake("unknown operation field", { $0.set(["operations", "accounts/list", "recrods"], "/data") },
         "operations.accounts/list.recrods", "unknown field (expected one of"),
        Mistake("unknown account field", { $0.set(["operations", "accounts/list", "fields", "mail"], "/mail") },
         "operations.accounts/list.fields.mail", "unknown account field"),
        Mistake("bad pointer escape", { $0.set(["operations", "accounts/list", "fields", "id"], "/emails/~2") },
         "operations.accounts/list.fields.id", "bad pointer or path"),
        Mistake("bad array index", { $0.set(["operations", "accounts/list", "records"], "data[first]") },
         "operations.accounts/list.records", "is not an array index"),
        Mistake("claimed operation missing", { $0.set(["operations", "accounts/create"], nil) },
         "capabilities.accounts.create", "claims accounts/create but operations has no \"accounts/create\""),
        Mistake("claimed revoke missing", { $0.set(["operations", "grants/remove"], nil) },
         "capabilities.entitlementTypes[0].revoke", "claims grants/remove for \"group\""),
        Mistake("operation not claimed", { $0.set(["operations", "accounts/delete"], ["method": "DELETE", "path": "/users/{{params.id}}"]) },
         "operations.accounts/delete", "not declared in capabilities"),
        Mistake("undeclared entitlement type", { $0.set(["operations", "grants/add", "role"], ["path": "/roles"]) },
         "operations.grants/add.role", "no entitlement type \"role\""),
        Mistake("undeclared setting", { $0.set(["operations", "accounts/list", "path"], "/{{settings.region}}/users") },
         "operations.accounts/list.path", "setting \"region\" is not declared"),
        Mistake("unknown template field", { $0.set(["operations", "accounts/create", "body", "email"], "{{account.mail}}") },
         "operations.accounts/create.body.email", "account has no field \"mail\""),
        Mistake("secret outside auth", { $0.set(["operations", "accounts/list", "headers"], ["X-Key": "{{secrets.token}}"]) },
         "operations.accounts/list.headers.X-Key", "unknown name \"secrets\""),
        Mistake("unclosed template", { $0.set(["operations", "accounts/get", "path"], "/users/{{params.id") },
         "operations.accounts/get.path", "is not closed"),
        Mistake("unknown filter", { $0.set(["operations", "accounts/get", "path"], "/users/{{params.id | shout}}") },
         "operations.accounts/get.path", "unknown filter \"shout\""),
        Mistake("bad status code", { $0.set(["operations", "accounts/create", "exists"], [4090]) },
         "operations.accounts/create.exists[0]", "expected an HTTP status code"),
        Mistake("bad paging type", { $0.set(["paging", "type"], "pages") }, "paging.type", "is not one of link, cursor, offset, page"),
        Mistake("query in path", { $0.set(["operations", "accounts/list", "path"], "/users?limit=5") },
         "operations.accounts/list.path", "put query parameters in \"query\""),
        Mistake("credentials as a header", { $0.set(["operations", "accounts/list", "headers"], ["Authorization": "Basic x"]) },
         "operations.accounts/list.headers.Authorization", "set credentials in \"auth\""),
        Mistake("grant mapping without entitlement", { $0.set(["operations", "grants/list", "group", "forEach"], nil) },
         "operations.grants/list.group.fields", "needs \"entitlementId\""),
    ]

    @Test(arguments: mistakes)
    func aMistakeNamesFileLinePathAndReason(_ mistake: Mistake) async throws {
        let (name, path, reason) = (mistake.name, mistake.path, mistake.reason)
        var definition = Self.valid
        mistake.mutate(&definition)
        let error = try #require(try await Self.initializeError(definition), "\(name): the connector started")
        #expect(error.kind == .configuration, "\(name)")
        let message = error.message
        // "…/demo.json:12: operations.accounts/list.recrods: unknown field…"
        let located = message.range(of: #"demo\.json:\d+: "#, options: .regularExpression) != nil
        #expect(located, "\(name): no file and line in: \(message)")
        #expect(message.contains("\(path): "), "\(name): no key path \(path) in: \(message)")
        #expect(message.contains(reason), "\(name): no reason \"\(reason)\" in: \(message)")
        #expect(!message.contains("t0k3n-secret"))
    }

    @Test func aSyntaxErrorNamesTheLine() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let path = try dir.write("broken.json", "{\n  \"name\": \"x\",\n  \"capabilities\": {,\n}\n").path
        let c = try restConnector(definition: path)
        let error = await connectorError { try await c.start() }
        await c.stop()
        #expect(error?.kind == .configuration)
        #expect(error?.message.contains("broken.json:3:") == true, "\(error?.message ?? "")")
    }

    @Test func settingsAreCheckedAgainstTheDefinition() async throws {
        let missing = try await Self.initializeError(Self.valid, settings: [:])
        #expect(missing?.message.contains("settings.tenant: required by demo") == true, "\(missing?.message ?? "")")
        let unknown = try await Self.initializeError(Self.valid, settings: ["tenant": "acme", "tennant": "x"])
        #expect(unknown?.message.contains("settings.tennant: unknown setting for demo") == true, "\(unknown?.message ?? "")")
    }

    @Test func theDefinitionPathIsRelativeToTheConfigFile() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        try FileManager.default.createDirectory(at: dir.url.appendingPathComponent("apps"), withIntermediateDirectories: true)
        try dir.write("apps/demo.json", JSONWriter.pretty(Self.valid))
        let c = try restConnector(definition: "apps/demo.json", settings: ["tenant": "acme"], secrets: ["token": "t"], baseDirectory: dir.url.path)
        let handshake = try await c.start()
        #expect(handshake.capabilities.entitlementTypes.map(\.type) == ["group"])
        #expect(handshake.capabilities.methods.contains(Method.grantsRemove))
        await c.stop()
    }

    /// Every shipped definition loads and declares what it claims.
    @Test(arguments: ["github", "okta", "atlassian", "zoom", "bamboohr"])
    func shippedDefinitionsLoad(_ name: String) async throws {
        let all: [String: [String: JSONValue]] = [
            "github": ["org": "acme"], "okta": ["domain": "acme.okta.com"], "atlassian": ["site": "acme", "email": "ops@example.com"],
            "zoom": ["accountId": "a1"], "bamboohr": ["companyDomain": "acme"],
        ]
        let settings = all[name] ?? [:]
        let secrets = ["token": "t", "clientId": "id", "clientSecret": "secret", "apiKey": "key", "email": "ops@example.com",
                       "username": "u", "password": "p"]
        let c = try restConnector(definition: Products.appDefinition(name), settings: settings, secrets: secrets)
        let handshake = try await c.start()
        #expect(!handshake.capabilities.methods.isEmpty)
        await c.stop()
    }
}

/// One broken piece of a definition and what the error must say about it.
struct Mistake: Sendable, CustomTestStringConvertible {
    var name: String
    var mutate: @Sendable (inout JSONValue) -> Void
    var path: String
    var reason: String

    init(_ name: String, _ mutate: @escaping @Sendable (inout JSONValue) -> Void, _ path: String, _ reason: String) {
        self.name = name
        self.mutate = mutate
        self.path = path
        self.reason = reason
    }

    var testDescription: String { name }
}

extension JSONValue {
    /// Sets (or with nil, removes) the member at `path`, creating objects on the way.
    mutating func set(_ path: [String], _ value: JSONValue?) {
        guard let key = path.first else { return }
        var object = objectValue ?? [:]
        if path.count == 1 {
            object[key] = value
        } else {
            var child = object[key] ?? [:]
            child.set(Array(path.dropFirst()), value)
            object[key] = child
        }
        self = .object(object)
    }
}
