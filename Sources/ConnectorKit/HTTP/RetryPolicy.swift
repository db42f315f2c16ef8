import Foundation

/// When a connector retries a request itself, and when it hands the decision to the host.
///
/// A connector retries briefly (a flaky 503, a short 429) so one blip does not fail a sync, but
/// it never sleeps for minutes: a wait longer than `maxWait` becomes a `rateLimited` error with
/// `retryAfterMs`, and the host, which sees every app, decides when to come back.
public struct RetryPolicy: Sendable {
    /// Attempts in all, the first included.
    public var maxAttempts: Int
    /// The first backoff; each later one doubles, up to `maxDelay`.
    public var baseDelay: Double
    public var maxDelay: Double
    /// The longest single wait, `Retry-After` included, the connector accepts.
    public var maxWait: Double
    /// The most time one request may spend waiting across all its attempts.
    public var maxTotalWait: Double

    public init(maxAttempts: Int = 5, baseDelay: Double = 0.2, maxDelay: Double = 5, maxWait: Double = 30,
                maxTotalWait: Double = 60) {
        self.maxAttempts = max(1, maxAttempts)
        self.baseDelay = baseDelay
        self.maxDelay = maxDelay
        self.maxWait = maxWait
        self.maxTotalWait = maxTotalWait
    }

    /// No retries at all.
    public static let never = RetryPolicy(maxAttempts: 1)

    public enum Decision: Sendable, Equatable {
        /// The attempt's result stands (a success, or an error the caller interprets).
        case done
        /// Wait `delay` seconds and send again.
        case retry(delay: Double, honouringRetryAfter: Bool)
        /// Give up and report; `retryAfterMs` tells the host when the app wants to be asked again.
        case fail(retryAfterMs: Int?)
    }

    /// Decides what to do after attempt number `attempt` (1-based) produced `outcome`, having
    /// already waited `waited` seconds.
    public func decide(_ outcome: HTTPClient.Attempt, request: HTTPClient.Request, attempt: Int, waited: Double,
                       now: Date = Date(), random: Double = Double.random(in: 0..<1)) -> Decision {
        let retryAfter: Double?
        let retryable: Bool
        switch outcome {
        case .transport(let failure):
            retryAfter = nil
            retryable = failure.notSent || request.idempotent
        case .response(let response):
            retryAfter = response.header("Retry-After").flatMap { RetryAfter.seconds($0, now: now) }
            switch response.status {
            case 429, 408: retryable = true
            case 500, 502, 503, 504: retryable = request.idempotent
            default: return .done
            }
        }
        let retryAfterMs = retryAfter.map { Int(($0 * 1000).rounded(.up)) }
        guard retryable else { return .fail(retryAfterMs: retryAfterMs) }
        if let retryAfter {
            guard retryAfter <= maxWait, waited + retryAfter <= maxTotalWait, attempt < maxAttempts else {
                return .fail(retryAfterMs: retryAfterMs)
            }
            return .retry(delay: retryAfter, honouringRetryAfter: true)
        }
        let delay = backoff(attempt: attempt, random: random)
        guard attempt < maxAttempts, waited + delay <= maxTotalWait else {
            return .fail(retryAfterMs: nil)
        }
        return .retry(delay: delay, honouringRetryAfter: false)
    }

    /// Exponential backoff with "equal jitter": half the step is fixed, half random, so
    /// retries from many connectors spread out but never collapse to zero.
    public func backoff(attempt: Int, random: Double) -> Double {
        let step = min(maxDelay, baseDelay * pow(2, Double(max(0, attempt - 1))))
        return step / 2 + step / 2 * min(max(random, 0), 1)
    }
}

/// `Retry-After` (RFC 9110 §10.2.3): delay seconds or an HTTP date.
public enum RetryAfter {
    /// Seconds to wait from `now`, or nil when the value is neither form. A date in the past
    /// means no wait.
    public static func seconds(_ value: String, now: Date = Date()) -> Double? {
        let text = value.trimmingCharacters(in: .whitespaces)
        if let seconds = Int(text), seconds >= 0 { return Double(seconds) }
        if let seconds = Double(text), seconds >= 0, seconds.isFinite { return seconds }
        guard let date = HTTPDate.parse(text) else { return nil }
        return max(0, date.timeIntervalSince(now))
    }
}

/// Parses the three date formats HTTP allows (RFC 9110 §5.6.7).
public enum HTTPDate {
    private static let formats = [
        "EEE, dd MMM yyyy HH:mm:ss zzz",  // IMF-fixdate: Sun, 06 Nov 1994 08:49:37 GMT
        "EEEE, dd-MMM-yy HH:mm:ss zzz",   // RFC 850: Sunday, 06-Nov-94 08:49:37 GMT
        "EEE MMM d HH:mm:ss yyyy",        // asctime: Sun Nov  6 08:49:37 1994
    ]

    public static func parse(_ text: String) -> Date? {
        let collapsed = text.split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ")
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        for format in formats {
            formatter.dateFormat = format
            if let date = formatter.date(from: collapsed) { return date }
        }
        return nil
    }

    /// `date` as an IMF-fixdate.
    public static func format(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss 'GMT'"
        return formatter.string(from: date)
    }
}
