import Foundation

/// An app's request budget as its response headers state it, so the host can pace work
/// before the app starts answering 429.
///
/// Understands the common spellings: `X-RateLimit-Limit/Remaining/Reset` (GitHub, Okta and
/// many others; reset as seconds from now or as a Unix time), `RateLimit-Limit/Remaining/Reset`
/// (the IETF draft's separate fields), and the draft's structured forms
/// `RateLimit: limit=100, remaining=5, reset=30` and `RateLimit: "default";r=5;t=30` with
/// `RateLimit-Policy: "default";q=100;w=60`. A 429's `Retry-After` fills in the reset.
public struct RateLimitStatus: Sendable, Equatable {
    public var limit: Int?
    public var remaining: Int?
    /// Milliseconds until the budget resets.
    public var resetMs: Int?

    public init(limit: Int? = nil, remaining: Int? = nil, resetMs: Int? = nil) {
        self.limit = limit
        self.remaining = remaining
        self.resetMs = resetMs
    }

    /// The status from lower-cased `headers`, or nil when they say nothing about rate limits.
    /// `status` 429 counts as "nothing remaining", with `Retry-After` as the reset.
    public init?(headers: [String: String], status httpStatus: Int? = nil, now: Date = Date()) {
        var status = RateLimitStatus()
        for prefix in ["x-ratelimit-", "ratelimit-", "x-rate-limit-"] {
            status.limit = status.limit ?? headers[prefix + "limit"].flatMap(Self.leadingInt)
            status.remaining = status.remaining ?? headers[prefix + "remaining"].flatMap(Self.leadingInt)
            status.resetMs = status.resetMs ?? headers[prefix + "reset"].flatMap { Self.resetMs($0, now: now) }
        }
        if let combined = headers["ratelimit"] {
            let fields = Self.parameters(combined)
            status.limit = status.limit ?? fields["limit"].flatMap(Self.leadingInt)
            status.remaining = status.remaining ?? (fields["remaining"] ?? fields["r"]).flatMap(Self.leadingInt)
            status.resetMs = status.resetMs ?? (fields["reset"] ?? fields["t"]).flatMap(Self.leadingInt).map { $0 * 1000 }
        }
        if status.limit == nil, let policy = headers["ratelimit-policy"] {
            status.limit = Self.parameters(policy)["q"].flatMap(Self.leadingInt)
        }
        if httpStatus == 429 {
            status.remaining = 0
            if status.resetMs == nil, let retryAfter = headers["retry-after"].flatMap({ RetryAfter.seconds($0, now: now) }) {
                status.resetMs = Int((retryAfter * 1000).rounded(.up))
            }
        }
        if status.limit == nil && status.remaining == nil && status.resetMs == nil { return nil }
        self = status
    }

    /// `100` from `100`, `100, 100;w=60` or ` 100 `.
    static func leadingInt(_ text: some StringProtocol) -> Int? {
        let digits = text.drop { $0 == " " || $0 == "\"" }.prefix { $0.isASCII && $0.isNumber }
        return digits.isEmpty ? nil : Int(digits)
    }

    /// A reset given as seconds from now, or (when it is too large to be a delay) as a Unix time
    /// in seconds or milliseconds.
    static func resetMs(_ text: String, now: Date) -> Int? {
        guard let value = Double(text.trimmingCharacters(in: .whitespaces)), value >= 0 else {
            return HTTPDate.parse(text).map { max(0, Int($0.timeIntervalSince(now) * 1000)) }
        }
        let nowSeconds = now.timeIntervalSince1970
        if value > 1e12 { return max(0, Int(value - nowSeconds * 1000)) }
        if value > 1e9 { return max(0, Int((value - nowSeconds) * 1000)) }
        return Int(value * 1000)
    }

    /// `key=value` pairs separated by `,` or `;`, ignoring a leading policy name.
    static func parameters(_ text: String) -> [String: Substring] {
        var result: [String: Substring] = [:]
        for part in text.split(whereSeparator: { $0 == "," || $0 == ";" }) {
            guard let eq = part.firstIndex(of: "=") else { continue }
            let key = part[..<eq].trimmingCharacters(in: .whitespaces).lowercased()
            if result[key] == nil { result[key] = part[part.index(after: eq)...] }
        }
        return result
    }
}
