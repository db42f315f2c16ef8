import ConnectorKit
import Foundation
#if canImport(Glibc)
import Glibc
#endif
import StewardHTTP
import StewardProtocol
import StewardTestSupport
import Testing

/// ConnectorKit's HTTP helpers: retry decisions, Retry-After, rate-limit headers, auth, error
/// mapping and redaction. The client runs against a canned local server; its waits are
/// recorded instead of slept.
@Suite("HTTP client helpers")
struct HTTPClientTests {
    // MARK: Retry-After and backoff

    @Test func retryAfterReadsSecondsAndHTTPDates() throws {
        let now = try #require(HTTPDate.parse("Sun, 06 Nov 1994 08:49:37 GMT"))
        #expect(RetryAfter.seconds("120", now: now) == 120)
        #expect(RetryAfter.seconds(" 3 ", now: now) == 3)
        #expect(RetryAfter.seconds("Sun, 06 Nov 1994 08:50:07 GMT", now: now) == 30)
        #expect(RetryAfter.seconds("Sunday, 06-Nov-94 08:49:47 GMT", now: now) == 10)
        #expect(RetryAfter.seconds("Sun Nov  6 08:49:42 1994", now: now) == 5)
        #expect(RetryAfter.seconds("Sun, 06 Nov 1994 08:00:00 GMT", now: now) == 0)  // in the past: no wait
        #expect(RetryAfter.seconds("soon", now: now) == nil)
        #expect(RetryAfter.seconds("-5", now: now) == nil)
        #expect(HTTPDate.format(now) == "Sun, 06 Nov 1994 08:49:37 GMT")
    }

    @Test func backoffGrowsWithJitterAndACap() {
        let policy = RetryPolicy(maxAttempts: 10, baseDelay: 0.2, maxDelay: 5)
        #expect(policy.backoff(attempt: 1, random: 0) == 0.1)
        #expect(policy.backoff(attempt: 1, random: 1) == 0.2)
        #expect(policy.backoff(attempt: 3, random: 0) == 0.4)
        #expect(policy.backoff(attempt: 9, random: 1) == 5)
        #expect(policy.backoff(attempt: 9, random: 0) == 2.5)
    }

    @Test func retryDecisionsDependOnStatusIdempotenceAndWaits() throws {
        let policy = RetryPolicy(maxAttempts: 3, baseDelay: 0.2, maxDelay: 5, maxWait: 30, maxTotalWait: 60)
        let url = try #require(URL(string: "http://127.0.0.1/x"))
        let get = HTTPClient.Request(method: "GET", url: url)
        let post = HTTPClient.Request(method: "POST", url: url)
        func response(_ status: Int, _ headers: [String: String] = [:]) -> HTTPClient.Attempt {
            .response(HTTPClient.Response(status: status, headers: headers))
        }
        #expect(policy.decide(response(200), request: post, attempt: 1, waited: 0) == .done)
        #expect(policy.decide(response(404), request: get, attempt: 1, waited: 0) == .done)
        #expect(policy.decide(response(503), request: get, attempt: 1, waited: 0, random: 1) == .retry(delay: 0.2, honouringRetryAfter: false))
        #expect(policy.decide(response(503, ["Retry-After": "2"]), request: get, attempt: 1, waited: 0) == .retry(delay: 2, honouringRetryAfter: true))
        // A POST that failed with a 5xx may have happened: not retried here.
        #expect(policy.decide(response(500), request: post, attempt: 1, waited: 0) == .fail(retryAfterMs: nil))
        // 429 means "not done": retried for any method, as long as the wait is short.
        #expect(policy.decide(response(429, ["Retry-After": "1"]), request: post, attempt: 1, waited: 0) == .retry(delay: 1, honouringRetryAfter: true))
        #expect(policy.decide(response(429, ["Retry-After": "120"]), request: get, attempt: 1, waited: 0) == .fail(retryAfterMs: 120_000))
        #expect(policy.decide(response(429, ["Retry-After": "20"]), request: get, attempt: 1, waited: 50) == .fail(retryAfterMs: 20_000))
        #expect(policy.decide(response(503), request: get, attempt: 3, waited: 0) == .fail(retryAfterMs: nil))
        let refused = HTTPClient.Attempt.transport(.init(message: "refused", notSent: true, timedOut: false))
        let lost = HTTPClient.Attempt.transport(.init(message: "lost", notSent: false, timedOut: true))
        #expect(policy.decide(refused, request: post, attempt: 1, waited: 0, random: 0) == .retry(delay: 0.1, honouringRetryAfter: false))
        #expect(policy.decide(lost, request: post, attempt: 1, waited: 0) == .fail(retryAfterMs: nil))
        #expect(policy.decide(lost, request: get, attempt: 1, waited: 0, random: 0) == .retry(delay: 0.1, honouringRetryAfter: false))
    }

    // MARK: Rate-limit headers

    @Test func rateLimitHeadersInTheirCommonSpellings() {
        let now = Date(timeIntervalSince1970: 1_700_000_000)
        #expect(RateLimitStatus(headers: ["x-ratelimit-limit": "100", "x-ratelimit-remaining": "7", "x-ratelimit-reset": "30"], now: now)
            == RateLimitStatus(limit: 100, remaining: 7, resetMs: 30_000))
        // GitHub-style reset as a Unix time.
        #expect(RateLimitStatus(headers: ["x-ratelimit-remaining": "0", "x-ratelimit-reset": "1700000012"], now: now)
            == RateLimitStatus(remaining: 0, resetMs: 12_000))
        #expect(RateLimitStatus(headers: ["ratelimit-limit": "100, 100;w=60", "ratelimit-remaining": "50", "ratelimit-reset": "5"], now: now)
            == RateLimitStatus(limit: 100, remaining: 50, resetMs: 5_000))
        #expect(RateLimitStatus(headers: ["ratelimit": "limit=10, remaining=2, reset=4"], now: now)
            == RateLimitStatus(limit: 10, remaining: 2, resetMs: 4_000))
        #expect(RateLimitStatus(headers: ["ratelimit": "\"default\";r=3;t=9", "ratelimit-policy": "\"default\";q=60;w=60"], now: now)
            == RateLimitStatus(limit: 60, remaining: 3, resetMs: 9_000))
        #expect(RateLimitStatus(headers: ["retry-after": "2"], status: 429, now: now) == RateLimitStatus(remaining: 0, resetMs: 2_000))
        #expect(RateLimitStatus(headers: ["retry-after": "2"], status: 503, now: now) == nil)
        #expect(RateLimitStatus(headers: ["content-type": "text/plain"], now: now) == nil)
    }

    // MARK: Errors and redaction

    @Test func statusesMapToTheTaxonomyWithOutcomes() {
        #expect(HTTPFailure.kind(forStatus: 400) == .invalidArgument)
        #expect(HTTPFailure.kind(forStatus: 401) == .unauthenticated)
        #expect(HTTPFailure.kind(forStatus: 403) == .permissionDenied)
        #expect(HTTPFailure.kind(forStatus: 404) == .notFound)
        #expect(HTTPFailure.kind(forStatus: 409) == .alreadyExists)
        #expect(HTTPFailure.kind(forStatus: 412) == .preconditionFailed)
        #expect(HTTPFailure.kind(forStatus: 429) == .rateLimited)
        #expect(HTTPFailure.kind(forStatus: 500) == .connectionFailed)
        #expect(HTTPFailure.kind(forStatus: 503) == .connectionFailed)
        #expect(HTTPFailure.kind(forStatus: 504) == .timeout)
        #expect(HTTPFailure.outcome(forStatus: 409) == .notApplied)
        #expect(HTTPFailure.outcome(forStatus: 500) == .unknown)
        #expect(HTTPFailure.outcome(forStatus: 501) == .notApplied)
    }

    @Test func redactorHidesSecretsAddedLater() {
        let redactor = SecretRedactor(["token": "s3cr3t-token", "short": "abc"])
        #expect(redactor.redact("Bearer s3cr3t-token failed") == "Bearer *** failed")
        #expect(redactor.redact("abc stays") == "abc stays")
        redactor.add(["minted-access-token"])
        let e = redactor.redact(ConnectorError(.internal, "got minted-access-token back", details: ["echo": "s3cr3t-token"]))
        #expect(e.message == "got *** back")
        #expect(e.details["echo"].stringValue == "***")
    }

    // MARK: The client against a server

    @Test func retriesServerErrorsWithBackoffThenSucceeds() async throws {
        let counter = Counter()
        let server = try StubServer { _ in
            counter.next() <= 2 ? HTTPResponse(status: .serviceUnavailable) : .scim(200, ["ok": true])
        }
        defer { server.stop() }
        let waits = Waits()
        let client = HTTPClient(configuration: .init(retry: RetryPolicy(maxAttempts: 4, baseDelay: 0.5)), sleep: waits.record)
        let response = try await client.send(.init(method: "GET", url: try #require(URL(string: server.baseURL + "/x"))))
        #expect(response.status == 200)
        #expect(server.requests.count == 3)
        #expect(waits.all.count == 2)
        #expect(waits.all[0] >= 0.25 && waits.all[0] <= 0.5)
        #expect(waits.all[1] >= 0.5 && waits.all[1] <= 1.0)
    }

    @Test func honoursRetryAfterButNeverWaitsMinutes() async throws {
        let counter = Counter()
        let server = try StubServer { request in
            if request.path == "/long" { return HTTPResponse(status: .tooManyRequests, headers: ["Retry-After": "300"]) }
            return counter.next() == 1 ? HTTPResponse(status: .tooManyRequests, headers: ["Retry-After": "2", "X-RateLimit-Limit": "10"]) : .scim(200, [:])
        }
        defer { server.stop() }
        let waits = Waits()
        let client = HTTPClient(configuration: .init(), sleep: waits.record)
        let ok = try await client.send(.init(method: "POST", url: try #require(URL(string: server.baseURL + "/short"))))
        #expect(ok.status == 200)
        #expect(waits.all == [2])

        let error = await #expect(throws: ConnectorError.self) {
            try await client.send(.init(method: "GET", url: try #require(URL(string: server.baseURL + "/long"))))
        }
        #expect(error?.kind == .rateLimited)
        #expect(error?.retryAfterMs == 300_000)
        #expect(error?.retryable == true)
        #expect(waits.all == [2], "a 5-minute Retry-After is the host's to honour, not the connector's")
    }

    @Test func aTimedOutWriteHasAnUnknownOutcome() async throws {
        let server = try StubServer.silent()
        defer { server.stop() }
        let client = HTTPClient(configuration: .init(timeout: 1, retry: .never))
        let error = await #expect(throws: ConnectorError.self) {
            try await client.send(.init(method: "POST", url: try #require(URL(string: server.baseURL + "/users"))))
        }
        #expect(error?.kind == .timeout)
        #expect(error?.outcome == .unknown)
        #expect(error?.retryable == true)
    }

    @Test func aRefusedConnectionWasNotApplied() async throws {
        // A port bound but not listening refuses connections for as long as it is held; a
        // stopped server's port could be taken by another test's server meanwhile.
        let closed = try ClosedPort()
        defer { closed.release() }
        let base = "http://127.0.0.1:\(closed.port)"
        let waits = Waits()
        let client = HTTPClient(configuration: .init(retry: RetryPolicy(maxAttempts: 2)), sleep: waits.record)
        let error = await #expect(throws: ConnectorError.self) {
            try await client.send(.init(method: "POST", url: try #require(URL(string: base + "/users"))))
        }
        #expect(error?.kind == .connectionFailed)
        #expect(error?.outcome == .notApplied)
        #expect(waits.all.count == 1, "a request that never left is safe to retry, even a POST")
    }

    @Test func basicAuthIsSentAndSecretsNeverAppearInErrors() async throws {
        let server = try StubServer { request in
            // A careless app that echoes the credentials it was given.
            .scim(400, ["detail": .string("bad request with \(request.headers["authorization"] ?? "")")])
        }
        defer { server.stop() }
        let secrets = ["username": "svc-user", "password": "pa55word!"]
        let client = HTTPClient(configuration: .init(auth: .basic(username: "svc-user", password: "pa55word!")),
                                redactor: SecretRedactor(secrets))
        let request = HTTPClient.Request(method: "GET", url: try #require(URL(string: server.baseURL + "/x")))
        let response = try await client.send(request)
        #expect(server.requests.first?.headers["authorization"] == "Basic " + Data("svc-user:pa55word!".utf8).base64EncodedString())
        let error = client.error(for: response, request: request)
        #expect(error.kind == .invalidArgument)
        #expect(error.message.contains("Basic ***"))
        #expect(!error.message.contains(Data("svc-user:pa55word!".utf8).base64EncodedString()))
        #expect(!error.message.contains("pa55word!"))
    }

    @Test func oauthTokenIsCachedAndRefreshedOnceOn401() async throws {
        let issued = Counter()
        let server = try StubServer { request in
            if request.path == "/token" {
                let n = issued.next()
                return .scim(200, ["access_token": .string("minted-token-\(n)"), "token_type": "Bearer", "expires_in": 3600])
            }
            if request.path == "/revoked" && request.headers["authorization"] == "Bearer minted-token-1" {
                return .scim(401, ["detail": "token minted-token-1 was revoked"])
            }
            if request.path == "/always401" { return .scim(401, ["detail": .string("no entry for \(request.headers["authorization"] ?? "")")]) }
            return .scim(200, ["ok": true])
        }
        defer { server.stop() }
        let credentials = OAuthClientCredentials(tokenURL: try #require(URL(string: server.baseURL + "/token")),
                                                 clientId: "client one", clientSecret: "client-secret-value", scope: "scim.read scim.write")
        let client = HTTPClient(configuration: .init(auth: .oauth2(credentials)), redactor: SecretRedactor(["clientSecret": "client-secret-value"]))
        for _ in 0..<3 {
            #expect(try await client.send(.init(method: "GET", url: try #require(URL(string: server.baseURL + "/ok")))).status == 200)
        }
        let tokenRequests = server.requests.filter { $0.path == "/token" }
        #expect(tokenRequests.count == 1, "the token is cached until it expires")
        let form = tokenRequests.first?.bodyText ?? ""
        #expect(form.contains("grant_type=client_credentials"))
        #expect(form.contains("scope=scim.read+scim.write"))
        #expect(tokenRequests.first?.headers["authorization"] == "Basic " + Data("client+one:client-secret-value".utf8).base64EncodedString())
        #expect(server.requests.last?.headers["authorization"] == "Bearer minted-token-1")

        // A 401 fetches a new token and retries once.
        #expect(try await client.send(.init(method: "GET", url: try #require(URL(string: server.baseURL + "/revoked")))).status == 200)
        #expect(server.requests.filter { $0.path == "/token" }.count == 2)
        #expect(server.requests.last?.headers["authorization"] == "Bearer minted-token-2")

        // Only once: a second 401 is the caller's, and its message hides the minted token.
        let request = HTTPClient.Request(method: "GET", url: try #require(URL(string: server.baseURL + "/always401")))
        let response = try await client.send(request)
        #expect(response.status == 401)
        #expect(server.requests.filter { $0.path == "/token" }.count == 3)
        let error = client.error(for: response, request: request)
        #expect(error.kind == .unauthenticated)
        #expect(!error.message.contains("minted-token"))
    }

    @Test func a429WithADateRetryAfterReportsWhenTheBudgetResets() throws {
        #expect(RateLimitStatus(headers: ["retry-after": "Sun, 06 Nov 1994 08:49:40 GMT"], status: 429,
                                now: try #require(HTTPDate.parse("Sun, 06 Nov 1994 08:49:37 GMT")))?.resetMs == 3000)
    }
}

/// Records the client's waits instead of sleeping.
final class Waits: @unchecked Sendable {  // `items` is guarded by `lock`
    private let lock = NSLock()
    private var items: [Double] = []
    var all: [Double] { lock.withLock { items } }
    var record: @Sendable (Double) async throws -> Void { { [self] seconds in lock.withLock { items.append(seconds) } } }
}

/// A thread-safe counter: `next()` returns 1, 2, 3, ...
final class Counter: @unchecked Sendable {  // `value` is guarded by `lock`
    private let lock = NSLock()
    private var value = 0
    func next() -> Int { lock.withLock { value += 1; return value } }
}

/// A loopback port bound and never listened on: connecting to it is refused.
private final class ClosedPort: Sendable {
    let fd: Int32
    let port: UInt16

    init() throws {
        let socketFD = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard socketFD >= 0 else { throw TestFailure("socket: \(errno)") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(socketFD, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0 else { close(socketFD); throw TestFailure("bind: \(errno)") }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let named = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(socketFD, $0, &length) }
        }
        guard named == 0 else { close(socketFD); throw TestFailure("getsockname: \(errno)") }
        fd = socketFD
        port = UInt16(bigEndian: address.sin_port)
    }

    func release() { close(fd) }
}
