import ConnectorKit
import Foundation
import StewardProtocol

/// Sends a definition's requests: renders templates into a request whose shape no value can
/// change, adds credentials, waits out the app's rate limits (including those answered with
/// statuses other than 429, like GitHub's 403 secondary limits), and reads answers as the
/// definition says.
final class AppClient: Sendable {
    let definition: AppDefinition
    let settings: RestSettings
    let http: HTTPClient
    /// `{"settings": {...}}`: the scope every template starts from.
    let baseScope: [String: JSONValue]
    private let queryAuth: (name: String, value: String)?
    private let tokens: TokenSource?
    /// Waits, and holds the gate meanwhile.
    private let sleep: @Sendable (Double) async throws -> Void
    private let plainSleep: @Sendable (Double) async throws -> Void
    /// Holds every request while the app has asked to wait, so one rate-limited answer pauses
    /// the connector's other requests too instead of letting them run into the same limit.
    private let gate: RateGate

    init(settings: RestSettings, secrets: [String: String],
         sleep: @escaping @Sendable (Double) async throws -> Void = HTTPClient.taskSleep) throws {
        self.settings = settings
        definition = settings.definition
        baseScope = ["settings": .object(settings.values)]
        let gate = RateGate()
        self.gate = gate
        plainSleep = sleep
        self.sleep = { seconds in
            await gate.hold(for: seconds)
            try await sleep(seconds)
        }
        let redactor = SecretRedactor(secrets)
        let authScope: JSONValue = ["settings": .object(settings.values), "secrets": secrets.json]
        func value(_ t: Template, _ what: String) throws -> String {
            do {
                return try t.render(authScope, requireValues: true)
            } catch {
                throw ConnectorError(.configuration, "auth.\(what): \(error.description) (check the app's secrets and settings)")
            }
        }
        var auth: HTTPAuth = .none
        var queryAuth: (name: String, value: String)?
        var tokens: TokenSource?
        switch settings.definition.auth {
        case .none: break
        case .bearer(let t): auth = .bearer(try value(t, "token"))
        case .basic(let u, let p): auth = .basic(username: try value(u, "username"), password: try value(p, "password"))
        case .header(let name, let v): auth = .header(name: name, value: try value(v, "value"))
        case .query(let name, let v):
            let secret = try value(v, "value")
            redactor.add([secret, Escape.queryComponent(secret)])
            queryAuth = (name, secret)
        case .oauth2(let o):
            let text = try value(o.tokenURL, "tokenURL")
            guard let tokenURL = URL(string: text), let scheme = tokenURL.scheme, scheme == "https" || scheme == "http" else {
                throw ConnectorError(.configuration, "auth.tokenURL: \"\(text)\" is not an http(s) URL")
            }
            let credentials = OAuthClientCredentials(
                tokenURL: tokenURL, clientId: try value(o.clientId, "clientId"), clientSecret: try value(o.clientSecret, "clientSecret"),
                scope: try o.scope.map { try value($0, "scope") }, credentialsInBody: o.credentials == "body")
            if o.grantType == "client_credentials" && o.parameters.isEmpty {
                auth = .oauth2(credentials)
            } else {
                var parameters: [(String, String)] = []
                for p in o.parameters { parameters.append((p.name, try value(p.value, "parameters.\(p.name)"))) }
                tokens = TokenSource(credentials: credentials, grantType: o.grantType, parameters: parameters, redactor: redactor,
                                     timeout: settings.timeout)
            }
        }
        self.queryAuth = queryAuth
        self.tokens = tokens
        http = HTTPClient(configuration: .init(auth: auth, timeout: settings.timeout,
                                               userAgent: "steward-connector-rest/\(restConnectorVersion) (\(settings.definition.name))"),
                          redactor: redactor, sleep: self.sleep)
    }

    /// One request and its answer.
    struct Exchange: Sendable {
        var request: HTTPClient.Request
        var response: HTTPClient.Response
        /// The body parsed as JSON (null when empty or not JSON).
        var body: JSONValue
        var status: Int { response.status }
    }

    // MARK: Sending

    /// Renders `spec` in `scope` and sends it, waiting out rate limits the connector may wait
    /// for. `url` replaces path and query (a next-page link); `extraQuery` adds paging parameters.
    func send(_ spec: RequestSpec, scope: JSONValue, operation: String, ctx: RequestContext,
              url followed: String? = nil, extraQuery: [(String, String)] = [], idempotent: Bool? = nil) async throws -> Exchange {
        var request = try render(spec, scope: scope, operation: operation, followed: followed, extraQuery: extraQuery)
        if let idempotent { request.idempotent = idempotent }
        let policy = http.configuration.retry
        var attempt = 1
        var waited = 0.0
        var refreshedToken = false
        while true {
            try await gate.wait(sleep: plainSleep)
            if let tokens { request.headers["Authorization"] = "Bearer \(try await tokens.token(ctx: ctx))" }
            trace(request, ctx: ctx)
            let started = Date()
            let response = try await http.send(request, context: ctx)
            let exchange = Exchange(request: request, response: response, body: response.json ?? .null)
            trace(exchange, elapsed: Date().timeIntervalSince(started), ctx: ctx)
            if response.status == 401, let tokens, !refreshedToken {
                refreshedToken = true
                await tokens.invalidate()
                continue
            }
            guard definition.rateLimit.matches(status: response.status, headers: response.headers, body: exchange.body) else {
                return exchange
            }
            let wait = waitSeconds(response)
            let summary = "\(operation): \(request.method) \(request.url.path) answered HTTP \(response.status) (rate limited)"
            if wait <= policy.maxWait, waited + wait <= policy.maxTotalWait, attempt < policy.maxAttempts {
                ctx.log(.info, "\(summary); waiting \(Self.format(wait)) before trying again (attempt \(attempt + 1) of \(policy.maxAttempts))")
                try await sleep(wait)
                waited += wait
                attempt += 1
                continue
            }
            throw ConnectorError(.rateLimited, "\(summary); the app asks to wait \(Self.format(wait))", retryable: true,
                                 outcome: request.isWrite ? .notApplied : nil, retryAfterMs: Int((wait * 1000).rounded(.up)),
                                 details: ["status": .int(response.status)])
        }
    }

    /// How long a rate-limited answer asks to wait: `Retry-After`, else the reset of an
    /// exhausted budget, else the definition's default.
    private func waitSeconds(_ response: HTTPClient.Response) -> Double {
        if let retryAfter = response.header("Retry-After").flatMap({ RetryAfter.seconds($0) }) { return retryAfter }
        if let status = RateLimitStatus(headers: response.headers), status.remaining == 0, let reset = status.resetMs {
            return Double(reset) / 1000
        }
        return definition.rateLimit.defaultWaitSeconds
    }

    /// The request `spec` describes in `scope`. Every inserted value is escaped for its place.
    func render(_ spec: RequestSpec, scope: JSONValue, operation: String, followed: String? = nil,
                extraQuery: [(String, String)] = []) throws -> HTTPClient.Request {
        func fail(_ place: String, _ error: TemplateError) -> ConnectorError {
            ConnectorError(.invalidArgument, "\(operation): \(place): \(error.description)")
        }
        var urlText: String
        if let followed {
            urlText = try checkedFollowURL(followed, operation: operation)
        } else {
            let path: String
            do {
                path = try spec.path.render(scope, requireValues: true, escape: Escape.pathSegment)
            } catch {
                throw fail("path", error)
            }
            let segments = path.split(separator: "/", omittingEmptySubsequences: false).dropFirst()
            for (i, segment) in segments.enumerated() where segment == "." || segment == ".." || (segment.isEmpty && i < segments.count - 1) {
                throw ConnectorError(.invalidArgument, "\(operation): path: a value makes the segment \"\(segment)\" in \(path), which would change the request's path")
            }
            urlText = settings.baseURL.absoluteString + path
            var query: [String] = []
            for (name, template) in spec.query {
                let value: String
                do {
                    // A parameter whose sole value is missing is left out.
                    if let e = template.soleExpression, try e.evaluate(scope).map({ $0.isNull }) ?? true { continue }
                    value = try template.render(scope)
                } catch {
                    throw fail("query.\(name)", error)
                }
                query.append(Escape.queryComponent(name) + "=" + Escape.queryComponent(value))
            }
            for (name, value) in extraQuery { query.append(Escape.queryComponent(name) + "=" + Escape.queryComponent(value)) }
            if let (name, value) = queryAuth { query.append(Escape.queryComponent(name) + "=" + Escape.queryComponent(value)) }
            if !query.isEmpty { urlText += "?" + query.joined(separator: "&") }
        }
        guard let url = URL(string: urlText) else {
            throw ConnectorError(.invalidArgument, "\(operation): the request URL could not be formed")
        }
        var headers: [String: String] = ["Accept": "application/json"]
        for (name, template) in definition.headers + spec.headers {
            do {
                if let e = template.soleExpression, try e.evaluate(scope).map({ $0.isNull }) ?? true { continue }
                headers[name] = try Escape.headerValue(try template.render(scope), header: name)
            } catch {
                throw fail("headers.\(name)", error)
            }
        }
        var body: [UInt8]?
        switch spec.body {
        case .json(let t)?:
            do {
                body = JSONWriter.bytes(try t.render(scope) ?? .null)
            } catch {
                throw fail("body", error)
            }
            if !headers.keys.contains(where: { $0.lowercased() == "content-type" }) { headers["Content-Type"] = "application/json" }
        case .form(let fields)?:
            var parts: [String] = []
            for (name, template) in fields {
                do {
                    if let e = template.soleExpression, try e.evaluate(scope).map({ $0.isNull }) ?? true { continue }
                    parts.append(Escape.formComponent(name) + "=" + Escape.formComponent(try template.render(scope)))
                } catch {
                    throw fail("form.\(name)", error)
                }
            }
            body = Array(parts.joined(separator: "&").utf8)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        case nil:
            break
        }
        return HTTPClient.Request(method: spec.method, url: url, headers: headers, body: body)
    }

    /// A next-page URL from the app, accepted only on the base URL's scheme, host, port and
    /// path, so credentials are never sent anywhere else.
    private func checkedFollowURL(_ text: String, operation: String) throws -> String {
        let base = settings.baseURL
        var absolute = text
        if text.hasPrefix("/"), let scheme = base.scheme, let host = base.host {
            absolute = "\(scheme)://\(host)\(base.port.map { ":\($0)" } ?? "")\(text)"
        }
        guard let url = URL(string: absolute), url.scheme?.lowercased() == base.scheme?.lowercased(),
              url.host?.lowercased() == base.host?.lowercased(), url.port == base.port,
              url.path.hasPrefix(base.path) else {
            throw ConnectorError(.internal, "\(operation): the app's next-page link \(text.prefix(200)) leaves \(base.absoluteString); not following it")
        }
        return absolute
    }

    // MARK: Reading answers

    /// Whether the answer is what `spec` calls success (any 2xx unless it lists statuses).
    func succeeded(_ exchange: Exchange, _ spec: RequestSpec) -> Bool {
        spec.success.isEmpty ? exchange.response.isSuccess
            : spec.success.match(status: exchange.status, body: exchange.body, headers: exchange.response.headers)
    }

    /// The protocol error for an answer that is not a success: the operation's and the
    /// definition's error rules first, then the generic mapping of the status.
    func failure(_ exchange: Exchange, _ spec: RequestSpec, scope: JSONValue, operation: String) -> ConnectorError {
        let response = exchange.response
        for rule in spec.errors + definition.errors
        where rule.rule.matches(status: response.status, body: exchange.body, headers: response.headers) {
            var messageScope = scope.objectValue ?? [:]
            messageScope["response"] = exchange.body
            let text = (try? rule.message?.render(.object(messageScope))) ?? nil
            let appMessage = definition.errorMessage.lazy.compactMap { $0.resolve(in: exchange.body)?.scalarText }.first
                ?? exchange.body["message"].stringValue ?? exchange.body["error"].stringValue
            let message = "\(operation): " + (text ?? "\(exchange.request.method) \(exchange.request.url.path) failed with HTTP \(response.status)"
                + (appMessage.map { ": \($0)" } ?? ""))
            return http.redactor.redact(ConnectorError(
                rule.kind, message, retryable: rule.retryable,
                outcome: exchange.request.isWrite ? HTTPFailure.outcome(forStatus: response.status) : nil,
                retryAfterMs: response.header("Retry-After").flatMap { RetryAfter.seconds($0) }.map { Int($0 * 1000) },
                details: ["status": .int(response.status)]))
        }
        let appText = definition.errorMessage.lazy.compactMap { $0.resolve(in: exchange.body)?.scalarText }.first { !$0.isEmpty }
        var e = http.error(for: response, request: exchange.request,
                           message: appText.map { "\(exchange.request.method) \(exchange.request.url.path) failed with HTTP \(response.status): \($0)" })
        e.message = "\(operation): " + e.message
        return e
    }

    /// The answer, or the error it means.
    func expectSuccess(_ exchange: Exchange, _ spec: RequestSpec, scope: JSONValue, operation: String) throws -> Exchange {
        guard succeeded(exchange, spec) else { throw failure(exchange, spec, scope: scope, operation: operation) }
        return exchange
    }

    /// Runs an operation's steps in order; each step's captures land in `scope.steps.NAME`.
    func runSteps(_ steps: [Step], scope: inout [String: JSONValue], operation: String, ctx: RequestContext) async throws {
        var captured = scope["steps"]?.objectValue ?? [:]
        for step in steps {
            let stepScope = JSONValue.object(scope)
            let exchange = try expectSuccess(try await send(step.request, scope: stepScope, operation: "\(operation) (step \(step.name))", ctx: ctx),
                                             step.request, scope: stepScope, operation: "\(operation) (step \(step.name))")
            var values: [String: JSONValue] = [:]
            for (name, source) in step.capture {
                guard let v = try source.value(in: exchange.body, scope: stepScope, field: "steps.\(step.name).\(name)") else {
                    throw ConnectorError(.internal, "\(operation): step \(step.name): the answer has no value for capture \"\(name)\"")
                }
                values[name] = v
            }
            captured[step.name] = .object(values)
            scope["steps"] = .object(captured)
        }
    }

    // MARK: Trace

    private func trace(_ request: HTTPClient.Request, ctx: RequestContext) {
        guard settings.trace else { return }
        var lines = ["→ \(request.method) \(request.url.absoluteString)"]
        for (name, value) in request.headers.sorted(by: { $0.key < $1.key }) {
            lines.append("  \(name): \(name.lowercased() == "authorization" ? "***" : value)")
        }
        if let credentials = authDescription { lines.append("  \(credentials)") }
        if let body = request.body, !body.isEmpty { lines.append("  " + Self.excerpt(Data(body))) }
        ctx.log(.debug, http.redactor.redact(lines.joined(separator: "\n")))
    }

    private func trace(_ exchange: Exchange, elapsed: Double, ctx: RequestContext) {
        guard settings.trace else { return }
        var lines = ["← \(exchange.status) \(exchange.request.method) \(exchange.request.url.path) (\(Int(elapsed * 1000)) ms)"]
        for (name, value) in exchange.response.headers.sorted(by: { $0.key < $1.key }) {
            lines.append("  \(name): \(["set-cookie", "authorization"].contains(name) ? "***" : value)")
        }
        if !exchange.response.body.isEmpty { lines.append("  " + Self.excerpt(exchange.response.body)) }
        ctx.log(.debug, http.redactor.redact(lines.joined(separator: "\n")))
    }

    /// How credentials are sent, without their value.
    private var authDescription: String? {
        switch definition.auth {
        case .none: return nil
        case .bearer: return "Authorization: *** (bearer token)"
        case .basic: return "Authorization: *** (basic)"
        case .header(let name, _): return "\(name): ***"
        case .query(let name, _): return "(query parameter \(name)=***)"
        case .oauth2: return "Authorization: *** (OAuth 2.0 access token)"
        }
    }

    private static func excerpt(_ data: Data, limit: Int = 16 * 1024) -> String {
        let text = String(decoding: data.prefix(limit), as: UTF8.self)
        return text.replacingOccurrences(of: "\n", with: "\n  ") + (data.count > limit ? " … (\(data.count - limit) more bytes)" : "")
    }

    static func format(_ seconds: Double) -> String {
        seconds >= 1 ? String(format: "%.1f s", seconds) : "\(Int((seconds * 1000).rounded())) ms"
    }
}

/// When the app next wants to hear from this connector.
actor RateGate {
    private var openAt = Date.distantPast

    func hold(for seconds: Double) {
        openAt = max(openAt, Date().addingTimeInterval(seconds))
    }

    /// Waits until the gate opens.
    func wait(sleep: @Sendable (Double) async throws -> Void) async throws {
        let remaining = openAt.timeIntervalSinceNow
        if remaining > 0 { try await sleep(remaining) }
    }
}

/// Access tokens for OAuth grants the HTTP client does not speak itself (Zoom's
/// `account_credentials`): fetched when needed, cached until shortly before they expire.
actor TokenSource {
    private let credentials: OAuthClientCredentials
    private let grantType: String
    private let parameters: [(String, String)]
    private let redactor: SecretRedactor
    private let client: HTTPClient
    private var cached: (token: String, expires: Date)?

    init(credentials: OAuthClientCredentials, grantType: String, parameters: [(String, String)], redactor: SecretRedactor, timeout: Double) {
        self.credentials = credentials
        self.grantType = grantType
        self.parameters = parameters
        self.redactor = redactor
        redactor.add([credentials.clientSecret])
        let auth: HTTPAuth = credentials.credentialsInBody ? .none : .basic(username: credentials.clientId, password: credentials.clientSecret)
        client = HTTPClient(configuration: .init(auth: auth, timeout: timeout, retry: RetryPolicy(maxAttempts: 3)), redactor: redactor)
    }

    func token(ctx: RequestContext) async throws -> String {
        if let cached, cached.expires > Date() { return cached.token }
        var form = [("grant_type", grantType)] + parameters
        if let scope = credentials.scope { form.append(("scope", scope)) }
        if credentials.credentialsInBody { form += [("client_id", credentials.clientId), ("client_secret", credentials.clientSecret)] }
        let body = form.map { Escape.formComponent($0.0) + "=" + Escape.formComponent($0.1) }.joined(separator: "&")
        let request = HTTPClient.Request(method: "POST", url: credentials.tokenURL,
                                         headers: ["Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"],
                                         body: Array(body.utf8), idempotent: true)
        let response = try await client.send(request, context: ctx)
        guard response.isSuccess else {
            var e = client.error(for: response, request: request)
            e.kind = response.status == 429 ? .rateLimited : .unauthenticated
            e.message = "the OAuth token endpoint refused the credentials: " + e.message
            throw e
        }
        guard let token = response.json?["access_token"].stringValue, !token.isEmpty else {
            throw ConnectorError(.unauthenticated, "the OAuth token endpoint's answer has no access_token")
        }
        redactor.add([token])
        let lifetime = response.json?["expires_in"].doubleValue ?? 3600
        cached = (token, Date().addingTimeInterval(max(1, lifetime - min(60, lifetime / 10))))
        return token
    }

    func invalidate() { cached = nil }
}
