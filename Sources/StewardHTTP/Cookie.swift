/// A cookie to set with `Set-Cookie` (RFC 6265). Defaults are the safe ones: `HttpOnly`,
/// `SameSite=Lax`, path `/`.
public struct Cookie: Sendable, Equatable {
    public enum SameSite: String, Sendable {
        case strict = "Strict", lax = "Lax", none = "None"
    }

    public var name: String
    /// Stored percent-encoded on the wire, so any text is safe; `HTTPRequest.cookies` decodes it.
    public var value: String
    public var path: String?
    public var domain: String?
    /// Seconds until expiry; 0 deletes the cookie; nil makes a session cookie.
    public var maxAge: Int?
    public var httpOnly: Bool
    public var secure: Bool
    public var sameSite: SameSite?

    public init(
        name: String, value: String, path: String? = "/", domain: String? = nil, maxAge: Int? = nil,
        httpOnly: Bool = true, secure: Bool = false, sameSite: SameSite? = .lax
    ) {
        self.name = name
        self.value = value
        self.path = path
        self.domain = domain
        self.maxAge = maxAge
        self.httpOnly = httpOnly
        self.secure = secure
        self.sameSite = sameSite
    }

    /// A cookie that tells the browser to forget `name`.
    public static func expired(_ name: String, path: String? = "/") -> Cookie {
        Cookie(name: name, value: "", path: path, maxAge: 0)
    }

    public var headerValue: String {
        var parts = ["\(Cookie.sanitizedName(name))=\(PercentEncoding.encode(value))"]
        if let path { parts.append("Path=\(Cookie.sanitizedAttribute(path))") }
        if let domain { parts.append("Domain=\(Cookie.sanitizedAttribute(domain))") }
        if let maxAge { parts.append("Max-Age=\(maxAge)") }
        if httpOnly { parts.append("HttpOnly") }
        if secure || sameSite == SameSite.none { parts.append("Secure") }
        if let sameSite { parts.append("SameSite=\(sameSite.rawValue)") }
        return parts.joined(separator: "; ")
    }

    /// Parses `Cookie` header values (`a=1; b=2`), percent-decoding values.
    static func parse(_ headerValues: [String]) -> [String: String] {
        var cookies: [String: String] = [:]
        for header in headerValues {
            for pair in header.split(separator: ";") {
                let pair = trimmingWhitespace(pair)
                guard let eq = pair.firstIndex(of: "="), eq != pair.startIndex else { continue }
                let name = String(pair[..<eq])
                var value = pair[pair.index(after: eq)...]
                if value.count >= 2, value.hasPrefix("\""), value.hasSuffix("\"") { value = value.dropFirst().dropLast() }
                if cookies[name] == nil { cookies[name] = PercentEncoding.decode(value) }
            }
        }
        return cookies
    }

    /// Keeps only token characters, so a name can never inject attributes.
    private static func sanitizedName(_ name: String) -> String {
        String(String.UnicodeScalarView(name.unicodeScalars.filter { isTokenCharacter($0) }))
    }

    private static func sanitizedAttribute(_ text: String) -> String {
        String(String.UnicodeScalarView(text.unicodeScalars.filter { $0.value > 0x20 && $0.value < 0x7F && $0 != ";" }))
    }
}

func isTokenCharacter(_ scalar: Unicode.Scalar) -> Bool {
    guard scalar.isASCII else { return false }
    return isTokenByte(UInt8(scalar.value))
}

/// RFC 9110 `tchar`.
@inline(__always)
func isTokenByte(_ c: UInt8) -> Bool {
    switch c {
    case 0x30...0x39, 0x41...0x5A, 0x61...0x7A: return true
    case UInt8(ascii: "!"), UInt8(ascii: "#"), UInt8(ascii: "$"), UInt8(ascii: "%"), UInt8(ascii: "&"),
         UInt8(ascii: "'"), UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "."),
         UInt8(ascii: "^"), UInt8(ascii: "_"), UInt8(ascii: "`"), UInt8(ascii: "|"), UInt8(ascii: "~"):
        return true
    default: return false
    }
}
