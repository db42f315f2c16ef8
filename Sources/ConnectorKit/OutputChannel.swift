import Foundation
import StewardProtocol

/// The connector's side of stdout: one writer at a time, one message per line.
///
/// Responses from concurrent handlers and notifications interleave safely because each message
/// is written whole under the lock.
final class OutputChannel: Sendable {
    private let fd: Int32
    private let lock = NSLock()

    init(fd: Int32) { self.fd = fd }

    func send(_ message: RPCMessage) {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(256)
        message.encode(into: &bytes)
        bytes.append(0x0A)
        lock.lock()
        defer { lock.unlock() }
        FDWrite.all(fd, bytes)
    }
}
