import Foundation
import StewardProtocol

/// How a connector proves itself to its app. Values come from the app's secrets at
/// `initialize`, never from settings, so they stay out of config files and the journal.
public enum HTTPAuth: Sendable {
    case none
    /// `Authorization: Bearer <token>`.
    case bearer(String)
    /// `Authorization: Basic <base64(username:password)>`.
    case basic(username: String, password: String)
    /// A fixed header, for apps with API keys (`X-API-Key: ...`).
    case header(name: String, value: String)
    /// OAuth 2.0 client credentials (RFC 6749 §4.4): a token fetched when needed, cached until
    /// shortly before it expires, and fetched again once when the app answers 401.
    case oauth2(OAuthClientCredentials)

    /// The secret strings this auth sends, for redaction.
    var secretValues: [String] {
        switch self {
        case .none: return []
        case .bearer(let token): return [token]
        case .basic(let username, let password):
            return [password, Data("\(username):\(password)".utf8).base64EncodedString()]
        case .header(_, let value): return [value]
        case .oauth2(let c): return [c.clientSecret, Data("\(c.formEncodedClientId):\(c.formEncodedClientSecret)".utf8).base64EncodedString()]
        }
    }
}

/// The OAuth 2.0 client-credentials grant's parameters.
public struct OAuthClientCredentials: Sendable {
    public var tokenURL: URL
    public var clientId: String
    public var clientSecret: String
    public var scope: String?
    /// Send the client id and secret in the form body instead of HTTP Basic (RFC 6749 §2.3.1
    /// prefers Basic; some providers only accept the body).
    public var credentialsInBody: Bool

    public init(tokenURL: URL, clientId: String, clientSecret: String, scope: String? = nil, credentialsInBody: Bool = false) {
        self.tokenURL = tokenURL
        self.clientId = clientId
        self.clientSecret = clientSecret
        self.scope = scope
        self.credentialsInBody = credentialsInBody
    }

    var formEncodedClientId: String { formEncode(clientId) }
    var formEncodedClientSecret: String { formEncode(clientSecret) }
}

/// Produces the auth header for each request; for OAuth, owns the cached token.
actor HTTPCredentials {
    nonisolated let auth: HTTPAuth
    nonisolated let redactor: SecretRedactor
    private var token: (value: String, expires: Date)?
    private var fetching: Task<(String, Date), Error>?

    init(_ auth: HTTPAuth, redactor: SecretRedactor) {
        self.auth = auth
        self.redactor = redactor
        redactor.add(auth.secretValues)
    }

    /// Whether a 401 may be cured by fetching a new token.
    nonisolated var canRefresh: Bool {
        if case .oauth2 = auth { return true }
        return false
    }

    /// The header to send, if any.
    func header(using client: HTTPClient) async throws -> (name: String, value: String)? {
        switch auth {
        case .none: return nil
        case .bearer(let token): return ("Authorization", "Bearer \(token)")
        case .basic(let username, let password):
            return ("Authorization", "Basic " + Data("\(username):\(password)".utf8).base64EncodedString())
        case .header(let name, let value): return (name, value)
        case .oauth2(let credentials):
            if let token, token.expires > Date() { return ("Authorization", "Bearer \(token.value)") }
            let task: Task<(String, Date), Error>
            if let fetching {
                task = fetching
            } else {
                task = Task { try await Self.fetchToken(credentials, client: client, redactor: redactor) }
                fetching = task
            }
            defer { fetching = nil }
            let fetched = try await task.value
            token = (fetched.0, fetched.1)
            return ("Authorization", "Bearer \(fetched.0)")
        }
    }

    /// Forgets the cached token so the next request fetches a new one.
    func invalidate() {
        token = nil
    }

    private static func fetchToken(_ c: OAuthClientCredentials, client: HTTPClient,
                                   redactor: SecretRedactor) async throws -> (String, Date) {
        var form = "grant_type=client_credentials"
        if let scope = c.scope, !scope.isEmpty { form += "&scope=" + formEncode(scope) }
        var headers = ["Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"]
        if c.credentialsInBody {
            form += "&client_id=\(c.formEncodedClientId)&client_secret=\(c.formEncodedClientSecret)"
        } else {
            headers["Authorization"] = "Basic " + Data("\(c.formEncodedClientId):\(c.formEncodedClientSecret)".utf8).base64EncodedString()
        }
        let request = HTTPClient.Request(method: "POST", url: c.tokenURL, headers: headers, body: Array(form.utf8), idempotent: true)
        let response = try await client.sendUnauthenticated(request)
        let json = response.json ?? .null
        guard response.isSuccess else {
            let code = json["error"].stringValue
            let description = json["error_description"].stringValue.map { ": " + $0 } ?? ""
            let what = "the OAuth token endpoint \(c.tokenURL.host ?? c.tokenURL.absoluteString) answered HTTP \(response.status)"
                + (code.map { " (\($0)\(description))" } ?? "")
            let kind: ErrorKind
            switch (response.status, code) {
            case (_, "invalid_scope"?), (_, "unsupported_grant_type"?): kind = .configuration
            case (400..<500, _): kind = response.status == 429 ? .rateLimited : .unauthenticated
            default: kind = .connectionFailed
            }
            throw ConnectorError(kind, redactor.redact(what), outcome: nil,
                                 retryAfterMs: response.header("Retry-After").flatMap { RetryAfter.seconds($0) }.map { Int($0 * 1000) },
                                 details: ["status": .int(response.status)])
        }
        guard let accessToken = json["access_token"].stringValue, !accessToken.isEmpty else {
            throw ConnectorError(.unauthenticated, "the OAuth token endpoint's answer has no access_token")
        }
        redactor.add([accessToken])
        let lifetime = json["expires_in"].doubleValue ?? json["expires_in"].stringValue.flatMap(Double.init) ?? 3600
        // Renew a little early so a request never carries a token that expires in flight.
        let margin = min(60, lifetime / 10)
        return (accessToken, Date().addingTimeInterval(max(1, lifetime - margin)))
    }
}

/// `application/x-www-form-urlencoded` encoding of one value.
func formEncode(_ text: String) -> String {
    let allowed = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._* ")
    return (text.addingPercentEncoding(withAllowedCharacters: allowed) ?? text).replacingOccurrences(of: " ", with: "+")
}
