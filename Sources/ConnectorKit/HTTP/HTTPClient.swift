import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import StewardProtocol

/// Sends a connector's requests to its app, so each connector does not reinvent the parts
/// every SaaS API needs: auth, timeouts, retries that honour `Retry-After` without sleeping for
/// minutes, rate-limit reporting, and errors in the protocol's taxonomy with no secret in them.
///
/// ```swift
/// let http = HTTPClient(configuration: .init(auth: .bearer(token)), redactor: SecretRedactor(ctx.secrets))
/// let request = HTTPClient.Request(method: "GET", url: usersURL)
/// let response = try await http.send(request, context: ctx)
/// guard response.isSuccess else { throw http.error(for: response, request: request) }
/// ```
///
/// `send` returns every response the app gives, 4xx included, and throws only when a request
/// could not get an answer worth reading: transport failures, 5xx and 429 after the retries it
/// was allowed, or a `Retry-After` longer than the connector may wait (the host then decides).
public final class HTTPClient: Sendable {
    public let configuration: Configuration
    public let redactor: SecretRedactor
    private let session: URLSession
    private let credentials: HTTPCredentials
    private let sleep: @Sendable (Double) async throws -> Void

    /// - Parameter sleep: how the client waits between attempts; tests pass one that records.
    public init(configuration: Configuration, redactor: SecretRedactor = SecretRedactor(),
                sleep: @escaping @Sendable (Double) async throws -> Void = HTTPClient.taskSleep) {
        self.configuration = configuration
        self.redactor = redactor
        self.sleep = sleep
        let sessionConfiguration = URLSessionConfiguration.ephemeral
        sessionConfiguration.timeoutIntervalForRequest = configuration.timeout
        sessionConfiguration.timeoutIntervalForResource = max(configuration.timeout * 4, 120)
        sessionConfiguration.httpMaximumConnectionsPerHost = configuration.maxConnectionsPerHost
        sessionConfiguration.requestCachePolicy = .reloadIgnoringLocalCacheData
        sessionConfiguration.urlCache = nil
        sessionConfiguration.httpCookieStorage = nil
        sessionConfiguration.httpShouldSetCookies = false
        session = URLSession(configuration: sessionConfiguration)
        credentials = HTTPCredentials(configuration.auth, redactor: redactor)
    }

    deinit { session.finishTasksAndInvalidate() }

    public static let taskSleep: @Sendable (Double) async throws -> Void = { seconds in
        try await Task.sleep(nanoseconds: UInt64(max(0, seconds) * 1e9))
    }

    /// Sends `request`, retrying what is safe to retry; reports rate limits and retries to
    /// `context` when given.
    public func send(_ request: Request, context: RequestContext? = nil) async throws -> Response {
        let policy = configuration.retry
        var attempt = 1
        var waited = 0.0
        var refreshedAuth = false
        while true {
            try Task.checkCancellation()
            let outcome: Attempt
            do {
                outcome = .response(try await perform(request))
            } catch var e as ConnectorError {
                // Getting credentials failed: the request itself was never sent.
                if request.isWrite, e.outcome == nil { e.outcome = .notApplied }
                throw e
            } catch is CancellationError {
                throw CancellationError()
            } catch {
                // URLSession reports a cancelled task as a URL error: it is still a cancellation.
                if Task.isCancelled { throw CancellationError() }
                outcome = .transport(HTTPFailure.transportError(error, request: request, redactor: redactor))
            }

            if case .response(let response) = outcome {
                if let context, let limits = RateLimitStatus(headers: response.headers, status: response.status) {
                    context.rateLimit(limit: limits.limit, remaining: limits.remaining, resetMs: limits.resetMs)
                }
                if response.status == 401, credentials.canRefresh, !refreshedAuth {
                    refreshedAuth = true
                    await credentials.invalidate()
                    continue
                }
            }

            let decision = policy.decide(outcome, request: request, attempt: attempt, waited: waited)
            switch decision {
            case .done:
                if case .response(let r) = outcome { return r }
                // Transport failures are never "done"; keep the compiler honest.
                throw HTTPFailure.finalError(outcome, request: request, attempts: attempt, redactor: redactor)
            case .fail(let retryAfterMs):
                throw HTTPFailure.finalError(outcome, request: request, attempts: attempt, retryAfterMs: retryAfterMs, redactor: redactor)
            case .retry(let delay, let honouringRetryAfter):
                context?.log(.info, redactor.redact(
                    "\(request.method) \(request.url.path): \(outcome.summary); "
                    + (honouringRetryAfter ? "waiting \(formatDelay(delay)) as Retry-After asks" : "retrying in \(formatDelay(delay))")
                    + " (attempt \(attempt + 1) of \(policy.maxAttempts))"))
                try await sleep(delay)
                waited += delay
                attempt += 1
            }
        }
    }

    /// The protocol error for an unsuccessful response, with the app's own message when the body
    /// has one; `message` overrides the generic text.
    public func error(for response: Response, request: Request, message: String? = nil, details: JSONValue = .null) -> ConnectorError {
        HTTPFailure.statusError(response, request: request, message: message, details: details, redactor: redactor)
    }

    private func perform(_ request: Request) async throws -> Response {
        try await exchange(request, authorization: try await credentials.header(using: self))
    }

    /// Sends a request without auth and without retries; the OAuth token source uses it so a
    /// token request never recurses into itself. Transport failures become protocol errors.
    func sendUnauthenticated(_ request: Request) async throws -> Response {
        do {
            return try await exchange(request, authorization: nil)
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            let failure = HTTPFailure.transportError(error, request: request, redactor: redactor)
            throw HTTPFailure.finalError(.transport(failure), request: request, attempts: 1, redactor: redactor)
        }
    }

    private func exchange(_ request: Request, authorization: (name: String, value: String)?) async throws -> Response {
        var urlRequest = URLRequest(url: request.url)
        urlRequest.httpMethod = request.method
        urlRequest.timeoutInterval = request.timeout ?? configuration.timeout
        for (name, value) in request.headers { urlRequest.setValue(value, forHTTPHeaderField: name) }
        if urlRequest.value(forHTTPHeaderField: "User-Agent") == nil {
            urlRequest.setValue(configuration.userAgent, forHTTPHeaderField: "User-Agent")
        }
        if let authorization { urlRequest.setValue(authorization.value, forHTTPHeaderField: authorization.name) }
        if let body = request.body { urlRequest.httpBody = Data(body) }
        let (data, urlResponse) = try await session.data(for: urlRequest)
        guard let http = urlResponse as? HTTPURLResponse else { throw URLError(.badServerResponse) }
        var headers: [String: String] = [:]
        for (key, value) in http.allHeaderFields {
            if let k = key as? String, let v = value as? String { headers[k.lowercased()] = v }
        }
        return Response(status: http.statusCode, headers: headers, body: data)
    }
}

extension HTTPClient {
    public struct Configuration: Sendable {
        public var auth: HTTPAuth
        /// Seconds one attempt may take before it counts as timed out.
        public var timeout: Double
        public var retry: RetryPolicy
        public var userAgent: String
        public var maxConnectionsPerHost: Int

        public init(auth: HTTPAuth = .none, timeout: Double = 30, retry: RetryPolicy = RetryPolicy(),
                    userAgent: String = "steward-connector", maxConnectionsPerHost: Int = 8) {
            self.auth = auth
            self.timeout = timeout
            self.retry = retry
            self.userAgent = userAgent
            self.maxConnectionsPerHost = maxConnectionsPerHost
        }
    }

    public struct Request: Sendable {
        public var method: String
        public var url: URL
        public var headers: [String: String]
        public var body: [UInt8]?
        /// Overrides the configured timeout for this request.
        public var timeout: Double?
        /// Whether sending it twice does no harm: reads, PUT, DELETE, and writes the app
        /// deduplicates (a create that answers 409 the second time). Only these are retried when
        /// the first attempt's fate is unknown.
        public var idempotent: Bool

        public init(method: String, url: URL, headers: [String: String] = [:], body: [UInt8]? = nil,
                    timeout: Double? = nil, idempotent: Bool? = nil) {
            self.method = method.uppercased()
            self.url = url
            self.headers = headers
            self.body = body
            self.timeout = timeout
            self.idempotent = idempotent ?? ["GET", "HEAD", "OPTIONS", "PUT", "DELETE"].contains(method.uppercased())
        }

        /// Whether the request changes something, so that failures carry an `outcome`.
        public var isWrite: Bool { !["GET", "HEAD", "OPTIONS"].contains(method) }
    }

    public struct Response: Sendable {
        public var status: Int
        /// Header names in lower case.
        public var headers: [String: String]
        public var body: Data

        public init(status: Int, headers: [String: String] = [:], body: Data = Data()) {
            self.status = status
            self.headers = Dictionary(headers.map { ($0.key.lowercased(), $0.value) }, uniquingKeysWith: { a, _ in a })
            self.body = body
        }

        public var isSuccess: Bool { (200..<300).contains(status) }

        public func header(_ name: String) -> String? { headers[name.lowercased()] }

        /// The body parsed as JSON, or nil when it is empty or not JSON.
        public var json: JSONValue? {
            if body.isEmpty { return nil }
            return try? JSONParser.parse(body)
        }
    }

    /// What one attempt produced.
    public enum Attempt: Sendable {
        case response(Response)
        case transport(TransportFailure)

        var summary: String {
            switch self {
            case .response(let r): return "HTTP \(r.status)"
            case .transport(let t): return t.message
            }
        }
    }

    /// A request that got no HTTP answer.
    public struct TransportFailure: Sendable {
        public var message: String
        /// True when the request certainly never reached the app (connection refused, DNS).
        public var notSent: Bool
        public var timedOut: Bool

        public init(message: String, notSent: Bool, timedOut: Bool) {
            self.message = message
            self.notSent = notSent
            self.timedOut = timedOut
        }
    }
}

func formatDelay(_ seconds: Double) -> String {
    seconds >= 1 ? String(format: "%.1f s", seconds) : "\(Int((seconds * 1000).rounded())) ms"
}
