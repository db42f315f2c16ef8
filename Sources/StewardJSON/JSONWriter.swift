/// Serializes `JSONValue` to compact UTF-8 JSON.
///
/// Output never contains a raw newline (control characters are escaped), which is what lets
/// the protocol frame one message per line.
public enum JSONWriter {
    public static func bytes(_ value: JSONValue, sortedKeys: Bool = false) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(256)
        write(value, into: &out, sortedKeys: sortedKeys)
        return out
    }

    public static func string(_ value: JSONValue, sortedKeys: Bool = false) -> String {
        String(decoding: bytes(value, sortedKeys: sortedKeys), as: UTF8.self)
    }

    /// Human-readable JSON with two-space indentation and sorted keys, for files people edit.
    public static func pretty(_ value: JSONValue) -> String {
        String(decoding: prettyBytes(value), as: UTF8.self)
    }

    /// `pretty` as UTF-8, ending in a newline, for large documents written straight to a file.
    public static func prettyBytes(_ value: JSONValue) -> [UInt8] {
        var out: [UInt8] = []
        writePretty(value, into: &out, indent: 0)
        out.append(0x0A)
        return out
    }

    public static func write(_ value: JSONValue, into out: inout [UInt8], sortedKeys: Bool = false) {
        switch value {
        case .null: out.append(contentsOf: nullBytes)
        case .bool(let b): out.append(contentsOf: b ? trueBytes : falseBytes)
        case .int(let i): writeInt(i, into: &out)
        case .double(let d): writeDouble(d, into: &out)
        case .string(let s): writeString(s, into: &out)
        case .array(let a):
            out.append(UInt8(ascii: "["))
            var first = true
            for element in a {
                if !first { out.append(UInt8(ascii: ",")) }
                first = false
                write(element, into: &out, sortedKeys: sortedKeys)
            }
            out.append(UInt8(ascii: "]"))
        case .object(let o):
            out.append(UInt8(ascii: "{"))
            var first = true
            if sortedKeys {
                for key in o.keys.sorted() {
                    if !first { out.append(UInt8(ascii: ",")) }
                    first = false
                    writeString(key, into: &out)
                    out.append(UInt8(ascii: ":"))
                    write(o[key] ?? .null, into: &out, sortedKeys: true)
                }
            } else {
                for (key, element) in o {
                    if !first { out.append(UInt8(ascii: ",")) }
                    first = false
                    writeString(key, into: &out)
                    out.append(UInt8(ascii: ":"))
                    write(element, into: &out)
                }
            }
            out.append(UInt8(ascii: "}"))
        }
    }

    public static func writeString(_ s: String, into out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        var s = s
        s.withUTF8 { utf8 in
            var runStart = 0
            for i in 0..<utf8.count {
                let c = utf8[i]
                if c >= 0x20 && c != 0x22 && c != 0x5C { continue }
                if runStart < i { out.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[runStart..<i])) }
                runStart = i + 1
                switch c {
                case 0x22: out.append(contentsOf: [0x5C, 0x22])
                case 0x5C: out.append(contentsOf: [0x5C, 0x5C])
                case 0x0A: out.append(contentsOf: [0x5C, UInt8(ascii: "n")])
                case 0x0D: out.append(contentsOf: [0x5C, UInt8(ascii: "r")])
                case 0x09: out.append(contentsOf: [0x5C, UInt8(ascii: "t")])
                default:
                    let hex = Array("0123456789abcdef".utf8)
                    out.append(contentsOf: [0x5C, UInt8(ascii: "u"), 0x30, 0x30, hex[Int(c >> 4)], hex[Int(c & 0xF)]])
                }
            }
            if runStart < utf8.count { out.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[runStart..<utf8.count])) }
        }
        out.append(UInt8(ascii: "\""))
    }

    static func writeInt(_ value: Int, into out: inout [UInt8]) {
        if value == 0 {
            out.append(0x30)
            return
        }
        var digits: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                     UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) =
            (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        var count = 0
        var magnitude = value.magnitude
        withUnsafeMutableBytes(of: &digits) { buffer in
            while magnitude > 0 {
                buffer[count] = UInt8(magnitude % 10) + 0x30
                magnitude /= 10
                count += 1
            }
        }
        if value < 0 { out.append(UInt8(ascii: "-")) }
        withUnsafeBytes(of: &digits) { buffer in
            var i = count - 1
            while i >= 0 {
                out.append(buffer[i])
                i -= 1
            }
        }
    }

    static func writeDouble(_ value: Double, into out: inout [UInt8]) {
        guard value.isFinite else {
            // JSON has no NaN or infinity; null is the conventional stand-in.
            out.append(contentsOf: nullBytes)
            return
        }
        if value.rounded() == value, abs(value) < 1e15 {
            writeInt(Int(value), into: &out)
            return
        }
        out.append(contentsOf: Array("\(value)".utf8))
    }

    static func writePretty(_ value: JSONValue, into out: inout [UInt8], indent: Int) {
        switch value {
        case .array(let a) where !a.isEmpty:
            out.append(contentsOf: Array("[\n".utf8))
            for (i, element) in a.enumerated() {
                out.append(contentsOf: repeatElement(0x20, count: indent + 2))
                writePretty(element, into: &out, indent: indent + 2)
                if i < a.count - 1 { out.append(UInt8(ascii: ",")) }
                out.append(0x0A)
            }
            out.append(contentsOf: repeatElement(0x20, count: indent))
            out.append(UInt8(ascii: "]"))
        case .object(let o) where !o.isEmpty:
            out.append(contentsOf: Array("{\n".utf8))
            let keys = o.keys.sorted()
            for (i, key) in keys.enumerated() {
                out.append(contentsOf: repeatElement(0x20, count: indent + 2))
                writeString(key, into: &out)
                out.append(contentsOf: Array(": ".utf8))
                writePretty(o[key] ?? .null, into: &out, indent: indent + 2)
                if i < keys.count - 1 { out.append(UInt8(ascii: ",")) }
                out.append(0x0A)
            }
            out.append(contentsOf: repeatElement(0x20, count: indent))
            out.append(UInt8(ascii: "}"))
        default:
            write(value, into: &out, sortedKeys: true)
        }
    }

    private static let nullBytes: [UInt8] = Array("null".utf8)
    private static let trueBytes: [UInt8] = Array("true".utf8)
    private static let falseBytes: [UInt8] = Array("false".utf8)
}
