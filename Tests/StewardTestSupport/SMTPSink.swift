import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A real SMTP server on 127.0.0.1 for one test: it speaks enough of RFC 5321 (EHLO, HELO,
/// AUTH PLAIN and LOGIN, MAIL, RCPT, DATA with dot-unstuffing, RSET, NOOP, QUIT) for a client
/// to deliver mail, and keeps every message it accepts.
public final class SMTPSink: Sendable {
    /// One accepted message.
    public struct Mail: Sendable {
        public var from: String
        public var to: [String]
        /// The DATA as sent, unstuffed, CRLF line ends.
        public var data: String
        /// `user:password` when the client authenticated.
        public var auth: String?

        /// A header's value (the first one), unfolded.
        public func header(_ name: String) -> String? {
            let head = data.components(separatedBy: "\r\n\r\n").first ?? ""
            let unfolded = head.replacingOccurrences(of: "\r\n ", with: " ")
            for line in unfolded.components(separatedBy: "\r\n") where line.lowercased().hasPrefix(name.lowercased() + ":") {
                return String(line.dropFirst(name.count + 1)).trimmingCharacters(in: .whitespaces)
            }
            return nil
        }

        /// The body, quoted-printable decoded.
        public var body: String {
            let raw = data.components(separatedBy: "\r\n\r\n").dropFirst().joined(separator: "\r\n\r\n")
            var bytes: [UInt8] = []
            let utf8 = Array(raw.replacingOccurrences(of: "=\r\n", with: "").utf8)
            var i = 0
            while i < utf8.count {
                if utf8[i] == UInt8(ascii: "="), i + 2 < utf8.count, let v = UInt8(String(decoding: utf8[(i + 1)...(i + 2)], as: UTF8.self), radix: 16) {
                    bytes.append(v)
                    i += 3
                } else {
                    bytes.append(utf8[i])
                    i += 1
                }
            }
            return String(decoding: bytes, as: UTF8.self)
        }
    }

    public struct Options: Sendable {
        /// AUTH mechanisms offered in EHLO (empty: no AUTH).
        public var auth: [String] = ["PLAIN", "LOGIN"]
        /// Accepted credentials (`user:password`); nil accepts any.
        public var credentials: String?
        /// Recipients refused with 550.
        public var refuse: Set<String> = []
        public init() {}
    }

    public let port: Int
    private let listener: Int32
    private let mails = Locked<[Mail]>([])
    private let options: Options

    public init(_ options: Options = Options()) throws {
        self.options = options
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw TestFailure("socket: \(errno)") }
        var yes: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        let bound = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        guard bound == 0, listen(fd, 16) == 0 else { Glibc.close(fd); throw TestFailure("bind/listen: \(errno)") }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
        port = Int(UInt16(bigEndian: address.sin_port))
        listener = fd
        let thread = Thread { [self] in acceptLoop() }
        thread.start()
    }

    /// Every message accepted so far.
    public var received: [Mail] { mails.withLock { $0 } }

    /// Stops listening (connections in progress finish).
    public func stop() { shutdown(listener, Int32(SHUT_RDWR)); Glibc.close(listener) }

    private func acceptLoop() {
        while true {
            let client = accept(listener, nil, nil)
            guard client >= 0 else { return }
            Thread { [self] in serve(client) }.start()
        }
    }

    private func serve(_ fd: Int32) {
        defer { Glibc.close(fd) }
        var buffer: [UInt8] = []
        func send(_ line: String) { _ = Array((line + "\r\n").utf8).withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) } }
        func readLine() -> String? {
            while true {
                if let i = buffer.firstIndex(of: 0x0A) {
                    var line = Array(buffer[..<i])
                    buffer.removeSubrange(...i)
                    if line.last == 0x0D { line.removeLast() }
                    return String(decoding: line, as: UTF8.self)
                }
                var chunk = [UInt8](repeating: 0, count: 4096)
                let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
                guard n > 0 else { return nil }
                buffer.append(contentsOf: chunk[..<n])
            }
        }
        func decode(_ b64: String) -> String { Data(base64Encoded: b64).map { String(decoding: $0, as: UTF8.self) } ?? "" }
        func accepted(_ user: String, _ password: String) -> Bool { options.credentials.map { $0 == "\(user):\(password)" } ?? true }
        send("220 sink.test ESMTP ready")
        var from = "", to: [String] = [], auth: String?
        while let line = readLine() {
            let upper = line.uppercased()
            if upper.hasPrefix("EHLO") {
                send(options.auth.isEmpty ? "250 sink.test" : "250-sink.test\r\n250-8BITMIME\r\n250 AUTH \(options.auth.joined(separator: " "))")
            } else if upper.hasPrefix("HELO") {
                send("250 sink.test")
            } else if upper.hasPrefix("AUTH PLAIN ") {
                let parts = decode(String(line.dropFirst(11))).split(separator: "\0", omittingEmptySubsequences: false).map(String.init)
                if parts.count == 3, accepted(parts[1], parts[2]) { auth = "\(parts[1]):\(parts[2])"; send("235 ok") } else { send("535 bad credentials") }
            } else if upper == "AUTH LOGIN" {
                send("334 VXNlcm5hbWU6")
                let user = decode(readLine() ?? "")
                send("334 UGFzc3dvcmQ6")
                let password = decode(readLine() ?? "")
                if accepted(user, password) { auth = "\(user):\(password)"; send("235 ok") } else { send("535 bad credentials") }
            } else if upper.hasPrefix("MAIL FROM:") {
                from = Self.address(line); to = []; send("250 ok")
            } else if upper.hasPrefix("RCPT TO:") {
                let rcpt = Self.address(line)
                if options.refuse.contains(rcpt) { send("550 no such user \(rcpt)") } else { to.append(rcpt); send("250 ok") }
            } else if upper == "DATA" {
                guard !to.isEmpty else { send("503 no recipients"); continue }
                send("354 go ahead")
                var lines: [String] = []
                while let l = readLine(), l != "." { lines.append(l.hasPrefix(".") ? String(l.dropFirst()) : l) }
                let mail = Mail(from: from, to: to, data: lines.joined(separator: "\r\n"), auth: auth)
                mails.withLock { $0.append(mail) }
                send("250 queued")
            } else if upper == "QUIT" {
                send("221 bye"); return
            } else if upper == "RSET" || upper == "NOOP" {
                send("250 ok")
            } else {
                send("502 not implemented")
            }
        }
    }

    private static func address(_ line: String) -> String {
        guard let open = line.firstIndex(of: "<"), let close = line.lastIndex(of: ">") else { return "" }
        return String(line[line.index(after: open)..<close]).lowercased()
    }
}
