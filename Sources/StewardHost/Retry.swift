import Foundation

/// How long to wait before attempt `attempt + 1`: the server's hint when it gave one (capped at
/// a minute; longer waits are the caller's to schedule), else exponential backoff with jitter.
/// One rule for sync pages, writes and read-backs, so they all treat a rate limit the same way.
func backoff(attempt: Int, hintMs: Int?) -> Double {
    if let hintMs { return min(Double(hintMs) / 1000, 60) }
    let base = min(0.2 * pow(2, Double(attempt - 1)), 5)
    return base * Double.random(in: 0.8...1.2)
}

/// Runs `body` until it succeeds, fails with an error that is not retryable, or has been tried
/// `attempts` times, sleeping `backoff` between tries.
func retrying<T>(attempts: Int, _ body: () async throws -> T) async throws -> T {
    var attempt = 0
    while true {
        attempt += 1
        do {
            return try await body()
        } catch let failure as ConnectorFailure where failure.retryable && attempt < attempts {
            try await Task.sleep(nanoseconds: UInt64(backoff(attempt: attempt, hintMs: failure.connectorError?.retryAfterMs) * 1e9))
        }
    }
}
