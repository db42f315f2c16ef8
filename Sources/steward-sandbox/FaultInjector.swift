import Foundation
import StewardHTTP

/// Injected misbehaviour: latency, random 500/503, and 429 above a request rate.
///
/// Decisions are made when a request arrives, before any handler runs, so a faulted write is
/// never applied. The random draws come from a seeded generator in arrival order, so the same
/// seed and the same sequence of requests give the same faults.
final class FaultInjector: @unchecked Sendable {  // mutable state is guarded by `lock`
    enum Fault: Sendable {
        case rateLimited(retryAfterSeconds: Int)
        case failure(HTTPStatus)
    }

    let latency: Duration
    private let failRate: Double
    private let rateLimit: Double?
    private let lock = NSLock()
    private var random: SeededGenerator
    private var tokens: Double
    private var lastRefill: UInt64

    init(latencyMilliseconds: Int, failRate: Double, rateLimit: Double?, seed: UInt64) {
        latency = .milliseconds(latencyMilliseconds)
        self.failRate = failRate
        self.rateLimit = rateLimit
        random = SeededGenerator(seed: seed)
        tokens = max(rateLimit ?? 1, 1)
        lastRefill = DispatchTime.now().uptimeNanoseconds
    }

    var isActive: Bool { latency > .zero || failRate > 0 || rateLimit != nil }

    /// The fault for the request arriving now, if any.
    func decide() -> Fault? {
        lock.lock()
        defer { lock.unlock() }
        if let rateLimit {
            // Token bucket holding one second's worth of requests.
            let now = DispatchTime.now().uptimeNanoseconds
            tokens = min(max(rateLimit, 1), tokens + Double(now - lastRefill) / 1e9 * rateLimit)
            lastRefill = now
            if tokens < 1 {
                let wait = (1 - tokens) / rateLimit
                return .rateLimited(retryAfterSeconds: max(1, Int(wait.rounded(.up))))
            }
            tokens -= 1
        }
        guard failRate > 0 else { return nil }
        let draw = Double(random.next() >> 11) / Double(UInt64(1) << 53)
        let which = random.next() & 1
        guard draw < failRate else { return nil }
        return .failure(which == 0 ? .internalServerError : .serviceUnavailable)
    }

    /// Puts fault injection in front of every route; `render` writes the app's error format.
    func wrap(_ router: Router, render: @escaping @Sendable (Fault) -> HTTPResponse) -> Router {
        guard isActive else { return router }
        let latency = self.latency
        return router.mapHandlers { handler in
            if latency == .zero, case .sync(let body) = handler {
                return .sync { [self] request in
                    if let fault = decide() { return render(fault) }
                    return try body(request)
                }
            }
            return .async { [self] request in
                let fault = decide()
                if latency > .zero { try await Task.sleep(for: latency) }
                if let fault { return render(fault) }
                switch handler {
                case .sync(let body): return try body(request)
                case .async(let body): return try await body(request)
                }
            }
        }
    }
}
