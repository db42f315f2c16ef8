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
    private let writer: Locked<Int32>

    private struct State {
        var nextID = 1
        var pending: [Int: Pending] = [:]
        var sessions: [String: PageSession] = [:]
        var closed: DevToolsError?
        var closing = false
    }

    private struct Pending {
        var method: String
        var sessionID: String?
        var continuation: CheckedContinuation<JSONValue, any Error>?
    }

    init(process: ChromiumProcess) {
        self.process = process
        self.writer = Locked(process.commandFD)
        let thread = Thread { [self] in readLoop() }
        thread.name = "DevTools reader"
        thread.stackSize = 1 << 20
        thread.start()
    }

    /// Sends a command and waits for its reply (the `result` member).
    func send(_ method: String, _ params: JSONValue = [:], session: String? = nil, timeout: Duration) async throws -> JSONValue {
        let id = state.withLock { state -> Int in
            defer { state.nextID += 1 }
            return state.nextID
        }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                let refused = state.withLock { state -> DevToolsError? in
                    if let closed = state.closed { return closed }
                    state.pending[id] = Pending(method: method, sessionID: session, continuation: continuation)
                    return nil
                }
                if let refused { return continuation.resume(throwing: refused) }
                if Task.isCancelled { return finish(id, with: .failure(CancellationError())) }
                let seconds = timeout.seconds
                DispatchQueue.global().asyncAfter(deadline: .now() + seconds) { [weak self] in
                    self?.finish(id, with: .failure(DevToolsError.timeout(method: method, seconds: seconds)))
                }
                if let error = write(id: id, method: method, params: params, session: session) {
                    finish(id, with: .failure(error))
                }
            }
        } onCancel: {
            finish(id, with: .failure(CancellationError()))
        }
    }

    /// Sends a command whose reply nobody waits for (dialog answers sent from the reader side).
    func post(_ method: String, _ params: JSONValue, session: String?) {
        let id = state.withLock { state -> Int? in
            guard state.closed == nil else { return nil }
            defer { state.nextID += 1 }
            state.pending[state.nextID] = Pending(method: method, sessionID: session, continuation: nil)
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

    func unregister(session id: String) {
        state.withLock { _ = $0.sessions.removeValue(forKey: id) }
    }

    /// Fails the calls pending on one session (its renderer crashed or it was detached).
    func failSession(_ id: String, with error: DevToolsError) {
        let (sink, continuations) = state.withLock { state -> ((PageSession)?, [CheckedContinuation<JSONValue, any Error>]) in
            let sink = state.sessions.removeValue(forKey: id)
            var failed: [CheckedContinuation<JSONValue, any Error>] = []
            for (key, pending) in state.pending where pending.sessionID == id {
                state.pending[key] = nil
                if let continuation = pending.continuation { failed.append(continuation) }
            }
            return (sink, failed)
        }
        continuations.forEach { $0.resume(throwing: error) }
        sink?.fail(error)
    }

    var closedError: DevToolsError? { state.withLock { $0.closed } }

    /// Marks the coming EOF as our own doing, so errors say "closed" rather than "crashed".
    func markClosing() { state.withLock { $0.closing = true } }

    /// Closes the command pipe; Chromium exits when it sees EOF on fd 3.
    func closeWriter() {
        writer.withLock { fd in
            if fd >= 0 { close(fd) }
            fd = -1
        }
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
        return writer.withLock { fd -> DevToolsError? in
            guard fd >= 0 else { return closedError ?? .browserClosed("the browser was closed") }
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
    }

    // MARK: Reading

    private func finish(_ id: Int, with result: Result<JSONValue, any Error>) {
        let continuation = state.withLock { $0.pending.removeValue(forKey: id)?.continuation }
        continuation?.resume(with: result)
    }

    private func readLoop() {
        let reader = NULFramedReader(fd: process.eventFD)
        while true {
            let more = reader.next { bytes in
                guard let message = try? JSONParser.parse(bytes) else { return }
                dispatch(message)
            }
            if !more { break }
        }
        close(process.eventFD)
        shutDown()
    }

    private func dispatch(_ message: JSONValue) {
        if let id = message["id"].intValue {
            let pending = state.withLock { $0.pending.removeValue(forKey: id) }
            guard let pending, let continuation = pending.continuation else { return }
            let error = message["error"]
            if error.isNull {
                continuation.resume(returning: message["result"])
            } else {
                continuation.resume(throwing: DevToolsError.protocolError(
                    method: pending.method, code: error["code"].intValue ?? 0,
                    message: error["message"].stringValue ?? "unknown error"))
            }
            return
        }
        guard let method = message["method"].stringValue else { return }
        let event = CDPEvent(method: method, params: message["params"], sessionID: message["sessionId"].stringValue)
        if let sessionID = event.sessionID {
            let sink = state.withLock { $0.sessions[sessionID] }
            sink?.handle(event)
        } else if method == "Target.detachedFromTarget", let sessionID = event.params["sessionId"].stringValue {
            failSession(sessionID, with: .pageClosed("the tab was closed or detached"))
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
        let (continuations, sinks) = state.withLock { state -> ([CheckedContinuation<JSONValue, any Error>], [PageSession]) in
            state.closed = reason
            let continuations = state.pending.values.compactMap(\.continuation)
            let sinks = Array(state.sessions.values)
            state.pending.removeAll()
            state.sessions.removeAll()
            return (continuations, sinks)
        }
        continuations.forEach { $0.resume(throwing: reason) }
        sinks.forEach { $0.fail(reason) }
        if !closing {
            // Nobody asked for this: make sure no helper of the dead browser lingers.
            closeWriter()
            process.terminate(grace: .zero)
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
