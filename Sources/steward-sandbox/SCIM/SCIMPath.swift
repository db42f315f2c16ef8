import StewardJSON

/// An attribute reference resolved against a resource type: where the value lives and the
/// definition that governs it. `container` is nil for core and common attributes and the
/// extension URN for extension attributes, which are stored under that key.
struct ResolvedAttribute: Sendable {
    var container: String?
    var attribute: SCIMAttribute
    var sub: SCIMAttribute?

    /// The definition of the value a comparison sees.
    var leaf: SCIMAttribute { sub ?? attribute }

    var displayName: String {
        let base = container.map { "\($0):\(attribute.name)" } ?? attribute.name
        return sub.map { "\(base).\($0.name)" } ?? base
    }
}

extension SCIMResourceType {
    /// Resolves `[URN:]attribute[.sub]`, ignoring case. Returns nil for unknown names.
    /// Unqualified names are looked up in the common attributes, the core schema, then the
    /// extensions, so `employeeNumber` works as well as its full URN form.
    func resolve(_ text: some StringProtocol) -> ResolvedAttribute? {
        var rest = Substring(text)
        var schemaHint: SCIMSchema?
        if rest.lowercased().hasPrefix("urn:") {
            let lowered = rest.lowercased()
            let candidates = [schema] + extensions
            guard let match = candidates.filter({ lowered.hasPrefix($0.id.lowercased() + ":") }).max(by: { $0.id.count < $1.id.count })
            else { return nil }
            schemaHint = match
            rest = rest.dropFirst(match.id.count + 1)
        }
        let attributeName: Substring
        var subName: Substring?
        if let dot = rest.firstIndex(of: ".") {
            attributeName = rest[..<dot]
            subName = rest[rest.index(after: dot)...]
        } else {
            attributeName = rest
        }
        guard !attributeName.isEmpty, subName?.isEmpty != true else { return nil }
        var container: String?
        var attribute: SCIMAttribute?
        if let schemaHint {
            attribute = schemaHint.attribute(named: attributeName)
            container = schemaHint.id == schema.id ? nil : schemaHint.id
            if attribute == nil, schemaHint.id == schema.id {
                attribute = SCIMSchemas.common.first { $0.name.lowercased() == attributeName.lowercased() }
            }
        } else if let common = SCIMSchemas.common.first(where: { $0.name.lowercased() == attributeName.lowercased() }) {
            attribute = common
        } else if let core = schema.attribute(named: attributeName) {
            attribute = core
        } else {
            for ext in extensions {
                if let found = ext.attribute(named: attributeName) {
                    attribute = found
                    container = ext.id
                    break
                }
            }
        }
        guard let attribute else { return nil }
        var sub: SCIMAttribute?
        if let subName {
            guard let found = attribute.subAttribute(named: subName) else { return nil }
            sub = found
        }
        return ResolvedAttribute(container: container, attribute: attribute, sub: sub)
    }
}

/// Tokens of the filter and path grammar of RFC 7644 §3.4.2.2 and §3.5.2.
enum FilterToken: Equatable {
    case word(String)
    case string(String)
    case number(JSONValue)
    case openParen, closeParen, openBracket, closeBracket

    var text: String {
        switch self {
        case .word(let w): return w
        case .string(let s): return "\"\(s)\""
        case .number(let n): return n.description
        case .openParen: return "("
        case .closeParen: return ")"
        case .openBracket: return "["
        case .closeBracket: return "]"
        }
    }
}

enum FilterLexer {
    static let maxLength = 8 * 1024

    static func tokens(_ text: String, errorKind: SCIMError.Kind) throws(SCIMError) -> [FilterToken] {
        let bytes = Array(text.utf8)
        guard bytes.count <= maxLength else {
            throw SCIMError.badRequest(errorKind, "the expression is longer than \(maxLength) bytes")
        }
        var tokens: [FilterToken] = []
        var i = 0
        while i < bytes.count {
            switch bytes[i] {
            case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\n"), UInt8(ascii: "\r"):
                i += 1
            case UInt8(ascii: "("): tokens.append(.openParen); i += 1
            case UInt8(ascii: ")"): tokens.append(.closeParen); i += 1
            case UInt8(ascii: "["): tokens.append(.openBracket); i += 1
            case UInt8(ascii: "]"): tokens.append(.closeBracket); i += 1
            case UInt8(ascii: "\""):
                // A JSON string literal, escapes included.
                var j = i + 1
                var escaped = false
                while j < bytes.count {
                    if escaped { escaped = false } else if bytes[j] == UInt8(ascii: "\\") { escaped = true } else if bytes[j] == UInt8(ascii: "\"") { break }
                    j += 1
                }
                guard j < bytes.count else {
                    throw SCIMError.badRequest(errorKind, "unterminated string starting at byte \(i + 1)")
                }
                guard let value = try? JSONParser.parse(bytes[i...j]), case .string(let literal) = value else {
                    throw SCIMError.badRequest(errorKind, "malformed string literal at byte \(i + 1)")
                }
                tokens.append(.string(literal))
                i = j + 1
            default:
                var j = i
                while j < bytes.count, !FilterLexer.isDelimiter(bytes[j]) { j += 1 }
                let word = String(decoding: bytes[i..<j], as: UTF8.self)
                if bytes[i] == UInt8(ascii: "-") || (bytes[i] >= 0x30 && bytes[i] <= 0x39) {
                    if let int = Int(word) {
                        tokens.append(.number(.int(int)))
                    } else if let double = Double(word), double.isFinite {
                        tokens.append(.number(.double(double)))
                    } else {
                        throw SCIMError.badRequest(errorKind, "malformed number '\(word)'")
                    }
                } else {
                    tokens.append(.word(word))
                }
                i = j
            }
        }
        return tokens
    }

    private static func isDelimiter(_ c: UInt8) -> Bool {
        switch c {
        case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\n"), UInt8(ascii: "\r"), UInt8(ascii: "("), UInt8(ascii: ")"),
             UInt8(ascii: "["), UInt8(ascii: "]"), UInt8(ascii: "\""):
            return true
        default:
            return false
        }
    }
}

/// A PATCH operation's `path` (RFC 7644 §3.5.2): `attrPath`, or `attrPath[valFilter]` with
/// an optional `.subAttr` after the bracket.
struct PatchPath: Sendable {
    var target: ResolvedAttribute
    /// Selects elements of a multi-valued attribute.
    var filter: CompiledFilter?
    /// A sub-attribute of the selected elements (`emails[type eq "work"].value`).
    var elementSub: SCIMAttribute?

    var text: String

    static func parse(_ text: String, in type: SCIMResourceType) throws(SCIMError) -> PatchPath {
        let tokens = try FilterLexer.tokens(text, errorKind: .invalidPath)
        guard case .word(let attrText)? = tokens.first else {
            throw SCIMError.badRequest(.invalidPath, "the path '\(text)' does not start with an attribute name")
        }
        guard let target = type.resolve(attrText) else {
            throw SCIMError.badRequest(.invalidPath, "the path '\(text)' names no attribute of \(type.name)")
        }
        if tokens.count == 1 {
            return PatchPath(target: target, filter: nil, elementSub: nil, text: text)
        }
        guard tokens[1] == .openBracket, let close = tokens.lastIndex(of: .closeBracket), close > 2 else {
            throw SCIMError.badRequest(.invalidPath, "the path '\(text)' is malformed")
        }
        guard target.sub == nil, target.attribute.multiValued, target.attribute.isComplex else {
            throw SCIMError.badRequest(.invalidPath, "a value filter needs a multi-valued complex attribute, not '\(target.displayName)'")
        }
        var parser = FilterParser(tokens: Array(tokens[2..<close]), errorKind: .invalidPath, original: text)
        let node = try parser.parseAll()
        let filter = try FilterCompiler(type: type, errorKind: .invalidPath).compile(node, element: target)
        var elementSub: SCIMAttribute?
        let trailing = tokens[(close + 1)...]
        if let first = trailing.first {
            guard trailing.count == 1, case .word(let word) = first, word.hasPrefix("."),
                  let sub = target.attribute.subAttribute(named: word.dropFirst())
            else { throw SCIMError.badRequest(.invalidPath, "the path '\(text)' has an unknown sub-attribute after ']'") }
            elementSub = sub
        }
        return PatchPath(target: target, filter: filter, elementSub: elementSub, text: text)
    }
}
