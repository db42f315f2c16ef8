import ConnectorKit
import Foundation
import StewardProtocol

/// Where messages go, from the settings: checked once at `initialize`, so a missing host or
/// URL is a configuration error naming the setting before anything is sent.
enum Channel: Sendable {
    case email(SMTPClient, from: String)
    case graph(HTTPClient, base: URL, from: String)
    case webhook(HTTPClient, url: URL, headers: [String: String])
    case slack(HTTPClient, url: URL, users: [String: String])
    case teams(HTTPClient, url: URL)

    init(_ setup: RequestContext) throws {
        let f = try setup.settingsFields
        let name = try f.optionalString("channel") ?? ""
        let redactor = SecretRedactor(setup.secrets)
        func client(_ auth: HTTPAuth = .none) -> HTTPClient {
            HTTPClient(configuration: .init(auth: auth, timeout: 30, userAgent: "steward-connector-notify/1.0"), redactor: redactor)
        }
        func url(_ text: String?, _ path: String) throws -> URL {
            guard let text, let url = URL(string: text), let scheme = url.scheme, ["http", "https"].contains(scheme), url.host != nil else {
                throw ConnectorError(.configuration, "\(path): required, an http(s) URL")
            }
            return url
        }
        switch name {
        case "email":
            let smtp = try JSONFields(f.object["smtp"] ?? .null, path: "settings.smtp")
            guard let host = try smtp.optionalString("host"), !host.isEmpty else { throw ConnectorError(.configuration, "settings.smtp.host: required (the relay's host)") }
            guard let from = try smtp.optionalString("from"), from.contains("@") else { throw ConnectorError(.configuration, "settings.smtp.from: required, an e-mail address") }
            let username = try smtp.optionalString("username")
            if username != nil, setup.secrets["password"] == nil {
                throw ConnectorError(.configuration, "settings.smtp.username is set but secret \"password\" is not configured")
            }
            let client = SMTPClient(host: host, port: try smtp.optionalInt("port") ?? 25,
                                    helo: try smtp.optionalString("helo") ?? ProcessInfo.processInfo.hostName,
                                    username: username, password: setup.secrets["password"])
            self = .email(client, from: from)
        case "graph":
            let g = try JSONFields(f.object["graph"] ?? .null, path: "settings.graph")
            guard let tenant = try g.optionalString("tenant") else { throw ConnectorError(.configuration, "settings.graph.tenant: required (the directory id)") }
            guard let clientId = try g.optionalString("clientId") else { throw ConnectorError(.configuration, "settings.graph.clientId: required") }
            guard let from = try g.optionalString("from"), from.contains("@") else { throw ConnectorError(.configuration, "settings.graph.from: required, the mailbox that sends") }
            let base = try url(try g.optionalString("baseURL") ?? "https://graph.microsoft.com/v1.0", "settings.graph.baseURL")
            let tokenURL = try url(try g.optionalString("tokenURL") ?? "https://login.microsoftonline.com/\(tenant)/oauth2/v2.0/token", "settings.graph.tokenURL")
            let credentials = OAuthClientCredentials(tokenURL: tokenURL, clientId: clientId, clientSecret: try setup.secret("clientSecret"),
                                                     scope: "https://graph.microsoft.com/.default", credentialsInBody: true)
            self = .graph(client(.oauth2(credentials)), base: base, from: from)
        case "webhook":
            let token = setup.secrets["token"]
            self = .webhook(client(token.map(HTTPAuth.bearer) ?? .none), url: try url(try f.optionalString("url"), "settings.url"),
                            headers: try f.stringMap("headers"))
        case "slack":
            let hook = try url(setup.secrets["webhookURL"] ?? (try f.optionalString("webhookURL")), "settings.webhookURL (or secret webhookURL)")
            self = .slack(client(), url: hook, users: try f.stringMap("users").reduce(into: [:]) { $0[$1.key.lowercased()] = $1.value })
        case "teams":
            self = .teams(client(), url: try url(setup.secrets["webhookURL"] ?? (try f.optionalString("webhookURL")), "settings.webhookURL (or secret webhookURL)"))
        default:
            throw ConnectorError(.configuration, "settings.channel: expected email, graph, webhook, slack or teams, got \"\(name)\"")
        }
    }

    func send(_ params: NotifyParams, _ ctx: RequestContext) async throws {
        switch self {
        case .email(let smtp, let from):
            try await smtp.send(from: from, to: params.to, data: MailMessage.render(params, from: from))
        case .graph(let client, let base, let from):
            let message: JSONValue = [
                "message": ["subject": .string(params.subject),
                            "body": ["contentType": "Text", "content": .string(MailMessage.textWithLinks(params))],
                            "toRecipients": [["emailAddress": ["address": .string(params.to)]]]],
                "saveToSentItems": false,
            ]
            let mailbox = from.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed) ?? from
            try await post(client, base.appendingPathComponent("users/\(mailbox)/sendMail"), message, ctx)
        case .webhook(let client, let url, let headers):
            var body: [String: JSONValue] = ["idempotencyKey": .string(params.idempotencyKey), "to": .string(params.to),
                                             "subject": .string(params.subject), "text": .string(params.text), "links": params.links.json]
            if let template = params.template { body["template"] = .string(template) }
            try await post(client, url, .object(body), ctx, headers: headers.merging(["Idempotency-Key": params.idempotencyKey]) { a, _ in a })
        case .slack(let client, let url, let users):
            try await post(client, url, ChatMessages.slack(params, mention: users[params.to.lowercased()].map { "<@\($0)>" }), ctx)
        case .teams(let client, let url):
            try await post(client, url, ChatMessages.teams(params), ctx)
        }
    }

    func check() async throws -> String {
        switch self {
        case .email(let smtp, _): return "SMTP: " + (try await smtp.check())
        case .graph(_, let base, let from): return "Graph sendMail as \(from) at \(base.absoluteString)"
        case .webhook(_, let url, _): return "POST \(url.host ?? "")"
        case .slack: return "Slack incoming webhook"
        case .teams: return "Teams incoming webhook"
        }
    }

    /// POSTs JSON; any 2xx is delivered, anything else the protocol error for its status.
    private func post(_ client: HTTPClient, _ url: URL, _ body: JSONValue, _ ctx: RequestContext, headers: [String: String] = [:]) async throws {
        let request = HTTPClient.Request(method: "POST", url: url, headers: headers.merging(["Content-Type": "application/json"]) { a, _ in a },
                                         body: JSONWriter.bytes(body))
        let response = try await client.send(request, context: ctx)
        guard (200..<300).contains(response.status) else { throw client.error(for: response, request: request) }
    }
}
