import Foundation
import StewardJournal
import StewardProtocol

/// A reviewer's signed link to their items in one campaign: `publicURL/r/<token>`.
///
/// The token is `base64url(payload).base64url(HMAC-SHA-256(linkKey, payload))`, the payload a
/// small JSON object with the reviewer, the campaign, when it was issued and when it expires.
/// Nothing else identifies the reviewer: whoever holds the link acts as them, for their items
/// only, until it expires or is revoked (`review.links-revoked` invalidates every link issued
/// before it for that campaign, and reviewer if one is named).
public struct ReviewLink: Sendable, Equatable {
    public var reviewer: String
    public var campaign: String
    public var issuedAt: Int
    public var expiresAt: Int

    public init(reviewer: String, campaign: String, issuedAt: Date, lifetime: TimeInterval) {
        self.reviewer = reviewer.lowercased()
        self.campaign = campaign
        self.issuedAt = Int(issuedAt.timeIntervalSince1970)
        self.expiresAt = self.issuedAt + Int(lifetime)
    }

    /// The token for the URL.
    public func token(key: [UInt8]) -> String {
        let payload = JSONWriter.bytes(["r": .string(reviewer), "c": .string(campaign), "i": .int(issuedAt), "e": .int(expiresAt)])
        return base64url(payload) + "." + base64url(HMACSHA256.authenticate(payload, key: key).bytes)
    }

    /// Why a token is refused; the page says only "this link is not valid" whatever the reason.
    public enum Refusal: Error, Equatable, CustomStringConvertible {
        case malformed, badSignature, expired, revoked

        public var description: String {
            switch self {
            case .malformed: return "malformed link"
            case .badSignature: return "link signature does not match"
            case .expired: return "link expired"
            case .revoked: return "link revoked"
            }
        }
    }

    /// The link a token stands for, if it is genuine and current. `revokedBefore` gives, for a
    /// link, the time before which links like it were revoked.
    public static func verify(_ token: String, key: [UInt8], now: Date = Date(),
                              revokedBefore: (ReviewLink) -> Int? = { _ in nil }) throws(Refusal) -> ReviewLink {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 2, let payload = unbase64url(parts[0]), let mac = unbase64url(parts[1]) else { throw .malformed }
        guard HMACSHA256.isValid(mac, for: payload, key: key) else { throw .badSignature }
        guard let json = try? JSONParser.parse(payload), let reviewer = json["r"].stringValue, let campaign = json["c"].stringValue,
              let issued = json["i"].intValue, let expires = json["e"].intValue else { throw .malformed }
        let link = ReviewLink(reviewer: reviewer, campaign: campaign, issuedAt: issued, expiresAt: expires)
        guard Int(now.timeIntervalSince1970) < expires else { throw .expired }
        if let before = revokedBefore(link), issued <= before { throw .revoked }
        return link
    }

    private init(reviewer: String, campaign: String, issuedAt: Int, expiresAt: Int) {
        self.reviewer = reviewer
        self.campaign = campaign
        self.issuedAt = issuedAt
        self.expiresAt = expiresAt
    }

    /// What the journal records of the link a decision came through: enough to tell links
    /// apart and match one an auditor is shown, never the token itself (which acts as the
    /// reviewer).
    public static func id(of token: String) -> String {
        String(SHA256.hash(Array(token.utf8)).hex.prefix(16))
    }

    /// The form token bound to the link `token` (as it appears in the URL): a form posted with
    /// another link's token is refused.
    public static func csrfToken(for token: String, key: [UInt8]) -> String {
        base64url(HMACSHA256.authenticate(Array("csrf.\(token)".utf8), key: key).bytes)
    }
}

func base64url(_ bytes: [UInt8]) -> String {
    Data(bytes).base64EncodedString()
        .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
}

func unbase64url(_ text: Substring) -> [UInt8]? {
    var s = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
    while s.count % 4 != 0 { s += "=" }
    return Data(base64Encoded: s).map { [UInt8]($0) }
}

/// Makes reviewer links from the config's `serve.linkKey` and `serve.publicURL` (or the
/// listen address), for `steward review link` and the messages a campaign sends.
public struct ReviewLinkIssuer: Sendable {
    let key: [UInt8]
    let base: String

    /// Nil when `serve.linkKey` is not set; throws when it is set but cannot be read. `base`
    /// overrides where links point (a service on a port picked at start).
    public init?(config: StewardConfig, base: String? = nil) throws {
        guard let ref = config.serve.linkKey, let reference = SecretReference(ref) else { return nil }
        do {
            key = Array(try reference.resolve(base: config.directory).utf8)
        } catch {
            throw WorkspaceError(message: "serve.linkKey: \(error)")
        }
        self.base = (base ?? config.serve.publicURL ?? "http://\(config.serve.host):\(config.serve.port)")
            .trimmingCharacters(in: CharacterSet(charactersIn: "/"))
    }

    public func link(reviewer: String, campaign: String, now: Date, lifetime: TimeInterval) -> (ReviewLink, String) {
        let link = ReviewLink(reviewer: reviewer, campaign: campaign, issuedAt: now, lifetime: lifetime)
        return (link, base + "/r/" + link.token(key: key))
    }

    public func url(reviewer: String, campaign: String, now: Date, lifetime: TimeInterval) -> String {
        link(reviewer: reviewer, campaign: campaign, now: now, lifetime: lifetime).1
    }
}
