import Foundation
import StewardProtocol

/// The `serve` section of `steward.json`: where `steward serve` listens, what signs its hooks
/// and links, and how often it syncs.
public struct ServeConfig: Sendable {
    public var host = "127.0.0.1"
    public var port = 8470
    public var publicURL: String?
    /// References (`env:NAME`, `file:PATH`), resolved when the service starts.
    public var linkKey: String?
    public var webhookSecret: String?
    /// Whose signature `/hooks/source` checks: Steward's own (`steward`) or BambooHR's.
    public var webhookScheme: WebhookVerifier.Scheme = .steward
    /// Seconds between scheduled syncs.
    public var syncInterval: TimeInterval = 15 * 60
    /// Plan and apply after each sync and webhook (`auto`), or leave plans for `steward apply`.
    public var autoApply = false
    /// `slack.signingSecret`: a reference; without it `/hooks/slack` does not exist.
    public var slackSigningSecret: String?
    /// `slack.users`: Slack user id → reviewer e-mail (lowercased).
    public var slackUsers: [String: String] = [:]

    public init() {}

    /// Reads the section (already checked against the schema, so only meaning is checked here).
    init(_ node: JSONValue, locate: (String, String) -> ConfigFileError) throws {
        if let listen = node["listen"].stringValue {
            guard let (host, port) = Self.parseListen(listen) else {
                throw locate("serve.listen", "expected HOST:PORT with a port from 0 to 65535, got \"\(listen)\"")
            }
            self.host = host
            self.port = port
        }
        publicURL = node["publicURL"].stringValue
        for (key, value) in [("linkKey", node["linkKey"]), ("webhookSecret", node["webhookSecret"])] where !value.isNull {
            guard let ref = value.stringValue, SecretReference(ref) != nil else {
                throw locate("serve.\(key)", "must be a reference, env:NAME or file:PATH (never the secret itself)")
            }
            if key == "linkKey" { linkKey = ref } else { webhookSecret = ref }
        }
        if let every = node["schedule"]["sync"].stringValue {
            guard let seconds = Self.parseDuration(every), seconds >= 10 else {
                throw locate("serve.schedule.sync", "expected a duration such as 30s, 15m or 1h, at least 10s, got \"\(every)\"")
            }
            syncInterval = seconds
        }
        autoApply = node["schedule"]["apply"].stringValue == "auto"
        if let scheme = node["webhookScheme"].stringValue {
            guard let parsed = WebhookVerifier.Scheme(rawValue: scheme), parsed != .slack else {
                throw locate("serve.webhookScheme", "expected steward or bamboohr, got \"\(scheme)\"")
            }
            webhookScheme = parsed
        }
        let slack = node["slack"]
        if let ref = slack["signingSecret"].stringValue {
            guard SecretReference(ref) != nil else {
                throw locate("serve.slack.signingSecret", "must be a reference, env:NAME or file:PATH (never the secret itself)")
            }
            slackSigningSecret = ref
        }
        for (user, email) in slack["users"].objectValue ?? [:] {
            guard let email = email.stringValue, email.contains("@") else { throw locate("serve.slack.users.\(user)", "expected the reviewer's e-mail") }
            slackUsers[user] = email.lowercased()
        }
    }

    /// `HOST:PORT`; `[::1]:80` for IPv6.
    public static func parseListen(_ text: String) -> (String, Int)? {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]), (0...65535).contains(port) else { return nil }
        var host = String(text[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        return host.isEmpty ? nil : (host, port)
    }

    /// `30s`, `15m`, `2h` in seconds.
    static func parseDuration(_ text: String) -> TimeInterval? {
        guard let unit = text.last, let n = Double(text.dropLast()), n > 0 else { return nil }
        switch unit {
        case "s": return n
        case "m": return n * 60
        case "h": return n * 3600
        default: return nil
        }
    }
}
