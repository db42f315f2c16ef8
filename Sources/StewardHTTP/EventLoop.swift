import StewardSystem
import Dispatch
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A serial queue that owns a set of connections, their read buffer and their deadlines.
final class EventLoop: @unchecked Sendable {  // mutable state is only touched on `queue`
    let queue: DispatchQueue
    let core: ServerCore
    /// Where every read on this loop lands before it is appended to a connection's buffer.
    let scratch: UnsafeMutableRawBufferPointer
    private var connections: [ObjectIdentifier: Connection] = [:]
    private var timer: DispatchSourceTimer?
    private var stopped = false
    private var dateSecond = -1
    private var dateLine: [UInt8] = []

    init(index: Int, core: ServerCore) {
        queue = DispatchQueue(label: "steward.http.loop.\(index)")
        self.core = core
        scratch = .allocate(byteCount: 64 * 1024, alignment: 16)
        let timer = DispatchSource.makeTimerSource(queue: queue)
        let interval = DispatchTimeInterval.nanoseconds(Int(core.sweepInterval))
        timer.schedule(deadline: .now() + interval, repeating: interval, leeway: .milliseconds(1))
        timer.setEventHandler { [unowned self] in sweep() }
        self.timer = timer
        timer.resume()
    }

    deinit { scratch.deallocate() }

    /// Takes ownership of an accepted socket.
    func adopt(_ socket: OwnedDescriptor) {
        queue.async { [self] in
            guard !stopped else {
                socket.close()
                core.releaseConnection()
                return
            }
            let connection = Connection(socket: socket, loop: self)
            connections[ObjectIdentifier(connection)] = connection
            connection.start()
        }
    }

    func remove(_ connection: Connection) {
        connections[ObjectIdentifier(connection)] = nil
    }

    /// Closes every connection and stops the deadline timer.
    func stop() {
        queue.sync {
            stopped = true
            timer?.cancel()
            timer = nil
            for connection in Array(connections.values) { connection.close() }
        }
    }

    private func sweep() {
        let now = monotonicNanoseconds()
        for connection in Array(connections.values) { connection.checkDeadline(now: now) }
    }

    /// The `Date:` header line (RFC 9110 §6.6.1), formatted once per second.
    func dateHeaderLine() -> [UInt8] {
        var now = time(nil)
        if now != dateSecond {
            dateSecond = now
            var parts = tm()
            gmtime_r(&now, &parts)
            let days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
            let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
            func two(_ n: Int32) -> String { n < 10 ? "0\(n)" : "\(n)" }
            let text = "Date: \(days[Int(parts.tm_wday) % 7]), \(two(parts.tm_mday)) \(months[Int(parts.tm_mon) % 12]) "
                + "\(parts.tm_year + 1900) \(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec)) GMT\r\n"
            dateLine = Array(text.utf8)
        }
        return dateLine
    }
}

@inline(__always)
func monotonicNanoseconds() -> UInt64 { DispatchTime.now().uptimeNanoseconds }
