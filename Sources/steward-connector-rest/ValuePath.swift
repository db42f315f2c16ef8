import StewardProtocol

/// Where a value sits inside a JSON document: a JSON pointer (RFC 6901, `/emails/0/value`) or
/// a small dotted path with array indexes (`emails[0].value`).
///
/// Both spellings are accepted because API references use both; pointers can name any member
/// (`/urn:ietf:params:scim:schemas:extension:enterprise:2.0:User/department`), dotted paths
/// read better for the common case.
struct ValuePath: Hashable, Sendable, CustomStringConvertible {
    enum Component: Hashable, Sendable {
        case key(String)
        case index(Int)
    }

    let components: [Component]
    /// The path as written, for messages.
    let text: String

    /// The whole document.
    static let root = ValuePath(components: [], text: "")

    /// Parses either spelling; the reason it is malformed otherwise.
    init(parsing text: String) throws(ValuePathError) {
        self.text = text
        if text.isEmpty || text == "/" || text == "." {
            components = []
        } else if text.hasPrefix("/") {
            components = try Self.parsePointer(text)
        } else {
            components = try Self.parseDotted(text)
        }
    }

    private init(components: [Component], text: String) {
        self.components = components
        self.text = text
    }

    var description: String { text.isEmpty ? "/" : text }

    /// The value at this path, or nil when any step is missing. A numeric pointer token also
    /// indexes arrays, as RFC 6901 says.
    func resolve(in value: JSONValue) -> JSONValue? {
        var current = value
        for component in components {
            switch (component, current) {
            case (.key(let k), .object(let o)):
                guard let next = o[k] else { return nil }
                current = next
            case (.key(let k), .array(let a)):
                guard let i = Int(k), a.indices.contains(i) else { return nil }
                current = a[i]
            case (.index(let i), .array(let a)):
                guard a.indices.contains(i) else { return nil }
                current = a[i]
            default:
                return nil
            }
        }
        return current
    }

    /// RFC 6901: `/a/b~1c/0`, where `~1` is `/` and `~0` is `~`.
    private static func parsePointer(_ text: String) throws(ValuePathError) -> [Component] {
        var result: [Component] = []
        for token in text.dropFirst().split(separator: "/", omittingEmptySubsequences: false) {
            var key = ""
            var iterator = token.makeIterator()
            while let c = iterator.next() {
                guard c == "~" else {
                    key.append(c)
                    continue
                }
                switch iterator.next() {
                case "0": key.append("~")
                case "1": key.append("/")
                default: throw ValuePathError("\"\(text)\": \"~\" must be followed by 0 or 1 in a JSON pointer")
                }
            }
            result.append(.key(key))
        }
        return result
    }

    /// `a.b[2].c`: names of letters, digits, `_`, `-`, `$`, `@` and `:`; indexes in brackets.
    private static func parseDotted(_ text: String) throws(ValuePathError) -> [Component] {
        var result: [Component] = []
        var chars = Array(text)[...]
        var expectName = true
        while let c = chars.first {
            if c == "[" {
                guard let close = chars.firstIndex(of: "]") else { throw ValuePathError("\"\(text)\": \"[\" is not closed") }
                let digits = String(chars[chars.index(after: chars.startIndex)..<close])
                guard let i = Int(digits), i >= 0, digits.allSatisfy(\.isASCII) else {
                    throw ValuePathError("\"\(text)\": \"[\(digits)]\" is not an array index (a number from 0)")
                }
                result.append(.index(i))
                chars = chars[chars.index(after: close)...]
                expectName = false
            } else if c == "." {
                guard !expectName else { throw ValuePathError("\"\(text)\": empty name before \".\"") }
                chars = chars.dropFirst()
                expectName = true
                if chars.isEmpty { throw ValuePathError("\"\(text)\": ends with \".\"") }
            } else {
                guard expectName else { throw ValuePathError("\"\(text)\": expected \".\" or \"[\" before \"\(c)\"") }
                let name = chars.prefix { $0 != "." && $0 != "[" }
                guard name.allSatisfy({ $0.isLetter || $0.isNumber || "_-$@:".contains($0) }) else {
                    throw ValuePathError("\"\(text)\": \"\(String(name))\" is not a name (use a JSON pointer such as \"/\(String(name))\" for unusual member names)")
                }
                result.append(.key(String(name)))
                chars = chars.dropFirst(name.count)
                expectName = false
            }
        }
        return result
    }
}

struct ValuePathError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

extension JSONValue {
    /// The value as text for a field of a record: strings as they are, numbers and booleans
    /// written out, nothing for null, arrays and objects.
    var scalarText: String? {
        switch self {
        case .string(let s): return s
        case .int(let i): return String(i)
        case .double(let d): return d.rounded() == d && abs(d) < 9e15 ? String(Int(d)) : String(d)
        case .bool(let b): return b ? "true" : "false"
        default: return nil
        }
    }
}
