import Dispatch
import Foundation
import StewardProtocol

/// One running connector process and the JSON-RPC client talking to it.
///
/// It never trusts the connector: a non-JSON or over-long line, an exit, or a request left
/// unanswered past its timeout (and past the cancel that follows) ends this connection and fails
/// its in-flight requests with a clear reason, and nothing else. Restarting is the
/// `SupervisedConnector`'s job.
public final class ConnectorConnection: @unchecked Sendable {  // mutable state is guarded by `lock`
    public struct Options: Sendable {
        public var requestTimeout: Double = 120
        public var maxInFlight: Int = 32
        /// How long a timed-out request may stay unanswered after `cancel` before the
        /// connector is considered hung and killed.
        public var hangGrace: Double = 5
        public var maxLineBytes: Int = StewardProtocol.maxLineBytes

        public init() {}
    }

    public let appId: String
    public let child: ChildProcess
    let options: Options
    let events: ConnectorEvents

    private let lock = NSLock()
    private var nextID = 1
    private var pending: [Int: Pending] = [:]
    private var abandoned: Set<Int> = []
    private var failure: ConnectorFailure.Reason?
    private var exitStatus: ChildProcess.ExitStatus?
    private var stopping = false
    private var recentStderr: [String] = []

    private var writeBuffer: [UInt8] = []
    private var writerScheduled = false
    private let writeQueue: DispatchQueue
    private let slots: AsyncSemaphore
    private let exited = DispatchSemaphore(value: 0)
    private let readerDone = DispatchSemaphore(value: 0)

    /// Called once when the connection dies without `stop()` having been asked for.
    private let onUnexpectedClose: @Sendable (String) -> Void

    private struct Pending {
        let continuation: CheckedContinuation<[UInt8], Error>
        let method: String
    }

    public init(appId: String, child: ChildProcess, options: Options, events: ConnectorEvents,
                onUnexpectedClose: @escaping @Sendable (String) -> Void = { _ in }) {
        self.appId = appId
        self.child = child
        self.options = options
        self.events = events
        self.onUnexpectedClose = onUnexpectedClose
        self.writeQueue = DispatchQueue(label: "steward.connector.\(appId).write")
        self.slots = AsyncSemaphore(options.maxInFlight)
        _ = child.input.withDescriptor { fcntl($0, F_SETFL, fcntl($0, F_GETFL) | O_NONBLOCK) }
        startThreads()
    }

    /// Whether the connection is still usable.
    public var isAlive: Bool { lock.withLock { failure == nil } }

    /// Why the connection ended, if it has.
    public var closeReason: ConnectorFailure.Reason? { lock.withLock { failure } }

    // MARK: Calls

    /// Sends a request and waits for its answer. Task cancellation sends `cancel` and still
    /// waits for the connector's answer (it may report that a write went through).
    public func call(_ method: String, params: JSONValue, timeout: Double? = nil) async throws -> JSONValue {
        let bytes = try await callRaw(method, params: params, timeout: timeout)
        do {
            return try JSONParser.parse(bytes)
        } catch {
            throw ConnectorFailure(appId: appId, method: method, reason: .protocolViolation("the result is not valid JSON: \(error)"),
                                   answerLost: true)
        }
    }

    /// Like `call`, but returns the result's raw JSON bytes for a typed fast decoder.
    public func callRaw(_ method: String, params: JSONValue, timeout: Double? = nil) async throws -> [UInt8] {
        try await slots.acquire()
        defer { slots.release() }
        let box = IDBox()
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<[UInt8], Error>) in
                lock.lock()
                if let failure {
                    lock.unlock()
                    continuation.resume(throwing: ConnectorFailure(appId: appId, method: method, reason: failure))
                    return
                }
                let id = nextID
                nextID += 1
                pending[id] = Pending(continuation: continuation, method: method)
                enqueueLocked(.request(id: .int(id), method: method, params: params))
                lock.unlock()
                box.set(id)
                let seconds = timeout ?? options.requestTimeout
                DispatchQueue.global().asyncAfter(deadline: .now() + seconds) { [weak self] in
                    self?.timeOut(id: id, after: seconds)
                }
            }
        } onCancel: {
            if let id = box.get() { self.notify(Notification.cancel, params: CancelParams(id: .int(id)).json) }
        }
    }

    /// Sends a notification; silently dropped once the connection is closed.
    public func notify(_ method: String, params: JSONValue) {
        lock.withLock {
            guard failure == nil else { return }
            enqueueLocked(.notification(method: method, params: params))
        }
    }

    /// Writes raw bytes to the connector's stdin (conformance checks send malformed input).
    public func sendRaw(_ bytes: [UInt8]) {
        lock.withLock {
            guard failure == nil else { return }
            writeBuffer.append(contentsOf: bytes)
            scheduleWriterLocked()
        }
    }

    private func timeOut(id: Int, after seconds: Double) {
        lock.lock()
        guard let p = pending.removeValue(forKey: id) else {
            lock.unlock()
            return
        }
        abandoned.insert(id)
        lock.unlock()
        p.continuation.resume(throwing: ConnectorFailure(appId: appId, method: p.method, reason: .timedOut(seconds: seconds)))
        notify(Notification.cancel, params: CancelParams(id: .int(id)).json)
        DispatchQueue.global().asyncAfter(deadline: .now() + options.hangGrace) { [weak self] in
            guard let self else { return }
            let stillSilent = self.lock.withLock { self.abandoned.contains(id) }
            if stillSilent {
                self.terminate(.crashed("connector hung: no answer to \(p.method) within \(formatSeconds(seconds)), nor \(formatSeconds(self.options.hangGrace)) after cancel; killed it"))
            }
        }
    }

    // MARK: Writing

    private func enqueueLocked(_ message: RPCMessage) {
        message.encode(into: &writeBuffer)
        writeBuffer.append(0x0A)
        scheduleWriterLocked()
    }

    /// Writes what is queued. The first attempt happens right here (the pipe is non-blocking,
    /// so it never waits); whatever the pipe cannot take now goes to a writer on a queue of its
    /// own, so a connector that stops reading blocks nobody but that writer.
    private func scheduleWriterLocked() {
        guard !writerScheduled, !writeBuffer.isEmpty else { return }
        let attempt = writeBuffer.withUnsafeBytes { writeInput($0) }
        if attempt.written == writeBuffer.count {
            writeBuffer.removeAll(keepingCapacity: true)
            return
        }
        if attempt.mustStop {
            writeBuffer.removeAll()  // the connector is gone; the reader will report how
            return
        }
        let written = attempt.written
        if written > 0 { writeBuffer.removeFirst(written) }
        writerScheduled = true
        writeQueue.async { [self] in drainWrites() }
    }

    private func drainWrites() {
        var chunk: [UInt8] = []
        var offset = 0
        while true {
            if offset == chunk.count {
                chunk = lock.withLock {
                    let c = writeBuffer
                    writeBuffer.removeAll(keepingCapacity: true)
                    if c.isEmpty { writerScheduled = false }
                    return c
                }
                offset = 0
                if chunk.isEmpty { return }
            }
            let attempt = chunk.withUnsafeBytes { writeInput(UnsafeRawBufferPointer(rebasing: $0[offset...])) }
            if attempt.written > 0 {
                offset += attempt.written
            } else if !attempt.mustStop {
                _ = child.input.withDescriptor { fd in
                    var pfd = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
                    return poll(&pfd, 1, 1000)
                }
            } else {
                lock.withLock {
                    writeBuffer.removeAll()
                    writerScheduled = false
                }
                return
            }
        }
    }

    /// What one `write` to the connector's stdin did.
    private struct WriteAttempt {
        /// Bytes written; 0 or less when none were.
        var written: Int
        /// Nothing more can be written: stdin is closed, or the pipe failed (not EAGAIN/EINTR).
        var mustStop: Bool
    }

    private func writeInput(_ bytes: UnsafeRawBufferPointer) -> WriteAttempt {
        child.input.withDescriptor { fd in
            let n = write(fd, bytes.baseAddress, bytes.count)
            return WriteAttempt(written: n, mustStop: n < 0 && errno != EAGAIN && errno != EINTR)
        } ?? WriteAttempt(written: 0, mustStop: true)
    }

    // MARK: Reading

    private func startThreads() {
        let stdoutThread = Thread { [self] in readStdout() }
        stdoutThread.name = "connector-\(appId)-stdout"
        stdoutThread.start()
        let stderrThread = Thread { [self] in readStderr() }
        stderrThread.name = "connector-\(appId)-stderr"
        stderrThread.start()
        let reaper = Thread { [self] in reap() }
        reaper.name = "connector-\(appId)-reaper"
        reaper.start()
    }

    private func readStdout() {
        // This thread is stdout's only reader: it holds the descriptor until end of file, then
        // closes it.
        _ = child.output.withDescriptor { readMessages(from: $0) }
        child.output.close()
        connectionEnded()
        readerDone.signal()
    }

    private func readMessages(from fd: Int32) {
        let reader = LineReader(fd: fd, maxLine: options.maxLineBytes)
        do {
            while try reader.nextLine({ line in try handleLine(line) }) {
                if !isAlive { break }
            }
        } catch let e as LineReader.Failure {
            switch e {
            case .lineTooLong(let limit):
                terminate(.protocolViolation("the connector wrote a line longer than \(limit / (1024 * 1024)) MiB on stdout; killed it"))
            case .readFailed:
                terminate(.crashed("reading the connector's stdout failed: \(e)"))
            }
        } catch let e as ProtocolViolation {
            terminate(.protocolViolation(e.message))
        } catch {
            terminate(.protocolViolation("\(error)"))
        }
    }

    private struct ProtocolViolation: Error { let message: String }

    private func handleLine(_ line: UnsafeBufferPointer<UInt8>) throws {
        if line.isEmpty { return }
        let envelope: Envelope
        do {
            envelope = try Envelope.scan(line)
        } catch {
            throw ProtocolViolation(message: "the connector wrote something that is not a JSON-RPC message on stdout (\(error)): \(quote(line)); stdout is for protocol messages only, logs go to stderr")
        }
        switch envelope {
        case .result(let id, let bytes):
            resolve(id, .success(bytes)) { .response(id: id, result: (try? JSONParser.parse(bytes)) ?? .null) }
        case .error(let id, let error):
            guard let id else {
                if let unmatched = events.unmatchedResponse {
                    unmatched(.errorResponse(id: nil, error: error))
                } else {
                    events.log(LogRecord(appId: appId, level: .warning, message: "the connector could not read a message from the host: \(error.message)"))
                }
                return
            }
            resolve(id, .failure(error)) { .errorResponse(id: id, error: error) }
        case .notification(let method, let params):
            handleNotification(method, params)
        case .request(let id, let method):
            // Protocol version 1 has no connector-to-host requests.
            lock.withLock {
                enqueueLocked(.errorResponse(id: id, error: RPCError(code: .methodNotFound, message: "the host serves no method \"\(method)\"")))
            }
        }
    }

    private func resolve(_ id: RequestID, _ result: Result<[UInt8], RPCError>, message: () -> RPCMessage) {
        guard case .int(let n) = id else {
            events.unmatchedResponse?(message())
            return
        }
        lock.lock()
        let p = pending.removeValue(forKey: n)
        let wasAbandoned = p == nil && abandoned.remove(n) != nil
        lock.unlock()
        guard let p else {
            if let unmatched = events.unmatchedResponse, !wasAbandoned {
                unmatched(message())
            } else if !wasAbandoned {
                events.log(LogRecord(appId: appId, level: .warning, message: "the connector answered request \(n), which is not pending"))
            }
            return
        }
        switch result {
        case .success(let value):
            p.continuation.resume(returning: value)
        case .failure(let error):
            let reason: ConnectorFailure.Reason
            if let e = ConnectorError(rpcError: error) {
                reason = .connector(e)
            } else if error.code == RPCError.Code.cancelled.rawValue {
                reason = .cancelled
            } else {
                reason = .rpc(error)
            }
            p.continuation.resume(throwing: ConnectorFailure(appId: appId, method: p.method, reason: reason))
        }
    }

    private func handleNotification(_ method: String, _ params: JSONValue) {
        switch method {
        case Notification.log:
            if let p = try? LogParams(json: params) {
                events.log(LogRecord(appId: appId, level: p.level, message: p.message, code: p.code, data: p.data))
            }
        case Notification.progress:
            if let p = try? ProgressParams(json: params) { events.progress(appId, p) }
        case Notification.rateLimit:
            if let p = try? RateLimitParams(json: params) { events.rateLimit(appId, p) }
        default:
            break  // unknown notifications are ignored, so later minors can add some
        }
    }

    /// This thread is stderr's only reader: it holds the descriptor until end of file, then
    /// closes it.
    private func readStderr() {
        _ = child.errorOutput.withDescriptor { readLog(from: $0) }
        child.errorOutput.close()
    }

    private func readLog(from fd: Int32) {
        let reader = LineReader(fd: fd, maxLine: 1 << 20)
        while true {
            do {
                let more = try reader.nextLine { line in
                    let text = String(decoding: line, as: UTF8.self)
                    lock.withLock {
                        recentStderr.append(String(text.prefix(300)))
                        if recentStderr.count > 3 { recentStderr.removeFirst() }
                    }
                    events.log(LogRecord(appId: appId, level: .info, message: text, fromStderr: true))
                }
                if !more { break }
            } catch {
                events.log(LogRecord(appId: appId, level: .warning, message: "stderr: \(error)"))
                break
            }
        }
    }

    private func reap() {
        var status: Int32 = 0
        while waitpid(child.pid, &status, 0) < 0 && errno == EINTR {}
        // Whatever the connector started in its group goes with it.
        child.signalGroup(SIGKILL)
        lock.withLock { exitStatus = ChildProcess.ExitStatus(raw: status) }
        exited.signal()
    }

    /// Stdout is closed: the process is gone or going. Wait briefly for its status so the error
    /// can say how it ended, then tell the supervisor once, unless we were stopping it.
    private func connectionEnded() {
        if exited.wait(timeout: .now() + 1) == .timedOut {
            child.signalGroup(SIGKILL)
            exited.wait()
        }
        exited.signal()  // keep it signalled for later waiters
        let (status, stderrTail, wasStopping) = lock.withLock { (exitStatus, recentStderr, stopping) }
        var message = "the connector \(status?.description ?? "ended")"
        if !stderrTail.isEmpty { message += "; its last stderr: \(stderrTail.joined(separator: " | "))" }
        terminate(.crashed(message), kill: false)
        closeInput()
        guard !wasStopping, let reason = closeReason else { return }
        switch reason {
        case .crashed(let m), .protocolViolation(let m), .unavailable(let m): onUnexpectedClose(m)
        default: onUnexpectedClose(message)
        }
    }

    /// Ends the connection with `reason` unless it has ended already: fails every request in
    /// flight and, with `kill`, kills the process group (the reader then sees end of file).
    func terminate(_ reason: ConnectorFailure.Reason, kill: Bool = true) {
        lock.lock()
        if failure == nil { failure = reason }
        let failed = pending
        let finalReason = failure ?? reason
        pending.removeAll()
        abandoned.removeAll()
        lock.unlock()
        if kill { child.signalGroup(SIGKILL) }
        // These requests were sent and will never be answered: whatever the connection died
        // of, a write among them may have gone through.
        for (_, p) in failed {
            p.continuation.resume(throwing: ConnectorFailure(appId: appId, method: p.method, reason: finalReason, answerLost: true))
        }
    }

    // MARK: Stopping

    /// Stops the connector politely, then less so: `shutdown`, close stdin, SIGTERM, SIGKILL,
    /// each after `grace` seconds. Returns once the process is reaped.
    public func stop(grace: Double = 3) async {
        lock.withLock { stopping = true }
        if isAlive {
            _ = try? await call(Method.shutdown, params: [:], timeout: grace)
        }
        closeInput()
        if await waitForExit(grace) == false {
            child.signalGroup(SIGTERM)
            if await waitForExit(grace) == false {
                child.signalGroup(SIGKILL)
                _ = await waitForExit(30)
            }
        }
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            DispatchQueue.global().async { [readerDone] in
                readerDone.wait()
                readerDone.signal()
                c.resume()
            }
        }
        terminate(.unavailable("the connector was stopped"), kill: false)
    }

    /// Kills the connector at once (no shutdown request) and waits until it is reaped.
    public func kill() async {
        lock.withLock { stopping = true }
        child.signalGroup(SIGKILL)
        closeInput()
        _ = await waitForExit(30)
        terminate(.unavailable("the connector was killed"), kill: false)
    }

    /// Closes the connector's stdin after whatever the writer queue still holds: end of input
    /// is the protocol's last word. Idempotent (the descriptor's owner closes it once).
    func closeInput() {
        writeQueue.async { [child] in child.input.close() }
    }

    func waitForExit(_ seconds: Double) async -> Bool {
        await withCheckedContinuation { (c: CheckedContinuation<Bool, Never>) in
            DispatchQueue.global().async { [exited] in
                let ok = exited.wait(timeout: .now() + seconds) == .success
                if ok { exited.signal() }
                c.resume(returning: ok)
            }
        }
    }

    /// How the process ended, once it has.
    public var exit: ChildProcess.ExitStatus? { lock.withLock { exitStatus } }
}

/// Where a connection sends what the connector tells the host besides answers.
public struct ConnectorEvents: Sendable {
    public var log: @Sendable (LogRecord) -> Void
    public var progress: @Sendable (String, ProgressParams) -> Void
    public var rateLimit: @Sendable (String, RateLimitParams) -> Void
    /// Answers to no pending request (conformance checks send raw, malformed requests).
    public var unmatchedResponse: (@Sendable (RPCMessage) -> Void)?
    /// A connector (by app id) stopped unexpectedly and will be restarted on next use.
    public var crashed: @Sendable (String) -> Void = { _ in }

    public init(log: @escaping @Sendable (LogRecord) -> Void = HostLog.standardError,
                progress: @escaping @Sendable (String, ProgressParams) -> Void = { _, _ in },
                rateLimit: @escaping @Sendable (String, RateLimitParams) -> Void = { _, _ in },
                unmatchedResponse: (@Sendable (RPCMessage) -> Void)? = nil) {
        self.log = log
        self.progress = progress
        self.rateLimit = rateLimit
        self.unmatchedResponse = unmatchedResponse
    }
}

/// A line for the host's log, tagged with the app it came from.
public struct LogRecord: Sendable {
    public var appId: String
    public var level: LogParams.Level
    public var message: String
    /// True for free text the connector wrote to stderr.
    public var fromStderr: Bool
    /// The log notification's stable code and facts, when it had them.
    public var code: String?
    public var data: JSONValue?

    public init(appId: String, level: LogParams.Level, message: String, fromStderr: Bool = false, code: String? = nil, data: JSONValue? = nil) {
        self.appId = appId
        self.level = level
        self.message = message
        self.fromStderr = fromStderr
        self.code = code
        self.data = data
    }
}

/// The host's log: stderr, one line per record, `[app] level: message`.
public enum HostLog {
    /// The least severe level written; `STEWARD_LOG=debug|info|warning|error` sets it.
    public static let threshold: LogParams.Level =
        ProcessInfo.processInfo.environment["STEWARD_LOG"].flatMap(LogParams.Level.init(rawValue:)) ?? .warning

    public static let standardError: @Sendable (LogRecord) -> Void = { record in
        let level: LogParams.Level = record.fromStderr ? .info : record.level
        guard level >= threshold else { return }
        let line = record.fromStderr ? "[\(record.appId)] \(record.message)\n" : "[\(record.appId)] \(record.level.rawValue): \(record.message)\n"
        FileHandle.standardError.write(Data(line.utf8))
    }
}

/// Quotes at most 200 characters of a line for an error message.
func quote(_ line: UnsafeBufferPointer<UInt8>) -> String {
    let text = String(decoding: UnsafeBufferPointer(rebasing: line.prefix(200)), as: UTF8.self)
    var escaped = ""
    for ch in text.unicodeScalars {
        switch ch {
        case "\"": escaped += "\\\""
        case "\\": escaped += "\\\\"
        case _ where ch.value < 0x20: escaped += "\\u{\(String(ch.value, radix: 16))}"
        default: escaped.unicodeScalars.append(ch)
        }
    }
    return "\"" + escaped + (line.count > 200 ? "…\" (\(line.count) bytes)" : "\"")
}

/// A request id set once from inside a continuation and read by a cancellation handler.
private final class IDBox: @unchecked Sendable {  // the value is guarded by `lock`
    private let lock = NSLock()
    private var id: Int?
    func set(_ value: Int) { lock.withLock { id = value } }
    func get() -> Int? { lock.withLock { id } }
}

/// Limits how many requests a connection has in flight; waiters are served in order.
final class AsyncSemaphore: @unchecked Sendable {  // state is guarded by `lock`
    private let lock = NSLock()
    private var available: Int
    private var waiters: [CheckedContinuation<Void, Never>] = []

    init(_ count: Int) { available = max(1, count) }

    func acquire() async throws {
        if tryAcquire() { return }
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            enqueueOrResume(c)
        }
    }

    private func tryAcquire() -> Bool {
        lock.withLock {
            guard available > 0 else { return false }
            available -= 1
            return true
        }
    }

    private func enqueueOrResume(_ c: CheckedContinuation<Void, Never>) {
        let acquired: Bool = lock.withLock {
            if available > 0 {
                available -= 1
                return true
            }
            waiters.append(c)
            return false
        }
        if acquired { c.resume() }
    }

    func release() {
        let next: CheckedContinuation<Void, Never>? = lock.withLock {
            if waiters.isEmpty {
                available += 1
                return nil
            }
            return waiters.removeFirst()
        }
        next?.resume()
    }
}

/// A message from a connector with its result left as raw bytes: the reader thread only checks
/// the structure and finds the id, and the caller decodes the result into its type.
enum Envelope {
    case result(id: RequestID, bytes: [UInt8])
    case error(id: RequestID?, RPCError)
    case notification(method: String, params: JSONValue)
    case request(id: RequestID, method: String)

    struct Invalid: Error, CustomStringConvertible {
        let description: String
    }

    static func scan(_ line: UnsafeBufferPointer<UInt8>) throws -> Envelope {
        var s = JSONScanner(line)
        var version: String?
        var id: JSONValue?
        var method: String?
        var params: JSONValue = .null
        var result: Range<Int>?
        var error: JSONValue?
        guard s.peek() == UInt8(ascii: "{") else { throw Invalid(description: "a message must be a JSON object") }
        try s.forEachMember { s, key in
            if key.equals("jsonrpc") {
                version = try s.readOptionalString()
            } else if key.equals("id") {
                id = try s.readValue()
            } else if key.equals("result") {
                s.skipWhitespace()
                let start = s.index
                try s.skipValue()
                result = start..<s.index
            } else if key.equals("error") {
                error = try s.readValue()
            } else if key.equals("method") {
                method = try s.readString()
            } else if key.equals("params") {
                params = try s.readValue()
            } else {
                try s.skipValue()
            }
        }
        guard s.atEnd() else { throw Invalid(description: "unexpected data after the message") }
        guard version == "2.0" else { throw Invalid(description: "\"jsonrpc\" must be \"2.0\"") }
        let requestID = id.flatMap(RequestID.init(json:))
        if let method {
            if let requestID { return .request(id: requestID, method: method) }
            return .notification(method: method, params: params)
        }
        if let error {
            do {
                return .error(id: requestID, try RPCError(json: error))
            } catch {
                throw Invalid(description: "malformed \"error\" object")
            }
        }
        if let result, let requestID {
            return .result(id: requestID, bytes: Array(UnsafeBufferPointer(rebasing: line[result])))
        }
        throw Invalid(description: "a message needs \"method\", \"result\" with an \"id\", or \"error\"")
    }
}
