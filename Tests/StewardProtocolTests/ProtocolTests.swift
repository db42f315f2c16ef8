import Foundation
import StewardProtocol
import Testing

@Suite("Protocol v1 messages")
struct ProtocolTests {
    @Test func envelopesRoundTrip() throws {
        let messages: [RPCMessage] = [
            .request(id: .int(7), method: Method.accountsList, params: ListParams(cursor: "c", pageSize: 10).json),
            .request(id: .string("x"), method: Method.ping, params: .null),
            .notification(method: Notification.cancel, params: CancelParams(id: .int(7)).json),
            .response(id: .int(7), result: Page(items: [Account(id: "a", userName: "u")]).json),
            .errorResponse(id: .int(8), error: ConnectorError(.rateLimited, "slow down", retryAfterMs: 1500).rpcError),
            .errorResponse(id: nil, error: RPCError(code: .parseError, message: "bad")),
        ]
        for m in messages {
            #expect(try RPCMessage.decode(m.encoded()) == m)
        }
    }

    @Test func invalidEnvelopesGetTheRightCodes() {
        func code(_ text: String) -> Int? {
            do {
                _ = try RPCMessage.decode(Array(text.utf8))
                return nil
            } catch {
                return error.code
            }
        }
        #expect(code("{oops") == -32700)
        #expect(code("[]") == -32600)
        #expect(code(#"{"jsonrpc":"1.0","id":1,"method":"ping"}"#) == -32600)
        #expect(code(#"{"jsonrpc":"2.0","id":1,"method":5}"#) == -32600)
        #expect(code(#"{"jsonrpc":"2.0","id":{},"method":"ping"}"#) == -32600)
        #expect(code(#"{"jsonrpc":"2.0","id":1,"method":"ping","params":3}"#) == -32600)
    }

    @Test func applicationErrorsKeepTheirTaxonomy() throws {
        let e = ConnectorError(.preconditionFailed, "etag changed", outcome: .notApplied, details: ["status": 412])
        let wire = try RPCError(json: try JSONParser.parse(JSONWriter.bytes(e.rpcError.json)))
        #expect(wire.code == -32000)
        #expect(ConnectorError(rpcError: wire) == e)
        #expect(ConnectorError(.invalidArgument, "x").rpcError.code == -32602)
        #expect(ConnectorError(.timeout, "t").retryable)
        #expect(!ConnectorError(.notFound, "n").retryable)
        #expect(ConnectorError(rpcError: RPCError(code: .methodNotFound, message: "m")) == nil)
    }

    @Test func versionNegotiationPicksTheBestCommonMinor() {
        let v = { (s: String) in ProtocolVersion(s)! }
        #expect(ProtocolVersion.negotiate(offered: [v("1.0"), v("1.3")], supported: v("1.1")) == v("1.1"))
        #expect(ProtocolVersion.negotiate(offered: [v("1.0")], supported: v("1.2")) == v("1.0"))
        #expect(ProtocolVersion.negotiate(offered: [v("2.0")], supported: v("1.0")) == nil)
        #expect(ProtocolVersion("1.x") == nil)
        #expect(ProtocolVersion("2") == v("2.0"))
    }

    @Test func capabilitiesCoverMethodsAndIgnoreUnknownFields() throws {
        let json: JSONValue = [
            "accounts": ["list": true, "disable": true, "teleport": true],
            "entitlementTypes": [["type": "role", "cardinality": "single", "list": true, "grant": true, "future": 1]],
            "somethingNew": ["x": 1],
        ]
        let caps = try Capabilities(json: json)
        #expect(caps.supports(method: Method.accountsDisable))
        #expect(!caps.supports(method: Method.accountsDelete))
        #expect(caps.supports(method: Method.grantsAdd))
        #expect(!caps.supports(method: Method.grantsRemove))
        #expect(caps.supports(method: Method.entitlementsList))
        #expect(try Capabilities(json: caps.json) == caps)
    }

    @Test func recordFieldErrorsNameThePath() {
        let error = #expect(throws: ConnectorError.self) {
            try Page<Account>(json: ["items": [["id": "a", "userName": "u"], ["id": "b", "userName": 5]]])
        }
        #expect(error?.message == "items[1].userName: expected a string, got number")
        let status = #expect(throws: ConnectorError.self) { try Person(json: ["id": "E1", "email": "e", "status": "fired"]) }
        #expect(status?.message.contains("unknown status \"fired\"") == true)
    }

    @Test func streamingAndGeneralCodingAgree() throws {
        var rng = SystemRandomNumberGenerator()
        for i in 0..<300 {
            func maybe(_ s: String) -> String? { Bool.random(using: &rng) ? s : nil }
            let account = Account(id: "id\(i)", userName: "user \"\(i)\" é", email: maybe("e\(i)@x.com"), displayName: maybe("D\n\(i)"),
                                  givenName: maybe("G"), familyName: maybe("F"), externalId: maybe("X\(i)"),
                                  employeeNumber: maybe("E\(i)"), status: [.active, .disabled, .pending][i % 3],
                                  lastLoginAt: maybe("2026-01-01T00:00:00Z"), attributes: i % 4 == 0 ? ["k": "v\(i)"] : [:])
            let person = Person(id: "P\(i)", email: "p\(i)@x.com", firstName: maybe("A"), department: maybe("Sales"),
                                status: [.active, .leave, .terminated, .pending][i % 4], startDate: maybe("2024-01-01"),
                                attributes: i % 3 == 0 ? ["badge": "B"] : [:])
            let page = Page(items: [account], nextCursor: maybe("next"))
            // Fast writer → general reader, and general writer → fast reader.
            #expect(try Page<Account>(json: JSONParser.parse(page.encoded())) == page)
            let general = JSONWriter.bytes(page.json)
            #expect(try general.withUnsafeBufferPointer { try Page<Account>(bytes: $0, path: "r") } == page)
            #expect(try Person(json: JSONParser.parse(person.encoded())) == person)
            let g = Grant(accountId: "a\(i)", type: "group", entitlementId: "g\(i)")
            #expect(try Grant(json: JSONParser.parse(g.encoded())) == g)
            let e = Entitlement(type: "role", id: "r\(i)", name: "Admin", description: maybe("d"), rank: i % 2 == 0 ? i : nil)
            #expect(try JSONWriter.bytes(e.json).withUnsafeBufferPointer { try Entitlement(bytes: $0, path: "r") } == e)
        }
    }
}

@Suite("Line framing")
struct FramingTests {
    func lines(from text: [UInt8], maxLine: Int = 1024) throws -> [String] {
        var fds: [Int32] = [0, 0]
        #expect(pipe(&fds) == 0)
        let (readEnd, writeEnd) = (fds[0], fds[1])
        let writer = Thread {
            FDWrite.all(writeEnd, text)
            close(writeEnd)
        }
        writer.start()
        defer { close(readEnd) }
        let reader = LineReader(fd: readEnd, maxLine: maxLine, initialCapacity: 16)
        var result: [String] = []
        while try reader.nextLine({ result.append(String(decoding: $0, as: UTF8.self)) }) {}
        return result
    }

    @Test func splitsLinesAcrossReadsAndHandlesCRLF() throws {
        let text = Array("first\r\nsecond line that is longer than the buffer\n\nlast".utf8)
        #expect(try lines(from: text) == ["first", "second line that is longer than the buffer", "", "last"])
    }

    @Test func refusesLinesOverTheLimit() {
        let text = Array(String(repeating: "x", count: 5000).utf8) + [0x0A]
        #expect(throws: LineReader.Failure.lineTooLong(limit: 1024)) { try lines(from: text) }
    }

    @Test func manyLinesInOneStream() throws {
        let text = (0..<10_000).map { "{\"n\":\($0)}\n" }.joined()
        let result = try lines(from: Array(text.utf8), maxLine: 100)
        #expect(result.count == 10_000)
        #expect(result.last == "{\"n\":9999}")
    }
}
