import ConnectorKit
import Foundation
import StewardProtocol
import Testing

/// Runs a connector's serve loop in-process on pipes and talks to it line by line.
final class Harness: @unchecked Sendable {  // fds are fixed at init; `buffer` is only used by the test task
    let toConnector: Int32
    let fromConnector: Int32
    let reader: LineReader
    let served: Task<Void, Never>

    init(_ connector: Connector) {
        var a: [Int32] = [0, 0]
        var b: [Int32] = [0, 0]
        _ = pipe(&a)
        _ = pipe(&b)
        toConnector = a[1]
        fromConnector = b[0]
        reader = LineReader(fd: b[0])
        let (input, output) = (a[0], b[1])
        served = Task.detached {
            await connector.serve(input: input, output: output)
            close(output)
            close(input)
        }
    }

    func send(_ text: String) {
        FDWrite.all(toConnector, Array((text + "\n").utf8))
    }

    func send(_ m: RPCMessage) {
        FDWrite.all(toConnector, m.encoded() + [0x0A])
    }

    /// The next message from the connector (blocking read, run off the cooperative pool).
    func next() async throws -> RPCMessage {
        // Only one read runs at a time: each test awaits `next()` before calling it again.
        nonisolated(unsafe) let reader = self.reader
        return try await withCheckedThrowingContinuation { c in
            DispatchQueue.global().async {
                do {
                    var message: RPCMessage?
                    _ = try reader.nextLine { message = try RPCMessage.decode($0) }
                    if let message { c.resume(returning: message) } else { c.resume(throwing: CancellationError()) }
                } catch {
                    c.resume(throwing: error)
                }
            }
        }
    }

    /// The next response (skipping notifications).
    func response() async throws -> RPCMessage {
        while true {
            let m = try await next()
            if case .notification = m { continue }
            return m
        }
    }

    func initialize(settings: JSONValue = [:]) async throws -> InitializeResult {
        send(.request(id: .int(0), method: Method.initialize,
                      params: InitializeParams(host: PeerInfo(name: "test", version: "0"), appId: "app", settings: settings,
                                               secrets: ["token": "hunter22"]).json))
        guard case .response(_, let result) = try await response() else { throw CancellationError() }
        return try InitializeResult(json: result)
    }

    func finish() async {
        close(toConnector)
        await served.value
        close(fromConnector)
    }
}

@Suite("ConnectorKit serve loop")
struct ConnectorKitTests {
    @Test func capabilitiesAreDerivedFromHandlers() async throws {
        var h = Handlers()
        h.listAccounts = { _, _ in Page(items: []) }
        h.disableAccount = { _, _ in MutationResult(alreadyApplied: true) }
        h.entitlementTypes = [.init("group", cardinality: .multi, grant: { _, _ in MutationResult(alreadyApplied: false) })]
        let harness = Harness(Connector(name: "t", version: "1", handlers: h))
        let result = try await harness.initialize()
        #expect(result.capabilities.accounts == [.list, .disable])
        #expect(result.capabilities.entitlementTypes.first?.grant == true)
        #expect(result.capabilities.entitlementTypes.first?.revoke == false)
        #expect(!result.capabilities.personsList)
        harness.send(.request(id: .int(1), method: Method.accountsDelete, params: AccountRefParams(idempotencyKey: "k", id: "a").json))
        guard case .errorResponse(_, let e) = try await harness.response() else { Issue.record("expected an error"); return }
        #expect(e.code == -32601)
        harness.send(.request(id: .int(2), method: Method.grantsRemove, params: GrantChangeParams(idempotencyKey: "k", accountId: "a", type: "group", entitlementId: "g").json))
        guard case .errorResponse(_, let e2) = try await harness.response() else { Issue.record("expected an error"); return }
        #expect(e2.code == -32601)
        await harness.finish()
    }

    @Test func requestsBeforeInitializeAreRefused() async throws {
        let harness = Harness(Connector(name: "t", version: "1", handlers: Handlers()))
        harness.send(.request(id: .int(1), method: Method.accountsList, params: [:]))
        guard case .errorResponse(.int(1), let e) = try await harness.response() else { Issue.record("expected an error"); return }
        #expect(e.message.contains("initialize"))
        await harness.finish()
    }

    @Test func incompatibleVersionNamesBothSides() async throws {
        let harness = Harness(Connector(name: "t", version: "1", handlers: Handlers()))
        harness.send(.request(id: .int(0), method: Method.initialize,
                              params: InitializeParams(protocolVersions: ["3.1"], host: PeerInfo(name: "h", version: "0"), appId: "a").json))
        guard case .errorResponse(_, let e) = try await harness.response() else { Issue.record("expected an error"); return }
        #expect(e.message.contains("3.1"))
        #expect(e.message.contains("1.0"))
        await harness.finish()
    }

    @Test func thrownErrorsMapToTheTaxonomyAndUnknownOutcomes() async throws {
        struct Boom: Error {}
        var h = Handlers()
        h.disableAccount = { p, _ in
            if p.id == "limited" { throw ConnectorError(.rateLimited, "slow down", retryAfterMs: 2000) }
            throw Boom()
        }
        let harness = Harness(Connector(name: "t", version: "1", handlers: h))
        _ = try await harness.initialize()
        harness.send(.request(id: .int(1), method: Method.accountsDisable, params: AccountRefParams(idempotencyKey: "k", id: "limited").json))
        guard case .errorResponse(_, let e) = try await harness.response(), let ce = ConnectorError(rpcError: e) else { Issue.record("expected an error"); return }
        #expect(ce.kind == .rateLimited)
        #expect(ce.retryAfterMs == 2000)
        #expect(ce.retryable)
        harness.send(.request(id: .int(2), method: Method.accountsDisable, params: AccountRefParams(idempotencyKey: "k", id: "x").json))
        guard case .errorResponse(_, let e2) = try await harness.response(), let ce2 = ConnectorError(rpcError: e2) else { Issue.record("expected an error"); return }
        #expect(ce2.kind == .internal)
        #expect(ce2.outcome == .unknown)
        // Bad params never reach the handler.
        harness.send(.request(id: .int(3), method: Method.accountsDisable, params: ["id": "x"]))
        guard case .errorResponse(_, let e3) = try await harness.response() else { Issue.record("expected an error"); return }
        #expect(e3.code == -32602)
        #expect(e3.message.contains("params.idempotencyKey"))
        await harness.finish()
    }

    @Test func cancelStopsAHandlerWhichStillAnswers() async throws {
        var h = Handlers()
        h.listAccounts = { _, _ in
            try await Task.sleep(nanoseconds: 60_000_000_000)
            return Page(items: [])
        }
        h.getAccount = { _, _ in nil }
        let harness = Harness(Connector(name: "t", version: "1", handlers: h))
        _ = try await harness.initialize()
        harness.send(.request(id: .int(1), method: Method.accountsList, params: [:]))
        // Requests are concurrent: a quick one is answered while the slow one runs.
        harness.send(.request(id: .int(2), method: Method.accountsGet, params: ["id": "x"]))
        guard case .response(.int(2), _) = try await harness.response() else { Issue.record("expected the quick answer first"); return }
        harness.send(.notification(method: Notification.cancel, params: CancelParams(id: .int(1)).json))
        guard case .errorResponse(.int(1), let e) = try await harness.response() else { Issue.record("expected a cancelled answer"); return }
        #expect(e.code == -32800)
        await harness.finish()
    }

    @Test func logsRedactSecretsAndListingsOfAllTypesPage() async throws {
        var h = Handlers()
        h.validate = { ctx in
            ctx.log(.warning, "token hunter22 rejected")
            return ValidateResult(ok: true)
        }
        h.entitlementTypes = [
            .init("role", cardinality: .single, list: { _, _ in Page(items: [Entitlement(type: "role", id: "r1", name: "Admin")]) }),
            .init("group", cardinality: .multi, list: { p, _ in
                p.cursor == nil ? Page(items: [Entitlement(type: "group", id: "g1", name: "a")], nextCursor: "2")
                    : Page(items: [Entitlement(type: "group", id: "g2", name: "b")])
            }),
        ]
        let harness = Harness(Connector(name: "t", version: "1", handlers: h))
        _ = try await harness.initialize()
        harness.send(.request(id: .int(1), method: Method.validate, params: [:]))
        guard case .notification(Notification.log, let log) = try await harness.next() else { Issue.record("expected a log"); return }
        #expect(log["message"] == "token *** rejected")
        _ = try await harness.response()
        var ids: [String] = []
        var cursor: String?
        repeat {
            harness.send(.request(id: .int(10), method: Method.entitlementsList, params: ListParams(cursor: cursor).json))
            guard case .response(_, let result) = try await harness.response() else { Issue.record("expected a page"); return }
            let page = try Page<Entitlement>(json: result)
            ids += page.items.map(\.id)
            cursor = page.nextCursor
        } while cursor != nil
        #expect(ids == ["r1", "g1", "g2"])
        await harness.finish()
    }
}
