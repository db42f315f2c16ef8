import StewardSystem
import Dispatch
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A small HTTP/1.1 server with hard limits, for the reviewer pages and the sandbox.
///
/// Connections are spread over a few serial Dispatch queues (event loops); a connection's
/// state is only touched on its loop. Synchronous handlers run right there, which keeps small
/// JSON requests cheap; asynchronous ones run in a task and hand their response back. Every
/// limit in `Configuration` is enforced before a handler sees the request, and a request the
/// server cannot trust is answered with 400, 413 or 431 and its connection closed.
public final class HTTPServer: Sendable {
    /// Limits and placement. The defaults suit a loopback service facing a hostile client.
    public struct Configuration: Sendable {
        /// Address to bind. Loopback unless deliberately exposed.
        public var host: String = "127.0.0.1"
        /// Port to bind; 0 picks a free one, reported by `HTTPServer.port`.
        public var port: Int = 0
        /// Request line plus header fields, in bytes (431 beyond).
        public var maxHeaderBytes: Int = 16 * 1024
        /// Number of header fields (431 beyond).
        public var maxHeaderFields: Int = 100
        /// Decoded body size, in bytes (413 beyond).
        public var maxBodyBytes: Int = 10 * 1024 * 1024
        /// Time from the first byte of a request to the end of its head (408 after).
        public var headerTimeout: Duration = .seconds(10)
        /// Time from the end of the head to the end of the body (408 after).
        public var bodyTimeout: Duration = .seconds(30)
        /// Time a kept-alive connection may sit without a request, or a response may wait
        /// for the client to read it, before the connection is closed.
        public var idleTimeout: Duration = .seconds(60)
        /// Open connections; further ones are answered 503 and closed.
        public var maxConnections: Int = 4096
        /// Number of event loops (serial queues) connections are spread over.
        public var eventLoops: Int = max(1, min(ProcessInfo.processInfo.activeProcessorCount, 16))

        public init() {}
    }

    public let configuration: Configuration
    /// The bound port (the real one when `configuration.port` was 0).
    public let port: Int

    private let listener: Listener
    private let loops: [EventLoop]
    private let core: ServerCore

    private init(configuration: Configuration, port: Int, listener: Listener, loops: [EventLoop], core: ServerCore) {
        self.configuration = configuration
        self.port = port
        self.listener = listener
        self.loops = loops
        self.core = core
    }

    /// Binds, starts accepting, and returns the running server.
    public static func start(_ router: Router, configuration: Configuration = Configuration()) throws -> HTTPServer {
        let socket = try Socket.makeListener(host: configuration.host, port: configuration.port)
        // A throw closes the socket: its owner goes away.
        guard let port = try socket.withDescriptor(Socket.boundPort) else { throw SocketError(call: "getsockname", errno: EBADF) }
        let core = ServerCore(configuration: configuration, routes: RouteTable(router))
        let loops = (0..<max(1, configuration.eventLoops)).map { EventLoop(index: $0, core: core) }
        let listener = Listener(socket: socket, loops: loops, core: core)
        listener.start()
        return HTTPServer(configuration: configuration, port: port, listener: listener, loops: loops, core: core)
    }

    /// `http://host:port`, for printing and for tests.
    public var baseURL: String {
        let host = configuration.host.contains(":") ? "[\(configuration.host)]" : configuration.host
        return "http://\(host):\(port)"
    }

    /// The number of connections currently open.
    public var openConnections: Int { core.openConnections }

    /// Stops accepting, closes every connection and waits until they are gone. Idempotent.
    /// Must not be called from a handler.
    public func shutdown() {
        guard core.beginShutdown() else { return }
        listener.stop()
        for loop in loops { loop.stop() }
        core.waitForConnectionsToClose(timeout: .seconds(5))
    }
}

/// State every loop shares: the limits in nanoseconds, the routes and the connection count.
final class ServerCore: @unchecked Sendable {  // mutable state is guarded by `lock`
    let configuration: HTTPServer.Configuration
    let routes: RouteTable
    /// Where `async` handlers run; see `HandlerExecutor`.
    let handlerExecutor = HandlerExecutor()
    let headerTimeout: UInt64
    let bodyTimeout: UInt64
    let idleTimeout: UInt64
    /// How often loops look for expired deadlines.
    let sweepInterval: UInt64

    private let lock = NSLock()
    private var connections = 0
    private var shuttingDown = false
    private let closed = DispatchGroup()

    init(configuration: HTTPServer.Configuration, routes: RouteTable) {
        self.configuration = configuration
        self.routes = routes
        headerTimeout = configuration.headerTimeout.nanoseconds
        bodyTimeout = configuration.bodyTimeout.nanoseconds
        idleTimeout = configuration.idleTimeout.nanoseconds
        let shortest = min(headerTimeout, bodyTimeout, idleTimeout)
        sweepInterval = min(max(shortest / 4, 5_000_000), 1_000_000_000)
    }

    var openConnections: Int { lock.withLock { connections } }

    /// Counts a new connection, or refuses it when at the cap or shutting down.
    func reserveConnection() -> Bool {
        lock.withLock {
            guard !shuttingDown, connections < configuration.maxConnections else { return false }
            connections += 1
            closed.enter()
            return true
        }
    }

    func releaseConnection() {
        lock.withLock { connections -= 1 }
        closed.leave()
    }

    func beginShutdown() -> Bool {
        lock.withLock {
            if shuttingDown { return false }
            shuttingDown = true
            return true
        }
    }

    func waitForConnectionsToClose(timeout: Duration) {
        _ = closed.wait(timeout: .now() + .nanoseconds(Int(min(timeout.nanoseconds, UInt64(Int.max)))))
    }
}

/// Accepts connections and deals them out to the loops.
///
/// It owns the listening socket; the socket is closed once Dispatch lets go of it (the read
/// source's cancel handler), and only then.
final class Listener: @unchecked Sendable {  // mutable state is only touched on `queue`
    private let socket: OwnedDescriptor
    private let loops: [EventLoop]
    private let core: ServerCore
    private let queue = DispatchQueue(label: "steward.http.accept")
    private var source: DispatchSourceRead?
    private var nextLoop = 0
    private var paused = false

    init(socket: OwnedDescriptor, loops: [EventLoop], core: ServerCore) {
        self.socket = socket
        self.loops = loops
        self.core = core
    }

    func start() {
        guard let source = socket.withDescriptor({ DispatchSource.makeReadSource(fileDescriptor: $0, queue: queue) }) else { return }
        source.setEventHandler { [self] in acceptPending() }
        source.setCancelHandler { [socket] in socket.close() }
        self.source = source
        source.resume()
    }

    func stop() {
        queue.sync {
            if paused { source?.resume() }
            paused = false
            source?.cancel()
            source = nil
        }
    }

    private func acceptPending() {
        for _ in 0..<256 {
            guard let accepted = socket.withDescriptor(Socket.acceptConnection) else { return }
            let client: OwnedDescriptor
            switch accepted {
            case .success(let socket):
                client = socket
            case .failure(let failure):
                switch failure.errno {
                case EINTR, ECONNABORTED: continue
                case EMFILE, ENFILE, ENOBUFS, ENOMEM:
                    // Out of descriptors: stop polling the listener for a moment instead of
                    // spinning on an error that cannot clear until connections close.
                    pauseBriefly()
                    return
                default: return
                }
            }
            _ = client.withDescriptor(Socket.configureAccepted)
            guard core.reserveConnection() else {
                Socket.refuse(client)
                continue
            }
            let loop = loops[nextLoop % loops.count]
            nextLoop &+= 1
            loop.adopt(client)
        }
    }

    private func pauseBriefly() {
        guard !paused, let source else { return }
        paused = true
        source.suspend()
        queue.asyncAfter(deadline: .now() + .milliseconds(100)) { [self] in
            guard paused else { return }
            paused = false
            self.source?.resume()
        }
    }
}

extension Duration {
    var nanoseconds: UInt64 {
        let (seconds, attoseconds) = components
        guard seconds >= 0 else { return 0 }
        let (whole, overflow) = UInt64(seconds).multipliedReportingOverflow(by: 1_000_000_000)
        return overflow ? UInt64.max : whole &+ UInt64(attoseconds / 1_000_000_000)
    }
}
