import Dispatch
import Foundation

/// Runs `body` for every index in `0..<count` on all cores and returns the results in index order.
func concurrentMap<T: Sendable>(_ count: Int, _ body: @Sendable (Int) -> T) -> [T] {
    let slots = ResultSlots<T>(count: count)
    DispatchQueue.concurrentPerform(iterations: count) { i in slots.store(body(i), at: i) }
    return slots.collect()
}

/// Runs two independent computations at the same time.
func concurrently<A: Sendable, B: Sendable>(_ a: @Sendable () -> A, _ b: @Sendable () -> B) -> (A, B) {
    let first = ResultSlots<A>(count: 1), second = ResultSlots<B>(count: 1)
    DispatchQueue.concurrentPerform(iterations: 2) { i in
        if i == 0 { first.store(a(), at: 0) } else { second.store(b(), at: 0) }
    }
    guard let x = first.collect().first, let y = second.collect().first else {
        preconditionFailure("concurrentPerform returned before both computations finished")
    }
    return (x, y)
}

/// Where concurrent workers leave their results.
private final class ResultSlots<T: Sendable>: @unchecked Sendable { // every access to `values` holds `lock`
    private let lock = NSLock()
    private var values: [T?]

    init(count: Int) { values = Array(repeating: nil, count: count) }

    func store(_ value: T, at index: Int) {
        lock.lock()
        values[index] = value
        lock.unlock()
    }

    func collect() -> [T] {
        lock.lock()
        defer { lock.unlock() }
        return values.compactMap { $0 }
    }
}
