import Foundation
import StewardJSON
#if canImport(Glibc)
import Glibc
#endif

/// The DevTools protocol over Chromium's pipe: NUL-framed JSON both ways.
///
/// A dedicated thread reads replies and events and hands each reply to the call waiting for its
/// id, so callers never poll. When the pipe reaches EOF every pending call fails at once.
final class Connection: Sendable {
    private let process: ChromiumProcess
    private let state = Locked(State())
    /// Held while a command is written, so two commands never interleave on the pipe.
    private let writing = Locked(())

    private struct State {
        var nextID = 1
        var pending: [Int: Pending] = [:]
        var sessions: [String: PageSession] = [:]
        var closed: DevToolsError?
        var closing = false
    }

    private struct Pending {
        var sessionID: String?
        var reply: PendingReply
    }

    init(process: ChromiumProcess) {
        self.process = process
        let thread = Thread { [self] in readLoop() }
        thread.name = "DevTools reader"
        thread.stackSize = 1 << 20
        thread.start()
    }

    /// Sends a command and waits for its reply (the `result` member).
    func send(_ method: String, _ params: JSONValue = [:], session: String? = nil, timeout: Duration) async throws -> JSONValue {
        try await reply(to: enqueue(method, params, session: session), timeout: timeout)
    }

    /// Writes a command now and returns its reply-to-be, so several commands can be written in
    /// order before any reply is awaited.
    func enqueue(_ method: String, _ params: JSONValue = [:], session: String? = nil) -> PendingReply {
        let (reply, refused) = state.withLock { state -> (PendingReply, DevToolsError?) in
            let reply = PendingReply(id: state.nextID, method: method)
            state.nextID += 1
            if let closed = state.closed { return (reply, closed) }
            state.pending[reply.id] = Pending(sessionID: session, reply: reply)
            return (reply, nil)
        }
        if let refused {
            reply.resolve(.failure(refused))
        } else if let error = write(id: reply.id, method: method, params: params, session: session) {
            finish(reply.id, with: .failure(error))
        }
        return reply
    }

    /// Waits for the reply of an enqueued command, failing it after `timeout` or on cancellation.
    func reply(to pending: PendingReply, timeout: Duration) async throws -> JSONValue {
        let id = pending.id
        let method = pending.method
        let seconds = timeout.seconds
        // Fires even after the reply came; finding no pending call, it does nothing.
        DispatchQueue.global().asyncAfter(deadline: .now() + seconds) { [weak self] in
            self?.finish(id, with: .failure(DevToolsError.timeout(method: method, seconds: seconds)))
        }
        return try await withTaskCancellationHandler {
            try await pending.value()
        } onCancel: {
            finish(id, with: .failure(CancellationError()))
        }
    }

    /// Sends a command whose reply nobody waits for (dialog answers sent from the reader side).
    func post(_ method: String, _ params: JSONValue, session: String?) {
        let id = state.withLock { state -> Int? in
            guard state.closed == nil else { return nil }
            defer { state.nextID += 1 }
            state.pending[state.nextID] = Pending(sessionID: session, reply: PendingReply(id: state.nextID, method: method))
            return state.nextID
        }
        guard let id else { return }
        DispatchQueue.global().async { [self] in
            _ = write(id: id, method: method, params: params, session: session)
        }
    }

    func register(session id: String, _ sink: PageSession) {
        state.withLock { $0.sessions[id] = sink }
    }

    /// Fails the calls pending on one session (its renderer crashed or it was detached).
    func failSession(_ id: String, with error: DevToolsError) {
        let (sink, replies) = state.withLock { state -> (PageSession?, [PendingReply]) in
            let sink = state.sessions.removeValue(forKey: id)
            var failed: [PendingReply] = []
            for (key, pending) in state.pending where pending.sessionID == id {
                state.pending[key] = nil
                failed.append(pending.reply)
            }
            return (sink, failed)
        }
        replies.forEach { $0.resolve(.failure(error)) }
        sink?.fail(error)
    }

    var closedError: DevToolsError? { state.withLock { $0.closed } }

    /// Marks the coming EOF as our own doing, so errors say "closed" rather than "crashed".
    func markClosing() { state.withLock { $0.closing = true } }

    /// Closes the command pipe (once a write in progress returns); Chromium exits when it sees
    /// EOF on fd 3. Idempotent.
    func closeWriter() {
        process.commandPipe.close()
    }

    // MARK: Writing

    private func write(id: Int, method: String, params: JSONValue, session: String?) -> DevToolsError? {
        var message = JSONObjectBuilder(capacity: 4)
        message.set("id", id)
        message.set("method", method)
        message.set("params", params)
        message.set("sessionId", session)
        var bytes = JSONWriter.bytes(message.value)
        bytes.append(0)
        // nil: the pipe is closed; .some(nil): every byte went out.
        let outcome: DevToolsError?? = writing.withLock { _ in
            process.commandPipe.withDescriptor { fd in Connection.writeAll(bytes, to: fd, method: method) }
        }
        switch outcome {
        case .none: return closedError ?? .browserClosed("the browser was closed")
        case .some(let failure): return failure
        }
    }

    /// Writes every byte of `bytes`; the error when the pipe fails.
    private static func writeAll(_ bytes: [UInt8], to fd: Int32, method: String) -> DevToolsError? {
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeBytes { raw -> Int in
                guard let base = raw.baseAddress else { return 0 }
                return Glibc.write(fd, base + offset, raw.count - offset)
            }
            if written > 0 {
                offset += written
            } else if written < 0, errno == EINTR {
                continue
            } else {
                return DevToolsError.browserClosed("writing \(method) failed: \(errnoText())")
            }
        }
        return nil
    }

    // MARK: Reading

    private func finish(_ id: Int, with result: Result<JSONValue, any Error>) {
        let pending = state.withLock { $0.pending.removeValue(forKey: id) }
        pending?.reply.resolve(result)
    }

    /// The reader thread is the event pipe's only user: it holds the descriptor until end of
    /// file, then closes it.
    private func readLoop() {
        _ = process.eventPipe.withDescriptor { fd in
            let reader = NULFramedReader(fd: fd)
            while true {
                let more = reader.next { bytes in
                    guard let message = try? JSONParser.parse(bytes) else { return }
                    dispatch(message)
                }
                if !more { break }
            }
        }
        process.eventPipe.close()
        shutDown()
    }

    private func dispatch(_ message: JSONValue) {
        if let id = message["id"].intValue {
            guard let reply = state.withLock({ $0.pending.removeValue(forKey: id) })?.reply else { return }
            let error = message["error"]
            if error.isNull {
                reply.resolve(.success(message["result"]))
            } else {
                reply.resolve(.failure(DevToolsError.protocolError(
                    method: reply.method, code: error["code"].intValue ?? 0,
                    message: error["message"].stringValue ?? "unknown error")))
            }
            return
        }
        guard let method = message["method"].stringValue else { return }
        let event = CDPEvent(method: method, params: message["params"], sessionID: message["sessionId"].stringValue)
        if let sessionID = event.sessionID {
            let sink = state.withLock { $0.sessions[sessionID] }
            sink?.handle(event)
        } else if method == "Target.detachedFromTarget", let sessionID = event.params["sessionId"].stringValue {
            let ours = state.withLock { $0.sessions[sessionID] }?.isClosing ?? false
            failSession(sessionID, with: ours ? PageSession.closedByUs : .pageClosed("the tab was closed or detached"))
        }
    }

    /// EOF on fd 4: the browser is gone. Fails every pending call and every session at once.
    private func shutDown() {
        let closing = state.withLock { $0.closing }
        var exit = process.exitDescription
        if exit == nil, !closing {
            // The pipe closes while the process is still being torn down; give it a moment.
            for _ in 0..<50 where exit == nil {
                usleep(2_000)
                exit = process.exitDescription
            }
        }
        let reason: DevToolsError
        if closing {
            reason = .browserClosed("the browser was closed")
        } else {
            let tail = process.logTail()
            reason = .browserClosed("Chromium (pid \(process.pid)) closed the DevTools pipe"
                + (exit.map { " and \($0)" } ?? "") + (tail.isEmpty ? "" : "; its last output: \(tail)"))
        }
        let (replies, sinks) = state.withLock { state -> ([PendingReply], [PageSession]) in
            state.closed = reason
            let replies = state.pending.values.map(\.reply)
            let sinks = Array(state.sessions.values)
            state.pending.removeAll()
            state.sessions.removeAll()
            return (replies, sinks)
        }
        replies.forEach { $0.resolve(.failure(reason)) }
        sinks.forEach { $0.fail(reason) }
        if !closing {
            // Nobody asked for this: make sure no helper of the dead browser lingers.
            closeWriter()
            process.terminate(grace: .zero)
        }
    }
}

/// The reply of a command already written to the pipe: delivered once, awaited at most once.
final class PendingReply: Sendable {
    let id: Int
    let method: String
    private let slot = Locked(Slot())

    private struct Slot {
        var result: Result<JSONValue, any Error>?
        var continuation: CheckedContinuation<JSONValue, any Error>?
    }

    init(id: Int, method: String) {
        self.id = id
        self.method = method
    }

    func resolve(_ result: Result<JSONValue, any Error>) {
        let waiting = slot.withLock { slot -> CheckedContinuation<JSONValue, any Error>? in
            guard slot.result == nil else { return nil }
            slot.result = result
            defer { slot.continuation = nil }
            return slot.continuation
        }
        waiting?.resume(with: result)
    }

    func value() async throws -> JSONValue {
        try await withCheckedThrowingContinuation { continuation in
            let ready = slot.withLock { slot -> Result<JSONValue, any Error>? in
                if slot.result == nil { slot.continuation = continuation }
                return slot.result
            }
            if let ready { continuation.resume(with: ready) }
        }
    }
}

/// One DevTools message Chromium sent without being asked.
struct CDPEvent: Sendable {
    var method: String
    var params: JSONValue
    var sessionID: String?
}

/// Splits a byte stream into NUL-terminated messages, however the reads fall.
///
/// Owned by the reader thread alone. Messages can be tens of megabytes (screenshots), so the
/// buffer grows as needed and only new bytes are scanned for the terminator.
final class NULFramedReader {
    private let fd: Int32
    private var buffer: UnsafeMutableRawBufferPointer
    private var start = 0
    private var end = 0
    private var scanned = 0

    init(fd: Int32, initialCapacity: Int = 256 * 1024) {
        self.fd = fd
        buffer = .allocate(byteCount: initialCapacity, alignment: 1)
    }

    deinit { buffer.deallocate() }

    /// Calls `body` with the next message (without its NUL). Returns false at EOF or on error.
    func next(_ body: (UnsafeBufferPointer<UInt8>) -> Void) -> Bool {
        while true {
            guard let base = buffer.baseAddress else { return false }
            if scanned < end, let found = memchr(base + scanned, 0, end - scanned) {
                let terminator = base.distance(to: found)
                let message = UnsafeBufferPointer(start: (base + start).assumingMemoryBound(to: UInt8.self), count: terminator - start)
                start = terminator + 1
                scanned = start
                body(message)
                return true
            }
            scanned = end
            makeRoom()
            guard let base = buffer.baseAddress else { return false }
            let count = read(fd, base + end, buffer.count - end)
            if count > 0 {
                end += count
            } else if count == 0 || errno != EINTR {
                return false
            }
        }
    }

    /// Moves the unfinished message to the front, growing the buffer when it is full.
    private func makeRoom() {
        if start == end {
            start = 0
            end = 0
            scanned = 0
        }
        guard end == buffer.count else { return }
        let used = end - start
        if start > 0, used < buffer.count / 2, let base = buffer.baseAddress {
            memmove(base, base + start, used)
        } else {
            let bigger = UnsafeMutableRawBufferPointer.allocate(byteCount: buffer.count * 2, alignment: 1)
            if let from = buffer.baseAddress, let to = bigger.baseAddress { memcpy(to, from + start, used) }
            buffer.deallocate()
            buffer = bigger
        }
        scanned -= start
        end = used
        start = 0
    }
}

extension Duration {
    var seconds: Double {
        let (whole, fraction) = components
        return Double(whole) + Double(fraction) / 1e18
    }
}
