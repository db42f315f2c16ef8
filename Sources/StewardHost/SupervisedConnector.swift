import Foundation
import StewardProtocol

/// One app's connector, kept running: started on first use, handshaken, restarted with
/// exponential backoff after a crash, and given up on after too many crashes in a short time.
public actor SupervisedConnector {
    public let launch: ConnectorLaunch

    private var connection: ConnectorConnection?
    private var starting: Task<ConnectorConnection, Error>?
    private var crashes: [Date] = []
    private var lastCrash: String?
    private var gaveUp: String?
    private var stopped = false
    /// The connector's `initialize` answer, once it has started.
    public private(set) var handshake: InitializeResult?
    /// How many times the process has been started.
    public private(set) var starts = 0
    /// The pid of the most recently started process.
    public private(set) var lastPid: Int32?

    public init(_ launch: ConnectorLaunch) {
        self.launch = launch
    }

    public var appId: String { launch.appId }

    /// Starts the connector if it is not running and returns its handshake.
    @discardableResult
    public func start() async throws -> InitializeResult {
        _ = try await running(for: Method.initialize)
        guard let handshake else {
            throw ConnectorFailure(appId: appId, method: Method.initialize, reason: .unavailable("the connector did not start"))
        }
        return handshake
    }

    public var capabilities: Capabilities? { handshake?.capabilities }

    /// Sends one request, starting or restarting the connector as needed.
    public func call(_ method: String, params: JSONValue = [:], timeout: Double? = nil) async throws -> JSONValue {
        let conn = try await running(for: method)
        return try await conn.call(method, params: params, timeout: timeout)
    }

    /// Sends a request and reads the answer as `Result`; a malformed answer is the connector's
    /// protocol violation, reported with the field.
    public func call<Result: JSONConvertible>(_ method: String, params: JSONValue = [:], timeout: Double? = nil,
                                              as type: Result.Type) async throws -> Result {
        let conn = try await running(for: method)
        let bytes = try await conn.callRaw(method, params: params, timeout: timeout)
        return try decode(bytes, method: method, as: type)
    }

    /// A raw result as `Result`; a malformed one is the connector's protocol violation.
    private func decode<Result: JSONConvertible>(_ bytes: [UInt8], method: String, as type: Result.Type) throws -> Result {
        do {
            if let streamable = Result.self as? any JSONStreamable.Type {
                let decoded = try bytes.withUnsafeBufferPointer { try streamable.init(bytes: $0, path: "result") }
                if let typed = decoded as? Result { return typed }
            }
            return try Result(json: try JSONParser.parse(bytes), path: "result")
        } catch let e as JSONParseError {
            throw ConnectorFailure(appId: appId, method: method, reason: .protocolViolation("the result is not valid JSON: \(e)"), answerLost: true)
        } catch let e as ConnectorError {
            throw ConnectorFailure(appId: appId, method: method, reason: .protocolViolation("malformed answer: \(e.message)"), answerLost: true)
        }
    }

    /// Walks a paged listing to its end, handing each page to `body`. Fails if the connector
    /// returns a cursor it returned before, which would otherwise loop forever.
    ///
    /// The next page is asked for as soon as this one's cursor is read, before its items are
    /// decoded and handed on: the connector fetches page N+1 (usually a network round trip to
    /// the app) while the host decodes and records page N. Pages still reach `body` in order,
    /// one at a time.
    public func list<Item: JSONConvertible>(_ method: String, params: ListParams = ListParams(), of type: Item.Type,
                                            pageRetries: Int = 0, onRetry: (ConnectorFailure) -> Void = { _ in },
                                            _ body: ([Item]) async throws -> Void) async throws {
        var params = params
        var seen: Set<String> = []
        var raw = try await rawPage(method, params, retries: pageRetries, onRetry: onRetry)
        while true {
            let next = nextCursor(in: raw)
            var prefetch: Task<[UInt8], Error>?
            if let next {
                if !seen.insert(next).inserted {
                    throw ConnectorFailure(appId: appId, method: method,
                                           reason: .protocolViolation("the listing returned cursor \"\(next.prefix(80))\" twice; stopping instead of looping"))
                }
                params.cursor = next
                // Sent from a task of its own, not the actor's: the actor is busy decoding this page.
                let conn = try await running(for: method)
                let json = params.json
                prefetch = Task.detached { try await conn.callRaw(method, params: json) }
            }
            do {
                let page = try decode(raw, method: method, as: Page<Item>.self)
                try await body(page.items)
            } catch {
                prefetch?.cancel()
                throw error
            }
            guard let prefetch else { return }
            do {
                raw = try await prefetch.value
            } catch let f as ConnectorFailure where f.retryable && pageRetries > 0 {
                // The prefetch was this page's first attempt; the rest go through the usual retries.
                onRetry(f)
                try await Task.sleep(nanoseconds: UInt64(backoff(attempt: 1, hintMs: f.connectorError?.retryAfterMs) * 1e9))
                raw = try await rawPage(method, params, retries: pageRetries - 1, onRetry: onRetry)
            }
        }
    }

    /// One page's raw result; a retryable failure is retried on its own (with backoff,
    /// honouring `retryAfterMs`) up to `retries` times instead of restarting the listing.
    private func rawPage(_ method: String, _ params: ListParams, retries: Int, onRetry: (ConnectorFailure) -> Void) async throws -> [UInt8] {
        var attempt = 0
        while true {
            do {
                let conn = try await running(for: method)
                return try await conn.callRaw(method, params: params.json)
            } catch let f as ConnectorFailure where f.retryable && attempt < retries {
                attempt += 1
                onRetry(f)
                try await Task.sleep(nanoseconds: UInt64(backoff(attempt: attempt, hintMs: f.connectorError?.retryAfterMs) * 1e9))
            }
        }
    }

    /// The page's `nextCursor`, read without decoding its items. Nil when the result cannot be
    /// scanned: decoding it then reports what is wrong.
    private func nextCursor(in raw: [UInt8]) -> String? {
        raw.withUnsafeBufferPointer { bytes -> String? in
            var scanner = JSONScanner(bytes)
            var next: String?
            do {
                try scanner.forEachMember { s, key in
                    if key.elementsEqual("nextCursor".utf8) {
                        next = try s.readOptionalString()
                    } else {
                        try s.skipValue()
                    }
                }
            } catch {
                return nil
            }
            return next
        }
    }

    /// Collects a whole listing.
    public func listAll<Item: JSONConvertible>(_ method: String, params: ListParams = ListParams(), of type: Item.Type) async throws -> [Item] {
        var all: [Item] = []
        try await list(method, params: params, of: type) { all.append(contentsOf: $0) }
        return all
    }

    /// Stops the connector gracefully; later calls start it again.
    public func stop(grace: Double = 3) async {
        starting?.cancel()
        if let connection {
            self.connection = nil
            await connection.stop(grace: grace)
        }
    }

    /// The running connection, started or restarted (after its backoff) if need be.
    private func running(for method: String) async throws -> ConnectorConnection {
        if let c = connection {
            if c.isAlive { return c }
            connectionEnded(c, message: c.closeReason.map { "\(ConnectorFailure(appId: appId, method: method, reason: $0))" } ?? "ended")
        }
        if let gaveUp {
            throw ConnectorFailure(appId: appId, method: method, reason: .unavailable(gaveUp))
        }
        if let starting { return try await starting.value }
        let task = Task { try await self.startConnection() }
        starting = task
        defer { starting = nil }
        return try await task.value
    }

    private func startConnection() async throws -> ConnectorConnection {
        let delay = backoffDelay()
        if delay > 0 { try await Task.sleep(nanoseconds: UInt64(delay * 1e9)) }
        starts += 1
        let child: ChildProcess
        do {
            child = try ChildProcess.spawn(launch.command, environment: launch.environment())
        } catch {
            noteCrash("cannot start the connector: \(error)")
            throw ConnectorFailure(appId: appId, method: Method.initialize, reason: .unavailable("cannot start the connector (\(launch.command.joined(separator: " "))): \(error)"))
        }
        lastPid = child.pid
        let conn = ConnectorConnection(appId: appId, child: child, options: launch.options, events: launch.events) { [weak self] message in
            Task { await self?.connectionDiedUnexpectedly(message) }
        }
        let params = InitializeParams(host: PeerInfo(name: "steward", version: stewardVersion), appId: appId,
                                      settings: launch.settings, secrets: launch.secrets, stateDirectory: launch.stateDirectory,
                                      baseDirectory: launch.baseDirectory)
        do {
            let raw = try await conn.call(Method.initialize, params: params.json, timeout: launch.options.requestTimeout)
            let result: InitializeResult
            do {
                result = try InitializeResult(json: raw, path: "result")
            } catch {
                throw ConnectorFailure(appId: appId, method: Method.initialize, reason: .protocolViolation("malformed initialize answer: \(error)"))
            }
            guard let chosen = ProtocolVersion(result.protocolVersion), chosen.major == ProtocolVersion.current.major else {
                let reason = "incompatible protocol version: the connector chose \(result.protocolVersion); this host speaks \(ProtocolVersion.current)"
                await conn.stop(grace: 1)
                gaveUp = reason
                throw ConnectorFailure(appId: appId, method: Method.initialize, reason: .unavailable(reason))
            }
            handshake = result
            connection = conn
            return conn
        } catch let failure as ConnectorFailure {
            // A connector that refuses its configuration will refuse it again: do not retry.
            if case .connector(let e) = failure.reason, e.kind == .configuration || e.kind == .invalidArgument || e.kind == .unauthenticated {
                await conn.stop(grace: 1)
                gaveUp = "the connector refused to start: \(e.message)"
                throw failure
            }
            if gaveUp == nil {
                await conn.kill()
                noteCrash("\(failure)")
            }
            throw failure
        }
    }

    private func connectionDiedUnexpectedly(_ message: String) {
        guard let c = connection, !c.isAlive else { return }
        connectionEnded(c, message: message)
    }

    private func connectionEnded(_ c: ConnectorConnection, message: String) {
        guard c === connection else { return }
        connection = nil
        noteCrash(message)
    }

    private func noteCrash(_ message: String) {
        let now = Date()
        crashes.append(now)
        crashes.removeAll { now.timeIntervalSince($0) > launch.restart.window }
        lastCrash = message
        launch.events.crashed(appId)
        launch.events.log(LogRecord(appId: appId, level: .warning, message: "connector stopped unexpectedly: \(message)"))
        if crashes.count >= launch.restart.crashBudget {
            gaveUp = "gave up on the connector after \(crashes.count) crashes within \(Int(launch.restart.window)) s; last: \(message)"
            launch.events.log(LogRecord(appId: appId, level: .error, message: gaveUp ?? ""))
        }
    }

    private func backoffDelay() -> Double {
        guard let last = crashes.last else { return 0 }
        let n = Double(crashes.count)
        let delay = min(launch.restart.initialBackoff * pow(2, n - 1), launch.restart.maxBackoff)
        return max(0, delay - Date().timeIntervalSince(last))
    }
}

/// Everything needed to start one app's connector.
public struct ConnectorLaunch: Sendable {
    public var appId: String
    /// The resolved argv.
    public var command: [String]
    public var settings: JSONValue
    /// This app's secrets only, already resolved from their references.
    public var secrets: [String: String]
    public var stateDirectory: String?
    /// Where relative paths in the settings point from: the config file's directory.
    public var baseDirectory: String?
    /// Environment variables passed through besides the safe defaults.
    public var passEnvironment: [String]
    public var options: ConnectorConnection.Options
    public var restart: RestartPolicy
    public var events: ConnectorEvents

    public init(appId: String, command: [String], settings: JSONValue = [:], secrets: [String: String] = [:],
                stateDirectory: String? = nil, baseDirectory: String? = nil, passEnvironment: [String] = [],
                options: ConnectorConnection.Options = .init(), restart: RestartPolicy = .init(),
                events: ConnectorEvents = .init()) {
        self.appId = appId
        self.command = command
        self.settings = settings
        self.secrets = secrets
        self.stateDirectory = stateDirectory
        self.baseDirectory = baseDirectory
        self.passEnvironment = passEnvironment
        self.options = options
        self.restart = restart
        self.events = events
    }

    /// The connector's environment: a minimal safe set, never the host's whole environment,
    /// which may hold other apps' secrets (`env:` references).
    public func environment(from host: [String: String] = ProcessInfo.processInfo.environment) -> [String: String] {
        let safe = ["PATH", "HOME", "USER", "LOGNAME", "LANG", "LC_ALL", "LC_CTYPE", "TZ", "TMPDIR",
                    "SSL_CERT_FILE", "SSL_CERT_DIR", "http_proxy", "https_proxy", "no_proxy",
                    "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "STEWARD_CHROMIUM", "STEWARD_LOG"]
        var env: [String: String] = [:]
        for name in safe + passEnvironment { if let v = host[name] { env[name] = v } }
        env[connectorEnvironmentVariable] = ProtocolVersion.current.description
        return env
    }
}

/// How hard the supervisor tries before giving up on a crashing connector.
public struct RestartPolicy: Sendable {
    public var crashBudget = 5
    public var window: Double = 180
    public var initialBackoff: Double = 0.2
    public var maxBackoff: Double = 10

    public init(crashBudget: Int = 5, window: Double = 180, initialBackoff: Double = 0.2, maxBackoff: Double = 10) {
        self.crashBudget = crashBudget
        self.window = window
        self.initialBackoff = initialBackoff
        self.maxBackoff = maxBackoff
    }
}

/// This build's version, reported to connectors and by `steward --version`.
public let stewardVersion = "0.1.0"
