import Foundation
import StewardProtocol

/// Text with `{{ expression }}` holes, rendered once against a scope.
///
/// A hole's value is inserted with the escaping of the place it lands in (a path segment, a
/// query value, a header, a JSON string), and the result is never rendered again, so no value
/// (not `/`, `?`, `#`, `"`, `{{`, a line break) can change the shape of a request.
///
/// Expressions are references into the scope (`account.email`, `steps.user.id`,
/// `account.attributes.team[0]`), single-quoted literals, `a ?? b` for the first present value,
/// and filters: `{{ entitlement.id | int }}`.
struct Template: Sendable, Hashable, CustomStringConvertible {
    enum Piece: Sendable, Hashable {
        case text(String)
        case hole(Expression)
    }

    let pieces: [Piece]
    let source: String

    var description: String { source }

    /// Parses `source`; the reason it is malformed otherwise.
    init(_ source: String) throws(TemplateError) {
        self.source = source
        var pieces: [Piece] = []
        var rest = source[...]
        while let open = rest.range(of: "{{") {
            if open.lowerBound > rest.startIndex { pieces.append(.text(String(rest[..<open.lowerBound]))) }
            let afterOpen = rest[open.upperBound...]
            guard let close = afterOpen.range(of: "}}") else {
                throw TemplateError("\"\(source)\": \"{{\" is not closed by \"}}\"")
            }
            let expression = try Expression(parsing: String(afterOpen[..<close.lowerBound]), in: source)
            pieces.append(.hole(expression))
            rest = afterOpen[close.upperBound...]
        }
        if !rest.isEmpty {
            if rest.contains("}}") { throw TemplateError("\"\(source)\": \"}}\" without \"{{\"") }
            pieces.append(.text(String(rest)))
        }
        self.pieces = pieces
    }

    /// The one expression when the template is exactly `{{ ... }}`: its value keeps its JSON type.
    var soleExpression: Expression? {
        if pieces.count == 1, case .hole(let e) = pieces[0] { return e }
        return nil
    }

    var hasHoles: Bool { pieces.contains { if case .hole = $0 { return true } else { return false } } }

    /// Every reference in the template, for validation.
    var references: [Reference] {
        pieces.flatMap { piece -> [Reference] in
            if case .hole(let e) = piece { return e.references }
            return []
        }
    }

    /// Renders as text: each hole's value as text, passed through `escape`. A missing value is
    /// empty text unless `requireValues`, which makes it an error.
    func render(_ scope: JSONValue, requireValues: Bool = false, escape: (String) -> String = { $0 }) throws(TemplateError) -> String {
        var out = ""
        for piece in pieces {
            switch piece {
            case .text(let t):
                out += t
            case .hole(let e):
                guard let value = try e.evaluate(scope) else {
                    if requireValues { throw TemplateError("{{\(e.source)}} has no value") }
                    continue
                }
                guard let text = value.scalarText else {
                    if value.isNull {
                        if requireValues { throw TemplateError("{{\(e.source)}} is null") }
                        continue
                    }
                    throw TemplateError("{{\(e.source)}} is \(value.typeName == "array" ? "an array" : "an object"), not a single value")
                }
                out += escape(text)
            }
        }
        return out
    }

    /// The value for a JSON body: a sole expression keeps its type (nil when missing, so the
    /// member is left out); anything else becomes a string.
    func value(_ scope: JSONValue) throws(TemplateError) -> JSONValue? {
        if let e = soleExpression { return try e.evaluate(scope) }
        return .string(try render(scope))
    }
}

/// `a.b ?? c ?? 'literal' | filter | filter`.
struct Expression: Sendable, Hashable {
    enum Term: Sendable, Hashable {
        case reference(Reference)
        case literal(String)
    }

    enum Filter: String, Sendable, Hashable, CaseIterable {
        /// A number from a string such as "2".
        case int
        case string
        /// `true`/`false` (and 1/0) from text.
        case bool
        case lower
        case upper
        case trim
        /// The part of an email address before the `@`.
        case localPart
    }

    let terms: [Term]
    let filters: [Filter]
    let source: String

    init(parsing text: String, in template: String) throws(TemplateError) {
        source = text.trimmingCharacters(in: .whitespaces)
        var parts = source.components(separatedBy: "|").map { $0.trimmingCharacters(in: .whitespaces) }
        let head = parts.removeFirst()
        var filters: [Filter] = []
        for name in parts {
            guard let f = Filter(rawValue: name) else {
                throw TemplateError("\"\(template)\": unknown filter \"\(name)\" (known: \(Filter.allCases.map(\.rawValue).joined(separator: ", ")))")
            }
            filters.append(f)
        }
        var terms: [Term] = []
        for alternative in head.components(separatedBy: "??").map({ $0.trimmingCharacters(in: .whitespaces) }) {
            if alternative.isEmpty { throw TemplateError("\"\(template)\": empty expression in {{\(text)}}") }
            if alternative.hasPrefix("'") {
                guard alternative.count >= 2, alternative.hasSuffix("'") else {
                    throw TemplateError("\"\(template)\": unterminated literal \(alternative)")
                }
                terms.append(.literal(String(alternative.dropFirst().dropLast())))
            } else {
                do {
                    terms.append(.reference(try Reference(parsing: alternative)))
                } catch {
                    throw TemplateError("\"\(template)\": \(error.description)")
                }
            }
        }
        self.terms = terms
        self.filters = filters
    }

    var references: [Reference] {
        terms.compactMap { if case .reference(let r) = $0 { return r } else { return nil } }
    }

    /// The first present value, filtered; nil when none is present. An explicit null counts as
    /// present only as the last alternative.
    func evaluate(_ scope: JSONValue) throws(TemplateError) -> JSONValue? {
        var found: JSONValue?
        for (i, term) in terms.enumerated() {
            switch term {
            case .literal(let s):
                found = .string(s)
            case .reference(let r):
                if let v = r.path.resolve(in: scope), !(v.isNull && i < terms.count - 1) { found = v }
            }
            if found != nil { break }
        }
        guard var value = found else { return nil }
        for filter in filters { value = try apply(filter, to: value) }
        return value
    }

    private func apply(_ filter: Filter, to value: JSONValue) throws(TemplateError) -> JSONValue {
        if value.isNull { return value }
        let text = value.scalarText
        switch filter {
        case .int:
            if let i = value.intValue { return .int(i) }
            guard let t = text, let i = Int(t.trimmingCharacters(in: .whitespaces)) else {
                throw TemplateError("{{\(source)}}: \"\(text ?? value.typeName)\" is not an integer")
            }
            return .int(i)
        case .bool:
            if case .bool = value { return value }
            switch text?.lowercased() {
            case "true", "1", "yes": return .bool(true)
            case "false", "0", "no": return .bool(false)
            default: throw TemplateError("{{\(source)}}: \"\(text ?? value.typeName)\" is not true or false")
            }
        case .string, .lower, .upper, .trim, .localPart:
            guard let t = text else { throw TemplateError("{{\(source)}} is \(value.typeName), not text") }
            switch filter {
            case .lower: return .string(t.lowercased())
            case .upper: return .string(t.uppercased())
            case .trim: return .string(t.trimmingCharacters(in: .whitespacesAndNewlines))
            case .localPart: return .string(t.firstIndex(of: "@").map { String(t[..<$0]) } ?? t)
            default: return .string(t)
            }
        }
    }
}

/// A dotted reference into the scope: `settings.org`, `steps.user.id`.
struct Reference: Sendable, Hashable {
    let path: ValuePath
    /// The first name: `settings`, `account`, `steps`...
    let root: String
    /// The second name, when there is one (`org` in `settings.org`).
    let member: String?

    init(parsing text: String) throws(TemplateError) {
        guard !text.hasPrefix("/") else { throw TemplateError("\"\(text)\": references are dotted names such as account.email, not pointers") }
        do {
            path = try ValuePath(parsing: text)
        } catch {
            throw TemplateError(error.description)
        }
        guard case .key(let root)? = path.components.first else { throw TemplateError("\"\(text)\" is not a reference") }
        self.root = root
        if path.components.count > 1, case .key(let m) = path.components[1] { member = m } else { member = nil }
    }
}

struct TemplateError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

// MARK: - Escaping for each place

enum Escape {
    private static let unreserved = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")

    /// One path segment: everything but unreserved characters percent-encoded, `/` included.
    static func pathSegment(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: unreserved) ?? ""
    }

    /// A query name or value: as a path segment, so `&`, `=`, `+`, `#` stay data.
    static func queryComponent(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: unreserved) ?? ""
    }

    /// `application/x-www-form-urlencoded`, spaces as `+`.
    static func formComponent(_ text: String) -> String {
        queryComponent(text).replacingOccurrences(of: "%20", with: "+")
    }

    /// A header value may not carry a line break or NUL: it would start a new header.
    static func headerValue(_ text: String, header: String) throws(TemplateError) -> String {
        if text.unicodeScalars.contains(where: { $0 == "\r" || $0 == "\n" || $0 == "\0" }) {
            throw TemplateError("the value for header \(header) contains a line break, which cannot be sent in a header")
        }
        return text
    }
}
