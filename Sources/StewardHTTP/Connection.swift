import StewardSystem
import Dispatch
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One client connection: reads requests, runs handlers, writes responses, enforces limits.
///
/// A small state machine driven by socket readiness on its loop. Requests on a connection are
/// answered strictly in order; while an async handler runs, reading pauses, and while a
/// response cannot be written, reading pauses too, so a client can never make the server
/// buffer more than one request head plus one body.
final class Connection: @unchecked Sendable {  // all state is only touched on `loop.queue`
    private enum Phase {
        /// Waiting for the first byte of the next request.
        case idle
        /// Some bytes of a request head have arrived.
        case head
        /// Reading the body of `pendingHead`.
        case body
        /// An async handler owns the request.
        case handling
        /// The last response is queued; close once it is written.
        case closingAfterFlush
        /// An error response is queued; after it is written, discard input briefly and close.
        case lingering
    }

    /// The client's socket, this connection's alone; closed once Dispatch has let go of it.
    private let socket: OwnedDescriptor
    private let loop: EventLoop
    private let core: ServerCore

    private var readSource: DispatchSourceRead?
    private var writeSource: DispatchSourceWrite?
    private var readSuspended = false
    private var writeSuspended = false
    private var liveSources = 0

    private var inbox: [UInt8] = []
    private var inboxStart = 0
    private var scanFrom = 0
    private var outbox: [UInt8] = []
    private var outboxStart = 0

    private var phase = Phase.idle
    private var pendingHead: RequestHead?
    private var bodyReader: BodyReader?
    private var keepAlive = true
    private var deadline: UInt64 = 0
    private var peerClosed = false
    private var lingerStarted = false
    private var lingerDiscarded = 0
    private var closed = false

    /// Unsent output beyond which no further pipelined request is processed.
    private static let outputHighWater = 256 * 1024
    private static let maxReadPerEvent = 256 * 1024
    private static let lingerTime: UInt64 = 2_000_000_000
    private static let maxLingerDiscard = 1024 * 1024

    init(socket: OwnedDescriptor, loop: EventLoop) {
        self.socket = socket
        self.loop = loop
        core = loop.core
    }

    func start() {
        // A fresh connection must start its request within the header timeout.
        deadline = monotonicNanoseconds() &+ core.headerTimeout
        guard let source = socket.withDescriptor({ DispatchSource.makeReadSource(fileDescriptor: $0, queue: loop.queue) }) else { return }
        source.setEventHandler { [self] in onReadable() }
        source.setCancelHandler { [self] in sourceCancelled() }
        readSource = source
        liveSources += 1
        source.resume()
    }

    // MARK: Events

    private func onReadable() {
        guard !closed else { return }
        if phase == .lingering {
            discardInput()
            return
        }
        guard let base = loop.scratch.baseAddress else { return }
        var total = 0
        while total < Connection.maxReadPerEvent {
            let call = onSocket { recv($0, base, loop.scratch.count, 0) }
            let n = call.result
            if n > 0 {
                inbox.append(contentsOf: UnsafeRawBufferPointer(start: base, count: n))
                total += n
                if n < loop.scratch.count { break }
            } else if n == 0 {
                peerClosed = true
                break
            } else if call.error == EINTR {
                continue
            } else if call.error == EAGAIN || call.error == EWOULDBLOCK {
                break
            } else {
                close()
                return
            }
        }
        drive()
    }

    private func onWritable() {
        guard !closed else { return }
        drive()
    }

    /// Processes what can be processed and writes what can be written, until neither moves.
    private func drive() {
        while !closed {
            let stoppedForOutput = processRequests()
            guard flush() else { break }
            if !stoppedForOutput { break }
        }
        guard !closed else { return }
        if phase == .idle, inboxStart == inbox.count, outboxStart == outbox.count {
            if peerClosed {
                close()
                return
            }
            deadline = monotonicNanoseconds() &+ core.idleTimeout
        }
        updateReadInterest()
    }

    /// Called by the loop's sweep timer.
    func checkDeadline(now: UInt64) {
        guard !closed, deadline != 0, now >= deadline else { return }
        switch phase {
        case .head, .body:
            if outboxStart == outbox.count {
                reject(RequestRejection(.requestTimeout, "the request took too long to arrive"))
                phase = .closingAfterFlush
                drive()
            } else {
                close()
            }
        case .idle, .closingAfterFlush, .lingering:
            close()
        case .handling:
            break
        }
    }

    // MARK: Requests

    /// Parses and answers requests from the inbox. Returns true when it stopped only because
    /// too much output is waiting to be written.
    private func processRequests() -> Bool {
        while !closed {
            if outbox.count - outboxStart > Connection.outputHighWater { return true }
            switch phase {
            case .idle, .head:
                guard readHead() else { return false }
            case .body:
                guard readBody() else { return false }
            case .handling, .closingAfterFlush, .lingering:
                return false
            }
        }
        return false
    }

    /// Returns true when a head was consumed and processing can go on.
    private func readHead() -> Bool {
        if phase == .idle {
            // Blank lines between requests are allowed and ignored (RFC 9112 §2.2).
            while inboxStart < inbox.count, inbox[inboxStart] == 0x0D || inbox[inboxStart] == 0x0A { inboxStart += 1 }
        }
        let available = inbox.count - inboxStart
        guard available > 0 else {
            compactInbox()
            return false
        }
        if phase == .idle {
            phase = .head
            deadline = monotonicNanoseconds() &+ core.headerTimeout
            scanFrom = inboxStart
        }
        let start = inboxStart
        let end = inbox.withUnsafeBufferPointer { RequestHeadParser.findEnd(of: $0, from: max(scanFrom, start)) }
        guard let end else {
            scanFrom = max(inboxStart, inbox.count - 2)
            if available > core.configuration.maxHeaderBytes {
                reject(RequestRejection(.requestHeaderFieldsTooLarge, "the request head is larger than \(core.configuration.maxHeaderBytes) bytes"))
            } else if peerClosed {
                reject(RequestRejection(.badRequest, "the connection ended inside a request head"))
            }
            return false
        }
        if end - start > core.configuration.maxHeaderBytes {
            reject(RequestRejection(.requestHeaderFieldsTooLarge, "the request head is larger than \(core.configuration.maxHeaderBytes) bytes"))
            return false
        }
        let maxFields = core.configuration.maxHeaderFields
        let parsed: Result<RequestHead, RequestRejection> = inbox.withUnsafeBufferPointer { buffer in
            do throws(RequestRejection) {
                return .success(try RequestHeadParser.parse(UnsafeBufferPointer(rebasing: buffer[start..<end]), maxFields: maxFields))
            } catch {
                return .failure(error)
            }
        }
        inboxStart = end
        let head: RequestHead
        let framing: BodyFraming
        do throws(RequestRejection) {
            head = try parsed.get()
            framing = try RequestHeadParser.framing(of: head, maxBodyBytes: core.configuration.maxBodyBytes)
            if let expect = head.headers["Expect"], !asciiCaseInsensitiveEquals(expect, "100-continue") {
                throw RequestRejection(.expectationFailed, "only 'Expect: 100-continue' is supported")
            }
        } catch {
            reject(error)
            return false
        }
        keepAlive = head.version == .http1_1
            ? !head.headers.containsToken("close", in: "Connection")
            : head.headers.containsToken("keep-alive", in: "Connection")
        if framing == .none {
            dispatch(head, body: [])
            return true
        }
        // Tell a waiting client to send the body, unless it already started (RFC 9110 §10.1.1).
        if head.version == .http1_1, head.headers["Expect"] != nil, inboxStart == inbox.count {
            outbox.append(contentsOf: Connection.continueLine)
        }
        pendingHead = head
        bodyReader = BodyReader(
            framing: framing, maxBodyBytes: core.configuration.maxBodyBytes,
            maxTrailerBytes: core.configuration.maxHeaderBytes)
        phase = .body
        deadline = monotonicNanoseconds() &+ core.bodyTimeout
        return true
    }

    /// Returns true when the body completed and processing can go on.
    private func readBody() -> Bool {
        // Take the reader out so appending to its body does not copy it.
        guard var reader = bodyReader, let head = pendingHead else { return false }
        bodyReader = nil
        let start = inboxStart
        let step = inbox.withUnsafeBufferPointer { reader.consume(UnsafeBufferPointer(rebasing: $0[start...])) }
        switch step {
        case .needMore(let consumed):
            inboxStart += consumed
            bodyReader = reader
            compactInbox()
            if peerClosed { reject(RequestRejection(.badRequest, "the connection ended inside a request body")) }
            return false
        case .complete(let consumed):
            inboxStart += consumed
            pendingHead = nil
            dispatch(head, body: reader.body)
            return true
        case .rejected(let rejection):
            reject(rejection)
            return false
        }
    }

    private func dispatch(_ head: RequestHead, body: [UInt8]) {
        var request = HTTPRequest(method: head.method, target: head.target, version: head.version, headers: head.headers, body: body)
        let handler: HTTPHandler
        switch core.routes.match(method: request.method, path: request.path) {
        case .found(let found, let parameters):
            handler = found
            request.pathParameters = parameters
        case .methodNotAllowed(let allowed):
            var response = HTTPResponse.text("405 Method Not Allowed\n", status: .methodNotAllowed)
            response.headers.add("Allow", allowed.map(\.rawValue).joined(separator: ", "))
            respond(response, to: head)
            return
        case .notFound:
            respond(HTTPResponse.text("404 Not Found\n", status: .notFound), to: head)
            return
        }
        switch handler {
        case .sync(let body):
            let response: HTTPResponse
            do { response = try body(request) } catch { response = Connection.response(for: error) }
            respond(response, to: head)
        case .async(let body):
            phase = .handling
            deadline = 0
            updateReadInterest()
            Task(executorPreference: core.handlerExecutor) { [self] in
                let response: HTTPResponse
                do { response = try await body(request) } catch { response = Connection.response(for: error) }
                loop.queue.async { [self] in finishAsync(response, to: head) }
            }
        }
    }

    private func finishAsync(_ response: HTTPResponse, to head: RequestHead) {
        guard !closed else { return }
        respond(response, to: head)
        drive()
    }

    private func respond(_ response: HTTPResponse, to head: RequestHead) {
        if response.headers.containsToken("close", in: "Connection") { keepAlive = false }
        appendResponse(response, method: head.method, version: head.version, keepAlive: keepAlive)
        phase = keepAlive ? .idle : .closingAfterFlush
        deadline = monotonicNanoseconds() &+ core.idleTimeout
    }

    /// Answers a request the server refuses, then closes the connection.
    private func reject(_ rejection: RequestRejection) {
        let response = HTTPResponse.text("\(rejection.status): \(rejection.reason)\n", status: rejection.status)
        appendResponse(response, method: .get, version: .http1_1, keepAlive: false)
        phase = .lingering
        pendingHead = nil
        bodyReader = nil
        deadline = monotonicNanoseconds() &+ min(core.idleTimeout, Connection.lingerTime)
    }

    static func response(for error: any Error) -> HTTPResponse {
        if let error = error as? HTTPError { return error.response }
        return .text("500 Internal Server Error\n", status: .internalServerError)
    }

    // MARK: Output

    private static let continueLine = Array("HTTP/1.1 100 Continue\r\n\r\n".utf8)
    private static let contentLengthPrefix = Array("Content-Length: ".utf8)
    private static let statusLines: [Int: [UInt8]] = HTTPStatus.standardReasons.mapValues { _ in [] }
        .reduce(into: [:]) { lines, entry in
            lines[entry.key] = Array("HTTP/1.1 \(entry.key) \(HTTPStatus.standardReasons[entry.key] ?? "")\r\n".utf8)
        }

    private static func appendDecimal(_ value: Int, to out: inout [UInt8]) {
        var digits: [UInt8] = []
        var remaining = value
        repeat {
            digits.append(UInt8(truncatingIfNeeded: remaining % 10) + 0x30)
            remaining /= 10
        } while remaining > 0
        out.append(contentsOf: digits.reversed())
    }
    private static let crlf: [UInt8] = [0x0D, 0x0A]
    private static let reservedHeaders = ["Content-Length", "Transfer-Encoding", "Connection", "Date"]

    private func appendResponse(_ response: HTTPResponse, method: HTTPMethod, version: HTTPVersion, keepAlive: Bool) {
        let code = response.status.code
        if let line = Connection.statusLines[code], response.status.reasonPhrase == HTTPStatus.standardReasons[code] {
            outbox.append(contentsOf: line)
        } else {
            outbox.append(contentsOf: "HTTP/1.1 \(code) \(response.status.reasonPhrase)\r\n".utf8)
        }
        for (name, value) in response.headers {
            guard Connection.isSafeHeader(name: name, value: value),
                  !Connection.reservedHeaders.contains(where: { asciiCaseInsensitiveEquals($0, name) })
            else { continue }
            outbox.append(contentsOf: name.utf8)
            outbox.append(contentsOf: [UInt8(ascii: ":"), UInt8(ascii: " ")])
            outbox.append(contentsOf: value.utf8)
            outbox.append(contentsOf: Connection.crlf)
        }
        let hasBody = !(100..<200).contains(code) && code != 204 && code != 304
        if hasBody {
            outbox.append(contentsOf: Connection.contentLengthPrefix)
            Connection.appendDecimal(response.body.count, to: &outbox)
            outbox.append(contentsOf: Connection.crlf)
        }
        outbox.append(contentsOf: loop.dateHeaderLine())
        if !keepAlive {
            outbox.append(contentsOf: "Connection: close\r\n".utf8)
        } else if version == .http1_0 {
            outbox.append(contentsOf: "Connection: keep-alive\r\n".utf8)
        }
        outbox.append(contentsOf: Connection.crlf)
        if hasBody, method != .head { outbox.append(contentsOf: response.body) }
    }

    /// Drops fields a handler built from untrusted text that would split the response.
    private static func isSafeHeader(name: String, value: String) -> Bool {
        !name.isEmpty && name.utf8.allSatisfy(isTokenByte)
            && value.utf8.allSatisfy { $0 != 0x0D && $0 != 0x0A && $0 != 0x00 }
    }

    /// Writes queued output. Returns true when everything was written and the connection
    /// stays open for more.
    private func flush() -> Bool {
        while outboxStart < outbox.count {
            let start = outboxStart
            let call = outbox.withUnsafeBytes { bytes in
                onSocket { fd in
                    guard let base = bytes.baseAddress else { return 0 }
                    return send(fd, base + start, bytes.count - start, Socket.sendFlags)
                }
            }
            let n = call.result
            if n > 0 {
                outboxStart += n
            } else if n < 0, call.error == EINTR {
                continue
            } else if n < 0, call.error == EAGAIN || call.error == EWOULDBLOCK {
                // The client is not reading; give it the idle timeout to catch up.
                if phase != .lingering { deadline = monotonicNanoseconds() &+ core.idleTimeout }
                waitForWritable()
                updateReadInterest()
                return false
            } else {
                close()
                return false
            }
        }
        if !outbox.isEmpty {
            if outbox.capacity > 1024 * 1024 { outbox = [] } else { outbox.removeAll(keepingCapacity: true) }
            outboxStart = 0
        }
        stopWaitingForWritable()
        switch phase {
        case .closingAfterFlush:
            close()
            return false
        case .lingering:
            startLingering()
            return false
        default:
            return true
        }
    }

    /// After an error response: stop sending, and read (and drop) what the client still sends
    /// for a moment, so closing does not reset the connection before it reads the response.
    private func startLingering() {
        guard !lingerStarted else { return }
        lingerStarted = true
        _ = onSocket { Int(shutdown($0, Int32(SHUT_WR))) }
        inbox = []
        inboxStart = 0
        deadline = monotonicNanoseconds() &+ min(core.idleTimeout, Connection.lingerTime)
        if peerClosed {
            close()
            return
        }
        updateReadInterest()
    }

    private func discardInput() {
        guard let base = loop.scratch.baseAddress else { return }
        while true {
            let call = onSocket { recv($0, base, loop.scratch.count, 0) }
            let n = call.result
            if n > 0 {
                lingerDiscarded += n
                if lingerDiscarded > Connection.maxLingerDiscard {
                    close()
                    return
                }
            } else if n < 0, call.error == EINTR {
                continue
            } else if n < 0, call.error == EAGAIN || call.error == EWOULDBLOCK {
                return
            } else {
                close()
                return
            }
        }
    }

    // MARK: Sources

    /// Reads only when the next read can be acted on: not while a handler runs, not while
    /// output is stuck, not after the client finished sending.
    private func updateReadInterest() {
        let wanted: Bool
        switch phase {
        case .lingering: wanted = lingerStarted
        case .handling, .closingAfterFlush: wanted = false
        case .idle, .head, .body: wanted = !peerClosed && outboxStart == outbox.count
        }
        guard let readSource else { return }
        if wanted, readSuspended {
            readSuspended = false
            readSource.resume()
        } else if !wanted, !readSuspended {
            readSuspended = true
            readSource.suspend()
        }
    }

    private func waitForWritable() {
        if let writeSource {
            if writeSuspended {
                writeSuspended = false
                writeSource.resume()
            }
            return
        }
        guard let source = socket.withDescriptor({ DispatchSource.makeWriteSource(fileDescriptor: $0, queue: loop.queue) }) else { return }
        source.setEventHandler { [self] in onWritable() }
        source.setCancelHandler { [self] in sourceCancelled() }
        writeSource = source
        liveSources += 1
        source.resume()
    }

    private func stopWaitingForWritable() {
        if let writeSource, !writeSuspended {
            writeSuspended = true
            writeSource.suspend()
        }
    }

    private func compactInbox() {
        if inboxStart == inbox.count {
            if inbox.capacity > 256 * 1024 { inbox = [] } else { inbox.removeAll(keepingCapacity: true) }
            scanFrom = 0
            inboxStart = 0
        } else if inboxStart > 64 * 1024 {
            inbox.removeFirst(inboxStart)
            scanFrom = max(0, scanFrom - inboxStart)
            inboxStart = 0
        }
    }

    /// Closes the connection now. The descriptor is closed once Dispatch has let go of it.
    func close() {
        guard !closed else { return }
        closed = true
        loop.remove(self)
        inbox = []
        outbox = []
        bodyReader = nil
        if let readSource {
            if readSuspended { readSource.resume() }
            readSource.cancel()
        }
        if let writeSource {
            if writeSuspended { writeSource.resume() }
            writeSource.cancel()
        }
        readSource = nil
        writeSource = nil
        if liveSources == 0 { releaseDescriptor() }
    }

    private func sourceCancelled() {
        liveSources -= 1
        if liveSources == 0, closed { releaseDescriptor() }
    }

    private func releaseDescriptor() {
        socket.close()
        core.releaseConnection()
    }

    /// What one system call on the socket returned, with the errno it left.
    private struct SocketCall {
        var result: Int
        var error: Int32
    }

    /// Runs `call` on the socket and reads errno straight after; a closed socket answers
    /// -1 with EBADF, as the system would.
    private func onSocket(_ call: (Int32) -> Int) -> SocketCall {
        socket.withDescriptor { fd in
            let result = call(fd)
            return SocketCall(result: result, error: result < 0 ? errno : 0)
        } ?? SocketCall(result: -1, error: EBADF)
    }
}
