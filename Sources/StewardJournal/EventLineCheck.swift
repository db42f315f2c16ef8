#if canImport(Glibc)
import Glibc
#endif

/// Decides whether a stored line is a canonical event line without building any values.
///
/// Recovery and verification look at every line of the journal, so they cannot afford a full
/// JSON parse per line. This walks the bytes once and checks the exact canonical layout that
/// `EventLine` writes: member order, no whitespace, JSONWriter's escaping, valid UTF-8, sorted
/// unique object keys. The few shapes it cannot decide cheaply (non-integer numbers, non-ASCII
/// object keys) go to the full parser, which compares a re-encoding byte for byte.
enum EventLineCheck {
    /// The line's sequence number, or why it is not a canonical event line.
    static func check(_ line: UnsafeRawBufferPointer) -> Result<Int, EventLineError> {
        var scanner = Scanner(bytes: line)
        switch scanner.scanLine() {
        case .valid(let seq):
            return .success(seq)
        case .invalid(let reason):
            return .failure(EventLineError(reason: "\(reason) at byte \(scanner.index)"))
        case .undecided:
            do {
                return .success(try EventLine.parse(line).seq)
            } catch {
                return .failure(error)
            }
        }
    }
}

private enum Verdict {
    case valid(Int)
    case invalid(String)
    /// Well-formed so far but outside the fast path; the full parser decides.
    case undecided
}

private struct Scanner {
    let bytes: UnsafeRawBufferPointer
    var index = 0

    init(bytes: UnsafeRawBufferPointer) {
        self.bytes = bytes
    }

    mutating func scanLine() -> Verdict {
        guard literal(#"{"seq":"#) else { return .invalid("line does not start with {\"seq\":") }
        guard let seq = positiveInteger() else { return .invalid("seq is not a positive integer") }
        guard literal(#","time":""#) else { return .invalid("expected ,\"time\":\" after seq") }
        guard index + Timestamp.canonicalLength <= bytes.count,
              Timestamp(canonical: UnsafeRawBufferPointer(rebasing: bytes[index..<(index + Timestamp.canonicalLength)])) != nil
        else { return .invalid("time is not a UTC timestamp like 2026-11-27T10:00:00.123Z") }
        index += Timestamp.canonicalLength
        guard literal(#"",""#) else { return .invalid("expected \",\" after time") }
        guard literal(#"type":"#) else { return .invalid("expected \"type\" after time") }
        if let verdict = string() { return verdict }
        guard literal(#","actor":"#) else { return .invalid("expected ,\"actor\": after type") }
        if let verdict = string() { return verdict }
        guard literal(#","subjects":{"#) else { return .invalid("expected ,\"subjects\":{ after actor") }
        if let verdict = subjects() { return verdict }
        guard literal(#","data":"#) else { return .invalid("expected ,\"data\": after subjects") }
        if let verdict = value(depth: 1) { return verdict }
        guard literal("}") else { return .invalid("expected } after data") }
        guard index == bytes.count else { return .invalid("unexpected bytes after the event") }
        return .valid(seq)
    }

    // MARK: Members

    /// `"k":"v"` pairs with ASCII keys in strictly increasing order, then `}`.
    mutating func subjects() -> Verdict? {
        if peek(UInt8(ascii: "}")) {
            index += 1
            return nil
        }
        var previousKey: Range<Int>?
        while true {
            let keyStart = index + 1
            if let verdict = string() { return verdict }
            let key = keyStart..<(index - 1)
            if let verdict = ordered(key, after: previousKey) { return verdict }
            previousKey = key
            guard literal(":") else { return .invalid("expected : after a subject key") }
            if let verdict = string() { return verdict }
            if literal(",") { continue }
            guard literal("}") else { return .invalid("expected , or } in subjects") }
            return nil
        }
    }

    mutating func value(depth: Int) -> Verdict? {
        guard depth <= 512 else { return .invalid("data is nested too deeply") }
        guard index < bytes.count else { return .invalid("line ends inside data") }
        switch bytes[index] {
        case UInt8(ascii: "\""):
            return string()
        case UInt8(ascii: "{"):
            index += 1
            return object(depth: depth)
        case UInt8(ascii: "["):
            index += 1
            if literal("]") { return nil }
            while true {
                if let verdict = value(depth: depth + 1) { return verdict }
                if literal(",") { continue }
                guard literal("]") else { return .invalid("expected , or ] in an array") }
                return nil
            }
        case UInt8(ascii: "t"):
            return literal("true") ? nil : .invalid("invalid literal")
        case UInt8(ascii: "f"):
            return literal("false") ? nil : .invalid("invalid literal")
        case UInt8(ascii: "n"):
            return literal("null") ? nil : .invalid("invalid literal")
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            return number()
        default:
            return .invalid("unexpected byte 0x\(String(bytes[index], radix: 16)) in data")
        }
    }

    mutating func object(depth: Int) -> Verdict? {
        if literal("}") { return nil }
        var previousKey: Range<Int>?
        while true {
            let keyStart = index + 1
            if let verdict = string() { return verdict }
            let key = keyStart..<(index - 1)
            if let verdict = ordered(key, after: previousKey) { return verdict }
            previousKey = key
            guard literal(":") else { return .invalid("expected : after an object key") }
            if let verdict = value(depth: depth + 1) { return verdict }
            if literal(",") { continue }
            guard literal("}") else { return .invalid("expected , or } in an object") }
            return nil
        }
    }

    /// Keys must be strictly increasing. Byte order equals Swift's string order only for
    /// ASCII, so any other key is left to the full parser.
    func ordered(_ key: Range<Int>, after previous: Range<Int>?) -> Verdict? {
        for i in key where bytes[i] >= 0x80 || bytes[i] == UInt8(ascii: "\\") { return .undecided }
        guard let previous else { return nil }
        let a = UnsafeRawBufferPointer(rebasing: bytes[previous])
        let b = UnsafeRawBufferPointer(rebasing: bytes[key])
        return a.lexicographicallyPrecedes(b) ? nil : .invalid("object keys are not in sorted order")
    }

    // MARK: Scalars

    /// A string with exactly JSONWriter's escaping and valid UTF-8.
    mutating func string() -> Verdict? {
        guard literal("\"") else { return .invalid("expected a string") }
        while index < bytes.count {
            skipPlainASCII()
            guard index < bytes.count else { break }
            let c = bytes[index]
            if c == UInt8(ascii: "\"") {
                index += 1
                return nil
            }
            if c < 0x20 { return .invalid("raw control character in a string") }
            if c == UInt8(ascii: "\\") {
                if let verdict = escape() { return verdict }
                continue
            }
            if c < 0x80 {
                index += 1
                continue
            }
            guard let length = utf8SequenceLength(at: index) else { return .invalid("invalid UTF-8") }
            index += length
        }
        return .invalid("line ends inside a string")
    }

    /// JSONWriter writes `\"`, `\\`, `\n`, `\r`, `\t`, and `\u00xx` for other control
    /// characters; any other escape is valid JSON but not canonical.
    mutating func escape() -> Verdict? {
        guard index + 1 < bytes.count else { return .invalid("line ends inside an escape") }
        switch bytes[index + 1] {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
            index += 2
            return nil
        case UInt8(ascii: "u"):
            guard index + 6 <= bytes.count, bytes[index + 2] == UInt8(ascii: "0"), bytes[index + 3] == UInt8(ascii: "0"),
                  bytes[index + 4] == UInt8(ascii: "0") || bytes[index + 4] == UInt8(ascii: "1"),
                  isLowerHex(bytes[index + 5]) else { return .invalid("non-canonical \\u escape") }
            let code = (bytes[index + 4] - UInt8(ascii: "0")) << 4 | hexValue(bytes[index + 5])
            guard code != 0x0A, code != 0x0D, code != 0x09 else { return .invalid("non-canonical \\u escape") }
            index += 6
            return nil
        default:
            return .invalid("non-canonical escape")
        }
    }

    /// Integers of up to 18 digits are canonical as JSONWriter writes them; fractions and
    /// exponents depend on how doubles print, so the full parser decides those.
    mutating func number() -> Verdict? {
        let start = index
        if peek(UInt8(ascii: "-")) { index += 1 }
        let digitsStart = index
        while index < bytes.count, bytes[index] >= UInt8(ascii: "0"), bytes[index] <= UInt8(ascii: "9") { index += 1 }
        let digits = index - digitsStart
        guard digits > 0 else { return .invalid("invalid number") }
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") || bytes[index] | 0x20 == UInt8(ascii: "e") {
            return .undecided
        }
        if digits > 1, bytes[digitsStart] == UInt8(ascii: "0") { return .invalid("number with a leading zero") }
        if digits > 18 { return .undecided }
        if digits == 1, bytes[digitsStart] == UInt8(ascii: "0"), digitsStart > start { return .invalid("non-canonical -0") }
        return nil
    }

    mutating func positiveInteger() -> Int? {
        let start = index
        var value = 0
        while index < bytes.count, bytes[index] >= UInt8(ascii: "0"), bytes[index] <= UInt8(ascii: "9"), index - start < 18 {
            value = value * 10 + Int(bytes[index] - UInt8(ascii: "0"))
            index += 1
        }
        guard index > start, bytes[start] != UInt8(ascii: "0") else { return nil }
        return value
    }

    // MARK: Bytes

    func peek(_ c: UInt8) -> Bool { index < bytes.count && bytes[index] == c }

    mutating func literal(_ text: StaticString) -> Bool {
        let count = text.utf8CodeUnitCount
        guard index + count <= bytes.count, let base = bytes.baseAddress else { return false }
        guard memcmp(base + index, text.utf8Start, count) == 0 else { return false }
        index += count
        return true
    }

    /// Skips eight bytes at a time while none of them is a quote, a backslash, a control
    /// character or non-ASCII: the common case inside strings.
    mutating func skipPlainASCII() {
        guard let base = bytes.baseAddress else { return }
        let ones: UInt64 = 0x0101_0101_0101_0101
        let highs: UInt64 = 0x8080_8080_8080_8080
        while index + 8 <= bytes.count {
            let word = base.loadUnaligned(fromByteOffset: index, as: UInt64.self)
            let quote = word ^ (ones &* 0x22)
            let backslash = word ^ (ones &* 0x5C)
            let special = ((quote &- ones) & ~quote) | ((backslash &- ones) & ~backslash) | ((word &- ones &* 0x20) & ~word) | word
            if special & highs != 0 { return }
            index += 8
        }
    }

    /// The length of the well-formed UTF-8 sequence at `i` (RFC 3629), or nil.
    func utf8SequenceLength(at i: Int) -> Int? {
        let lead = bytes[i]
        func continuation(_ offset: Int, _ range: ClosedRange<UInt8> = 0x80...0xBF) -> Bool {
            i + offset < bytes.count && range.contains(bytes[i + offset])
        }
        switch lead {
        case 0xC2...0xDF:
            return continuation(1) ? 2 : nil
        case 0xE0:
            return continuation(1, 0xA0...0xBF) && continuation(2) ? 3 : nil
        case 0xE1...0xEC, 0xEE...0xEF:
            return continuation(1) && continuation(2) ? 3 : nil
        case 0xED:
            return continuation(1, 0x80...0x9F) && continuation(2) ? 3 : nil
        case 0xF0:
            return continuation(1, 0x90...0xBF) && continuation(2) && continuation(3) ? 4 : nil
        case 0xF1...0xF3:
            return continuation(1) && continuation(2) && continuation(3) ? 4 : nil
        case 0xF4:
            return continuation(1, 0x80...0x8F) && continuation(2) && continuation(3) ? 4 : nil
        default:
            return nil
        }
    }
}

private func isLowerHex(_ c: UInt8) -> Bool {
    (c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9")) || (c >= UInt8(ascii: "a") && c <= UInt8(ascii: "f"))
}

private func hexValue(_ c: UInt8) -> UInt8 {
    c <= UInt8(ascii: "9") ? c - UInt8(ascii: "0") : c - UInt8(ascii: "a") + 10
}
