import Foundation
import StewardProtocol
#if canImport(Glibc)
import Glibc
#endif

/// Delivers one message to an SMTP relay over plain TCP: EHLO (HELO when refused), AUTH PLAIN
/// or LOGIN when a username is configured and the server offers it, MAIL, RCPT, DATA, QUIT.
///
/// Foundation has no TLS for raw sockets, so this speaks to a relay on a trusted network or on
/// the same host (docs/notify.md shows Postfix and stunnel set up to relay with TLS).
struct SMTPClient: Sendable {
    var host: String
    var port: Int
    var helo: String
    var username: String?
    var password: String?
    var timeout: Double = 30

    /// Sends `data` (the message, CRLF line endings, unstuffed) from `from` to `to`.
    func send(from: String, to: String, data: [UInt8]) async throws {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, Error>) in
            DispatchQueue.global().async {
                continuation.resume(with: Result { try self.sendBlocking(from: from, to: to, data: data) })
            }
        }
    }

    /// Tries the relay: connect, greeting, EHLO, QUIT.
    func check() async throws -> String {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<String, Error>) in
            DispatchQueue.global().async {
                continuation.resume(with: Result {
                    let session = try SMTPSession(host: host, port: port, timeout: timeout)
                    defer { session.close() }
                    _ = try session.expect(220, "greeting")
                    let ehlo = try session.command("EHLO \(helo)", expect: 250)
                    _ = try? session.command("QUIT", expect: 221)
                    return ehlo.first ?? "ok"
                })
            }
        }
    }

    private func sendBlocking(from: String, to: String, data: [UInt8]) throws {
        let session = try SMTPSession(host: host, port: port, timeout: timeout)
        defer { session.close() }
        _ = try session.expect(220, "greeting")
        var extensions: [String]
        do {
            extensions = try session.command("EHLO \(helo)", expect: 250)
        } catch let error as ConnectorError where (500...504).contains(error.details["smtpCode"].intValue ?? 0) {
            extensions = try session.command("HELO \(helo)", expect: 250)
        }
        if let username {
            let auth = extensions.first { $0.uppercased().hasPrefix("AUTH") }?.uppercased().split(separator: " ").dropFirst().map(String.init) ?? []
            let password = self.password ?? ""
            if auth.contains("PLAIN") {
                let token = Data(([0] + Array(username.utf8) + [0] + Array(password.utf8))).base64EncodedString()
                _ = try session.command("AUTH PLAIN \(token)", expect: 235, redacted: "AUTH PLAIN ***")
            } else if auth.contains("LOGIN") {
                _ = try session.command("AUTH LOGIN", expect: 334)
                _ = try session.command(Data(username.utf8).base64EncodedString(), expect: 334, redacted: "***")
                _ = try session.command(Data(password.utf8).base64EncodedString(), expect: 235, redacted: "***")
            } else {
                throw ConnectorError(.configuration, "the SMTP server \(host):\(port) offers no AUTH PLAIN or LOGIN, but smtp.username is set (it offers: \(auth.isEmpty ? "no AUTH at all; is TLS required?" : auth.joined(separator: " ")))",
                                     outcome: .notApplied)
            }
        }
        _ = try session.command("MAIL FROM:<\(from)>", expect: 250)
        _ = try session.command("RCPT TO:<\(to)>", expect: 250, alternatives: [251])
        _ = try session.command("DATA", expect: 354)
        // From here a lost answer means the server may have the message.
        do {
            try session.write(Self.dotStuffed(data) + Array("\r\n.\r\n".utf8))
            _ = try session.expect(250, "end of data")
        } catch SMTPSession.Failure.reply(let code, let text) {
            throw SMTPSession.Failure.reply(code, text).error(outcome: .notApplied)
        } catch let failure as SMTPSession.Failure {
            throw failure.error(outcome: .unknown)
        }
        _ = try? session.command("QUIT", expect: 221)
    }

    /// Lines starting with "." get another (RFC 5321 §4.5.2).
    static func dotStuffed(_ data: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(data.count + 16)
        var lineStart = true
        for byte in data {
            if lineStart && byte == UInt8(ascii: ".") { out.append(UInt8(ascii: ".")) }
            out.append(byte)
            lineStart = byte == 0x0A
        }
        return out
    }
}

/// One SMTP connection: a socket with timeouts and reply parsing.
final class SMTPSession {
    private let fd: Int32
    private var buffer: [UInt8] = []
    let host: String

    enum Failure: Error {
        case transport(String)
        case reply(Int, String)

        func error(outcome: WriteOutcome) -> ConnectorError {
            switch self {
            case .transport(let message):
                return ConnectorError(.connectionFailed, message, retryable: true, outcome: outcome)
            case .reply(let code, let text):
                // 4xx is transient; 5xx permanent (RFC 5321 §4.2.1).
                let kind: ErrorKind = code == 535 ? .unauthenticated : (code >= 500 ? .invalidArgument : .connectionFailed)
                return ConnectorError(kind, "SMTP \(code) \(text)", retryable: code < 500, outcome: outcome, details: ["smtpCode": .int(code)])
            }
        }
    }

    init(host: String, port: Int, timeout: Double) throws {
        self.host = host
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, String(port), &hints, &list) == 0, let first = list else {
            throw ConnectorError(.connectionFailed, "cannot resolve SMTP host \(host)", outcome: .notApplied)
        }
        defer { freeaddrinfo(list) }
        var connected: Int32 = -1
        var cursor: UnsafeMutablePointer<addrinfo>? = first
        var lastError = ""
        while let info = cursor {
            let s = socket(info.pointee.ai_family, info.pointee.ai_socktype | Int32(SOCK_CLOEXEC.rawValue), info.pointee.ai_protocol)
            if s >= 0 {
                var tv = timeval(tv_sec: Int(timeout), tv_usec: 0)
                setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
                setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
                if connect(s, info.pointee.ai_addr, info.pointee.ai_addrlen) == 0 { connected = s; break }
                lastError = String(cString: strerror(errno))
                Glibc.close(s)
            }
            cursor = info.pointee.ai_next
        }
        guard connected >= 0 else {
            throw ConnectorError(.connectionFailed, "cannot connect to SMTP server \(host):\(port): \(lastError)", outcome: .notApplied)
        }
        fd = connected
    }

    func close() { Glibc.close(fd) }

    /// Sends `line`, reads the reply, and fails unless its code is `expect` (or an alternative).
    /// Failures before DATA is done mean the message was not sent.
    func command(_ line: String, expect: Int, alternatives: [Int] = [], redacted: String? = nil) throws -> [String] {
        do {
            try write(Array((line + "\r\n").utf8))
            let (code, lines) = try readReply()
            guard code == expect || alternatives.contains(code) else {
                throw Failure.reply(code, lines.joined(separator: " / "))
            }
            return lines
        } catch let failure as Failure {
            throw failure.error(outcome: .notApplied).with(context: "after \(redacted ?? line.split(separator: " ").first.map(String.init) ?? line)")
        }
    }

    func expect(_ code: Int, _ what: String) throws -> [String] {
        let (got, lines) = try readReply()
        guard got == code else { throw Failure.reply(got, lines.joined(separator: " / ")) }
        return lines
    }

    func write(_ bytes: [UInt8]) throws {
        var sent = 0
        while sent < bytes.count {
            let n = bytes[sent...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard n > 0 else { throw Failure.transport("SMTP connection to \(host) lost while sending: \(String(cString: strerror(errno)))") }
            sent += n
        }
    }

    /// A reply: its code and the text of each line (`250-…` continues, `250 …` ends).
    private func readReply() throws -> (Int, [String]) {
        var lines: [String] = []
        while true {
            let line = try readLine()
            guard line.count >= 3, let code = Int(line.prefix(3)) else { throw Failure.transport("SMTP server \(host) sent \"\(line.prefix(80))\", not a reply") }
            lines.append(String(line.dropFirst(4)))
            if line.count == 3 || line[line.index(line.startIndex, offsetBy: 3)] != "-" { return (code, lines) }
        }
    }

    private func readLine() throws -> String {
        while true {
            if let newline = buffer.firstIndex(of: 0x0A) {
                var line = Array(buffer[..<newline])
                buffer.removeSubrange(...newline)
                if line.last == 0x0D { line.removeLast() }
                return String(decoding: line, as: UTF8.self)
            }
            var chunk = [UInt8](repeating: 0, count: 4096)
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            guard n > 0 else {
                throw Failure.transport(n == 0 ? "SMTP server \(host) closed the connection" : "SMTP server \(host): \(errno == EAGAIN ? "no answer in time" : String(cString: strerror(errno)))")
            }
            buffer.append(contentsOf: chunk[..<n])
        }
    }
}

extension ConnectorError {
    func with(context: String) -> ConnectorError {
        var copy = self
        copy.message += " (\(context))"
        return copy
    }
}
