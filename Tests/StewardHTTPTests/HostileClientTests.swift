import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif
@testable import StewardHTTP

/// Clients that misbehave on purpose. After each, the server must still serve.
@Suite struct HostileClientTests {
    @Test func oversizedHeadersGet431AndTheConnectionCloses() throws {
        try withServer { server throws in
            let client = try RawClient(port: server.port)
            client.send("GET /hello HTTP/1.1\r\nHost: t\r\nX-Big: \(String(repeating: "a", count: 20_000))\r\n\r\n")
            #expect(try client.readResponse().status == 431)
            #expect(client.readUntilEnd().end == .closed)
            #expect(try serverStillServes(server))
        }
    }

    @Test func anEndlessHeaderIsCutOffAtTheLimit() throws {
        try withServer { server throws in
            let client = try RawClient(port: server.port)
            client.send("GET /hello HTTP/1.1\r\nHost: t\r\n")
            // Header lines forever, never the blank line that ends them.
            for i in 0..<2000 where client.send("X-\(i): \(String(repeating: "b", count: 100))\r\n") == false { break }
            #expect(try client.readResponse().status == 431)
            #expect(try serverStillServes(server))
        }
    }

    @Test func tooManyHeaderFieldsGet431() throws {
        try withServer({ $0.maxHeaderFields = 10 }) { server throws in
            let client = try RawClient(port: server.port)
            let fields = (0..<11).map { "X-\($0): 1\r\n" }.joined()
            client.send("GET /hello HTTP/1.1\r\nHost: t\r\n\(fields)\r\n")
            #expect(try client.readResponse().status == 431)
        }
    }

    @Test func oversizedBodiesGet413() throws {
        try withServer({ $0.maxBodyBytes = 1024 }) { server throws in
            let declared = try RawClient(port: server.port)
            declared.send("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 100000000\r\n\r\n")
            #expect(try declared.readResponse().status == 413)
            #expect(declared.readUntilEnd().end == .closed)

            let chunked = try RawClient(port: server.port)
            chunked.send("POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n")
            for _ in 0..<3 { chunked.send("200\r\n\(String(repeating: "z", count: 512))\r\n") }
            #expect(try chunked.readResponse().status == 413)
            #expect(try serverStillServes(server))
        }
    }

    @Test func slowHeadersAreCutOff() throws {
        try withServer({ $0.headerTimeout = .milliseconds(300) }) { server throws in
            // Slowloris: a head that starts and never finishes.
            let client = try RawClient(port: server.port)
            client.send("GET /hello HTTP/1.1\r\nHost: t\r\n")
            let (end, bytes) = client.readUntilEnd()
            #expect(end == .closed)
            #expect(String(decoding: bytes, as: UTF8.self).hasPrefix("HTTP/1.1 408"))

            // A byte at a time, each well inside any per-read timeout, still hits the deadline.
            let dripper = try RawClient(port: server.port)
            var closedEarly = false
            for byte in "GET /hello HTTP/1.1\r\nHost: t\r\nX-Slow: \(String(repeating: "s", count: 200))\r\n\r\n".utf8 {
                if !dripper.send([byte]) {
                    closedEarly = true
                    break
                }
                usleep(10_000)
            }
            let drip = dripper.readUntilEnd()
            #expect(closedEarly || String(decoding: drip.bytes, as: UTF8.self).hasPrefix("HTTP/1.1 408"))
            #expect(try serverStillServes(server))
        }
    }

    @Test func silentConnectionsAndIdleKeepAlivesAreClosed() throws {
        try withServer({
            $0.headerTimeout = .milliseconds(300)
            $0.idleTimeout = .milliseconds(300)
        }) { server throws in
            let silent = try RawClient(port: server.port)
            #expect(silent.readUntilEnd() == (.closed, []))

            let idle = try RawClient(port: server.port)
            idle.send(get("/hello"))
            #expect(try idle.readResponse().status == 200)
            #expect(idle.readUntilEnd().end == .closed)
            #expect(try serverStillServes(server))
        }
    }

    @Test func slowBodiesAreCutOff() throws {
        try withServer({ $0.bodyTimeout = .milliseconds(300) }) { server throws in
            let client = try RawClient(port: server.port)
            client.send("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\nabc")
            let (end, bytes) = client.readUntilEnd()
            #expect(end == .closed)
            #expect(String(decoding: bytes, as: UTF8.self).hasPrefix("HTTP/1.1 408"))
        }
    }

    @Test func halfClosedClientsGetTheirAnswersThenAClose() async throws {
        let server = try startServer()
        defer { server.shutdown() }
        // A complete request, then the client stops sending: it still gets the response, then a
        // close. (The same with an async handler finishing after the hang-up is left out here: on
        // a 2-core runner, blocking socket reads in other tests can starve the cooperative pool
        // that runs the handler, and the check timed out under load.)
        let complete = try RawClient(port: server.port, timeout: 60)
        complete.send(get("/hello") + get("/hello"))
        complete.shutdownWrite()
        let (texts, end) = try await offload { (try [complete.readResponse().text, complete.readResponse().text], complete.readUntilEnd().end) }
        #expect(texts == ["hello", "hello"])
        #expect(end == .closed)

        // Half a request, then nothing more can come: 400 and close.
        let partial = try RawClient(port: server.port)
        partial.send("GET /hello HTTP/1.1\r\nHo")
        partial.shutdownWrite()
        let (partialEnd, bytes) = partial.readUntilEnd()
        #expect(partialEnd == .closed)
        #expect(String(decoding: bytes, as: UTF8.self).hasPrefix("HTTP/1.1 400"))

        // Half a body.
        let body = try RawClient(port: server.port)
        body.send("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\nabc")
        body.shutdownWrite()
        #expect(body.readUntilEnd().end == .closed)

        // Connect and hang up at once.
        let nothing = try RawClient(port: server.port)
        nothing.shutdownWrite()
        #expect(nothing.readUntilEnd() == (.closed, []))
        #expect(try serverStillServes(server))
    }

    @Test func clientsThatResetMidResponseDoNotHurtTheServer() throws {
        try withServer { server throws in
            for _ in 0..<20 {
                let client = try RawClient(port: server.port)
                client.send("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 200000\r\n\r\n\(String(repeating: "r", count: 200_000))")
                var linger = linger(l_onoff: 1, l_linger: 0)
                setsockopt(client.fd, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<linger>.size))
            }
            #expect(try serverStillServes(server))
        }
    }

    @Test func aThousandConcurrentConnections() throws {
        try withServer { server throws in
            var clients: [RawClient] = []
            for _ in 0..<1000 { clients.append(try RawClient(port: server.port)) }
            for (i, client) in clients.enumerated() { client.send(get("/users/\(i)")) }
            var answered = 0
            for (i, client) in clients.enumerated() where try client.readResponse().text == "user \(i) q=-" {
                answered += 1
            }
            #expect(answered == 1000)
            #expect(server.openConnections == 1000)
            clients.removeAll()
            #expect(try serverStillServes(server))
        }
    }

    @Test func connectionsOverTheCapGet503() throws {
        try withServer({ $0.maxConnections = 3 }) { server throws in
            var held: [RawClient] = []
            for _ in 0..<3 {
                let client = try RawClient(port: server.port)
                client.send(get("/hello"))
                _ = try client.readResponse()
                held.append(client)
            }
            let refused = try RawClient(port: server.port)
            let (_, bytes) = refused.readUntilEnd()
            #expect(String(decoding: bytes, as: UTF8.self).hasPrefix("HTTP/1.1 503"))
            held.removeLast()
            // The slot frees once the server notices the close.
            var served = false
            for _ in 0..<100 where !served {
                if let client = try? RawClient(port: server.port), client.send(get("/hello")),
                   let response = try? client.readResponse(), response.status == 200 {
                    served = true
                } else {
                    usleep(20_000)
                }
            }
            #expect(served)
        }
    }

    static let malformed: [(request: String, status: Int)] = [
        ("GARBAGE\r\n\r\n", 400),
        ("GET /hello\r\nHost: t\r\n\r\n", 400),
        ("GET /hello HTTP/1.1 extra\r\nHost: t\r\n\r\n", 400),
        ("GET /hello HTTP/2.0\r\nHost: t\r\n\r\n", 505),
        ("GET /hello HTTX/1.1\r\nHost: t\r\n\r\n", 400),
        ("G(T /hello HTTP/1.1\r\nHost: t\r\n\r\n", 400),
        ("GET hello HTTP/1.1\r\nHost: t\r\n\r\n", 400),
        ("GET /he\u{7}llo HTTP/1.1\r\nHost: t\r\n\r\n", 400),
        ("GET /hello HTTP/1.1\r\n\r\n", 400),
        ("GET /hello HTTP/1.1\r\nHost : t\r\n\r\n", 400),
        ("GET /hello HTTP/1.1\r\nHost: t\r\nNoColon\r\n\r\n", 400),
        ("GET /hello HTTP/1.1\r\nHost: t\r\n folded\r\n\r\n", 400),
        ("GET /hello HTTP/1.1\r\nHost: t\rX: y\r\n\r\n", 400),
        ("GET /hello HTTP/1.1\r\nHost: t\r\nExpect: 200-ok\r\n\r\n", 417),
        ("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: -1\r\n\r\n", 400),
        ("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 1x\r\n\r\n", 400),
        ("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd", 400),
        ("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400),
        ("POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n", 501),
        ("POST /echo HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400),
        ("POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n", 400),
        ("POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcX\r\n0\r\n\r\n", 400),
        ("POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n-3\r\nabc\r\n0\r\n\r\n", 400),
        ("POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\nFFFFFFFFFFFFFFFFFF\r\n", 400),
        ("POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n3 junk\r\nabc\r\n0\r\n\r\n", 400),
        ("POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\nBad Trailer\r\n\r\n", 400),
    ]

    @Test(arguments: malformed)
    func malformedRequestsGetAnErrorAndAClose(_ request: String, _ status: Int) throws {
        try withServer { server throws in
            let client = try RawClient(port: server.port)
            client.send(request)
            let (end, bytes) = client.readUntilEnd()
            #expect(end == .closed)
            #expect(String(decoding: bytes, as: UTF8.self).hasPrefix("HTTP/1.1 \(status) "))
            #expect(try serverStillServes(server))
        }
    }

    @Test func randomGarbageNeverCrashesTheServer() throws {
        try withServer({
            $0.headerTimeout = .milliseconds(500)
            $0.maxBodyBytes = 64 * 1024
        }) { server throws in
            var random = SplitMix(seed: 42)
            let pieces = ["GET ", "POST ", "/", "hello", " HTTP/1.1", "\r\n", "\n", "\r", "Host: t", ":", " ",
                          "Content-Length: ", "Transfer-Encoding: chunked", "0", "5", "ffff", ";", "\u{0}", "%", "é"]
            for _ in 0..<200 {
                let client = try RawClient(port: server.port, timeout: 3)
                var request: [UInt8] = []
                for _ in 0..<Int(random.next() % 40) {
                    if random.next() % 4 == 0 {
                        request.append(UInt8(truncatingIfNeeded: random.next()))
                    } else {
                        request.append(contentsOf: pieces[Int(random.next() % UInt64(pieces.count))].utf8)
                    }
                }
                client.send(request)
                client.shutdownWrite()
                _ = client.readUntilEnd()
            }
            #expect(try serverStillServes(server))
            #expect(eventually { server.openConnections <= 1 }, "open connections: \(server.openConnections)")
        }
    }
}

struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
