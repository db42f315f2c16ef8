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

    /// Sends a response whose result is already JSON bytes.
    func sendResult(id: RequestID, resultBytes: [UInt8]) {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(resultBytes.count + 48)
        bytes.append(contentsOf: Self.responsePrefix)
        JSONWriter.write(id.json, into: &bytes)
        bytes.append(contentsOf: Self.resultKey)
        bytes.append(contentsOf: resultBytes)
        bytes.append(contentsOf: [UInt8(ascii: "}"), 0x0A])
        lock.lock()
        defer { lock.unlock() }
        FDWrite.all(fd, bytes)
    }

    private static let responsePrefix = Array("{\"jsonrpc\":\"2.0\",\"id\":".utf8)
    private static let resultKey = Array(",\"result\":".utf8)
}
