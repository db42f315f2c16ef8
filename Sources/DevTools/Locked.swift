import Foundation

/// A value shared between the pipe reader thread and callers, guarded by a lock.
///
/// The reader thread must never wait on Swift concurrency, so shared state lives behind a plain
/// lock held only for short, non-blocking critical sections.
final class Locked<Value: Sendable>: @unchecked Sendable { // safe: every access to `value` holds `lock`
    private let lock = NSLock()
    private var value: Value

    init(_ value: Value) { self.value = value }

    @discardableResult
    func withLock<Result>(_ body: (inout Value) throws -> Result) rethrows -> Result {
        lock.lock()
        defer { lock.unlock() }
        return try body(&value)
    }

    var current: Value { withLock { $0 } }
}
