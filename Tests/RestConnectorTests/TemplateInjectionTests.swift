import Foundation
import StewardHost
import StewardHTTP
import StewardJSON
import StewardProtocol
import StewardTestSupport
import Testing

/// Values inserted by templates reach the app as data: whatever they contain, the request
/// keeps the path, query, headers and body the definition wrote.
@Suite("Template injection")
struct TemplateInjectionTests {
    /// `/`, `?`, `#`, `"`, `{{`, `%`, `&`, `=`, `+`, a line break and non-ASCII text.
    static let hostile = "a/b?c=d&e#f\"g\\h{{settings.secretish}}%2F+ i\nj é 日本 🙂"

    static let definition = """
        {
          "name": "echo",
          "settings": { "secretish": { "default": "S3CRET-SETTING" } },
          "auth": { "type": "bearer", "token": "{{secrets.token}}" },
          "capabilities": { "accounts": { "create": true, "update": true } },
          "operations": {
            "accounts/create": {
              "method": "POST",
              "path": "/users/{{account.userName}}/profile",
              "query": { "email": "{{account.email}}", "fixed": "yes" },
              "headers": { "X-Display": "{{account.displayName}}" },
              "body": {
                "name": "{{account.displayName}}",
                "title": "Title: {{account.title}}",
                "nested": { "list": ["{{account.userName}}", "x"] },
                "missing": "{{account.department}}"
              },
              "success": [201],
              "fields": { "id": "/id" }
            },
            "accounts/update": {
              "method": "PATCH",
              "path": "/users/{{params.id}}",
              "body": { "email": "{{changes.email}}", "title": "{{changes.title}}" }
            }
          }
        }
        """

    /// The recording server, the connector, and the temporary directory holding the definition.
    private func setUp() throws -> (StubServer, SupervisedConnector, TemporaryDirectory) {
        let server = try StubServer { _ in .json(["id": "42"], status: .created) }
        let dir = try TemporaryDirectory()
        let path = try writeDefinition(dir, Self.definition)
        let connector = try restConnector(definition: path, settings: ["baseURL": .string(server.baseURL)], secrets: ["token": "tok-123456"])
        return (server, connector, dir)
    }

    @Test func valuesReachPathQueryHeaderAndBodyAsData() async throws {
        let (server, connector, dir) = try setUp()
        defer { server.stop(); dir.remove() }
        let display = "Ann \"{{settings.secretish}}\" ?#/ O'Brien"
        let spec = AccountSpec(userName: Self.hostile, email: Self.hostile, displayName: display, title: "x\"\n}, \"evil\": {")
        let result = try await connector.call(Method.accountsCreate, params: AccountCreateParams(idempotencyKey: "k", account: spec).json,
                                              as: AccountCreateResult.self)
        #expect(result.account?.id == "42")
        await connector.stop()

        let requests = server.requests
        try #require(requests.count == 1)
        let request = requests[0]
        #expect(request.method == .post)
        // Three segments, the middle one exactly the value.
        let segments = request.path.split(separator: "/", omittingEmptySubsequences: false).dropFirst().map { PercentEncoding.decode($0) }
        #expect(segments == ["users", Self.hostile, "profile"])
        // Two query parameters, whatever the value holds.
        let query = request.queryItems
        #expect(query.fields.count == 2)
        #expect(query["email"] == Self.hostile)
        #expect(query["fixed"] == "yes")
        #expect(request.headers["X-Display"] == display)
        let body = try JSONParser.parse(request.body)
        #expect(body["name"].stringValue == display)
        #expect(body["title"].stringValue == "Title: x\"\n}, \"evil\": {")
        #expect(body["nested"]["list"] == [.string(Self.hostile), "x"])
        #expect(body["evil"].isNull)
        // A member whose value is missing is left out, not sent as "" or null.
        #expect(body.objectValue?.keys.sorted() == ["name", "nested", "title"])
        // Templates are rendered once: `{{...}}` inside a value is never expanded.
        let everything = request.target + String(decoding: request.body, as: UTF8.self) + request.headers.description
        #expect(!everything.contains("S3CRET-SETTING"))
        #expect(request.headers["Authorization"] == "Bearer tok-123456")
    }

    @Test func aLineBreakCannotStartANewHeader() async throws {
        let (server, connector, dir) = try setUp()
        defer { server.stop(); dir.remove() }
        let spec = AccountSpec(userName: "ann", displayName: "Ann\r\nX-Injected: yes")
        let error = await connectorError {
            _ = try await connector.call(Method.accountsCreate, params: AccountCreateParams(idempotencyKey: "k", account: spec).json)
        }
        #expect(error?.kind == .invalidArgument)
        #expect(error?.message.contains("headers.X-Display") == true)
        #expect(error?.message.contains("line break") == true)
        #expect(server.requests.isEmpty)
        await connector.stop()
    }

    @Test(arguments: ["..", "."])
    func aValueCannotClimbThePath(id: String) async throws {
        let (server, connector, dir) = try setUp()
        defer { server.stop(); dir.remove() }
        let error = await connectorError {
            _ = try await connector.call(Method.accountsUpdate, params: AccountUpdateParams(idempotencyKey: "k", id: id, changes: ["email": "e@x"]).json)
        }
        #expect(error?.kind == .invalidArgument)
        #expect(error?.message.contains("would change the request's path") == true)
        #expect(server.requests.isEmpty)
        await connector.stop()
    }

    @Test func updateSendsOnlyTheChangedAttributesAndNullClears() async throws {
        let (server, connector, dir) = try setUp()
        defer { server.stop(); dir.remove() }
        _ = try await connector.call(Method.accountsUpdate, params: AccountUpdateParams(
            idempotencyKey: "k", id: "u/1", changes: ["title": .null]).json, as: MutationResult.self)
        let refused = await connectorError {
            _ = try await connector.call(Method.accountsUpdate, params: AccountUpdateParams(
                idempotencyKey: "k", id: "u1", changes: ["department": "Sales"]).json)
        }
        await connector.stop()
        let requests = server.requests
        try #require(requests.count == 1)
        #expect(requests[0].path == "/users/u%2F1")
        #expect(try JSONParser.parse(requests[0].body) == ["title": .null])
        #expect(refused?.kind == .invalidArgument)
        #expect(refused?.message.contains("cannot update department") == true)
    }
}
