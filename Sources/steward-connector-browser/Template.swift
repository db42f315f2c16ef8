import Foundation
import StewardJSON

/// Text with `{{...}}` placeholders, checked when the recipe loads.
///
/// A placeholder names a value: `settings.username`, `secrets.password`, `args.account.email`,
/// `vars.id` (extracted earlier in the flow), `totp` (the current one-time code) or `baseURL`.
/// `{{args.account.displayName | args.account.userName}}` takes the first that has a value;
/// `{{args.account.email?}}` is empty when there is none (otherwise a missing value is an error).
struct Template: Sendable, CustomStringConvertible {
    enum Piece: Sendable {
        case literal(String)
        /// `optional` (a trailing `?`) renders as empty text when no alternative has a value.
        case value(alternatives: [[String]], optional: Bool)
    }

    let source: String
    let pieces: [Piece]

    static let roots: Set<String> = ["settings", "secrets", "args", "vars", "totp", "baseURL"]

    init(_ source: String, at path: String) throws(RecipeError) {
        self.source = source
        var pieces: [Piece] = []
        var rest = Substring(source)
        while let open = rest.range(of: "{{") {
            if open.lowerBound > rest.startIndex { pieces.append(.literal(String(rest[..<open.lowerBound]))) }
            guard let close = rest[open.upperBound...].range(of: "}}") else {
                throw RecipeError(path, "unclosed {{ in \"\(source)\"")
            }
            var inner = rest[open.upperBound..<close.lowerBound]
            let optional = inner.trimmingCharacters(in: .whitespaces).hasSuffix("?")
            if optional, let mark = inner.lastIndex(of: "?") { inner = inner[..<mark] }
            var alternatives: [[String]] = []
            for name in inner.split(separator: "|", omittingEmptySubsequences: false) {
                let parts = name.trimmingCharacters(in: .whitespaces).split(separator: ".", omittingEmptySubsequences: false).map(String.init)
                guard let root = parts.first, Self.roots.contains(root), parts.allSatisfy({ !$0.isEmpty }) else {
                    throw RecipeError(path, "{{\(inner)}}: a placeholder names one of \(Self.roots.sorted().joined(separator: ", ")), e.g. {{args.id}}")
                }
                if (root == "totp" || root == "baseURL") != (parts.count == 1) {
                    throw RecipeError(path, "{{\(inner)}}: \(root) \(parts.count == 1 ? "needs a name after it, e.g. \(root).name" : "takes no name after it")")
                }
                alternatives.append(parts)
            }
            pieces.append(.value(alternatives: alternatives, optional: optional))
            rest = rest[close.upperBound...]
        }
        if !rest.isEmpty { pieces.append(.literal(String(rest))) }
        self.pieces = pieces
    }

    var description: String { source }

    /// Whether rendering reads a secret or the one-time code (such text is never logged).
    var isSensitive: Bool {
        pieces.contains {
            if case .value(let alternatives, _) = $0 { return alternatives.contains { $0[0] == "secrets" || $0[0] == "totp" } }
            return false
        }
    }

    /// The text with every placeholder filled in; `escape` is applied to filled-in values only
    /// (selectors quote them so a value cannot change the selector's meaning).
    func render(_ scope: TemplateScope, escape: (String) -> String = { $0 }) throws -> String {
        var result = ""
        for piece in pieces {
            switch piece {
            case .literal(let text):
                result += text
            case .value:
                result += escape(try Self.value(of: piece, in: scope))
            }
        }
        return result
    }

    /// A value piece's text (empty for a literal, or an optional value with none).
    static func value(of piece: Piece, in scope: TemplateScope) throws -> String {
        guard case .value(let alternatives, let optional) = piece else { return "" }
        guard let value = try alternatives.lazy.compactMap({ try scope.value($0) }).first(where: { !$0.isEmpty }) else {
            if optional { return "" }
            throw TemplateMissing(name: alternatives.map { $0.joined(separator: ".") }.joined(separator: " | "))
        }
        return value
    }
}

/// A placeholder with no value at run time.
struct TemplateMissing: Error, CustomStringConvertible {
    let name: String
    var description: String { "{{\(name)}} has no value" }
}

/// Where placeholders get their values during one flow.
struct TemplateScope: Sendable {
    var settings: JSONValue
    var secrets: [String: String]
    var args: JSONValue
    var vars: [String: String] = [:]
    var baseURL: String
    var totp: TOTP?

    func value(_ path: [String]) throws -> String? {
        switch path[0] {
        case "baseURL": return baseURL
        case "totp":
            guard let totp else { throw TemplateMissing(name: "totp (the secret \"totpSecret\" is not configured)") }
            return totp.code()
        case "secrets": return secrets[path[1]]
        case "vars": return vars[path.dropFirst().joined(separator: ".")]
        case "settings": return Self.text(path.dropFirst().reduce(settings) { $0[$1] })
        default: return Self.text(path.dropFirst().reduce(args) { $0[$1] })
        }
    }

    private static func text(_ value: JSONValue) -> String? {
        switch value {
        case .string(let s): return s
        case .int(let i): return String(i)
        case .double(let d): return String(d)
        case .bool(let b): return String(b)
        default: return nil
        }
    }
}

/// A value made safe inside a quoted selector string (`"..."` in CSS or `text=`).
func selectorEscape(_ value: String) -> String {
    var result = ""
    for character in value {
        if character == "\"" || character == "\\" || character == "'" { result.append("\\") }
        if character == "\n" || character == "\r" { result.append(" "); continue }
        result.append(character)
    }
    return result
}

/// An XPath selector with placeholders inside its string literals, rendered so any value stays
/// one literal: XPath 1.0 has no escape inside `'...'` or `"..."`, so a quoted literal holding a
/// placeholder becomes `concat(...)` of literals, each quoted with a quote it does not contain
/// (`//td[.='{{args.userName}}']` with `o'brien` is `//td[.=concat('', "o'brien", '')]`).
struct XPathTemplate: Sendable {
    enum Token: Sendable {
        case raw(String)
        /// A placeholder outside any literal, escaped as other selectors' values are.
        case bare(Template.Piece)
        /// A quoted literal with placeholders: its literal text and values, in order.
        case literal([Template.Piece])
    }

    let tokens: [Token]

    /// Whether `source` is an XPath selector (not a chain, whose parts may mix engines).
    static func isXPath(_ source: String) -> Bool {
        let trimmed = source.trimmingCharacters(in: .whitespaces)
        return (trimmed.hasPrefix("//") || trimmed.hasPrefix("(//") || trimmed.hasPrefix("xpath=")) && !trimmed.contains(">>")
    }

    init(_ template: Template) {
        var tokens: [Token] = []
        var raw = ""
        var quote: Character?
        var parts: [Template.Piece] = []
        var text = ""
        var hasValue = false
        func flushRaw() {
            if !raw.isEmpty { tokens.append(.raw(raw)) }
            raw = ""
        }
        for piece in template.pieces {
            switch piece {
            case .literal(let literal):
                for character in literal {
                    if let q = quote {
                        if character == q {
                            // The literal ends: verbatim when it held no placeholder.
                            if hasValue {
                                if !text.isEmpty { parts.append(.literal(text)) }
                                flushRaw()
                                tokens.append(.literal(parts))
                            } else {
                                raw.append(q)
                                raw += text
                                raw.append(q)
                            }
                            quote = nil
                            parts = []
                            text = ""
                            hasValue = false
                        } else {
                            text.append(character)
                        }
                    } else if character == "'" || character == "\"" {
                        quote = character
                    } else {
                        raw.append(character)
                    }
                }
            case .value:
                if quote != nil {
                    if !text.isEmpty { parts.append(.literal(text)) }
                    text = ""
                    parts.append(piece)
                    hasValue = true
                } else {
                    flushRaw()
                    tokens.append(.bare(piece))
                }
            }
        }
        // An unclosed literal: left as written (the selector check reports it).
        if let q = quote {
            raw.append(q)
            for part in parts { if case .literal(let t) = part { raw += t } }
            raw += text
        }
        flushRaw()
        self.tokens = tokens
    }

    func render(_ scope: TemplateScope) throws -> String {
        var result = ""
        for token in tokens {
            switch token {
            case .raw(let text): result += text
            case .bare(let piece): result += selectorEscape(try Template.value(of: piece, in: scope))
            case .literal(let parts):
                var pieces: [String] = []
                for part in parts {
                    switch part {
                    case .literal(let text): pieces.append(Self.literal(text))
                    case .value: pieces.append(Self.literal(try Template.value(of: part, in: scope)))
                    }
                }
                if pieces.count == 1 { pieces.insert("''", at: 0) }
                result += "concat(" + pieces.joined(separator: ", ") + ")"
            }
        }
        return result
    }

    /// `text` as one XPath expression: a literal in a quote it does not contain, or a concat.
    static func literal(_ text: String) -> String {
        let text = text.replacingOccurrences(of: "\n", with: " ").replacingOccurrences(of: "\r", with: " ")
        if !text.contains("'") { return "'" + text + "'" }
        if !text.contains("\"") { return "\"" + text + "\"" }
        let pieces = text.split(separator: "'", omittingEmptySubsequences: false).map { "'" + $0 + "'" }
        return "concat(" + pieces.joined(separator: ", \"'\", ") + ")"
    }
}
