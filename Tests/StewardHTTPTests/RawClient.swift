import Foundation
#if canImport(Glibc)
import Glibc
#endif
@testable import StewardHTTP

/// A deliberately low-level HTTP client: it sends exactly the bytes a test gives it, so tests
/// can misbehave in ways a real client library would not allow.
final class RawClient: @unchecked Sendable {  // each instance is used by one test at a time
    struct Response: Sendable {
        var status: Int
        var headers: [(String, String)]
        var body: [UInt8]

        func header(_ name: String) -> String? {
            headers.first { $0.0.lowercased() == name.lowercased() }?.1
        }

        var text: String { String(decoding: body, as: UTF8.self) }
    }

    enum ReadEnd: Equatable {
        case closed
        case timedOut
    }

    struct ClientError: Error, CustomStringConvertible {
        var description: String
    }

    let fd: Int32
    private var buffer: [UInt8] = []

    /// Connects to 127.0.0.1:port. Reads give up after `timeout` seconds, so a broken server
    /// fails a test instead of hanging it.
    init(port: Int, timeout: Double = 10) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw ClientError(description: "socket: \(String(cString: strerror(errno)))") }
        var tv = timeval(tv_sec: Int(timeout), tv_usec: Int((timeout - Double(Int(timeout))) * 1_000_000))
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port)).bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard result == 0 else {
            // No close here: a class whose init throws after every property is set still runs
            // deinit, which closes `fd`. Closing it here too closed whatever descriptor another
            // test had been given the same number in between (a listening socket, a lock file).
            throw ClientError(description: "connect: \(String(cString: strerror(errno)))")
        }
    }

    deinit { Glibc.close(fd) }

    /// Sends bytes; returns false if the server already closed the connection.
    @discardableResult
    func send(_ bytes: [UInt8]) -> Bool {
        var sent = 0
        while sent < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress! + sent, bytes.count - sent, Int32(MSG_NOSIGNAL)) }
            if n < 0, errno == EINTR { continue }
            guard n > 0 else { return false }
            sent += n
        }
        return true
    }

    @discardableResult
    func send(_ text: String) -> Bool { send(Array(text.utf8)) }

    func shutdownWrite() { Glibc.shutdown(fd, Int32(SHUT_WR)) }

    /// Reads more bytes into the buffer; false at end of stream or timeout.
    private func fill() -> ReadEnd? {
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress!, $0.count, 0) }
            if n > 0 {
                buffer.append(contentsOf: chunk[0..<n])
                return nil
            }
            if n < 0, errno == EINTR { continue }
            if n < 0, errno == EAGAIN || errno == EWOULDBLOCK { return .timedOut }
            return .closed
        }
    }

    /// Reads one response (Content-Length framed). Throws if the stream ends or times out first.
    func readResponse(forHead: Bool = false) throws -> Response {
        while true {
            if let end = headEnd() {
                let head = String(decoding: buffer[0..<end], as: UTF8.self)
                var lines = head.components(separatedBy: "\r\n").filter { !$0.isEmpty }
                let statusLine = lines.removeFirst().split(separator: " ")
                guard statusLine.count >= 2, let status = Int(statusLine[1]) else {
                    throw ClientError(description: "bad status line in \(head)")
                }
                let headers = lines.compactMap { line -> (String, String)? in
                    guard let colon = line.firstIndex(of: ":") else { return nil }
                    return (String(line[..<colon]), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces))
                }
                let length = forHead || status == 100 || status == 204 || status == 304
                    ? 0 : Int(headers.first { $0.0.lowercased() == "content-length" }?.1 ?? "0") ?? 0
                while buffer.count < end + length {
                    if let reason = fill() { throw ClientError(description: "stream \(reason) inside a body") }
                }
                let body = Array(buffer[end..<(end + length)])
                buffer.removeFirst(end + length)
                return Response(status: status, headers: headers, body: body)
            }
            if let reason = fill() { throw ClientError(description: "stream \(reason) before a response (\(buffer.count) bytes buffered)") }
        }
    }

    /// Reads until the server closes the connection (or the read timeout passes).
    func readUntilEnd() -> (end: ReadEnd, bytes: [UInt8]) {
        while true {
            if let reason = fill() {
                let bytes = buffer
                buffer = []
                return (reason, bytes)
            }
        }
    }

    private func headEnd() -> Int? {
        guard buffer.count >= 4 else { return nil }
        for i in 0...(buffer.count - 4) where buffer[i] == 13 && buffer[i + 1] == 10 && buffer[i + 2] == 13 && buffer[i + 3] == 10 {
            return i + 4
        }
        return nil
    }
}

/// Runs blocking client work on its own thread. Tests that wait for an `async` handler use
/// it, because a test blocking the cooperative thread pool would starve the very task the
/// server needs to run to answer it.
func offload<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread.detachNewThread { continuation.resume(with: Result { try work() }) }
    }
}

/// A server for one test, shut down when the test ends.
func withServer(
    _ configure: (inout HTTPServer.Configuration) -> Void = { _ in },
    routes: (inout Router) -> Void = TestRoutes.install,
    _ body: (HTTPServer) throws -> Void
) throws {
    var configuration = HTTPServer.Configuration()
    configuration.eventLoops = 2
    configure(&configuration)
    var router = Router()
    routes(&router)
    let server = try HTTPServer.start(router, configuration: configuration)
    defer { server.shutdown() }
    try body(server)
}

func startServer(_ configure: (inout HTTPServer.Configuration) -> Void = { _ in }) throws -> HTTPServer {
    var configuration = HTTPServer.Configuration()
    configuration.eventLoops = 2
    configure(&configuration)
    var router = Router()
    TestRoutes.install(&router)
    return try HTTPServer.start(router, configuration: configuration)
}

/// Routes most tests use.
enum TestRoutes {
    struct Boom: Error {}

    static func install(_ router: inout Router) {
        router.get("/hello") { _ in .text("hello") }
        router.get("/users/:id") { request in
            .text("user \(request.parameter("id") ?? "?") q=\(request.queryValue("q") ?? "-")")
        }
        router.get("/files/*rest") { request in .text("file \(request.parameter("rest") ?? "")") }
        router.post("/echo") { request in HTTPResponse(status: .ok, body: request.body) }
        router.add(.get, "/slow", .async { _ in
            try await Task.sleep(for: .milliseconds(50))
            return .text("slow")
        })
        router.get("/teapot") { _ in throw HTTPError(HTTPStatus(code: 418, reasonPhrase: "I'm a teapot"), "short and stout") }
        router.get("/boom") { _ in throw Boom() }
        router.get("/close") { _ in HTTPResponse(status: .ok, headers: ["Connection": "close"], body: Array("bye".utf8)) }
    }
}

/// `GET path` with the headers every HTTP/1.1 request needs.
func get(_ path: String, extra: String = "") -> String {
    "GET \(path) HTTP/1.1\r\nHost: test\r\n\(extra)\r\n"
}

/// Checks the server still answers a plain request on a fresh connection.
func serverStillServes(_ server: HTTPServer) throws -> Bool {
    let client = try RawClient(port: server.port)
    client.send(get("/hello"))
    let response = try client.readResponse()
    return response.status == 200 && response.text == "hello"
}

/// Waits until `condition` holds, up to `seconds`; the server closes connections on its own
/// threads, so a count read the moment a client hangs up may still include it.
func eventually(within seconds: Double = 5, _ condition: () -> Bool) -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while !condition() {
        if Date() >= deadline { return false }
        usleep(2_000)
    }
    return true
}
