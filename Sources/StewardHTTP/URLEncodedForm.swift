/// Name/value pairs in `application/x-www-form-urlencoded` form: query strings and HTML form
/// bodies. Order and repeated names are kept.
public struct URLEncodedForm: Sendable, Sequence {
    public typealias Element = (name: String, value: String)

    public private(set) var fields: [Element]

    public init(_ fields: [(String, String)] = []) {
        self.fields = fields.map { (name: $0.0, value: $0.1) }
    }

    /// Parses encoded text. `+` is a space, malformed `%` escapes are kept literally, and
    /// empty pieces (`a=1&&b=2`) are skipped.
    public init(parsing encoded: some StringProtocol) {
        self.init(parsing: Array(encoded.utf8))
    }

    public init(parsing bytes: [UInt8]) {
        var fields: [Element] = []
        for piece in bytes.split(separator: UInt8(ascii: "&"), omittingEmptySubsequences: true) {
            if let eq = piece.firstIndex(of: UInt8(ascii: "=")) {
                fields.append((
                    name: PercentEncoding.decode(piece[piece.startIndex..<eq], plusAsSpace: true),
                    value: PercentEncoding.decode(piece[piece.index(after: eq)...], plusAsSpace: true)))
            } else {
                fields.append((name: PercentEncoding.decode(piece, plusAsSpace: true), value: ""))
            }
        }
        self.fields = fields
    }

    public func makeIterator() -> IndexingIterator<[Element]> { fields.makeIterator() }

    public var isEmpty: Bool { fields.isEmpty }

    /// The first value for `name`.
    public subscript(name: String) -> String? {
        fields.first { $0.name == name }?.value
    }

    public func values(for name: String) -> [String] {
        fields.filter { $0.name == name }.map(\.value)
    }

    public mutating func append(_ name: String, _ value: String) {
        fields.append((name: name, value: value))
    }

    /// The encoded text, with spaces as `+` and everything but unreserved characters escaped.
    public var encoded: String {
        fields.map {
            PercentEncoding.encode($0.name, spaceAsPlus: true) + "=" + PercentEncoding.encode($0.value, spaceAsPlus: true)
        }.joined(separator: "&")
    }
}

/// Percent-encoding as in RFC 3986, plus the form convention that `+` means space.
public enum PercentEncoding {
    public static func decode(_ text: some StringProtocol, plusAsSpace: Bool = false) -> String {
        if !text.utf8.contains(where: { $0 == UInt8(ascii: "%") || (plusAsSpace && $0 == UInt8(ascii: "+")) }) {
            return String(text)
        }
        return decode(Array(text.utf8)[...], plusAsSpace: plusAsSpace)
    }

    static func decode(_ bytes: ArraySlice<UInt8>, plusAsSpace: Bool) -> String {
        guard bytes.contains(where: { $0 == UInt8(ascii: "%") || (plusAsSpace && $0 == UInt8(ascii: "+")) }) else {
            return String(decoding: bytes, as: UTF8.self)
        }
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var i = bytes.startIndex
        while i < bytes.endIndex {
            let c = bytes[i]
            if c == UInt8(ascii: "%"), i + 2 < bytes.endIndex,
               let high = hexValue(bytes[i + 1]), let low = hexValue(bytes[i + 2]) {
                out.append(high << 4 | low)
                i += 3
                continue
            }
            out.append(plusAsSpace && c == UInt8(ascii: "+") ? UInt8(ascii: " ") : c)
            i += 1
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Escapes everything except RFC 3986 unreserved characters (`A-Z a-z 0-9 - . _ ~`).
    public static func encode(_ text: String, spaceAsPlus: Bool = false) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(text.utf8.count)
        let hex = Array("0123456789ABCDEF".utf8)
        for c in text.utf8 {
            if isUnreserved(c) {
                out.append(c)
            } else if spaceAsPlus && c == UInt8(ascii: " ") {
                out.append(UInt8(ascii: "+"))
            } else {
                out.append(contentsOf: [UInt8(ascii: "%"), hex[Int(c >> 4)], hex[Int(c & 0x0F)]])
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    static func isUnreserved(_ c: UInt8) -> Bool {
        (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A)
            || c == UInt8(ascii: "-") || c == UInt8(ascii: ".") || c == UInt8(ascii: "_") || c == UInt8(ascii: "~")
    }
}

@inline(__always)
func hexValue(_ c: UInt8) -> UInt8? {
    switch c {
    case 0x30...0x39: return c - 0x30
    case 0x41...0x46: return c - 0x41 + 10
    case 0x61...0x66: return c - 0x61 + 10
    default: return nil
    }
}
