import Foundation
import StewardProtocol
#if canImport(Glibc)
import Glibc
#endif

/// A small HTTP/1.1 server on 127.0.0.1 for one test, answering from a closure: canned SCIM
/// answers for provider behaviour the sandbox does not have, and misbehaviour (hangs, 429s,
/// odd headers) for the HTTP client. It records every request it sees.
final class CannedServer: @unchecked Sendable {  // `seen` is guarded by `lock`; the rest is fixed at init
    struct Request: Sendable {
        var method: String
        /// The path without the query.
        var path: String
        var query: [String: String]
        /// Header names in lower case.
        var headers: [String: String]
        var body: [UInt8]

        var json: JSONValue { body.isEmpty ? .null : (try? JSONParser.parse(body)) ?? .null }
        var bodyText: String { String(decoding: body, as: UTF8.self) }
    }

    struct Response: Sendable {
        var status: Int
        var headers: [String: String]
        var body: [UInt8]
        /// Never answer: the connection stays open and silent.
        var hang = false

        init(status: Int = 200, headers: [String: String] = [:], body: String = "") {
            self.status = status
            self.headers = headers
            self.body = Array(body.utf8)
        }

        static func json(_ status: Int = 200, _ value: JSONValue, headers: [String: String] = [:]) -> Response {
            var h = headers
            h["Content-Type"] = "application/scim+json"
            var r = Response(status: status, headers: h)
            r.body = JSONWriter.bytes(value)
            return r
        }

        static let hangs: Response = {
            var r = Response()
            r.hang = true
            return r
        }()
    }

    let port: Int
    private let listener: Int32
    private let handler: @Sendable (Request) -> Response
    private let lock = NSLock()
    private var seen: [Request] = []
    private var connections: [Int32] = []

    init(_ handler: @escaping @Sendable (Request) -> Response) throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var yes: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard fd >= 0, bound == 0, listen(fd, 64) == 0 else {
            throw CannedServerError(message: "cannot listen on 127.0.0.1: \(String(cString: strerror(errno)))")
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        port = Int(UInt16(bigEndian: address.sin_port))
        listener = fd
        self.handler = handler
        Thread.detachNewThread { [self] in acceptLoop() }
    }

    var baseURL: String { "http://127.0.0.1:\(port)" }

    var requests: [Request] { lock.withLock { seen } }

    func stop() {
        shutdown(listener, Int32(SHUT_RDWR))
        close(listener)
        for fd in lock.withLock({ connections }) { shutdown(fd, Int32(SHUT_RDWR)) }
    }

    private func acceptLoop() {
        while true {
            let client = accept(listener, nil, nil)
            if client < 0 {
                if errno == EINTR { continue }
                return
            }
            lock.withLock { connections.append(client) }
            Thread.detachNewThread { [self] in serve(client) }
        }
    }

    private func serve(_ fd: Int32) {
        defer { close(fd) }
        var buffer: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        func fill() -> Bool {
            let n = read(fd, &chunk, chunk.count)
            if n <= 0 { return false }
            buffer.append(contentsOf: chunk[0..<n])
            return true
        }
        while true {
            var headerEnd: Int?
            while headerEnd == nil {
                headerEnd = Self.find([13, 10, 13, 10], in: buffer)
                if headerEnd == nil, !fill() { return }
            }
            guard let end = headerEnd else { return }
            let head = String(decoding: buffer[0..<end], as: UTF8.self).components(separatedBy: "\r\n")
            buffer.removeFirst(end + 4)
            let parts = head[0].split(separator: " ")
            guard parts.count >= 2 else { return }
            var headers: [String: String] = [:]
            for line in head.dropFirst() {
                guard let colon = line.firstIndex(of: ":") else { continue }
                headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            }
            let length = Int(headers["content-length"] ?? "0") ?? 0
            while buffer.count < length { if !fill() { return } }
            let body = Array(buffer[0..<length])
            buffer.removeFirst(length)
            let target = String(parts[1])
            let pathPart = target.split(separator: "?", maxSplits: 1).first.map(String.init) ?? target
            var query: [String: String] = [:]
            if let q = target.split(separator: "?", maxSplits: 1).dropFirst().first {
                for pair in q.split(separator: "&") {
                    let kv = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                    let key = String(kv[0]).removingPercentEncoding ?? String(kv[0])
                    query[key] = kv.count > 1 ? (String(kv[1]).removingPercentEncoding ?? String(kv[1])) : ""
                }
            }
            let request = Request(method: String(parts[0]), path: pathPart.removingPercentEncoding ?? pathPart,
                                  query: query, headers: headers, body: body)
            lock.withLock { seen.append(request) }
            let response = handler(request)
            if response.hang {
                while fill() {}
                return
            }
            var text = "HTTP/1.1 \(response.status) X\r\nContent-Length: \(response.body.count)\r\n"
            for (k, v) in response.headers { text += "\(k): \(v)\r\n" }
            text += "\r\n"
            let bytes = Array(text.utf8) + response.body
            var sent = 0
            while sent < bytes.count {
                let n = bytes[sent...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
                if n <= 0 { return }
                sent += n
            }
        }
    }

    private static func find(_ needle: [UInt8], in haystack: [UInt8]) -> Int? {
        guard haystack.count >= needle.count else { return nil }
        for i in 0...(haystack.count - needle.count) where haystack[i] == needle[0] {
            if Array(haystack[i..<(i + needle.count)]) == needle { return i }
        }
        return nil
    }
}

struct CannedServerError: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}
