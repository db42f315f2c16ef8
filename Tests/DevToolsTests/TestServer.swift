import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A throwaway HTTP/1.1 server on 127.0.0.1 for one test: routes by path, keep-alive, stopped
/// by `stop()`.
final class TestServer: Sendable {
    struct Request: Sendable {
        var method: String
        var path: String
        var query: [String: String]
        var body: String
    }

    struct Response: Sendable {
        var status = 200
        var headers: [String: String] = ["Content-Type": "text/html; charset=utf-8"]
        var body = ""
        var delay: Duration = .zero

        static func html(_ body: String) -> Response { Response(body: body) }
        static func redirect(_ location: String) -> Response { Response(status: 303, headers: ["Location": location]) }
    }

    let port: UInt16
    private let listener: Int32
    private let handler: @Sendable (Request) -> Response

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
            throw TestFailure("could not listen on 127.0.0.1: \(String(cString: strerror(errno)))")
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        port = UInt16(bigEndian: address.sin_port)
        listener = fd
        self.handler = handler
        Thread.detachNewThread { [self] in acceptLoop() }
    }

    /// Serves fixed pages by path; anything else is a 404.
    convenience init(pages: [String: String]) throws {
        try self.init { request in
            guard let page = pages[request.path] else { return Response(status: 404, body: "<h1>Not found</h1>") }
            return .html(page)
        }
    }

    func url(_ path: String) -> String { "http://127.0.0.1:\(port)\(path)" }

    func stop() {
        shutdown(listener, Int32(SHUT_RDWR))
        close(listener)
    }

    private func acceptLoop() {
        while true {
            let client = accept(listener, nil, nil)
            if client < 0 {
                if errno == EINTR { continue }
                return
            }
            Thread.detachNewThread { [self] in serve(client) }
        }
    }

    private func serve(_ fd: Int32) {
        defer { close(fd) }
        var buffer: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 16 * 1024)
        while true {
            while let request = parse(&buffer) {
                let response = handler(request)
                if response.delay > .zero { Thread.sleep(forTimeInterval: Double(response.delay.components.seconds) + Double(response.delay.components.attoseconds) / 1e18) }
                guard write(response, to: fd) else { return }
            }
            let count = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count <= 0 { return }
            buffer += chunk[0..<count]
        }
    }

    private func parse(_ buffer: inout [UInt8]) -> Request? {
        guard let headerEnd = buffer.firstRange(of: [13, 10, 13, 10]) else { return nil }
        let head = String(decoding: buffer[..<headerEnd.lowerBound], as: UTF8.self)
        let lines = head.components(separatedBy: "\r\n")
        let requestLine = lines.first?.split(separator: " ") ?? []
        var contentLength = 0
        for line in lines.dropFirst() {
            let parts = line.split(separator: ":", maxSplits: 1)
            if parts.count == 2, parts[0].lowercased() == "content-length" {
                contentLength = Int(parts[1].trimmingCharacters(in: .whitespaces)) ?? 0
            }
        }
        let total = headerEnd.upperBound + contentLength
        guard buffer.count >= total, requestLine.count >= 2 else { return nil }
        let body = String(decoding: buffer[headerEnd.upperBound..<total], as: UTF8.self)
        buffer.removeFirst(total)
        let target = String(requestLine[1])
        let pieces = target.split(separator: "?", maxSplits: 1)
        var query: [String: String] = [:]
        if pieces.count == 2 {
            for pair in pieces[1].split(separator: "&") {
                let kv = pair.split(separator: "=", maxSplits: 1)
                query[String(kv[0])] = kv.count == 2 ? (String(kv[1]).removingPercentEncoding ?? String(kv[1])) : ""
            }
        }
        return Request(method: String(requestLine[0]), path: String(pieces.first ?? ""), query: query, body: body)
    }

    private func write(_ response: Response, to fd: Int32) -> Bool {
        let body = Array(response.body.utf8)
        var head = "HTTP/1.1 \(response.status) X\r\n"
        for (name, value) in response.headers { head += "\(name): \(value)\r\n" }
        head += "Content-Length: \(body.count)\r\nCache-Control: no-store\r\n\r\n"
        let bytes = Array(head.utf8) + body
        var offset = 0
        while offset < bytes.count {
            let sent = bytes.withUnsafeBytes { send(fd, $0.baseAddress! + offset, $0.count - offset, Int32(MSG_NOSIGNAL)) }
            if sent <= 0 { return false }
            offset += sent
        }
        return true
    }
}

struct TestFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Form fields of an `application/x-www-form-urlencoded` body.
func formFields(_ body: String) -> [String: String] {
    var fields: [String: String] = [:]
    for pair in body.split(separator: "&") {
        let kv = pair.split(separator: "=", maxSplits: 1).map { String($0).replacingOccurrences(of: "+", with: " ") }
        fields[kv[0].removingPercentEncoding ?? kv[0]] = kv.count == 2 ? (kv[1].removingPercentEncoding ?? kv[1]) : ""
    }
    return fields
}
