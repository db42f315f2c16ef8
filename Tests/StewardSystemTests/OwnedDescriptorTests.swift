import Foundation
@testable import StewardSystem
import Testing

@Suite("OwnedDescriptor: one owner closes each descriptor exactly once")
struct OwnedDescriptorTests {
    @Test("close from many threads, then the owner going away, closes the descriptor once")
    func closesOnce() {
        let closes = CloseLog()
        do {
            let owner = OwnedDescriptor(adopting: 42, closingWith: closes.record)
            DispatchQueue.concurrentPerform(iterations: 16) { _ in owner.close() }
            #expect(owner.isClosed)
        }
        #expect(closes.numbers == [42])
    }

    @Test("the owner going away closes a descriptor nobody closed")
    func deinitCloses() {
        let closes = CloseLog()
        do { _ = OwnedDescriptor(adopting: 7, closingWith: closes.record) }
        #expect(closes.numbers == [7])
    }

    @Test("a close during withDescriptor waits until the call returns; later calls are refused")
    func closeWaitsForUsers() {
        let closes = CloseLog()
        let owner = OwnedDescriptor(adopting: 9, closingWith: closes.record)
        let seen = owner.withDescriptor { fd -> Int32 in
            owner.close()
            #expect(closes.numbers.isEmpty, "closed while still in use")
            return fd
        }
        #expect(seen == 9)
        #expect(closes.numbers == [9])
        var ran = false
        #expect(owner.withDescriptor { _ in ran = true } == nil)
        #expect(!ran)
    }

    @Test("withDescriptors refuses them all if one is closed, and keeps them open while it runs")
    func several() {
        let closes = CloseLog()
        let a = OwnedDescriptor(adopting: 1, closingWith: closes.record)
        let b = OwnedDescriptor(adopting: 2, closingWith: closes.record)
        let both = OwnedDescriptor.withDescriptors([a, b]) { numbers -> [Int32] in
            a.close()
            #expect(closes.numbers.isEmpty)
            return numbers
        }
        #expect(both == [1, 2])
        #expect(closes.numbers == [1])
        #expect(OwnedDescriptor.withDescriptors([b, a]) { $0 } == nil)
        b.close()
        #expect(closes.numbers == [1, 2])
    }

    @Test("releaseOwnership hands the number over: the owner never closes it")
    func release() {
        let closes = CloseLog()
        do {
            let owner = OwnedDescriptor(adopting: 5, closingWith: closes.record)
            #expect(owner.releaseOwnership() == 5)
            #expect(owner.releaseOwnership() == 5)
            owner.close()
        }
        #expect(closes.numbers.isEmpty)
    }

    @Test("a real pipe: closing the owner of the write end gives the reader end of file")
    func realPipe() throws {
        var fds: [Int32] = [0, 0]
        try #require(pipe(&fds) == 0)
        let reader = OwnedDescriptor(adopting: fds[0])
        let writer = OwnedDescriptor(adopting: fds[1])
        #expect(writer.withDescriptor { fd in [UInt8(ascii: "x")].withUnsafeBytes { write(fd, $0.baseAddress, 1) } } == 1)
        writer.close()
        writer.close()
        var buffer = [UInt8](repeating: 0, count: 4)
        #expect(reader.withDescriptor { read($0, &buffer, 4) } == 1)
        #expect(reader.withDescriptor { read($0, &buffer, 4) } == 0)
    }
}

/// Which numbers a test's descriptors were closed with, in order.
private final class CloseLog: @unchecked Sendable {  // `closed` is guarded by `lock`
    private let lock = NSLock()
    private var closed: [Int32] = []

    var record: @Sendable (Int32) -> Void { { [self] n in lock.withLock { closed.append(n) } } }
    var numbers: [Int32] { lock.withLock { closed } }
}

/// Polls `condition` until it holds or `timeout` passes.
private func eventually(timeout: Duration = .seconds(10), _ condition: () -> Bool) async -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if condition() { return true }
        try? await Task.sleep(for: .milliseconds(10))
    }
    return condition()
}
