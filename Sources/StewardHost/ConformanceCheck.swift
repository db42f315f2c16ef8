import Foundation
import StewardProtocol

/// Protocol conformance checks against any connector command: the handshake, version
/// negotiation, declared capabilities, paging, error handling and shutdown.
///
/// It never writes to the app: mutations are only sent with params that must be rejected.
public struct ConformanceCheck: Sendable {
    public struct Result: Sendable {
        public var name: String
        public var passed: Bool
        public var detail: String

        public var json: JSONValue { ["name": .string(name), "passed": .bool(passed), "detail": .string(detail)] }
    }

    public var command: [String]
    public var settings: JSONValue
    public var secrets: [String: String]
    public var baseDirectory: String?
    public var timeout: Double
    public var pageSize: Int

    public init(command: [String], settings: JSONValue = [:], secrets: [String: String] = [:], baseDirectory: String? = nil,
                timeout: Double = 10, pageSize: Int = 100) {
        self.command = command
        self.settings = settings
        self.secrets = secrets
        self.baseDirectory = baseDirectory
        self.timeout = timeout
        self.pageSize = pageSize
    }

    /// Runs every check, reporting each as it completes.
    public func run(report: @Sendable (Result) -> Void) async -> Bool {
        var allPassed = true
        func record(_ r: Result) {
            if !r.passed { allPassed = false }
            report(r)
        }
        let unmatched = Inbox()
        var options = ConnectorConnection.Options()
        options.requestTimeout = timeout
        options.hangGrace = 2
        let events = ConnectorEvents(log: { _ in }, unmatchedResponse: { unmatched.put($0) })

        // 1. Start and handshake.
        let conn: ConnectorConnection
        do {
            conn = ConnectorConnection(appId: "check", child: try ChildProcess.spawn(command, environment: ConnectorLaunch(appId: "check", command: command).environment()),
                                       options: options, events: events)
        } catch {
            record(Result(name: "start", passed: false, detail: "\(error)"))
            return false
        }
        let params = InitializeParams(host: PeerInfo(name: "steward-check", version: stewardVersion), appId: "check",
                                      settings: settings, secrets: secrets, baseDirectory: baseDirectory)
        let handshake: InitializeResult
        do {
            let raw = try await conn.call(Method.initialize, params: params.json)
            handshake = try InitializeResult(json: raw, path: "result")
            guard let v = ProtocolVersion(handshake.protocolVersion), v.major == ProtocolVersion.current.major else {
                throw ConnectorError(.invalidArgument, "chose protocol \(handshake.protocolVersion); the host offered \(ProtocolVersion.current)")
            }
            record(Result(name: "handshake", passed: true,
                          detail: "\(handshake.connector.name) \(handshake.connector.version), protocol \(handshake.protocolVersion)"))
        } catch {
            record(Result(name: "handshake", passed: false, detail: describe(error)))
            await conn.kill()
            return false
        }
        let caps = handshake.capabilities
        record(Result(name: "capabilities", passed: true, detail: caps.methods.isEmpty ? "none declared" : caps.methods.joined(separator: ", ")))

        // 2. Liveness.
        await expectSuccess("ping", conn, Method.ping, [:], record)

        // 3. Declared methods answer.
        if caps.validate {
            await expectSuccess("validate", conn, Method.validate, [:], record)
        }
        var firstAccount: Account?
        if caps.personsList { record(await checkListing(conn, Method.personsList, ListParams(), Person.self).0) }
        if caps.accounts.contains(.list) {
            let (r, first) = await checkListing(conn, Method.accountsList, ListParams(), Account.self)
            record(r)
            firstAccount = first
        }
        if caps.entitlementTypes.contains(where: \.list) {
            record(await checkListing(conn, Method.entitlementsList, ListParams(), Entitlement.self).0)
        }
        if caps.grantsList { record(await checkListing(conn, Method.grantsList, ListParams(), Grant.self).0) }
        if caps.accounts.contains(.get) {
            record(await checkGet(conn, firstAccount))
        }

        // 4. Writes reject params without an idempotency key, and change nothing.
        for method in caps.methods where Method.mutations.contains(method) {
            do {
                _ = try await conn.call(method, params: ["id": "steward-check-does-not-exist"])
                record(Result(name: "\(method) rejects bad params", passed: false, detail: "accepted a request without idempotencyKey"))
            } catch let f as ConnectorFailure {
                let ok: Bool
                switch f.reason {
                case .rpc(let e): ok = e.code == RPCError.Code.invalidParams.rawValue
                case .connector(let e): ok = e.kind == .invalidArgument
                default: ok = false
                }
                record(Result(name: "\(method) rejects bad params", passed: ok, detail: ok ? "invalid params" : describe(f)))
            } catch {
                record(Result(name: "\(method) rejects bad params", passed: false, detail: describe(error)))
            }
        }

        // 5. Undeclared methods answer method-not-found.
        let everyMethod = [Method.validate, Method.personsList, Method.entitlementsList, Method.grantsList, Method.grantsAdd,
                           Method.grantsRemove, Method.notifySend] + AccountOperation.allCases.map(\.method)
        let undeclared = everyMethod.filter { !caps.supports(method: $0) } + ["steward/no-such-method"]
        var notFoundFailures: [String] = []
        for method in undeclared {
            do {
                _ = try await conn.call(method, params: ["idempotencyKey": "steward-check", "id": "steward-check-does-not-exist",
                                                         "accountId": "steward-check-does-not-exist", "type": "x", "entitlementId": "x"])
                notFoundFailures.append("\(method) answered")
            } catch let f as ConnectorFailure where f.isMethodNotFound {
                continue
            } catch {
                notFoundFailures.append("\(method): \(describe(error))")
            }
        }
        record(Result(name: "undeclared methods", passed: notFoundFailures.isEmpty,
                      detail: notFoundFailures.isEmpty ? "\(undeclared.count) answer method-not-found" : notFoundFailures.joined(separator: "; ")))

        // 6. Malformed input gets JSON-RPC errors, and the connector survives it.
        if conn.isAlive {
            conn.sendRaw(Array("{this is not json\n".utf8))
            let parseError = await unmatched.take(within: timeout)
            let okParse = parseError.map { m -> Bool in
                if case .errorResponse(nil, let e) = m { return e.code == RPCError.Code.parseError.rawValue }
                return false
            } ?? false
            record(Result(name: "malformed JSON", passed: okParse,
                          detail: okParse ? "parse error (-32700)" : parseError.map { "answered \(JSONWriter.string(.string(String(decoding: $0.encoded(), as: UTF8.self))))" } ?? "no answer"))
            conn.sendRaw(Array("{\"jsonrpc\":\"2.0\",\"id\":\"check-invalid\",\"method\":42}\n".utf8))
            let invalid = await unmatched.take(within: timeout)
            let okInvalid = invalid.map { m -> Bool in
                if case .errorResponse(let id, let e) = m { return e.code == RPCError.Code.invalidRequest.rawValue && (id == nil || id == .string("check-invalid")) }
                return false
            } ?? false
            record(Result(name: "invalid request", passed: okInvalid, detail: okInvalid ? "invalid request (-32600)" : "expected a -32600 error answer"))
            await expectSuccess("alive after bad input", conn, Method.ping, [:], record)
        }

        // 7. Clean shutdown: answer shutdown, exit at end of input.
        if conn.isAlive {
            let started = Date()
            do {
                _ = try await conn.call(Method.shutdown, params: [:])
                await conn.stop(grace: 5)
                let status = conn.exit
                let clean = status?.exited == true && status?.exitCode == 0 && Date().timeIntervalSince(started) < 5
                record(Result(name: "shutdown", passed: clean,
                              detail: clean ? "exited 0 after shutdown and end of input" : "the connector \(status?.description ?? "did not exit") (needed a signal or more than 5 s)"))
            } catch {
                record(Result(name: "shutdown", passed: false, detail: describe(error)))
                await conn.kill()
            }
        } else {
            record(Result(name: "shutdown", passed: false, detail: "the connection had already ended: \(conn.closeReason.map { "\($0)" } ?? "?")"))
        }

        // 8. An incompatible protocol version is refused with an error naming both sides.
        record(await checkVersionRefusal(options: options, events: ConnectorEvents(log: { _ in })))
        return allPassed
    }

    private func expectSuccess(_ name: String, _ conn: ConnectorConnection, _ method: String, _ params: JSONValue,
                               _ record: (Result) -> Void) async {
        do {
            _ = try await conn.call(method, params: params)
            record(Result(name: name, passed: true, detail: "answered"))
        } catch {
            record(Result(name: name, passed: false, detail: describe(error)))
        }
    }

    /// Pages through a listing: it must end, never repeat a cursor, and every item must parse.
    private func checkListing<Item: JSONConvertible>(_ conn: ConnectorConnection, _ method: String, _ start: ListParams,
                                                     _ type: Item.Type) async -> (Result, Item?) {
        var params = start
        params.pageSize = pageSize
        var seen: Set<String> = []
        var count = 0
        var pages = 0
        var first: Item?
        let deadline = Date().addingTimeInterval(max(60, timeout * 6))
        do {
            while true {
                let raw = try await conn.call(method, params: params.json)
                let page = try Page<Item>(json: raw, path: "result")
                pages += 1
                count += page.items.count
                if first == nil { first = page.items.first }
                guard let next = page.nextCursor else { break }
                if !seen.insert(next).inserted {
                    return (Result(name: method, passed: false, detail: "cursor \"\(next.prefix(60))\" returned twice (page \(pages))"), first)
                }
                if Date() > deadline {
                    return (Result(name: method, passed: false, detail: "did not end within \(Int(deadline.timeIntervalSince(Date()) + 60)) s (\(pages) pages)"), first)
                }
                params.cursor = next
            }
        } catch {
            return (Result(name: method, passed: false, detail: describe(error)), first)
        }
        return (Result(name: method, passed: true, detail: "\(count) items in \(pages) page\(pages == 1 ? "" : "s"), paging ends"), first)
    }

    private func checkGet(_ conn: ConnectorConnection, _ known: Account?) async -> Result {
        do {
            let missing = try AccountGetResult(json: try await conn.call(Method.accountsGet, params: AccountGetParams(id: "steward-check-does-not-exist").json), path: "result")
            if missing.account != nil { return Result(name: Method.accountsGet, passed: false, detail: "found an account for an id that does not exist") }
            if let known {
                let found = try AccountGetResult(json: try await conn.call(Method.accountsGet, params: AccountGetParams(id: known.id).json), path: "result")
                guard found.account?.id == known.id else {
                    return Result(name: Method.accountsGet, passed: false, detail: "did not find listed account \(known.id) by id")
                }
            }
            return Result(name: Method.accountsGet, passed: true, detail: known == nil ? "absent account answers no account" : "finds a listed account; absent answers none")
        } catch let f as ConnectorFailure where f.connectorError?.kind == .notFound {
            return Result(name: Method.accountsGet, passed: false, detail: "an absent account must answer {} (no account), not a notFound error")
        } catch {
            return Result(name: Method.accountsGet, passed: false, detail: describe(error))
        }
    }

    private func checkVersionRefusal(options: ConnectorConnection.Options, events: ConnectorEvents) async -> Result {
        let name = "refuses protocol 99.0"
        do {
            let conn = ConnectorConnection(appId: "check", child: try ChildProcess.spawn(command, environment: ConnectorLaunch(appId: "check", command: command).environment()),
                                           options: options, events: events)
            defer { Task { await conn.kill() } }
            var params = InitializeParams(host: PeerInfo(name: "steward-check", version: stewardVersion), appId: "check",
                                          settings: settings, secrets: secrets, baseDirectory: baseDirectory)
            params.protocolVersions = ["99.0"]
            do {
                let raw = try await conn.call(Method.initialize, params: params.json)
                let chosen = (try? InitializeResult(json: raw, path: "result"))?.protocolVersion ?? "?"
                await conn.kill()
                return Result(name: name, passed: false, detail: "accepted protocol 99.0 (chose \(chosen))")
            } catch let f as ConnectorFailure {
                await conn.kill()
                let message: String
                switch f.reason {
                case .connector(let e): message = e.message
                case .rpc(let e): message = e.message
                default: return Result(name: name, passed: false, detail: describe(f))
                }
                let names = message.contains("99.0") && message.contains(ProtocolVersion.current.description)
                return Result(name: name, passed: names, detail: names ? "refused, naming both versions" : "refused, but the error should name both versions: \(message)")
            }
        } catch {
            return Result(name: name, passed: false, detail: describe(error))
        }
    }

    private func describe(_ error: Error) -> String {
        if let f = error as? ConnectorFailure {
            switch f.reason {
            case .connector(let e): return e.description
            case .rpc(let e): return e.description
            case .cancelled: return "cancelled"
            case .timedOut(let s): return "no answer within \(formatSeconds(s))"
            case .crashed(let m), .protocolViolation(let m), .unavailable(let m): return m
            }
        }
        if let e = error as? ConnectorError { return "malformed answer: \(e.message)" }
        return "\(error)"
    }
}

/// Collects unmatched answers for the malformed-input checks.
private final class Inbox: @unchecked Sendable {  // `items` is guarded by `lock`
    private let lock = NSLock()
    private var items: [RPCMessage] = []

    func put(_ m: RPCMessage) { lock.withLock { items.append(m) } }

    func take(within seconds: Double) async -> RPCMessage? {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if let m = pop() { return m }
            try? await Task.sleep(nanoseconds: 5_000_000)
        }
        return pop()
    }

    private func pop() -> RPCMessage? {
        lock.withLock { items.isEmpty ? nil : items.removeFirst() }
    }
}
