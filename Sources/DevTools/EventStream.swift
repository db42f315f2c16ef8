import Foundation

/// Events of chosen methods, buffered from the moment of subscription.
///
/// Subscribe before sending the command that causes the event; the event may arrive before the
/// command's reply, and the stream keeps it until someone asks.
final class EventStream: Sendable {
    let methods: Set<String>
    private let state = Locked(State())

    private struct State {
        var buffer: [CDPEvent] = []
        var waiter: Waiter?
        var failure: DevToolsError?
        var nextToken = 0
    }

    private struct Waiter {
        var token: Int
        var predicate: @Sendable (CDPEvent) -> Bool
        var continuation: CheckedContinuation<CDPEvent, any Error>
    }

    init(methods: Set<String>) { self.methods = methods }

    /// Called on the reader thread.
    func deliver(_ event: CDPEvent) {
        let ready = state.withLock { state -> (CheckedContinuation<CDPEvent, any Error>)? in
            if let waiter = state.waiter, waiter.predicate(event) {
                state.waiter = nil
                return waiter.continuation
            }
            if state.buffer.count < 10_000 { state.buffer.append(event) }
            return nil
        }
        ready?.resume(returning: event)
    }

    func fail(_ error: DevToolsError) {
        let waiter = state.withLock { state -> Waiter? in
            state.failure = error
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.continuation.resume(throwing: error)
    }

    /// Whether an event matching `predicate` has arrived (and consumes it).
    func take(where predicate: (CDPEvent) -> Bool) -> CDPEvent? {
        state.withLock { state in
            guard let index = state.buffer.firstIndex(where: predicate) else { return nil }
            return state.buffer.remove(at: index)
        }
    }

    /// The first event, buffered or future, matching `predicate`.
    func next(timeout: Duration, waitingFor what: String, where predicate: @escaping @Sendable (CDPEvent) -> Bool) async throws -> CDPEvent {
        let token = state.withLock { state -> Int in
            defer { state.nextToken += 1 }
            return state.nextToken
        }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                let immediate = state.withLock { state -> Result<CDPEvent, any Error>? in
                    if let index = state.buffer.firstIndex(where: predicate) {
                        return .success(state.buffer.remove(at: index))
                    }
                    if let failure = state.failure { return .failure(failure) }
                    if Task.isCancelled { return .failure(CancellationError()) }
                    state.waiter = Waiter(token: token, predicate: predicate, continuation: continuation)
                    return nil
                }
                if let immediate { return continuation.resume(with: immediate) }
                let seconds = timeout.seconds
                DispatchQueue.global().asyncAfter(deadline: .now() + seconds) { [weak self] in
                    self?.abandon(token, with: DevToolsError.timeout(method: what, seconds: seconds))
                }
            }
        } onCancel: {
            abandon(token, with: CancellationError())
        }
    }

    private func abandon(_ token: Int, with error: any Error) {
        let waiter = state.withLock { state -> Waiter? in
            guard let waiter = state.waiter, waiter.token == token else { return nil }
            state.waiter = nil
            return waiter
        }
        waiter?.continuation.resume(throwing: error)
    }
}
