import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// The one owner of an open file descriptor, which closes it exactly once.
///
/// A descriptor passed around as a bare `Int32` invites a second `close`, and once the kernel
/// has handed the number to someone else, that second close shuts *their* file or socket.
/// `close()` may be called any number of times from any thread, and whatever is still open
/// when the owner goes away is closed then. Calls that may race with `close()` on another
/// thread go through `withDescriptor`, which keeps the number open until they return, so they
/// never reach a file that reused it.
public final class OwnedDescriptor: Sendable {
    private let number: Int32
    private let closeNumber: @Sendable (Int32) -> Void
    private let state = Mutex(State())

    private struct State: Sendable {
        /// `close()` was called: no new `withDescriptor` call gets the number.
        var closing = false
        /// The number was handed to the kernel's `close` (or given away by `releaseOwnership`).
        var released = false
        /// `withDescriptor` calls in progress.
        var users = 0

        /// True exactly once: when the number is closing, unused and not yet released.
        mutating func takeNumber() -> Bool {
            guard users == 0, !released else { return false }
            released = true
            return true
        }
    }

    /// Takes ownership of `number`, an open descriptor nothing else closes from now on.
    public convenience init(adopting number: Int32) {
        self.init(adopting: number) { _ = Glibc.close($0) }
    }

    /// With the system call replaced, for tests that count closes.
    init(adopting number: Int32, closingWith closeNumber: @escaping @Sendable (Int32) -> Void) {
        self.number = number
        self.closeNumber = closeNumber
    }

    deinit {
        // Nobody can be inside `withDescriptor` here: each such call holds a reference.
        if !state.withLock({ $0.released }) { closeNumber(number) }
    }

    /// Whether `close()` (or `releaseOwnership()`) has been called.
    public var isClosed: Bool { state.withLock { $0.closing } }

    /// Runs `body` with the descriptor, which stays open until `body` returns even if another
    /// thread calls `close()` meanwhile. Returns nil, without running `body`, once closed.
    public func withDescriptor<Result>(_ body: (Int32) throws -> Result) rethrows -> Result? {
        guard enter() else { return nil }
        defer { leave() }
        return try body(number)
    }

    /// `withDescriptor` for several descriptors at once, in order; nil if any is closed.
    public static func withDescriptors<Result>(_ owners: [OwnedDescriptor], _ body: ([Int32]) throws -> Result) rethrows -> Result? {
        var entered: [OwnedDescriptor] = []
        defer { for owner in entered { owner.leave() } }
        for owner in owners {
            guard owner.enter() else { return nil }
            entered.append(owner)
        }
        return try body(entered.map(\.number))
    }

    /// Closes the descriptor now, or as soon as the `withDescriptor` calls in progress return.
    /// Idempotent.
    public func close() {
        let closeNow = state.withLock { state in
            guard !state.closing else { return false }
            state.closing = true
            return state.takeNumber()
        }
        if closeNow { closeNumber(number) }
    }

    /// Gives the descriptor to the caller, who closes it from then on; this owner never will.
    /// Returns the number, the same on every call (for code that still closes raw numbers).
    public func releaseOwnership() -> Int32 {
        state.withLock { state in
            state.closing = true
            state.released = true
        }
        return number
    }

    private func enter() -> Bool {
        state.withLock { state in
            guard !state.closing else { return false }
            state.users += 1
            return true
        }
    }

    private func leave() {
        let closeNow = state.withLock { state in
            state.users -= 1
            return state.closing && state.takeNumber()
        }
        if closeNow { closeNumber(number) }
    }
}
