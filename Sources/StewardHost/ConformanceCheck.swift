import Foundation
import StewardProtocol

/// Conformance checks against any connector command: the handshake and version negotiation,
/// declared capabilities, and what the host relies on when it syncs and applies (paging that
/// honours `pageSize` and repeatable cursors, `accounts/get` by id, `userName` and `email`,
/// `notFound` for an unknown id, answered cancels, idempotent writes).
///
/// Read-only by default: writes are sent only with params that must be rejected (no
/// idempotency key, an account that does not exist). With `writes` it creates a throwaway
/// account `steward-check-<random>`, changes it the ways the host does, reads each effect back
/// and deletes it (`ConformanceWriteChecks`). A check that cannot run is reported as skipped,
/// with the reason; once the connector dies, the checks after it are reported as not run.
public struct ConformanceCheck: Sendable {
    public struct Result: Sendable {
        public enum Status: String, Sendable {
            case passed, failed, skipped
            /// The connector died before the check could run.
            case notRun
            /// Passed, with something to fix before it fails (a recipe step only a fallback saved).
            case warning
        }

        public var name: String
        public var status: Status
        public var detail: String

        public var passed: Bool { status == .passed }
        public var failed: Bool { status == .failed }

        public init(name: String, status: Status, detail: String) {
            self.name = name
            self.status = status
            self.detail = detail
        }

        public var json: JSONValue {
            ["name": .string(name), "status": .string(status.rawValue), "passed": .bool(passed), "detail": .string(detail)]
        }
    }

    public var command: [String]
    public var settings: JSONValue
    public var secrets: [String: String]
    public var baseDirectory: String?
    public var timeout: Double
    public var pageSize: Int
    /// Create, change and delete a throwaway account: this changes the app.
    public var writes: Bool

    public init(command: [String], settings: JSONValue = [:], secrets: [String: String] = [:], baseDirectory: String? = nil,
                timeout: Double = 10, pageSize: Int = 100, writes: Bool = false) {
        self.command = command
        self.settings = settings
        self.secrets = secrets
        self.baseDirectory = baseDirectory
        self.timeout = timeout
        self.pageSize = pageSize
        self.writes = writes
    }

    /// Runs every check, reporting each as it completes. True when none failed.
    public func run(report: @Sendable (Result) -> Void) async -> Bool {
        var failed = false
        func record(_ r: Result) {
            if r.status == .failed { failed = true }
            report(r)
        }
        let unmatched = ReplyInbox()
        // Steps a fallback selector rescued (browser recipes): the check passes, but says so.
        let drift = LockedValue<[String]>([])
        let conn: ConnectorConnection
        do {
            conn = try connect(ConnectorEvents(log: { record in
                guard let report = RecipeDrift(record) else { return }
                let line = "\(report.step) passed only through fallback \(report.fallback) (\(report.selector))"
                drift.withLock { if !$0.contains(line) { $0.append(line) } }
            }, unmatchedResponse: { unmatched.put($0) }))
        } catch {
            record(Result(name: "start", status: .failed, detail: "could not start \(command.joined(separator: " ")): \(error)"))
            return false
        }
        let session = ConformanceSession(connection: conn, timeout: timeout, hangGrace: options.hangGrace, unmatched: unmatched)
        session.begin("handshake")
        let handshake: InitializeResult
        switch await initialize(session) {
        case .success(let h):
            handshake = h
            record(Result(name: "handshake", status: .passed,
                          detail: "\(h.connector.name) \(h.connector.version), protocol \(h.protocolVersion)"))
        case .failure(let f):
            record(Result(name: "handshake", status: .failed, detail: session.death ?? f.line))
            await conn.kill()
            return false
        }
        let caps = handshake.capabilities
        record(Result(name: "capabilities", status: .passed, detail: caps.methods.isEmpty ? "none declared" : caps.methods.joined(separator: ", ")))

        let reads = ConformanceReadChecks(check: self, capabilities: caps)
        let steps = reads.steps() + ConformanceWriteChecks(check: self, capabilities: caps).steps() + reads.closingSteps()
        var notRun: [String] = []
        for step in steps {
            if session.death != nil {
                notRun.append(step.name)
                continue
            }
            session.begin(step.name)
            let verdict = await step.run(session)
            let strays = session.endCheck()
            if let death = session.death {
                record(Result(name: step.name, status: .failed, detail: death + Self.meanwhile(strays)))
            } else {
                record(verdict.result(step.name, strays: strays))
            }
        }
        if let during = session.diedDuring, !notRun.isEmpty {
            let left = session.throwaway.map { "; the throwaway account \(ConformanceWords.account($0)) is left in the app" } ?? ""
            record(Result(name: "not run", status: .notRun,
                          detail: "\(notRun.joined(separator: ", ")): the connector had exited during \(during)\(left)"))
        }
        if conn.isAlive { await conn.kill() }

        // Checks on a connector of their own, so a hang or refusal cannot spoil the others.
        record(await reads.checkCancel())
        record(await reads.checkVersionRefusal())
        for line in drift.withLock({ $0 }) {
            record(Result(name: "recipe drift", status: .warning, detail: line + ": the app's UI changed; update the step's first selector"))
        }
        return !failed
    }

    // MARK: Starting connectors

    var options: ConnectorConnection.Options {
        var options = ConnectorConnection.Options()
        options.requestTimeout = timeout
        options.hangGrace = 2
        return options
    }

    func connect(_ events: ConnectorEvents) throws -> ConnectorConnection {
        ConnectorConnection(appId: "check", child: try ChildProcess.spawn(command, environment: ConnectorLaunch(appId: "check", command: command).environment()),
                            options: options, events: events)
    }

    func initializeParams(versions: [String]? = nil) -> InitializeParams {
        var params = InitializeParams(host: PeerInfo(name: "steward-check", version: stewardVersion), appId: "check",
                                      settings: settings, secrets: secrets, baseDirectory: baseDirectory)
        if let versions { params.protocolVersions = versions }
        return params
    }

    /// `initialize`, never quoting its params: they carry the secrets.
    func initialize(_ session: ConformanceSession) async -> Swift.Result<InitializeResult, CheckFailure> {
        let exchange = await session.call(Method.initialize, initializeParams().json)
        let words = exchange.sent
        guard let result = exchange.result else { return .failure(CheckFailure(exchange.line)) }
        let handshake: InitializeResult
        do {
            handshake = try InitializeResult(json: result, path: "result")
        } catch {
            return .failure(CheckFailure("\(words); got an answer that does not parse (\((error as? ConnectorError)?.message ?? "\(error)")): \(ConformanceWords.json(result))"))
        }
        guard let v = ProtocolVersion(handshake.protocolVersion), v.major == ProtocolVersion.current.major else {
            return .failure(CheckFailure("\(words); it chose protocol \(handshake.protocolVersion)"))
        }
        return .success(handshake)
    }

    /// `; meanwhile it sent a reply to id 7, which no request has: …`, or nothing.
    static func meanwhile(_ strays: [RPCMessage]) -> String {
        guard let first = strays.first else { return "" }
        let more = strays.count > 1 ? " (and \(strays.count - 1) more)" : ""
        return "; meanwhile it sent \(ConformanceWords.stray(first))\(more)"
    }
}

/// One named check on the main connection.
struct ConformanceStep {
    let name: String
    let run: (ConformanceSession) async -> ConformanceVerdict
}

enum ConformanceVerdict {
    case passed(String)
    case failed(String)
    case skipped(String)

    static func from(_ failure: CheckFailure) -> ConformanceVerdict { .failed(failure.line) }

    /// The result, failed when the connector also sent replies to no request meanwhile.
    func result(_ name: String, strays: [RPCMessage]) -> ConformanceCheck.Result {
        let extra = ConformanceCheck.meanwhile(strays)
        switch self {
        case .passed(let d) where !strays.isEmpty:
            return .init(name: name, status: .failed, detail: "answered as expected (\(d))" + extra)
        case .passed(let d): return .init(name: name, status: .passed, detail: d)
        case .failed(let d): return .init(name: name, status: .failed, detail: d + extra)
        case .skipped(let d): return .init(name: name, status: .skipped, detail: d + extra)
        }
    }
}
