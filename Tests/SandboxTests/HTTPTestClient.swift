import Foundation
import StewardJSON
import StewardTestSupport
#if canImport(Glibc)
import Glibc
#endif

/// A small keep-alive HTTP/1.1 client over a socket, for talking to the sandbox the way a
/// connector would, without depending on URLSession's behaviour on Linux.
final class HTTPTestClient {
    struct Reply {
        var status: Int
        var headers: [String: String]
        var body: [UInt8]

        var json: JSONValue { (try? JSONParser.parse(body)) ?? .null }
        var text: String { String(decoding: body, as: UTF8.self) }
        func header(_ name: String) -> String? { headers[name.lowercased()] }
    }

    struct ClientError: Error, CustomStringConvertible {
        var description: String
    }

    let port: Int
    let prefix: String
    var token: String?
    private var fd: Int32 = -1
    private var buffer: [UInt8] = []

    init(port: Int, prefix: String, token: String?) {
        self.port = port
        self.prefix = prefix
        self.token = token
    }

    deinit { disconnect() }

    func get(_ path: String, headers: [String: String] = [:]) throws -> Reply {
        try request("GET", path, headers: headers)
    }

    func post(_ path: String, _ body: JSONValue, headers: [String: String] = [:]) throws -> Reply {
        try request("POST", path, body: body, headers: headers)
    }

    func put(_ path: String, _ body: JSONValue, headers: [String: String] = [:]) throws -> Reply {
        try request("PUT", path, body: body, headers: headers)
    }

    func patch(_ path: String, _ operations: [JSONValue], headers: [String: String] = [:]) throws -> Reply {
        try request("PATCH", path, body: ["schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": .array(operations)], headers: headers)
    }

    func delete(_ path: String, headers: [String: String] = [:]) throws -> Reply {
        try request("DELETE", path, headers: headers)
    }

    /// `path` is relative to the app prefix and already percent-encoded where needed.
    func request(_ method: String, _ path: String, body: JSONValue? = nil, raw: [UInt8]? = nil, headers: [String: String] = [:]) throws -> Reply {
        let payload = raw ?? body.map { JSONWriter.bytes($0) } ?? []
        var head = "\(method) \(prefix)\(path) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\n"
        if let token { head += "Authorization: Bearer \(token)\r\n" }
        if !payload.isEmpty || method == "POST" || method == "PUT" || method == "PATCH" {
            head += "Content-Type: application/scim+json\r\nContent-Length: \(payload.count)\r\n"
        }
        for (name, value) in headers { head += "\(name): \(value)\r\n" }
        head += "\r\n"
        let message = Array(head.utf8) + payload
        // A kept-alive connection the server has since closed fails on first use; retry once.
        for attempt in 0..<2 {
            if fd < 0 { try connect() }
            if send(message), let reply = try readReply(isHead: method == "HEAD") {
                if reply.header("Connection")?.lowercased() == "close" { disconnect() }
                return reply
            }
            disconnect()
            if attempt == 1 { break }
        }
        throw ClientError(description: "\(method) \(path): the connection failed")
    }

    /// Percent-encodes a query value (everything but unreserved characters).
    static func encode(_ text: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? text
    }

    private func connect() throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var tv = timeval(tv_sec: 30, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port)).bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard result == 0 else {
            disconnect()
            throw ClientError(description: "cannot connect to port \(port)")
        }
    }

    private func disconnect() {
        if fd >= 0 { close(fd) }
        fd = -1
        buffer = []
    }

    private func send(_ bytes: [UInt8]) -> Bool {
        var sent = 0
        while sent < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress! + sent, bytes.count - sent, Int32(MSG_NOSIGNAL)) }
            if n < 0, errno == EINTR { continue }
            guard n > 0 else { return false }
            sent += n
        }
        return true
    }

    private func fill() -> Bool {
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress!, $0.count, 0) }
            if n > 0 {
                buffer.append(contentsOf: chunk[0..<n])
                return true
            }
            if n < 0, errno == EINTR { continue }
            return false
        }
    }

    private func readReply(isHead: Bool) throws -> Reply? {
        while true {
            if let end = headEnd() {
                let lines = String(decoding: buffer[0..<(end - 4)], as: UTF8.self).components(separatedBy: "\r\n")
                let statusParts = lines[0].split(separator: " ")
                guard statusParts.count >= 2, let status = Int(statusParts[1]) else { throw ClientError(description: "bad status line \(lines[0])") }
                var headers: [String: String] = [:]
                for line in lines.dropFirst() {
                    guard let colon = line.firstIndex(of: ":") else { continue }
                    headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
                }
                let length = isHead || status == 204 || status == 304 ? 0 : Int(headers["content-length"] ?? "0") ?? 0
                while buffer.count < end + length {
                    guard fill() else { throw ClientError(description: "connection closed inside a body") }
                }
                let body = Array(buffer[end..<(end + length)])
                buffer.removeFirst(end + length)
                return Reply(status: status, headers: headers, body: body)
            }
            guard fill() else { return nil }
        }
    }

    private func headEnd() -> Int? {
        guard buffer.count >= 4 else { return nil }
        for i in 0...(buffer.count - 4) where buffer[i] == 13 && buffer[i + 1] == 10 && buffer[i + 2] == 13 && buffer[i + 3] == 10 {
            return i + 4
        }
        return nil
    }
}

extension TestSandbox {
    /// A client for the SCIM app with the right token.
    func scim() -> HTTPTestClient { HTTPTestClient(port: port, prefix: "/scim/v2", token: token) }
}
