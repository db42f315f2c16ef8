/// A fast JSON (RFC 8259) parser, with an opt-in JSON5 mode for hand-written config files.
///
/// It works on raw UTF-8 bytes, validates strings as UTF-8, limits nesting depth, and reports
/// errors with the line and column. In JSON5 mode it can also record the line where each value
/// starts, keyed by its path (`apps[0].settings.baseURL`), so config errors can point at a line.
public struct JSONParser: Sendable {
    public struct Options: Sendable {
        public var json5: Bool
        public var maxDepth: Int
        public var recordLines: Bool

        public init(json5: Bool = false, maxDepth: Int = 512, recordLines: Bool = false) {
            self.json5 = json5
            self.maxDepth = maxDepth
            self.recordLines = recordLines
        }

        public static let strict = Options()
        public static let json5 = Options(json5: true, recordLines: true)
    }

    /// Parses a whole document; anything but whitespace after the value is an error.
    public static func parse(_ bytes: some Collection<UInt8>, options: Options = .strict) throws(JSONParseError) -> JSONValue {
        try parseWithLines(bytes, options: options).value
    }

    public static func parse(_ text: String, options: Options = .strict) throws(JSONParseError) -> JSONValue {
        try parse(Array(text.utf8), options: options)
    }

    /// Parses a document and returns, when `options.recordLines` is set, the 1-based line where
    /// each value starts, keyed by its path.
    public static func parseWithLines(_ bytes: some Collection<UInt8>, options: Options) throws(JSONParseError) -> (value: JSONValue, lines: [String: Int]) {
        let result: Result<(JSONValue, [String: Int]), JSONParseError>? = bytes.withContiguousStorageIfAvailable { buffer in
            var parser = Cursor(buffer, options)
            do throws(JSONParseError) {
                let v = try parser.parseDocument()
                return .success((v, parser.lines))
            } catch {
                return .failure(error)
            }
        }
        if let result { return try result.get() }
        let array = Array(bytes)
        return try parseWithLines(array, options: options)
    }
}

/// Where and why a document failed to parse.
public struct JSONParseError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public var offset: Int
    public var line: Int
    public var column: Int

    public var description: String { "line \(line), column \(column): \(message)" }
}

// MARK: - The cursor

private struct Cursor {
    let bytes: UnsafeBufferPointer<UInt8>
    let options: Options
    var index = 0
    var depth = 0
    var lines: [String: Int] = [:]
    var path: [PathPart] = []
    var countedLinesUpTo = 0
    var countedLines = 1

    typealias Options = JSONParser.Options

    enum PathPart {
        case key(String)
        case index(Int)
    }

    init(_ bytes: UnsafeBufferPointer<UInt8>, _ options: Options) {
        self.bytes = bytes
        self.options = options
    }

    mutating func parseDocument() throws(JSONParseError) -> JSONValue {
        // A UTF-8 byte order mark is tolerated at the very start.
        if bytes.count >= 3, bytes[0] == 0xEF, bytes[1] == 0xBB, bytes[2] == 0xBF { index = 3 }
        try skipWhitespace()
        let value = try parseValue()
        try skipWhitespace()
        if index < bytes.count { throw error("unexpected data after the JSON value") }
        return value
    }

    // MARK: Values

    mutating func parseValue() throws(JSONParseError) -> JSONValue {
        guard index < bytes.count else { throw error("unexpected end of input") }
        if options.recordLines { lines[pathString()] = advanceLineCount(to: index) }
        switch bytes[index] {
        case UInt8(ascii: "{"): return try parseObject()
        case UInt8(ascii: "["): return try parseArray()
        case UInt8(ascii: "\""): return .string(try parseString(quote: UInt8(ascii: "\"")))
        case UInt8(ascii: "'") where options.json5: return .string(try parseString(quote: UInt8(ascii: "'")))
        case UInt8(ascii: "t"):
            try expectLiteral("true")
            return .bool(true)
        case UInt8(ascii: "f"):
            try expectLiteral("false")
            return .bool(false)
        case UInt8(ascii: "n"):
            try expectLiteral("null")
            return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            return try parseNumber()
        case UInt8(ascii: "+"), UInt8(ascii: "."), UInt8(ascii: "I"), UInt8(ascii: "N"):
            if options.json5 { return try parseNumber() }
            throw error("unexpected character '\(Character(UnicodeScalar(bytes[index])))'")
        default:
            throw error("unexpected character \(describeByte(bytes[index]))")
        }
    }

    mutating func parseObject() throws(JSONParseError) -> JSONValue {
        depth += 1
        if depth > options.maxDepth { throw error("nesting deeper than \(options.maxDepth)") }
        index += 1
        var object: [String: JSONValue] = [:]
        try skipWhitespace()
        if peek(UInt8(ascii: "}")) {
            index += 1
            depth -= 1
            return .object(object)
        }
        while true {
            try skipWhitespace()
            if options.json5, peek(UInt8(ascii: "}")) { index += 1; break }
            let keyStart = index
            let key = try parseKey()
            if object[key] != nil {
                index = keyStart
                throw error("duplicate key \"\(key)\"")
            }
            try skipWhitespace()
            guard peek(UInt8(ascii: ":")) else { throw error("expected ':' after object key") }
            index += 1
            try skipWhitespace()
            if options.recordLines { path.append(.key(key)) }
            object[key] = try parseValue()
            if options.recordLines { path.removeLast() }
            try skipWhitespace()
            guard index < bytes.count else { throw error("unterminated object") }
            if bytes[index] == UInt8(ascii: ",") { index += 1; continue }
            if bytes[index] == UInt8(ascii: "}") { index += 1; break }
            throw error("expected ',' or '}' in object")
        }
        depth -= 1
        return .object(object)
    }

    mutating func parseKey() throws(JSONParseError) -> String {
        guard index < bytes.count else { throw error("unterminated object") }
        let c = bytes[index]
        if c == UInt8(ascii: "\"") { return try parseString(quote: c) }
        if options.json5 {
            if c == UInt8(ascii: "'") { return try parseString(quote: c) }
            let start = index
            while index < bytes.count, isIdentifierByte(bytes[index]) { index += 1 }
            if index > start {
                return String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
            }
        }
        throw error("expected a string key")
    }

    mutating func parseArray() throws(JSONParseError) -> JSONValue {
        depth += 1
        if depth > options.maxDepth { throw error("nesting deeper than \(options.maxDepth)") }
        index += 1
        var array: [JSONValue] = []
        try skipWhitespace()
        if peek(UInt8(ascii: "]")) {
            index += 1
            depth -= 1
            return .array(array)
        }
        while true {
            try skipWhitespace()
            if options.json5, peek(UInt8(ascii: "]")) { index += 1; break }
            if options.recordLines { path.append(.index(array.count)) }
            array.append(try parseValue())
            if options.recordLines { path.removeLast() }
            try skipWhitespace()
            guard index < bytes.count else { throw error("unterminated array") }
            if bytes[index] == UInt8(ascii: ",") { index += 1; continue }
            if bytes[index] == UInt8(ascii: "]") { index += 1; break }
            throw error("expected ',' or ']' in array")
        }
        depth -= 1
        return .array(array)
    }

    // MARK: Strings

    mutating func parseString(quote: UInt8) throws(JSONParseError) -> String {
        let start = index
        index += 1
        let contentStart = index
        // Fast path: no escapes.
        while index < bytes.count {
            let c = bytes[index]
            if c == quote {
                let slice = UnsafeBufferPointer(rebasing: bytes[contentStart..<index])
                index += 1
                return try makeString(slice, at: contentStart)
            }
            if c == UInt8(ascii: "\\") { break }
            if c < 0x20 {
                throw error("control character in string (escape it)")
            }
            index += 1
        }
        guard index < bytes.count else {
            index = start
            throw error("unterminated string")
        }
        // Slow path with escapes.
        var buffer = [UInt8](UnsafeBufferPointer(rebasing: bytes[contentStart..<index]))
        while index < bytes.count {
            let c = bytes[index]
            if c == quote {
                index += 1
                return try buffer.withUnsafeBufferPointer { b throws(JSONParseError) in try makeString(b, at: contentStart) }
            }
            if c < 0x20 { throw error("control character in string (escape it)") }
            if c != UInt8(ascii: "\\") {
                buffer.append(c)
                index += 1
                continue
            }
            index += 1
            guard index < bytes.count else { break }
            let e = bytes[index]
            index += 1
            switch e {
            case UInt8(ascii: "\""): buffer.append(0x22)
            case UInt8(ascii: "\\"): buffer.append(0x5C)
            case UInt8(ascii: "/"): buffer.append(0x2F)
            case UInt8(ascii: "b"): buffer.append(0x08)
            case UInt8(ascii: "f"): buffer.append(0x0C)
            case UInt8(ascii: "n"): buffer.append(0x0A)
            case UInt8(ascii: "r"): buffer.append(0x0D)
            case UInt8(ascii: "t"): buffer.append(0x09)
            case UInt8(ascii: "u"):
                var scalar = try parseHex4()
                if (0xD800...0xDBFF).contains(scalar) {
                    // A high surrogate must be followed by an escaped low surrogate.
                    guard index + 1 < bytes.count, bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u") else {
                        throw error("unpaired surrogate in \\u escape")
                    }
                    index += 2
                    let low = try parseHex4()
                    guard (0xDC00...0xDFFF).contains(low) else { throw error("unpaired surrogate in \\u escape") }
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                } else if (0xDC00...0xDFFF).contains(scalar) {
                    throw error("unpaired surrogate in \\u escape")
                }
                guard let u = UnicodeScalar(scalar) else { throw error("invalid \\u escape") }
                buffer.append(contentsOf: Array(String(Character(u)).utf8))
            case UInt8(ascii: "'") where options.json5: buffer.append(0x27)
            case UInt8(ascii: "v") where options.json5: buffer.append(0x0B)
            case UInt8(ascii: "0") where options.json5: buffer.append(0x00)
            case 0x0A where options.json5: break  // line continuation
            case 0x0D where options.json5:
                if peek(0x0A) { index += 1 }
            default:
                index -= 1
                throw error("invalid escape \\\(Character(UnicodeScalar(e)))")
            }
        }
        index = start
        throw error("unterminated string")
    }

    mutating func parseHex4() throws(JSONParseError) -> UInt32 {
        guard index + 4 <= bytes.count else { throw error("short \\u escape") }
        var v: UInt32 = 0
        for _ in 0..<4 {
            let c = bytes[index]
            let d: UInt32
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): d = UInt32(c - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): d = UInt32(c - UInt8(ascii: "a") + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): d = UInt32(c - UInt8(ascii: "A") + 10)
            default: throw error("invalid hex digit in \\u escape")
            }
            v = v << 4 | d
            index += 1
        }
        return v
    }

    func makeString(_ bytes: UnsafeBufferPointer<UInt8>, at offset: Int) throws(JSONParseError) -> String {
        // ASCII is by far the common case and needs no validation beyond the byte check.
        var ascii = true
        for b in bytes where b >= 0x80 { ascii = false; break }
        if ascii { return String(decoding: bytes, as: UTF8.self) }
        guard let s = String(validating: bytes, as: UTF8.self) else {
            throw JSONParseError(message: "string is not valid UTF-8", offset: offset, line: lineNumber(at: offset), column: column(at: offset))
        }
        return s
    }

    // MARK: Numbers

    mutating func parseNumber() throws(JSONParseError) -> JSONValue {
        let start = index
        var negative = false
        if bytes[index] == UInt8(ascii: "-") {
            negative = true
            index += 1
        } else if options.json5, bytes[index] == UInt8(ascii: "+") {
            index += 1
        }
        if options.json5 {
            if matches("Infinity") { index += 8; return .double(negative ? -.infinity : .infinity) }
            if matches("NaN") { index += 3; return .double(.nan) }
            if matches("0x") || matches("0X") {
                index += 2
                let digitsStart = index
                while index < bytes.count, isHexDigit(bytes[index]) { index += 1 }
                let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[digitsStart..<index]), as: UTF8.self)
                guard let v = Int(text, radix: 16) else { throw error("invalid hexadecimal number") }
                return .int(negative ? -v : v)
            }
        }
        var intPart: Int = 0
        var overflow = false
        let digitsStart = index
        while index < bytes.count, isDigit(bytes[index]) {
            let (m, o1) = intPart.multipliedReportingOverflow(by: 10)
            let (a, o2) = m.addingReportingOverflow(Int(bytes[index] - UInt8(ascii: "0")))
            intPart = a
            overflow = overflow || o1 || o2
            index += 1
        }
        let intDigits = index - digitsStart
        if intDigits == 0 && !(options.json5 && peek(UInt8(ascii: "."))) {
            index = start
            throw error("invalid number")
        }
        if !options.json5, intDigits > 1, bytes[digitsStart] == UInt8(ascii: "0") {
            index = digitsStart
            throw error("leading zeros are not allowed in numbers")
        }
        var isInteger = true
        if peek(UInt8(ascii: ".")) {
            isInteger = false
            index += 1
            let fracStart = index
            while index < bytes.count, isDigit(bytes[index]) { index += 1 }
            if index == fracStart && !options.json5 { throw error("expected digits after '.'") }
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
            isInteger = false
            index += 1
            if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") { index += 1 }
            let expStart = index
            while index < bytes.count, isDigit(bytes[index]) { index += 1 }
            if index == expStart { throw error("expected digits in exponent") }
        }
        if isInteger && !overflow {
            return .int(negative ? -intPart : intPart)
        }
        var text = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
        if text.hasPrefix("+") { text.removeFirst() }
        guard let d = Double(text) else {
            index = start
            throw error("invalid number")
        }
        return .double(d)
    }

    // MARK: Whitespace and helpers

    mutating func skipWhitespace() throws(JSONParseError) {
        while index < bytes.count {
            let c = bytes[index]
            if c == 0x20 || c == 0x0A || c == 0x0D || c == 0x09 {
                index += 1
            } else if options.json5, c == UInt8(ascii: "/"), index + 1 < bytes.count {
                if bytes[index + 1] == UInt8(ascii: "/") {
                    while index < bytes.count, bytes[index] != 0x0A { index += 1 }
                } else if bytes[index + 1] == UInt8(ascii: "*") {
                    let start = index
                    index += 2
                    while index + 1 < bytes.count, !(bytes[index] == UInt8(ascii: "*") && bytes[index + 1] == UInt8(ascii: "/")) { index += 1 }
                    if index + 1 >= bytes.count {
                        index = start
                        throw error("unterminated comment")
                    }
                    index += 2
                } else {
                    return
                }
            } else if options.json5, c == 0xC2, index + 1 < bytes.count, bytes[index + 1] == 0xA0 {
                index += 2  // no-break space
            } else if options.json5, c == 0x0B || c == 0x0C {
                index += 1
            } else {
                return
            }
        }
    }

    mutating func expectLiteral(_ literal: StaticString) throws(JSONParseError) {
        if matches(literal) {
            index += literal.utf8CodeUnitCount
        } else {
            throw error("invalid literal")
        }
    }

    func matches(_ literal: StaticString) -> Bool {
        let n = literal.utf8CodeUnitCount
        guard index + n <= bytes.count else { return false }
        let p = literal.utf8Start
        for i in 0..<n where bytes[index + i] != p[i] { return false }
        return true
    }

    func peek(_ c: UInt8) -> Bool { index < bytes.count && bytes[index] == c }

    func isDigit(_ c: UInt8) -> Bool { c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9") }

    func isHexDigit(_ c: UInt8) -> Bool {
        isDigit(c) || (c >= UInt8(ascii: "a") && c <= UInt8(ascii: "f")) || (c >= UInt8(ascii: "A") && c <= UInt8(ascii: "F"))
    }

    func isIdentifierByte(_ c: UInt8) -> Bool {
        isDigit(c) || (c >= UInt8(ascii: "a") && c <= UInt8(ascii: "z")) || (c >= UInt8(ascii: "A") && c <= UInt8(ascii: "Z"))
            || c == UInt8(ascii: "_") || c == UInt8(ascii: "$") || c >= 0x80
    }

    func describeByte(_ c: UInt8) -> String {
        if c >= 0x20 && c < 0x7F { return "'\(Character(UnicodeScalar(c)))'" }
        return "byte 0x" + String(c, radix: 16, uppercase: true)
    }

    func pathString() -> String {
        var s = ""
        for part in path {
            switch part {
            case .key(let k): s += s.isEmpty ? k : "." + k
            case .index(let i): s += "[\(i)]"
            }
        }
        return s
    }

    /// The line at `offset`, counting forward from the last call so recording stays linear.
    mutating func advanceLineCount(to offset: Int) -> Int {
        while countedLinesUpTo < offset {
            if bytes[countedLinesUpTo] == 0x0A { countedLines += 1 }
            countedLinesUpTo += 1
        }
        return countedLines
    }

    func lineNumber(at offset: Int) -> Int {
        var line = 1
        var i = 0
        let end = min(offset, bytes.count)
        while i < end {
            if bytes[i] == 0x0A { line += 1 }
            i += 1
        }
        return line
    }

    func column(at offset: Int) -> Int {
        var i = min(offset, bytes.count)
        var col = 1
        while i > 0, bytes[i - 1] != 0x0A {
            i -= 1
            col += 1
        }
        return col
    }

    func error(_ message: String) -> JSONParseError {
        JSONParseError(message: message, offset: index, line: lineNumber(at: index), column: column(at: index))
    }
}
