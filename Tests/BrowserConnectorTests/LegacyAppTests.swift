import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import StewardJSON
import StewardTestSupport
import Testing

/// The sandbox's legacy app without a browser: what its forms refuse, and its test hooks.
struct LegacyAppTests {
    @Test func signInNeedsTheFormsCSRFTokenAndTheRightPassword() async throws {
        let sandbox = try LegacySandbox()
        defer { sandbox.stop() }
        let noToken = try await post(sandbox.baseURL + "/login", ["username": "admin", "password": sandbox.token])
        #expect(noToken.status == 403)
        #expect(noToken.body.contains("sign in again"))

        let token = try #require(try await csrfToken(sandbox.baseURL + "/login"))
        let wrong = try await post(sandbox.baseURL + "/login", ["csrf": token, "username": "admin", "password": "nope"])
        #expect(wrong.status == 401)
        #expect(wrong.body.contains("Invalid username or password"))

        let replayed = try await post(sandbox.baseURL + "/login", ["csrf": token, "username": "admin", "password": sandbox.token])
        #expect(replayed.status == 403, "a sign-in form's token is good once")

        let fresh = try #require(try await csrfToken(sandbox.baseURL + "/login"))
        let good = try await post(sandbox.baseURL + "/login", ["csrf": fresh, "username": "admin", "password": sandbox.token])
        #expect(good.status == 303)
        #expect(good.location == "/legacy/users")
    }

    @Test func pagesNeedASession() async throws {
        let sandbox = try LegacySandbox()
        defer { sandbox.stop() }
        let response = try await get(sandbox.baseURL + "/users/1")
        #expect(response.status == 303)
        #expect(response.location?.hasPrefix("/legacy/login?next=") == true)
    }

    @Test func hooksNeedTheTokenAndSeedUsers() async throws {
        let sandbox = try LegacySandbox()
        defer { sandbox.stop() }
        let anonymous = try await get(sandbox.baseURL + "/_state")
        #expect(anonymous.status == 401)

        try await sandbox.call("PUT", "/_sandbox/users", ["users": [
            ["userName": "ann", "role": "admin", "groups": ["finance"]],
            ["userName": "bo", "status": "disabled"],
        ]])
        let users = try await sandbox.users()
        #expect(Set(users.keys) == ["ann", "bo"])
        #expect(users["ann"]?["role"] == "admin")
        #expect(users["ann"]?["groups"] == ["finance"])
        #expect(users["bo"]?["status"] == "disabled")
        #expect(users["bo"]?["email"] == "bo@example.com")
    }

    @Test func usersSurviveARestartWithAStateFile() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let state = dir.url.appendingPathComponent("state.json").path
        let first = try LegacySandbox(["--state", state])
        try await first.call("PUT", "/_sandbox/users", ["users": [["userName": "carl", "role": "editor"]]])
        first.stop()
        let second = try LegacySandbox(["--state", state])
        defer { second.stop() }
        let users = try await second.users()
        #expect(Set(users.keys) == ["carl"])
        #expect(users["carl"]?["role"] == "editor")
    }
}

/// A response without following redirects.
struct RawResponse {
    var status: Int
    var location: String?
    var body: String
}

private final class NoRedirects: NSObject, URLSessionTaskDelegate, @unchecked Sendable {  // stateless
    func urlSession(_ session: URLSession, task: URLSessionTask, willPerformHTTPRedirection response: HTTPURLResponse,
                    newRequest request: URLRequest, completionHandler: @escaping @Sendable (URLRequest?) -> Void) {
        completionHandler(nil)
    }
}

private let plainSession = URLSession(configuration: .ephemeral, delegate: NoRedirects(), delegateQueue: nil)

func get(_ url: String) async throws -> RawResponse {
    guard let address = URL(string: url) else { throw TestFailure("bad URL \(url)") }
    return try await send(URLRequest(url: address))
}

func post(_ url: String, _ form: [String: String]) async throws -> RawResponse {
    guard let address = URL(string: url) else { throw TestFailure("bad URL \(url)") }
    var request = URLRequest(url: address)
    request.httpMethod = "POST"
    request.setValue("application/x-www-form-urlencoded", forHTTPHeaderField: "Content-Type")
    var allowed = CharacterSet.alphanumerics
    allowed.insert(charactersIn: "-._~")
    request.httpBody = Data(form.map { "\($0.key)=\($0.value.addingPercentEncoding(withAllowedCharacters: allowed) ?? "")" }
        .joined(separator: "&").utf8)
    return try await send(request)
}

private func send(_ request: URLRequest) async throws -> RawResponse {
    let (data, response) = try await plainSession.data(for: request)
    let http = response as? HTTPURLResponse
    return RawResponse(status: http?.statusCode ?? 0, location: http?.value(forHTTPHeaderField: "Location"),
                       body: String(decoding: data, as: UTF8.self))
}

/// The CSRF token of the sign-in form at `url`.
func csrfToken(_ url: String) async throws -> String? {
    let page = try await get(url).body
    guard let range = page.range(of: #"name="csrf" value=""#) else { return nil }
    return String(page[range.upperBound...].prefix { $0 != "\"" })
}
