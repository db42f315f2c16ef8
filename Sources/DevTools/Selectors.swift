import StewardJSON

/// The ways to find one element, tried in order until one works.
///
/// A recipe step lists a primary selector and fallbacks, so a small change in the app's UI
/// does not break it. Each entry is one of:
///
/// - CSS: `#deactivate`, `form.user button[type=submit]` (or explicitly `css=...`)
/// - `text=Deactivate` (visible element containing the text, any case) or `text="Deactivate"`
///   (exact text). The smallest element that matches wins.
/// - `label=Email`: the form control whose `<label>` (by `for=` or nesting), `aria-label` or
///   `aria-labelledby` matches, with the same exact/substring rule.
/// - `role=button[name="Deactivate"]`: by ARIA role, explicit or implicit (a `<button>` is a
///   button, a `<tr>` a row, a `<select>` a combobox). `name` is the accessible name;
///   `[checked]`, `[disabled]`, `[selected]`, `[expanded]`, `[pressed]`, `[level=2]` filter on state.
/// - `xpath=//table//tr[2]`
/// - chains: `#users >> role=row[name="Ada"] >> text=Edit`, and `nth=0` to pick one of several.
public struct Selectors: Sendable, Hashable, CustomStringConvertible, ExpressibleByStringLiteral, ExpressibleByArrayLiteral {
    public let alternatives: [String]

    public init(_ alternatives: [String]) { self.alternatives = alternatives }
    public init(_ selector: String) { self.alternatives = [selector] }
    public init(stringLiteral value: String) { self.init(value) }
    public init(arrayLiteral elements: String...) { self.init(elements) }

    /// Selectors from a recipe's `"selector"` member: one string or an array of strings, all
    /// checked for syntax.
    public init(json: JSONValue) throws(DevToolsError) {
        switch json {
        case .string(let selector):
            self.init(selector)
        case .array(let items) where !items.isEmpty && items.allSatisfy({ $0.stringValue != nil }):
            self.init(items.compactMap(\.stringValue))
        default:
            throw .invalidSelector(selector: json.description, reason: "expected a selector string or a non-empty array of selector strings")
        }
        try validate()
    }

    /// Checks every alternative's syntax, so a recipe fails when it is loaded, not when it runs.
    public func validate() throws(DevToolsError) {
        try validateAll()
    }

    public var description: String { alternatives.joined(separator: " | ") }

    /// Checks every alternative's syntax, so a recipe fails when it is loaded, not when it runs.
    public func validateAll() throws(DevToolsError) {
        guard !alternatives.isEmpty else { throw .invalidSelector(selector: "[]", reason: "a step needs at least one selector") }
        for selector in alternatives { _ = try SelectorParser(selector).parse() }
    }

    /// The alternatives as the page-side engine expects them. One that does not parse (a value
    /// filled in at run time made it invalid) is passed on marked invalid, so the engine tries
    /// the others and reports it among the attempts; only when none parses is that the error.
    func parsed() throws(DevToolsError) -> JSONValue {
        guard !alternatives.isEmpty else { throw .invalidSelector(selector: "[]", reason: "a step needs at least one selector") }
        var list: [JSONValue] = []
        var firstError: DevToolsError?
        for selector in alternatives {
            do {
                let parts = try SelectorParser(selector).parse()
                list.append(["text": .string(selector), "parts": .array(parts)])
            } catch {
                if firstError == nil { firstError = error }
                if case .invalidSelector(_, let reason) = error {
                    list.append(["text": .string(selector), "parts": [], "invalid": .string(reason)])
                }
            }
        }
        if let firstError, list.allSatisfy({ !$0["invalid"].isNull }) { throw firstError }
        return .array(list)
    }
}

/// Parses one selector (possibly a `>>` chain) into engine parts.
struct SelectorParser {
    let source: String

    init(_ source: String) { self.source = source }

    func parse() throws(DevToolsError) -> [JSONValue] {
        let pieces = splitChain(source)
        guard !pieces.isEmpty, pieces.allSatisfy({ !$0.isEmpty }) else { throw invalid("empty selector") }
        var parts: [JSONValue] = []
        for piece in pieces { parts.append(try parsePart(piece)) }
        return parts
    }

    private func parsePart(_ piece: String) throws(DevToolsError) -> JSONValue {
        if let body = piece.dropPrefix("css=") { return try css(body) }
        if let body = piece.dropPrefix("xpath=") {
            guard !body.isEmpty else { throw invalid("empty XPath") }
            return ["engine": "xpath", "xpath": .string(body)]
        }
        if let body = piece.dropPrefix("text=") { return try textMatch("text", body) }
        if let body = piece.dropPrefix("label=") { return try textMatch("label", body) }
        if let body = piece.dropPrefix("role=") { return try role(body) }
        if let body = piece.dropPrefix("nth=") {
            guard let index = Int(body) else { throw invalid("nth= needs an integer, got '\(body)'") }
            return ["engine": "nth", "index": .int(index)]
        }
        if piece.hasPrefix("//") || piece.hasPrefix("(//") { return ["engine": "xpath", "xpath": .string(piece)] }
        if piece.hasPrefix("\"") { return try textMatch("text", piece) }
        return try css(piece)
    }

    private func css(_ body: String) throws(DevToolsError) -> JSONValue {
        guard !body.isEmpty else { throw invalid("empty CSS selector") }
        if let problem = CSSSyntax.problem(in: body) { throw invalid("not valid CSS: \(problem)") }
        return ["engine": "css", "css": .string(body)]
    }

    /// `"exact text"` matches the whole (whitespace-normalized) text; anything else is a
    /// case-insensitive substring.
    private func textMatch(_ engine: String, _ body: String) throws(DevToolsError) -> JSONValue {
        let match = try parseMatch(body)
        guard !match.value.isEmpty else { throw invalid("\(engine)= needs some text") }
        return ["engine": .string(engine), "value": .string(match.value), "exact": .bool(match.exact)]
    }

    private func parseMatch(_ body: String) throws(DevToolsError) -> (value: String, exact: Bool) {
        let trimmed = body.trimmingWhitespace
        guard let quote = trimmed.first, quote == "\"" || quote == "'" else { return (trimmed, false) }
        var value = ""
        var escaped = false
        var closed = false
        for character in trimmed.dropFirst() {
            if closed { throw invalid("unexpected text after the closing quote") }
            if escaped {
                value.append(character)
                escaped = false
            } else if character == "\\" {
                escaped = true
            } else if character == quote {
                closed = true
            } else {
                value.append(character)
            }
        }
        guard closed else { throw invalid("missing closing quote") }
        return (value, true)
    }

    private func role(_ body: String) throws(DevToolsError) -> JSONValue {
        let roleName = String(body.prefix { $0.isLetter })
        guard !roleName.isEmpty else { throw invalid("role= needs a role name, like role=button") }
        guard knownRoles.contains(roleName) else { throw invalid("unknown role '\(roleName)'") }
        var part: [String: JSONValue] = ["engine": "role", "role": .string(roleName)]
        var rest = Substring(body.dropFirst(roleName.count))
        var states: [String: JSONValue] = [:]
        while !rest.isEmpty {
            guard rest.first == "[", let close = closingBracket(in: rest) else {
                throw invalid("expected [attribute] after role=\(roleName)")
            }
            let inner = rest[rest.index(after: rest.startIndex)..<close]
            rest = rest[rest.index(after: close)...].drop { $0 == " " }
            let (key, value) = splitAttribute(inner)
            switch key {
            case "name":
                guard let value else { throw invalid("[name] needs a value, like [name=\"Save\"]") }
                let match = try parseMatch(value)
                part["name"] = ["value": .string(match.value), "exact": .bool(match.exact)]
            case "checked", "disabled", "selected", "expanded", "pressed":
                switch value?.trimmingWhitespace {
                case nil, "true": states[key] = true
                case "false": states[key] = false
                default: throw invalid("[\(key)] takes true or false")
                }
            case "level":
                guard let level = value.flatMap({ Int($0.trimmingWhitespace) }) else { throw invalid("[level] needs a number") }
                states["level"] = .int(level)
            default:
                throw invalid("unknown role attribute '\(key)' (use name, checked, disabled, selected, expanded, pressed or level)")
            }
        }
        part["states"] = .object(states)
        return .object(part)
    }

    /// The `]` closing the bracket at the start of `text`, skipping quoted strings.
    private func closingBracket(in text: Substring) -> Substring.Index? {
        var quote: Character?
        var escaped = false
        for index in text.indices.dropFirst() {
            let character = text[index]
            if escaped { escaped = false; continue }
            if character == "\\" { escaped = true; continue }
            if let open = quote {
                if character == open { quote = nil }
            } else if character == "\"" || character == "'" {
                quote = character
            } else if character == "]" {
                return index
            }
        }
        return nil
    }

    private func splitAttribute(_ inner: Substring) -> (String, String?) {
        guard let equals = inner.firstIndex(of: "=") else { return (inner.trimmingWhitespace, nil) }
        return (inner[..<equals].trimmingWhitespace, String(inner[inner.index(after: equals)...]))
    }

    /// Splits on `>>` outside quotes and brackets.
    private func splitChain(_ text: String) -> [String] {
        var pieces: [String] = []
        var current = ""
        var quote: Character?
        var depth = 0
        var escaped = false
        var iterator = Array(text)[...]
        while let character = iterator.popFirst() {
            if escaped {
                escaped = false
            } else if character == "\\" {
                escaped = true
            } else if let open = quote {
                if character == open { quote = nil }
            } else if character == "\"" || character == "'" {
                quote = character
            } else if character == "[" || character == "(" {
                depth += 1
            } else if character == "]" || character == ")" {
                depth -= 1
            } else if character == ">", depth == 0, iterator.first == ">" {
                iterator.removeFirst()
                pieces.append(current.trimmingWhitespace)
                current = ""
                continue
            }
            current.append(character)
        }
        pieces.append(current.trimmingWhitespace)
        return pieces
    }

    private func invalid(_ reason: String) -> DevToolsError {
        .invalidSelector(selector: source, reason: reason)
    }
}

/// Roles the engine can compute or find explicitly; a typo like `role=buton` fails at load.
let knownRoles: Set<String> = [
    "alert", "alertdialog", "application", "article", "banner", "button", "cell", "checkbox", "columnheader",
    "combobox", "complementary", "contentinfo", "definition", "dialog", "document", "feed", "figure", "form",
    "grid", "gridcell", "group", "heading", "img", "link", "list", "listbox", "listitem", "log", "main",
    "marquee", "math", "menu", "menubar", "menuitem", "menuitemcheckbox", "menuitemradio", "meter",
    "navigation", "none", "note", "option", "paragraph", "presentation", "progressbar", "radio", "radiogroup",
    "region", "row", "rowgroup", "rowheader", "scrollbar", "search", "searchbox", "separator", "slider",
    "spinbutton", "status", "switch", "tab", "table", "tablist", "tabpanel", "term", "textbox", "timer",
    "toolbar", "tooltip", "tree", "treegrid", "treeitem",
]

extension StringProtocol {
    var trimmingWhitespace: String {
        String(drop { $0.isWhitespace }.reversed().drop { $0.isWhitespace }.reversed())
    }

    func dropPrefix(_ prefix: String) -> String? {
        hasPrefix(prefix) ? String(dropFirst(prefix.count)) : nil
    }
}

/// The CSS mistakes a recipe author makes, caught when the recipe loads instead of as a step
/// that never finds anything: unbalanced brackets and quotes, a combinator with nothing on one
/// side, an empty id, class or pseudo-class, an id or class starting with a digit. Not a full
/// parser: what passes here may still be refused by the page, which names it then.
enum CSSSyntax {
    static func problem(in css: String) -> String? {
        var stack: [Character] = []
        var quote: Character?
        var previous: Character = " "
        var lastSignificant: Character = ","
        let characters = Array(css)
        for (i, c) in characters.enumerated() {
            defer { previous = c }
            if let q = quote {
                if c == q && previous != "\\" { quote = nil }
                continue
            }
            let next: Character? = i + 1 < characters.count ? characters[i + 1] : nil
            switch c {
            case "\"", "'": quote = c
            case "(", "[": stack.append(c)
            case ")", "]":
                guard let open = stack.popLast(), (open == "(" && c == ")") || (open == "[" && c == "]") else {
                    return "'\(c)' without its opening bracket"
                }
            case "#", ".":
                guard stack.isEmpty || stack.last == "(" else { break }
                guard let n = next, !n.isWhitespace, !"#.,>+~:)[".contains(n) else { return "'\(c)' with no name after it" }
                if n.isNumber, c == "#" || !(previous.isNumber) { return "'\(c)\(n)…': an id or class cannot start with a digit (escape it, or use [id=\"…\"])" }
            case ":":
                guard stack.isEmpty || stack.last == "(" else { break }
                guard let n = next, n == ":" || n.isLetter || n == "-" || n == "_" else { return "':' with no pseudo-class after it" }
            case ">", "+", "~", ",":
                guard stack.isEmpty else { break }
                if ">+~,".contains(lastSignificant) { return "'\(c)' with nothing before it" }
            default:
                break
            }
            if !c.isWhitespace && stack.isEmpty { lastSignificant = c }
        }
        if let q = quote { return "a \(q) quote is never closed" }
        if let open = stack.last { return "'\(open)' is never closed" }
        if ">+~,".contains(lastSignificant) { return "'\(lastSignificant)' with nothing after it" }
        return nil
    }
}
