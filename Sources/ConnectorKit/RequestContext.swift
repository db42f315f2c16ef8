import Foundation
import StewardProtocol

/// What a handler knows about its job and how it talks back to the host while working.
public struct RequestContext: Sendable {
    /// The app this connector instance serves (one process per app).
    public let appId: String
    /// The app's settings, exactly as configured.
    public let settings: JSONValue
    /// The app's secrets. Never log them; `redact(_:)` helps keep them out of messages.
    public let secrets: [String: String]
    /// A private directory for evidence and caches, when the host offers one.
    public let stateDirectory: String?
    /// The directory relative paths in the settings are relative to (the config file's).
    public let baseDirectory: String?
    /// The request being answered (nil during `initialize`).
    public let requestID: RequestID?

    let channel: OutputChannel

    /// Sends a `log` notification; the host files it under this app.
    public func log(_ level: LogParams.Level, _ message: String, code: String? = nil, data: JSONValue? = nil) {
        channel.send(.notification(method: Notification.log, params: LogParams(level: level, message: redact(message), code: code, data: data).json))
    }

    /// Sends a `progress` notification for this request.
    public func progress(_ message: String? = nil, completed: Int? = nil, total: Int? = nil) {
        let p = ProgressParams(requestId: requestID, message: message.map(redact), completed: completed, total: total)
        channel.send(.notification(method: Notification.progress, params: p.json))
    }

    /// Tells the host the app's rate-limit budget, so it can pace other work.
    public func rateLimit(limit: Int?, remaining: Int?, resetMs: Int?) {
        channel.send(.notification(method: Notification.rateLimit,
                                   params: RateLimitParams(limit: limit, remaining: remaining, resetMs: resetMs).json))
    }

    /// `text` with every secret value replaced by `***`.
    public func redact(_ text: String) -> String {
        var result = text
        for value in secrets.values where value.count >= 4 {
            result = result.replacingOccurrences(of: value, with: "***")
        }
        return result
    }

    /// A typed view of the settings object, with errors that name the setting.
    public var settingsFields: JSONFields {
        get throws { try JSONFields(settings, path: "settings") }
    }

    /// A path setting made absolute against `baseDirectory`.
    public func resolvePath(_ path: String) -> String {
        if path.hasPrefix("/") { return path }
        guard let base = baseDirectory else { return path }
        return URL(fileURLWithPath: base).appendingPathComponent(path).standardizedFileURL.path
    }

    /// A required secret, or a configuration error naming it (never its value).
    public func secret(_ name: String) throws -> String {
        guard let value = secrets[name], !value.isEmpty else {
            throw ConnectorError(.configuration, "secret \"\(name)\" is not configured for app \"\(appId)\"")
        }
        return value
    }
}
