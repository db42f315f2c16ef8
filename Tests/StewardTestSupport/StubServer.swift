import StewardHTTP
import StewardJSON

/// A throwaway HTTP server on 127.0.0.1 for one test, on `StewardHTTP`: every request, whatever
/// its method and path, is recorded and answered by one closure.
///
/// The closure runs on the server's own event loops, not in a task, so the stub answers even
/// while the tests keep every thread of the concurrency pool busy. A closure that sleeps (a slow
/// page) holds up only the connections of its loop, and the stub runs eight. Answers without a
/// `Cache-Control` field get `no-store`, so a browser asks again every time.
public final class StubServer: Sendable {
    public typealias Respond = @Sendable (HTTPRequest) -> HTTPResponse

    private let server: HTTPServer
    private let log: Locked<[HTTPRequest]>
    private let release: Gate

    /// Answers every request with `respond`.
    public convenience init(_ respond: @escaping Respond) throws {
        try self.init(answer: .with(respond))
    }

    /// Serves fixed HTML pages by path; anything else is a 404.
    public convenience init(pages: [String: String]) throws {
        try self.init { request in
            guard let page = pages[request.path] else { return .html("<h1>Not found</h1>", status: .notFound) }
            return .html(page)
        }
    }

    /// A server that takes every request and never answers: the connection stays open and
    /// silent until `stop()`.
    public static func silent() throws -> StubServer {
        try StubServer(answer: .never)
    }

    private enum Answer {
        case with(Respond)
        case never
    }

    private init(answer: Answer) throws {
        let log = Locked<[HTTPRequest]>([])
        let release = Gate()
        let handler: HTTPHandler
        switch answer {
        case .with(let respond):
            handler = .sync { request in
                log.withLock { $0.append(request) }
                var response = respond(request)
                if !response.headers.contains("Cache-Control") { response.headers.add("Cache-Control", "no-store") }
                return response
            }
        case .never:
            handler = .async { request in
                log.withLock { $0.append(request) }
                await release.wait()
                return HTTPResponse(status: .serviceUnavailable)
            }
        }
        var router = Router()
        router.add(nil, "/", handler)
        router.add(nil, "/*", handler)
        var configuration = HTTPServer.Configuration()
        configuration.eventLoops = 8
        server = try HTTPServer.start(router, configuration: configuration)
        self.log = log
        self.release = release
    }

    deinit { stop() }

    public var port: Int { server.port }

    /// `http://127.0.0.1:PORT`.
    public var baseURL: String { server.baseURL }

    /// `baseURL` followed by `path`.
    public func url(_ path: String) -> String { baseURL + path }

    /// Every request so far, in the order they arrived.
    public var requests: [HTTPRequest] { log.withLock { $0 } }

    /// Closes the listener and every connection. Idempotent.
    public func stop() {
        server.shutdown()
        release.open()
    }
}

extension HTTPRequest {
    /// The body as UTF-8 text.
    public var bodyText: String { String(decoding: body, as: UTF8.self) }

    /// The body parsed as JSON; `.null` when it is empty or not JSON.
    public var json: JSONValue { body.isEmpty ? .null : (try? JSONParser.parse(body)) ?? .null }
}

/// Suspends callers until it is opened, then lets everyone through.
private final class Gate: Sendable {
    private let state = Locked<(open: Bool, waiting: [CheckedContinuation<Void, Never>])>((false, []))

    func wait() async {
        await withCheckedContinuation { continuation in
            let ready = state.withLock { state in
                if !state.open { state.waiting.append(continuation) }
                return state.open
            }
            if ready { continuation.resume() }
        }
    }

    func open() {
        let waiting = state.withLock { state in
            state.open = true
            defer { state.waiting = [] }
            return state.waiting
        }
        for continuation in waiting { continuation.resume() }
    }
}
