import Foundation
import Testing
@testable import StewardHTTP

@Suite struct ServerTests {
    @Test func bindsLoopbackOnAFreePortAndReportsIt() throws {
        try withServer { server throws in
            #expect(server.port > 0)
            #expect(server.baseURL == "http://127.0.0.1:\(server.port)")
            #expect(try serverStillServes(server))
        }
    }

    @Test func routesByMethodAndPattern() throws {
        try withServer { server throws in
            let client = try RawClient(port: server.port)
            client.send(get("/users/a%20b?q=x+y%21"))
            let user = try client.readResponse()
            #expect(user.status == 200)
            #expect(user.text == "user a b q=x y!")

            client.send(get("/files/a/b/c.txt"))
            #expect(try client.readResponse().text == "file a/b/c.txt")

            client.send(get("/nowhere"))
            #expect(try client.readResponse().status == 404)

            client.send("DELETE /hello HTTP/1.1\r\nHost: t\r\n\r\n")
            let notAllowed = try client.readResponse()
            #expect(notAllowed.status == 405)
            #expect(notAllowed.header("Allow") == "GET, HEAD")

            client.send(get("/hello/"))
            #expect(try client.readResponse().text == "hello")
        }
    }

    @Test func headAnswersLikeGetWithoutABody() throws {
        try withServer { server throws in
            let client = try RawClient(port: server.port)
            client.send("HEAD /hello HTTP/1.1\r\nHost: t\r\n\r\n")
            let head = try client.readResponse(forHead: true)
            #expect(head.status == 200)
            #expect(head.header("Content-Length") == "5")
            #expect(head.body.isEmpty)
            // The connection is still in step: the next response is the next request's.
            client.send(get("/hello"))
            #expect(try client.readResponse().text == "hello")
        }
    }

    @Test func keepsConnectionsAliveAndAnswersPipelinedRequestsInOrder() async throws {
        // Timeouts far above the test's length: on a loaded machine the idle or header timer
        // must not close the connection this test counts.
        let server = try startServer {
            $0.idleTimeout = .seconds(600)
            $0.headerTimeout = .seconds(600)
        }
        defer { server.shutdown() }
        let client = try RawClient(port: server.port, timeout: 60)
        client.send(get("/slow") + get("/users/1") + get("/slow") + get("/hello"))
        let texts = try await offload { try (0..<4).map { _ in try client.readResponse().text } }
        #expect(texts == ["slow", "user 1 q=-", "slow", "hello"])
        #expect(eventually(within: 30) { server.openConnections == 1 }, "one connection carried all four: \(server.openConnections) open")
    }

    /// A host that blocks every thread of Swift's cooperative pool must not stall the
    /// server's `async` handlers: they run on threads of their own.
    @Test func asyncHandlersAnswerWhileTheCooperativePoolIsBlocked() throws {
        try withServer { server throws in
            let release = BlockingGate()
            let blockers = ProcessInfo.processInfo.activeProcessorCount
            for _ in 0..<blockers { Task.detached { release.waitBlocking() } }
            defer { release.open() }
            let client = try RawClient(port: server.port, timeout: 10)
            client.send(get("/slow"))
            #expect(try client.readResponse().text == "slow")
        }
    }

    @Test func readsContentLengthBodies() throws {
        try withServer { server throws in
            let client = try RawClient(port: server.port)
            let body = String(repeating: "x", count: 100_000)
            client.send("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)")
            let response = try client.readResponse()
            #expect(response.status == 200)
            #expect(response.text == body)
        }
    }

    @Test func readsChunkedBodiesWithExtensionsAndTrailers() throws {
        try withServer { server throws in
            let client = try RawClient(port: server.port)
            client.send("POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n5;name=value\r\nhello\r\n1\r\n \r\nA\r\n0123456789\r\n0\r\nX-Checksum: 1\r\n\r\n")
            #expect(try client.readResponse().text == "hello 0123456789")
        }
    }

    @Test func readsChunkedBodiesArrivingOneByteAtATime() throws {
        try withServer { server throws in
            let client = try RawClient(port: server.port)
            let request = "POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n4\r\ndefg\r\n0\r\n\r\n"
            for byte in request.utf8 { client.send([byte]) }
            #expect(try client.readResponse().text == "abcdefg")
        }
    }

    @Test func sendsContinueBeforeTheBody() throws {
        try withServer { server throws in
            let client = try RawClient(port: server.port)
            client.send("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n")
            let interim = try client.readResponse()
            #expect(interim.status == 100)
            client.send("ping")
            #expect(try client.readResponse().text == "ping")
        }
    }

    @Test func refusesAnOversizedBodyInsteadOfAskingForIt() throws {
        try withServer({ $0.maxBodyBytes = 1000 }) { server throws in
            let client = try RawClient(port: server.port)
            client.send("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 5000\r\nExpect: 100-continue\r\n\r\n")
            #expect(try client.readResponse().status == 413)
            #expect(client.readUntilEnd().end == .closed)
        }
    }

    @Test func mapsHandlerErrorsToResponses() throws {
        try withServer { server throws in
            let client = try RawClient(port: server.port)
            client.send(get("/teapot"))
            let teapot = try client.readResponse()
            #expect(teapot.status == 418)
            #expect(teapot.text.contains("short and stout"))
            client.send(get("/boom"))
            let boom = try client.readResponse()
            #expect(boom.status == 500)
            #expect(!boom.text.contains("Boom"))
        }
    }

    @Test func honoursConnectionCloseFromEitherSide() throws {
        try withServer { server throws in
            let client = try RawClient(port: server.port)
            client.send(get("/hello", extra: "Connection: close\r\n"))
            let response = try client.readResponse()
            #expect(response.header("Connection") == "close")
            #expect(client.readUntilEnd().end == .closed)

            let second = try RawClient(port: server.port)
            second.send(get("/close"))
            #expect(try second.readResponse().text == "bye")
            #expect(second.readUntilEnd().end == .closed)
        }
    }

    @Test func closesHTTP10ConnectionsUnlessAskedToKeepThem() throws {
        try withServer { server throws in
            let client = try RawClient(port: server.port)
            client.send("GET /hello HTTP/1.0\r\n\r\n")
            #expect(try client.readResponse().text == "hello")
            #expect(client.readUntilEnd().end == .closed)

            let kept = try RawClient(port: server.port)
            kept.send("GET /hello HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
            #expect(try kept.readResponse().header("Connection") == "keep-alive")
            kept.send("GET /hello HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
            #expect(try kept.readResponse().text == "hello")
        }
    }

    @Test func addsDateAndDropsHeadersThatWouldSplitTheResponse() throws {
        try withServer(routes: { router in
            router.get("/inject") { _ in
                HTTPResponse(status: .ok, headers: ["X-Evil": "a\r\nSet-Cookie: stolen=1", "X-Fine": "ok"], body: [])
            }
        }) { server throws in
            let client = try RawClient(port: server.port)
            client.send(get("/inject"))
            let response = try client.readResponse()
            #expect(response.header("Date") != nil)
            #expect(response.header("X-Fine") == "ok")
            #expect(response.header("Set-Cookie") == nil)
            #expect(response.header("X-Evil") == nil)
        }
    }

    @Test func shutdownClosesOpenConnections() throws {
        var router = Router()
        TestRoutes.install(&router)
        let server = try HTTPServer.start(router)
        let client = try RawClient(port: server.port)
        client.send(get("/hello"))
        _ = try client.readResponse()
        server.shutdown()
        #expect(client.readUntilEnd().end == .closed)
        #expect(server.openConnections == 0)
        server.shutdown()
    }
}

/// A gate that blocks its waiters' threads (not just their tasks) until it opens.
private final class BlockingGate: Sendable {
    private let condition = NSCondition()
    nonisolated(unsafe) private var isOpen = false  // guarded by `condition`

    func waitBlocking() {
        condition.lock()
        while !isOpen { condition.wait() }
        condition.unlock()
    }

    func open() {
        condition.lock()
        isOpen = true
        condition.broadcast()
        condition.unlock()
    }
}
