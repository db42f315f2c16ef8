import Foundation
import StewardProtocol

/// A Steward connector: owns the stdio loop so its author writes only the operations.
///
/// ```swift
/// let connector = Connector(name: "acme", version: "1.2.0") { setup in
///     let client = try AcmeClient(settings: setup.settings, token: setup.secret("token"))
///     var h = Handlers()
///     h.listAccounts = { params, _ in try await client.users(cursor: params.cursor) }
///     return h
/// }
/// await connector.run()
/// ```
///
/// `run()` answers requests concurrently, maps thrown errors to protocol errors, honours
/// `cancel`, and keeps stdout for protocol bytes only: anything else printed to stdout (a stray
/// `print`) goes to stderr, the host's log.
public struct Connector: Sendable {
    public let info: PeerInfo
    public let protocolVersion: ProtocolVersion
    let setUp: @Sendable (RequestContext) async throws -> Handlers

    /// - Parameter setUp: runs at `initialize` with the app's settings and secrets and returns
    ///   the handlers; throw a `ConnectorError(.configuration, ...)` for bad settings.
    public init(name: String, version: String, protocolVersion: ProtocolVersion = .current,
                setUp: @escaping @Sendable (RequestContext) async throws -> Handlers) {
        self.info = PeerInfo(name: name, version: version)
        self.protocolVersion = protocolVersion
        self.setUp = setUp
    }

    /// A connector whose handlers do not depend on settings.
    public init(name: String, version: String, handlers: Handlers) {
        self.init(name: name, version: version) { _ in handlers }
    }

    /// Serves stdin/stdout until stdin closes, then exits the process.
    public func run() async -> Never {
        let arguments = CommandLine.arguments.dropFirst()
        if arguments.contains("--version") {
            print("\(info.name) \(info.version) (Steward connector protocol \(protocolVersion))")
            exit(0)
        }
        if arguments.contains("--help") || arguments.contains("-h") || startedByHandFromTerminal() {
            FileHandle.standardError.write(Data(usage().utf8))
            exit(arguments.contains("--help") || arguments.contains("-h") ? 0 : 2)
        }
        signal(SIGPIPE, SIG_IGN)
        // Keep the real stdout for protocol bytes and point fd 1 at stderr, so a stray print
        // lands in the log instead of corrupting the stream.
        let protocolFD = fcntl(1, F_DUPFD_CLOEXEC, 3)
        guard protocolFD >= 0 else {
            FileHandle.standardError.write(Data("\(info.name): cannot duplicate stdout: \(String(cString: strerror(errno)))\n".utf8))
            exit(1)
        }
        dup2(2, 1)
        await serve(input: 0, output: protocolFD, exitAfterEOF: 3)
        fflush(nil)
        _exit(0)
    }

    /// Serves one connection until `input` reaches end of file. Tests call this with pipes.
    public func serve(input: Int32, output: Int32) async {
        await serve(input: input, output: output, exitAfterEOF: nil)
    }

    /// With `exitAfterEOF`, the process ends that many seconds after stdin closes even if a
    /// handler never finishes (a task stuck in a network call, or a runtime deadlock while
    /// cancelling one): the protocol promises a connector exits at end of input.
    func serve(input: Int32, output: Int32, exitAfterEOF: Double?) async {
        let session = Session(connector: self, channel: OutputChannel(fd: output), exitAfterEOF: exitAfterEOF)
        await session.readLoop(input: input)
    }

    private func startedByHandFromTerminal() -> Bool {
        ProcessInfo.processInfo.environment[connectorEnvironmentVariable] == nil && isatty(0) == 1
    }

    private func usage() -> String {
        """
        \(info.name) \(info.version): a Steward connector (protocol \(protocolVersion)).

        It speaks JSON-RPC 2.0, one message per line, on stdin and stdout, and is started by the
        steward host for the app it is configured for; it is not meant to be run by hand.

        To try it:
          steward connector check -- \(CommandLine.arguments.first ?? info.name)
          steward plugins list

        The protocol is documented in docs/connector-protocol.md. To talk to it by hand anyway,
        set \(connectorEnvironmentVariable)=1 and type an initialize request.

        """
    }
}

/// One connection's state: the handlers once initialized, and the requests in flight.
private final class Session: @unchecked Sendable {  // mutable state is guarded by `lock`
    let connector: Connector
    let channel: OutputChannel
    let lock = NSLock()
    var handlers: Handlers?
    var context: RequestContext?
    var inFlight: [RequestID: Task<Void, Never>] = [:]
    var shuttingDown = false
    let exitAfterEOF: Double?

    init(connector: Connector, channel: OutputChannel, exitAfterEOF: Double?) {
        self.connector = connector
        self.channel = channel
        self.exitAfterEOF = exitAfterEOF
    }

    /// Reads requests on a dedicated thread (reads block) and dispatches each to a task.
    func readLoop(input: Int32) async {
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            let thread = Thread { [self] in
                let reader = LineReader(fd: input)
                do {
                    while try reader.nextLine({ line in self.handleLine(line) }) {}
                } catch {
                    FileHandle.standardError.write(Data("\(connector.info.name): stopping: \(error)\n".utf8))
                }
                if let seconds = exitAfterEOF {
                    let watchdog = Thread {
                        Thread.sleep(forTimeInterval: seconds)
                        fflush(nil)
                        _exit(0)
                    }
                    watchdog.start()
                }
                done.resume()
            }
            thread.stackSize = 1 << 20
            thread.start()
        }
        await drainInFlight()
    }

    /// At end of input nobody is waiting for answers any more: cancel what runs, give it a moment.
    private func drainInFlight() async {
        let tasks = lock.withLock { Array(inFlight.values) }
        for task in tasks { task.cancel() }
        let deadline = Date().addingTimeInterval(2)
        while Date() < deadline, !lock.withLock({ inFlight.isEmpty }) {
            try? await Task.sleep(nanoseconds: 10_000_000)
        }
    }

    private func handleLine(_ line: UnsafeBufferPointer<UInt8>) {
        if line.isEmpty { return }
        let message: RPCMessage
        do {
            message = try RPCMessage.decode(line)
        } catch {
            channel.send(.errorResponse(id: error.id, error: error))
            return
        }
        switch message {
        case .request(let id, let method, let params) where method == Method.initialize:
            // Nothing else can be served before the handlers exist: hold the reader until
            // initialize is answered, so requests pipelined behind it see an initialized session.
            let done = DispatchSemaphore(value: 0)
            dispatch(id: id, method: method, params: params) { done.signal() }
            done.wait()
        case .request(let id, let method, let params):
            dispatch(id: id, method: method, params: params)
        case .notification(let method, let params):
            if method == Notification.cancel, let cancel = try? CancelParams(json: params) {
                lock.withLock { inFlight[cancel.id] }?.cancel()
            }
        case .response, .errorResponse:
            break  // the host never sends responses in protocol version 1
        }
    }

    private func dispatch(id: RequestID, method: String, params: JSONValue, whenAnswered: (@Sendable () -> Void)? = nil) {
        // Answer liveness checks inline: they need no task and must not queue behind work.
        if method == Method.ping {
            channel.send(.response(id: id, result: [:]))
            return
        }
        // Register under the lock so the task cannot finish (and deregister) before it is known.
        lock.lock()
        defer { lock.unlock() }
        inFlight[id] = Task { [self] in
            let result: Result<[UInt8], Error>
            do {
                result = .success(try await handle(id: id, method: method, params: params))
            } catch {
                result = .failure(error)
            }
            let wasCancelled = lock.withLock { inFlight.removeValue(forKey: id) }.map { $0.isCancelled } ?? false
            switch result {
            case .success(let bytes):
                channel.sendResult(id: id, resultBytes: bytes)
            case .failure(let error):
                channel.send(.errorResponse(id: id, error: Self.rpcError(for: error, cancelled: wasCancelled, method: method)))
            }
            whenAnswered?()
        }
    }

    /// Runs the handler for `method` and returns the result's JSON bytes. Listings of records
    /// are written directly, without building a `JSONValue`.
    private func handle(id: RequestID, method: String, params rawParams: JSONValue) async throws -> [UInt8] {
        // JSON-RPC lets a request leave out params; that means "no params", an empty object here.
        let params: JSONValue = rawParams.isNull ? [:] : rawParams
        if method == Method.initialize {
            if lock.withLock({ handlers != nil }) {
                throw RPCError(code: .invalidRequest, message: "the connector is already initialized")
            }
            return JSONWriter.bytes(try await initialize(params))
        }
        guard let handlers = lock.withLock({ self.handlers }), let base = lock.withLock({ self.context }) else {
            throw RPCError(code: .invalidRequest, message: "the connector is not initialized: send \"initialize\" first")
        }
        let ctx = RequestContext(appId: base.appId, settings: base.settings, secrets: base.secrets,
                                 stateDirectory: base.stateDirectory, baseDirectory: base.baseDirectory,
                                 requestID: id, channel: channel)
        switch method {
        case Method.shutdown:
            await handlers.shutdown?()
            lock.withLock { shuttingDown = true }
            return Array("{}".utf8)
        case Method.validate:
            guard let h = handlers.validate else { throw methodNotFound(method) }
            return JSONWriter.bytes(try await h(ctx).json)
        case Method.personsList:
            guard let h = handlers.listPersons else { throw methodNotFound(method) }
            return try await h(ListParams(json: params, path: "params"), ctx).encoded()
        case Method.evidenceList:
            guard let h = handlers.listEvidence else { throw methodNotFound(method) }
            return JSONWriter.bytes(try await h(ListParams(json: params, path: "params"), ctx).json)
        case Method.accountsList:
            guard let h = handlers.listAccounts else { throw methodNotFound(method) }
            return try await h(ListParams(json: params, path: "params"), ctx).encoded()
        case Method.accountsGet:
            guard let h = handlers.getAccount else { throw methodNotFound(method) }
            return JSONWriter.bytes(AccountGetResult(account: try await h(AccountGetParams(json: params, path: "params"), ctx)).json)
        case Method.accountsCreate:
            guard let h = handlers.createAccount else { throw methodNotFound(method) }
            return JSONWriter.bytes(try await h(AccountCreateParams(json: params, path: "params"), ctx).json)
        case Method.accountsUpdate:
            guard let h = handlers.updateAccount else { throw methodNotFound(method) }
            return JSONWriter.bytes(try await h(AccountUpdateParams(json: params, path: "params"), ctx).json)
        case Method.accountsDisable, Method.accountsEnable, Method.accountsDelete:
            let h = method == Method.accountsDisable ? handlers.disableAccount
                : method == Method.accountsEnable ? handlers.enableAccount : handlers.deleteAccount
            guard let h else { throw methodNotFound(method) }
            return JSONWriter.bytes(try await h(AccountRefParams(json: params, path: "params"), ctx).json)
        case Method.entitlementsList:
            return try await listEntitlements(handlers, ListParams(json: params, path: "params"), ctx).encoded()
        case Method.grantsList:
            guard let h = handlers.listGrants else { throw methodNotFound(method) }
            return try await h(ListParams(json: params, path: "params"), ctx).encoded()
        case Method.grantsAdd, Method.grantsRemove:
            let p = try GrantChangeParams(json: params, path: "params")
            let adding = method == Method.grantsAdd
            let types = handlers.entitlementTypes.filter { adding ? $0.grant != nil : $0.revoke != nil }
            if types.isEmpty { throw methodNotFound(method) }
            guard let type = types.first(where: { $0.type == p.type }), let h = adding ? type.grant : type.revoke else {
                throw ConnectorError(.invalidArgument, "params.type: this connector cannot \(adding ? "grant" : "revoke") entitlements of type \"\(p.type)\" (it can for: \(types.map(\.type).joined(separator: ", ")))")
            }
            return JSONWriter.bytes(try await h(p, ctx).json)
        case Method.notifySend:
            guard let h = handlers.sendNotification else { throw methodNotFound(method) }
            return JSONWriter.bytes(try await h(NotifyParams(json: params, path: "params"), ctx).json)
        default:
            throw methodNotFound(method)
        }
    }

    private func initialize(_ params: JSONValue) async throws -> JSONValue {
        let p = try InitializeParams(json: params, path: "params")
        let offered = p.protocolVersions.compactMap(ProtocolVersion.init)
        guard let version = ProtocolVersion.negotiate(offered: offered, supported: connector.protocolVersion) else {
            throw ConnectorError(.configuration,
                                 "incompatible protocol versions: the host offers \(p.protocolVersions.joined(separator: ", ")); \(connector.info.name) speaks \(connector.protocolVersion)")
        }
        let ctx = RequestContext(appId: p.appId, settings: p.settings, secrets: p.secrets,
                                 stateDirectory: p.stateDirectory, baseDirectory: p.baseDirectory,
                                 requestID: nil, channel: channel)
        let handlers = try await connector.setUp(ctx)
        lock.withLock {
            self.handlers = handlers
            self.context = ctx
        }
        return InitializeResult(protocolVersion: version.description, connector: connector.info,
                                capabilities: handlers.capabilities).json
    }

    /// Lists one type's entitlements, or walks every listable type with a cursor that remembers
    /// which type it is in.
    private func listEntitlements(_ handlers: Handlers, _ params: ListParams, _ ctx: RequestContext) async throws -> Page<Entitlement> {
        let listable = handlers.entitlementTypes.filter { $0.list != nil }
        if listable.isEmpty { throw methodNotFound(Method.entitlementsList) }
        if let type = params.type {
            guard let h = listable.first(where: { $0.type == type })?.list else {
                throw ConnectorError(.invalidArgument, "params.type: no listable entitlement type \"\(type)\"")
            }
            return try await h(params, ctx)
        }
        var index = 0
        var inner: String?
        if let cursor = params.cursor {
            guard let colon = cursor.firstIndex(of: ":"), let i = Int(cursor[..<colon]), listable.indices.contains(i) else {
                throw ConnectorError(.invalidArgument, "params.cursor: not a cursor this connector issued")
            }
            index = i
            let rest = String(cursor[cursor.index(after: colon)...])
            inner = rest.isEmpty ? nil : rest
        }
        guard let list = listable[index].list else { return Page(items: []) }
        var sub = params
        sub.cursor = inner
        sub.type = nil
        let page = try await list(sub, ctx)
        if let next = page.nextCursor { return Page(items: page.items, nextCursor: "\(index):\(next)") }
        if index + 1 < listable.count { return Page(items: page.items, nextCursor: "\(index + 1):") }
        return Page(items: page.items)
    }

    private func methodNotFound(_ method: String) -> RPCError {
        RPCError(code: .methodNotFound, message: "method \"\(method)\" is not supported by \(connector.info.name)")
    }

    static func rpcError(for error: Error, cancelled: Bool, method: String) -> RPCError {
        if let e = error as? RPCError { return e }
        if let e = error as? ConnectorError { return e.rpcError }
        if cancelled || error is CancellationError {
            return RPCError(code: .cancelled, message: "request cancelled")
        }
        let mutation = Method.mutations.contains(method)
        return ConnectorError(.internal, "\(error)", retryable: false, outcome: mutation ? .unknown : nil).rpcError
    }
}
