/// A pull parser over UTF-8 bytes, for hot paths that decode known shapes (a page of a thousand
/// accounts) straight into structs, without building dictionaries or hashing keys.
///
/// Keys come back as raw byte views to compare against constants; values are read on demand or
/// skipped. Errors carry the byte offset.
public struct JSONScanner {
    public let bytes: UnsafeBufferPointer<UInt8>
    public private(set) var index: Int

    public init(_ bytes: UnsafeBufferPointer<UInt8>, from index: Int = 0) {
        self.bytes = bytes
        self.index = index
    }

    public struct Error: Swift.Error, Sendable, CustomStringConvertible {
        public var message: String
        public var offset: Int
        public var description: String { "at byte \(offset): \(message)" }
    }

    // MARK: Structure

    public mutating func skipWhitespace() {
        while index < bytes.count {
            let c = bytes[index]
            if c == 0x20 || c == 0x0A || c == 0x0D || c == 0x09 { index += 1 } else { return }
        }
    }

    /// The next non-whitespace byte, without consuming it.
    public mutating func peek() -> UInt8? {
        skipWhitespace()
        return index < bytes.count ? bytes[index] : nil
    }

    public mutating func expect(_ byte: UInt8) throws(JSONScanner.Error) {
        skipWhitespace()
        guard index < bytes.count, bytes[index] == byte else {
            throw error("expected '\(Character(UnicodeScalar(byte)))'")
        }
        index += 1
    }

    /// Consumes `null` if it is next.
    public mutating func consumeNull() -> Bool {
        skipWhitespace()
        if index + 4 <= bytes.count, bytes[index] == UInt8(ascii: "n"), bytes[index + 1] == UInt8(ascii: "u"),
           bytes[index + 2] == UInt8(ascii: "l"), bytes[index + 3] == UInt8(ascii: "l") {
            index += 4
            return true
        }
        return false
    }

    /// Iterates an object's members: calls `body` with each key's raw bytes (escapes decoded)
    /// positioned at the value, which `body` must consume (read or skip).
    public mutating func forEachMember(_ body: (inout JSONScanner, UnsafeBufferPointer<UInt8>) throws -> Void) throws {
        try expect(UInt8(ascii: "{"))
        if peek() == UInt8(ascii: "}") {
            index += 1
            return
        }
        var scratch: [UInt8] = []
        while true {
            skipWhitespace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else { throw error("expected a string key") }
            let (start, end, escaped) = try scanString()
            try expect(UInt8(ascii: ":"))
            skipWhitespace()
            if escaped {
                scratch = try unescape(start, end)
                try scratch.withUnsafeBufferPointer { key in try body(&self, key) }
            } else {
                try body(&self, UnsafeBufferPointer(rebasing: bytes[start..<end]))
            }
            skipWhitespace()
            guard index < bytes.count else { throw error("unterminated object") }
            if bytes[index] == UInt8(ascii: ",") { index += 1; continue }
            if bytes[index] == UInt8(ascii: "}") { index += 1; return }
            throw error("expected ',' or '}'")
        }
    }

    /// Iterates an array's elements; `body` must consume each.
    public mutating func forEachElement(_ body: (inout JSONScanner, Int) throws -> Void) throws {
        try expect(UInt8(ascii: "["))
        if peek() == UInt8(ascii: "]") {
            index += 1
            return
        }
        var i = 0
        while true {
            skipWhitespace()
            try body(&self, i)
            i += 1
            skipWhitespace()
            guard index < bytes.count else { throw error("unterminated array") }
            if bytes[index] == UInt8(ascii: ",") { index += 1; continue }
            if bytes[index] == UInt8(ascii: "]") { index += 1; return }
            throw error("expected ',' or ']'")
        }
    }

    // MARK: Values

    /// Reads a string; nil for `null`.
    public mutating func readOptionalString() throws(JSONScanner.Error) -> String? {
        if consumeNull() { return nil }
        return try readString()
    }

    public mutating func readString() throws(JSONScanner.Error) -> String {
        skipWhitespace()
        guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else { throw error("expected a string") }
        let (start, end, escaped) = try scanString()
        if escaped { return try unescapedString(start, end) }
        return try makeString(UnsafeBufferPointer(rebasing: bytes[start..<end]), at: start)
    }

    public mutating func readBool() throws(JSONScanner.Error) -> Bool {
        skipWhitespace()
        if matches("true") { index += 4; return true }
        if matches("false") { index += 5; return false }
        throw error("expected a boolean")
    }

    public mutating func readInt() throws(JSONScanner.Error) -> Int {
        let start = index
        let value = try readValue()
        guard let i = value.intValue else {
            index = start
            throw error("expected an integer")
        }
        return i
    }

    /// Reads any value into a `JSONValue`.
    public mutating func readValue() throws(JSONScanner.Error) -> JSONValue {
        skipWhitespace()
        let start = index
        try skipValue()
        do {
            return try JSONParser.parse(UnsafeBufferPointer(rebasing: bytes[start..<index]))
        } catch {
            throw JSONScanner.Error(message: error.message, offset: start + error.offset)
        }
    }

    /// Skips one value, checking its structure (balanced brackets, closed strings, literals).
    public mutating func skipValue() throws(JSONScanner.Error) {
        skipWhitespace()
        guard index < bytes.count else { throw error("expected a value") }
        switch bytes[index] {
        case UInt8(ascii: "\""):
            _ = try scanString()
        case UInt8(ascii: "{"), UInt8(ascii: "["):
            var depth = 0
            while index < bytes.count {
                let c = bytes[index]
                if c == UInt8(ascii: "\"") {
                    _ = try scanString()
                    continue
                }
                if c == UInt8(ascii: "{") || c == UInt8(ascii: "[") {
                    depth += 1
                    if depth > 512 { throw error("nesting deeper than 512") }
                } else if c == UInt8(ascii: "}") || c == UInt8(ascii: "]") {
                    depth -= 1
                    if depth == 0 {
                        index += 1
                        return
                    }
                }
                index += 1
            }
            throw error("unterminated object or array")
        case UInt8(ascii: "t"):
            guard matches("true") else { throw error("invalid literal") }
            index += 4
        case UInt8(ascii: "f"):
            guard matches("false") else { throw error("invalid literal") }
            index += 5
        case UInt8(ascii: "n"):
            guard matches("null") else { throw error("invalid literal") }
            index += 4
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            index += 1
            while index < bytes.count {
                let c = bytes[index]
                if (c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9")) || c == UInt8(ascii: ".") || c == UInt8(ascii: "e")
                    || c == UInt8(ascii: "E") || c == UInt8(ascii: "+") || c == UInt8(ascii: "-") {
                    index += 1
                } else {
                    break
                }
            }
        default:
            throw error("unexpected character")
        }
    }

    /// Whether the remaining bytes are only whitespace.
    public mutating func atEnd() -> Bool {
        skipWhitespace()
        return index >= bytes.count
    }

    // MARK: Helpers

    /// Scans a string starting at the opening quote; returns the content range and whether it
    /// has escapes, leaving `index` after the closing quote.
    private mutating func scanString() throws(JSONScanner.Error) -> (Int, Int, Bool) {
        index += 1
        let start = index
        var escaped = false
        while index < bytes.count {
            let c = bytes[index]
            if c == UInt8(ascii: "\"") {
                let end = index
                index += 1
                return (start, end, escaped)
            }
            if c == UInt8(ascii: "\\") {
                escaped = true
                index += 2
                continue
            }
            if c < 0x20 { throw error("control character in string") }
            index += 1
        }
        throw error("unterminated string")
    }

    private func unescape(_ start: Int, _ end: Int) throws(JSONScanner.Error) -> [UInt8] {
        Array(try unescapedString(start, end).utf8)
    }

    /// Decodes a string with escapes by quoting the raw content and handing it to the full parser.
    private func unescapedString(_ start: Int, _ end: Int) throws(JSONScanner.Error) -> String {
        var quoted: [UInt8] = [UInt8(ascii: "\"")]
        quoted.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[start..<end]))
        quoted.append(UInt8(ascii: "\""))
        let value: JSONValue
        do {
            value = try JSONParser.parse(quoted)
        } catch {
            throw JSONScanner.Error(message: error.message, offset: start)
        }
        guard case .string(let s) = value else { throw JSONScanner.Error(message: "invalid string", offset: start) }
        return s
    }

    private func makeString(_ buffer: UnsafeBufferPointer<UInt8>, at offset: Int) throws(JSONScanner.Error) -> String {
        var ascii = true
        for b in buffer where b >= 0x80 { ascii = false; break }
        if ascii { return String(decoding: buffer, as: UTF8.self) }
        guard let s = String(validating: buffer, as: UTF8.self) else {
            throw JSONScanner.Error(message: "string is not valid UTF-8", offset: offset)
        }
        return s
    }

    private func matches(_ literal: StaticString) -> Bool {
        let n = literal.utf8CodeUnitCount
        guard index + n <= bytes.count else { return false }
        let p = literal.utf8Start
        for i in 0..<n where bytes[index + i] != p[i] { return false }
        return true
    }

    private func error(_ message: String) -> JSONScanner.Error {
        JSONScanner.Error(message: message, offset: index)
    }
}

extension UnsafeBufferPointer where Element == UInt8 {
    /// Compares with an ASCII key without making a String.
    @inlinable
    public func equals(_ key: StaticString) -> Bool {
        let n = key.utf8CodeUnitCount
        guard count == n, let base = baseAddress else { return n == 0 && count == 0 }
        return memcmpBytes(base, key.utf8Start, n)
    }
}

@usableFromInline
func memcmpBytes(_ a: UnsafePointer<UInt8>, _ b: UnsafePointer<UInt8>, _ n: Int) -> Bool {
    var i = 0
    while i < n {
        if a[i] != b[i] { return false }
        i += 1
    }
    return true
}
