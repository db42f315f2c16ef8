import Foundation
import StewardJournal
import Synchronization

/// Checks a signed webhook within five minutes, never the same signature twice. Steward's own
/// scheme (HR hooks): `X-Steward-Timestamp: <unix seconds>` and `X-Steward-Signature:
/// v1=<hex HMAC-SHA-256(secret, "<timestamp>.<raw body>")>`. Slack's (`/hooks/slack`):
/// `X-Slack-Request-Timestamp` and `X-Slack-Signature: v0=<hex HMAC-SHA-256(signing secret,
/// "v0:<timestamp>:<raw body>")>`.
///
/// The timestamp is inside the MAC, so a captured request cannot be replayed later with a fresh
/// one; the replay memory only has to cover the window, and is pruned as it goes.
public final class WebhookVerifier: Sendable {
    public static let window: TimeInterval = 300

    private let secret: [UInt8]
    private let scheme: Scheme
    private let seen = Mutex<[String: TimeInterval]>([:])

    public init(secret: [UInt8], scheme: Scheme = .steward) {
        self.secret = secret
        self.scheme = scheme
    }

    /// Which headers carry the timestamp and signature, and what the MAC covers.
    /// BambooHR's (`serve.webhookScheme: "bamboohr"`): `X-BambooHR-Timestamp` and
    /// `X-BambooHR-Signature: <hex HMAC-SHA-256(private key, "<raw body><timestamp>")>`.
    public enum Scheme: String, Sendable {
        case steward, slack, bamboohr

        public var timestampHeader: String {
            switch self {
            case .steward: return "X-Steward-Timestamp"
            case .slack: return "X-Slack-Request-Timestamp"
            case .bamboohr: return "X-BambooHR-Timestamp"
            }
        }

        public var signatureHeader: String {
            switch self {
            case .steward: return "X-Steward-Signature"
            case .slack: return "X-Slack-Signature"
            case .bamboohr: return "X-BambooHR-Signature"
            }
        }

        /// The `vN=` prefix of the signature; BambooHR sends the bare hex.
        var version: String? {
            switch self {
            case .steward: return "v1"
            case .slack: return "v0"
            case .bamboohr: return nil
            }
        }

        func message(timestamp: Int, body: [UInt8]) -> [UInt8] {
            switch self {
            case .steward: return Array("\(timestamp).".utf8) + body
            case .slack: return Array("v0:\(timestamp):".utf8) + body
            case .bamboohr: return body + Array("\(timestamp)".utf8)
            }
        }
    }

    /// Checks the request's own headers.
    public func verify(headers: (String) -> String?, body: [UInt8], now: Date = Date()) throws(Refusal) {
        try verify(timestamp: headers(scheme.timestampHeader), signature: headers(scheme.signatureHeader), body: body, now: now)
    }

    /// Why a request is refused: said in the 401 and journaled, never with the secret.
    public enum Refusal: Error, Equatable, CustomStringConvertible {
        case missingHeaders(Scheme)
        case malformed(String)
        case stale(seconds: Int)
        case badSignature
        case replayed

        public var description: String {
            switch self {
            case .missingHeaders(let scheme): return "missing \(scheme.timestampHeader) or \(scheme.signatureHeader)"
            case .malformed(let what): return "malformed \(what)"
            case .stale(let seconds): return "timestamp is \(seconds) s from now (allowed: \(Int(WebhookVerifier.window)))"
            case .badSignature: return "signature does not match"
            case .replayed: return "signature already used"
            }
        }
    }

    /// Accepts the request or says why not. A good signature is remembered, so the same request
    /// sent again is refused as replayed.
    public func verify(timestamp: String?, signature: String?, body: [UInt8], now: Date = Date()) throws(Refusal) {
        guard let timestamp, let signature else { throw .missingHeaders(scheme) }
        guard let seconds = Int(timestamp.trimmingCharacters(in: .whitespaces)) else { throw .malformed("\(scheme.timestampHeader) (expected unix seconds)") }
        let skew = now.timeIntervalSince1970 - TimeInterval(seconds)
        guard abs(skew) <= Self.window else { throw .stale(seconds: Int(skew)) }
        let mac: String?
        if let version = scheme.version {
            mac = signature.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
                .first { $0.hasPrefix(version + "=") }.map { String($0.dropFirst(version.count + 1)) }
        } else {
            mac = signature.trimmingCharacters(in: .whitespaces)
        }
        guard let mac, let bytes = hexBytes(mac) else { throw .malformed("\(scheme.signatureHeader) (expected \(scheme.version.map { "\($0)=" } ?? "")<hex>)") }
        guard HMACSHA256.isValid(bytes, for: scheme.message(timestamp: seconds, body: body), key: secret) else { throw .badSignature }
        let fresh = seen.withLock { seen -> Bool in
            seen = seen.filter { now.timeIntervalSince1970 - $0.value <= 2 * Self.window }
            guard seen[mac.lowercased()] == nil else { return false }
            seen[mac.lowercased()] = TimeInterval(seconds)
            return true
        }
        guard fresh else { throw .replayed }
    }

    /// The signature header's value for `body` at `timestamp`: what a sender computes.
    public static func signature(secret: [UInt8], timestamp: Int, body: [UInt8], scheme: Scheme = .steward) -> String {
        (scheme.version.map { "\($0)=" } ?? "") + HMACSHA256.authenticate(scheme.message(timestamp: timestamp, body: body), key: secret).hex
    }
}

private func hexBytes(_ text: String) -> [UInt8]? {
    let utf8 = Array(text.utf8)
    guard utf8.count % 2 == 0, !utf8.isEmpty else { return nil }
    var out: [UInt8] = []
    out.reserveCapacity(utf8.count / 2)
    var i = 0
    while i < utf8.count {
        guard let high = nibble(utf8[i]), let low = nibble(utf8[i + 1]) else { return nil }
        out.append(high << 4 | low)
        i += 2
    }
    return out
}

private func nibble(_ c: UInt8) -> UInt8? {
    switch c {
    case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - UInt8(ascii: "0")
    case UInt8(ascii: "a")...UInt8(ascii: "f"): return c - UInt8(ascii: "a") + 10
    case UInt8(ascii: "A")...UInt8(ascii: "F"): return c - UInt8(ascii: "A") + 10
    default: return nil
    }
}
