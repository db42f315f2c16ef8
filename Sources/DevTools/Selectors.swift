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
        _ = try parsed()
    }

    public var description: String { alternatives.joined(separator: " | ") }

    /// The alternatives as the page-side engine expects them.
    func parsed() throws(DevToolsError) -> JSONValue {
        guard !alternatives.isEmpty else { throw .invalidSelector(selector: "[]", reason: "a step needs at least one selector") }
        var list: [JSONValue] = []
        for selector in alternatives {
            let parts = try SelectorParser(selector).parse()
            list.append(["text": .string(selector), "parts": .array(parts)])
        }
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
