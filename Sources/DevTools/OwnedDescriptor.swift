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
/// (StewardHost and StewardHTTP have the same type for their own descriptors; DevTools stays
/// free of both.)
final class OwnedDescriptor: Sendable {
    private let number: Int32
    private let closeNumber: @Sendable (Int32) -> Void
    private let state = Mutex(State())

    private struct State: Sendable {
        /// `close()` was called: no new `withDescriptor` call gets the number.
        var closing = false
        /// The number was handed to the kernel's `close`.
        var released = false
        /// `withDescriptor` calls in progress.
        var users = 0

        /// True exactly once: when the number is closing, unused and not yet closed.
        mutating func takeNumber() -> Bool {
            guard users == 0, !released else { return false }
            released = true
            return true
        }
    }

    /// Takes ownership of `number`, an open descriptor nothing else closes from now on.
    convenience init(adopting number: Int32) {
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

    /// Whether `close()` has been called.
    var isClosed: Bool { state.withLock { $0.closing } }

    /// Runs `body` with the descriptor, which stays open until `body` returns even if another
    /// thread calls `close()` meanwhile. Returns nil, without running `body`, once closed.
    func withDescriptor<Result>(_ body: (Int32) throws -> Result) rethrows -> Result? {
        guard enter() else { return nil }
        defer { leave() }
        return try body(number)
    }

    /// `withDescriptor` for several descriptors at once, in order; nil if any is closed.
    static func withDescriptors<Result>(_ owners: [OwnedDescriptor], _ body: ([Int32]) throws -> Result) rethrows -> Result? {
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
    func close() {
        let closeNow = state.withLock { state in
            guard !state.closing else { return false }
            state.closing = true
            return state.takeNumber()
        }
        if closeNow { closeNumber(number) }
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
