import Foundation
import StewardProtocol

/// Replaces secret values with `***` in any text a connector is about to show: errors, logs,
/// echoed response bodies. It grows at run time, because some secrets (OAuth access tokens)
/// only exist after the connector has started.
public final class SecretRedactor: @unchecked Sendable {  // `secrets` is only touched under `lock`
    private let lock = NSLock()
    private var secrets: [String] = []

    /// Starts with every value in `secrets` (an app's secrets from `initialize`).
    public init(_ secrets: [String: String] = [:]) {
        add(Array(secrets.values))
    }

    /// Adds values to hide. Values shorter than 4 characters are ignored: hiding every "a"
    /// would garble messages without protecting anything.
    public func add(_ values: [String]) {
        lock.withLock {
            for value in values where value.count >= 4 && !secrets.contains(value) {
                secrets.append(value)
                // Longest first, so a secret that contains another is hidden whole.
                secrets.sort { $0.count > $1.count }
            }
        }
    }

    public func redact(_ text: String) -> String {
        let current = lock.withLock { secrets }
        var result = text
        for secret in current where result.contains(secret) {
            result = result.replacingOccurrences(of: secret, with: "***")
        }
        return result
    }

    /// `error` with its message and details redacted.
    public func redact(_ error: ConnectorError) -> ConnectorError {
        var e = error
        e.message = redact(e.message)
        if !e.details.isNull { e.details = redact(e.details) }
        return e
    }

    private func redact(_ value: JSONValue) -> JSONValue {
        switch value {
        case .string(let s): return .string(redact(s))
        case .array(let a): return .array(a.map(redact))
        case .object(let o): return .object(o.mapValues(redact))
        default: return value
        }
    }
}
