/// The head of a request, parsed and checked, before its body is read.
struct RequestHead: Sendable {
    var method: HTTPMethod
    var target: String
    var version: HTTPVersion
    var headers: HTTPHeaders
}

/// Why a request was refused before reaching a handler. The connection is closed after the
/// answer, because after a framing error nothing that follows can be trusted.
struct RequestRejection: Error, Equatable {
    var status: HTTPStatus
    var reason: String

    init(_ status: HTTPStatus, _ reason: String) {
        self.status = status
        self.reason = reason
    }
}

/// How the body of a request is delimited (RFC 9112 §6.3).
enum BodyFraming: Equatable {
    case none
    case length(Int)
    case chunked
}

/// Parsing of request heads (RFC 9112 §2-5), strict where leniency enables smuggling.
enum RequestHeadParser {
    /// Looks for the blank line ending a head in `bytes[from...]`. Lines end in LF with an
    /// optional CR. Returns the index just past the blank line.
    static func findEnd(of bytes: UnsafeBufferPointer<UInt8>, from: Int) -> Int? {
        var i = from
        let lf = UInt8(ascii: "\n"), cr = UInt8(ascii: "\r")
        while i < bytes.count {
            if bytes[i] == lf {
                if i + 1 < bytes.count, bytes[i + 1] == lf { return i + 2 }
                if i + 2 < bytes.count, bytes[i + 1] == cr, bytes[i + 2] == lf { return i + 3 }
            }
            i += 1
        }
        return nil
    }

    /// Parses a complete head (request line, fields, blank line).
    static func parse(_ head: UnsafeBufferPointer<UInt8>, maxFields: Int) throws(RequestRejection) -> RequestHead {
        var lines: [UnsafeBufferPointer<UInt8>] = []
        var lineStart = 0
        for i in 0..<head.count where head[i] == UInt8(ascii: "\n") {
            var end = i
            if end > lineStart, head[end - 1] == UInt8(ascii: "\r") { end -= 1 }
            lines.append(UnsafeBufferPointer(rebasing: head[lineStart..<end]))
            lineStart = i + 1
        }
        // The last line is the empty one that ends the head.
        guard lines.count >= 2 else { throw RequestRejection(.badRequest, "missing request line") }
        if lines.count - 2 > maxFields {
            throw RequestRejection(.requestHeaderFieldsTooLarge, "more than \(maxFields) header fields")
        }
        let (method, target, version) = try parseRequestLine(lines[0])
        var headers = HTTPHeaders()
        for line in lines[1..<(lines.count - 1)] {
            let (name, value) = try parseField(line)
            headers.add(name, value)
        }
        if version == .http1_1, !headers.contains("Host") {
            throw RequestRejection(.badRequest, "an HTTP/1.1 request must have a Host header")
        }
        return RequestHead(method: method, target: target, version: version, headers: headers)
    }

    static func parseRequestLine(_ line: UnsafeBufferPointer<UInt8>) throws(RequestRejection) -> (HTTPMethod, String, HTTPVersion) {
        let space = UInt8(ascii: " ")
        guard let firstSpace = line.firstIndex(of: space) else {
            throw RequestRejection(.badRequest, "malformed request line")
        }
        guard let secondSpace = line[(firstSpace + 1)...].firstIndex(of: space) else {
            throw RequestRejection(.badRequest, "malformed request line")
        }
        let methodBytes = UnsafeBufferPointer(rebasing: line[0..<firstSpace])
        let targetBytes = UnsafeBufferPointer(rebasing: line[(firstSpace + 1)..<secondSpace])
        let versionBytes = UnsafeBufferPointer(rebasing: line[(secondSpace + 1)...])
        guard !methodBytes.isEmpty, methodBytes.allSatisfy(isTokenByte) else {
            throw RequestRejection(.badRequest, "malformed method")
        }
        // Visible ASCII only: no spaces, controls or raw non-ASCII in a target.
        guard !targetBytes.isEmpty, targetBytes.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else {
            throw RequestRejection(.badRequest, "malformed request target")
        }
        guard targetBytes[0] == UInt8(ascii: "/") || targetBytes.count == 1 && targetBytes[0] == UInt8(ascii: "*")
            || startsWithScheme(targetBytes)
        else {
            throw RequestRejection(.badRequest, "the request target must be a path")
        }
        let version = try parseVersion(versionBytes)
        return (method(from: methodBytes), String(decoding: targetBytes, as: UTF8.self), version)
    }

    static func parseVersion(_ bytes: UnsafeBufferPointer<UInt8>) throws(RequestRejection) -> HTTPVersion {
        // "HTTP/" DIGIT "." DIGIT
        let prefix: [UInt8] = Array("HTTP/".utf8)
        guard bytes.count == 8, Array(bytes[0..<5]) == prefix, bytes[6] == UInt8(ascii: "."),
              let major = digitValue(bytes[5]), let minor = digitValue(bytes[7])
        else { throw RequestRejection(.badRequest, "malformed HTTP version") }
        guard major == 1, minor <= 1 else {
            throw RequestRejection(.httpVersionNotSupported, "only HTTP/1.0 and HTTP/1.1 are supported")
        }
        return minor == 1 ? .http1_1 : .http1_0
    }

    static func parseField(_ line: UnsafeBufferPointer<UInt8>) throws(RequestRejection) -> (String, String) {
        guard let first = line.first else { throw RequestRejection(.badRequest, "empty header line") }
        if first == UInt8(ascii: " ") || first == UInt8(ascii: "\t") {
            throw RequestRejection(.badRequest, "obsolete line folding in headers")
        }
        guard let colon = line.firstIndex(of: UInt8(ascii: ":")), colon > 0 else {
            throw RequestRejection(.badRequest, "malformed header line")
        }
        let nameBytes = UnsafeBufferPointer(rebasing: line[0..<colon])
        guard nameBytes.allSatisfy(isTokenByte) else {
            throw RequestRejection(.badRequest, "malformed header name")
        }
        var start = colon + 1, end = line.count
        while start < end, line[start] == 0x20 || line[start] == 0x09 { start += 1 }
        while end > start, line[end - 1] == 0x20 || line[end - 1] == 0x09 { end -= 1 }
        let valueBytes = UnsafeBufferPointer(rebasing: line[start..<end])
        // A CR that is not part of a line ending, a NUL, or another control is refused.
        guard valueBytes.allSatisfy({ $0 >= 0x20 && $0 != 0x7F || $0 == 0x09 }) else {
            throw RequestRejection(.badRequest, "control character in a header value")
        }
        return (String(decoding: nameBytes, as: UTF8.self), String(decoding: valueBytes, as: UTF8.self))
    }

    /// Decides how the body is delimited and refuses ambiguous framing outright.
    static func framing(of head: RequestHead, maxBodyBytes: Int) throws(RequestRejection) -> BodyFraming {
        let transferEncodings = head.headers.values(for: "Transfer-Encoding")
        let contentLengths = head.headers.values(for: "Content-Length")
        if !transferEncodings.isEmpty {
            guard contentLengths.isEmpty else {
                throw RequestRejection(.badRequest, "both Transfer-Encoding and Content-Length are present")
            }
            guard head.version == .http1_1 else {
                throw RequestRejection(.badRequest, "Transfer-Encoding in an HTTP/1.0 request")
            }
            let codings = transferEncodings.flatMap { $0.split(separator: ",") }.map { trimmingWhitespace($0) }
            guard codings.count == 1, let only = codings.first, asciiCaseInsensitiveEquals(only, "chunked") else {
                throw RequestRejection(.notImplemented, "only the chunked transfer coding is supported")
            }
            return .chunked
        }
        guard !contentLengths.isEmpty else { return .none }
        var length: Int?
        for item in contentLengths.flatMap({ $0.split(separator: ",", omittingEmptySubsequences: false) }) {
            let text = trimmingWhitespace(item)
            guard !text.isEmpty, text.utf8.count <= 18, text.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }),
                  let value = Int(text)
            else { throw RequestRejection(.badRequest, "malformed Content-Length") }
            if let length, length != value { throw RequestRejection(.badRequest, "conflicting Content-Length values") }
            length = value
        }
        guard let length else { return .none }
        if length > maxBodyBytes {
            throw RequestRejection(.contentTooLarge, "the body is larger than \(maxBodyBytes) bytes")
        }
        return length == 0 ? .none : .length(length)
    }

    static func method(from bytes: UnsafeBufferPointer<UInt8>) -> HTTPMethod {
        for known in HTTPMethod.known where known.rawValue.utf8.elementsEqual(bytes) { return known }
        return HTTPMethod(rawValue: String(decoding: bytes, as: UTF8.self))
    }

    private static func startsWithScheme(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        let http = Array("http://".utf8), https = Array("https://".utf8)
        let lowered = bytes.prefix(8).map(asciiLower)
        return lowered.starts(with: http) || lowered.starts(with: https)
    }

    private static func digitValue(_ c: UInt8) -> Int? { c >= 0x30 && c <= 0x39 ? Int(c - 0x30) : nil }
}

/// Reads a body incrementally, as bytes arrive, enforcing the size limit as it goes.
///
/// A partial chunk-size or trailer line is left unconsumed until its line ending arrives,
/// so no line is ever buffered twice.
struct BodyReader {
    enum Step: Equatable {
        case needMore(consumed: Int)
        case complete(consumed: Int)
        case rejected(RequestRejection)
    }

    private enum State {
        case length(remaining: Int)
        case chunkSize
        case chunkData(remaining: Int)
        case chunkDataEnd
        case trailers(bytesSeen: Int)
        case done
    }

    private(set) var body: [UInt8] = []
    private var state: State
    private let maxBodyBytes: Int
    private let maxTrailerBytes: Int
    static let maxChunkLineBytes = 4096

    init(framing: BodyFraming, maxBodyBytes: Int, maxTrailerBytes: Int) {
        self.maxBodyBytes = maxBodyBytes
        self.maxTrailerBytes = maxTrailerBytes
        switch framing {
        case .none: state = .done
        case .length(let n):
            state = .length(remaining: n)
            body.reserveCapacity(n)
        case .chunked: state = .chunkSize
        }
    }

    /// Consumes as much of `bytes` as belongs to this body.
    mutating func consume(_ bytes: UnsafeBufferPointer<UInt8>) -> Step {
        var offset = 0
        while true {
            switch state {
            case .done:
                return .complete(consumed: offset)
            case .length(let remaining):
                let take = min(remaining, bytes.count - offset)
                body.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[offset..<(offset + take)]))
                offset += take
                if take == remaining {
                    state = .done
                } else {
                    state = .length(remaining: remaining - take)
                    return .needMore(consumed: offset)
                }
            case .chunkSize:
                guard let (line, next) = nextLine(bytes, from: offset) else {
                    if bytes.count - offset > BodyReader.maxChunkLineBytes {
                        return .rejected(RequestRejection(.badRequest, "chunk size line too long"))
                    }
                    return .needMore(consumed: offset)
                }
                guard line.count <= BodyReader.maxChunkLineBytes else {
                    return .rejected(RequestRejection(.badRequest, "chunk size line too long"))
                }
                guard let size = BodyReader.chunkSize(line) else {
                    return .rejected(RequestRejection(.badRequest, "malformed chunk size"))
                }
                offset = next
                if size == 0 {
                    state = .trailers(bytesSeen: 0)
                } else if size > maxBodyBytes - body.count {
                    return .rejected(RequestRejection(.contentTooLarge, "the body is larger than \(maxBodyBytes) bytes"))
                } else {
                    state = .chunkData(remaining: size)
                }
            case .chunkData(let remaining):
                let take = min(remaining, bytes.count - offset)
                body.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[offset..<(offset + take)]))
                offset += take
                if take == remaining {
                    state = .chunkDataEnd
                } else {
                    state = .chunkData(remaining: remaining - take)
                    return .needMore(consumed: offset)
                }
            case .chunkDataEnd:
                let available = bytes.count - offset
                if available >= 1, bytes[offset] == UInt8(ascii: "\n") {
                    offset += 1
                    state = .chunkSize
                } else if available >= 2, bytes[offset] == UInt8(ascii: "\r"), bytes[offset + 1] == UInt8(ascii: "\n") {
                    offset += 2
                    state = .chunkSize
                } else if available == 0 || (available == 1 && bytes[offset] == UInt8(ascii: "\r")) {
                    return .needMore(consumed: offset)
                } else {
                    return .rejected(RequestRejection(.badRequest, "chunk data is not followed by a line break"))
                }
            case .trailers(let seen):
                guard let (line, next) = nextLine(bytes, from: offset) else {
                    if seen + bytes.count - offset > maxTrailerBytes {
                        return .rejected(RequestRejection(.requestHeaderFieldsTooLarge, "trailer section too large"))
                    }
                    return .needMore(consumed: offset)
                }
                let total = seen + (next - offset)
                if total > maxTrailerBytes {
                    return .rejected(RequestRejection(.requestHeaderFieldsTooLarge, "trailer section too large"))
                }
                offset = next
                if line.isEmpty {
                    state = .done
                } else {
                    // Trailer fields are checked for form and otherwise ignored.
                    do { _ = try RequestHeadParser.parseField(line) } catch { return .rejected(error) }
                    state = .trailers(bytesSeen: total)
                }
            }
        }
    }

    /// The next complete line at `from` (without its ending) and the offset after it.
    private func nextLine(_ bytes: UnsafeBufferPointer<UInt8>, from: Int) -> (UnsafeBufferPointer<UInt8>, Int)? {
        guard from < bytes.count, let lf = bytes[from...].firstIndex(of: UInt8(ascii: "\n")) else { return nil }
        var end = lf
        if end > from, bytes[end - 1] == UInt8(ascii: "\r") { end -= 1 }
        return (UnsafeBufferPointer(rebasing: bytes[from..<end]), lf + 1)
    }

    /// `chunk-size [ chunk-ext ]`: hex digits, then optionally `;` and extensions we ignore.
    static func chunkSize(_ line: UnsafeBufferPointer<UInt8>) -> Int? {
        var size = 0
        var digits = 0
        var i = 0
        while i < line.count, let digit = hexValue(line[i]) {
            guard digits < 15 else { return nil }
            size = size << 4 | Int(digit)
            digits += 1
            i += 1
        }
        guard digits > 0 else { return nil }
        while i < line.count, line[i] == 0x20 || line[i] == 0x09 { i += 1 }
        guard i == line.count || line[i] == UInt8(ascii: ";") else { return nil }
        guard line[i...].allSatisfy({ $0 >= 0x20 && $0 != 0x7F || $0 == 0x09 }) else { return nil }
        return size
    }
}
