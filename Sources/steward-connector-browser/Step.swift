import DevTools
import StewardJSON
import StewardProtocol

/// One recipe step: a page action, a wait, an extraction, or a branch on what the page shows.
struct Step: Sendable {
    indirect enum Action: Sendable {
        case goto(url: Template)
        case click(SelectorTemplate)
        case fill(SelectorTemplate, value: Template)
        case select(SelectorTemplate, value: Template)
        case check(SelectorTemplate)
        case uncheck(SelectorTemplate)
        case press(key: String, on: SelectorTemplate?)
        case waitVisible(SelectorTemplate)
        case waitHidden(SelectorTemplate)
        case waitText(Template)
        case waitURL(Template)
        case waitNetworkIdle
        case extractTable(table: SelectorTemplate, nextPage: SelectorTemplate?, into: String)
        /// The trimmed text (or `attribute`) of the first element a CSS selector finds, or what
        /// `match`'s first group captures of it.
        case extractText(css: Template, into: String, attribute: String?, match: String?)
        /// What `match` captures of the page's address (`/users/(\d+)`), or the whole address.
        case extractURL(match: String?, into: String)
        /// The table row whose `column` reads `equals`, across pages or through a search box,
        /// marked so steps with `within` act inside it; its cells become `vars.<into>.<column>`.
        case findRow(FindRow)
        /// Runs `then` or `otherwise` depending on whether the selector shows something now.
        case branch(visible: SelectorTemplate, then: [Step], otherwise: [Step])
        /// Ends the flow early, successfully: the change was already there.
        case finishIf(visible: SelectorTemplate)
        /// Ends the flow with an error of `kind`.
        case failIf(visible: SelectorTemplate, kind: ErrorKind, message: Template)
    }

    /// `findRow`'s parameters.
    struct FindRow: Sendable {
        var table: SelectorTemplate
        var column: String
        var equals: Template
        var nextPage: SelectorTemplate?
        /// A search box: the value is typed into `field`, then `submit` is clicked (or Enter pressed).
        var searchField: SelectorTemplate?
        var searchSubmit: SelectorTemplate?
        var maxPages: Int
        var into: String
        /// Not finding the row is an answer (`vars.<into>.found` is "false"), not an error.
        var optional: Bool
    }

    var action: Action
    /// A row marked by an earlier `findRow` (its `into`): the step's selectors look inside it.
    var within: String?
    var timeout: Duration?
    /// How `confirm()` dialogs this step opens are answered.
    var acceptsDialogs: Bool
    /// Where the step sits in the recipe, e.g. `accounts.disable.steps[2]`.
    var path: String

    static let actions = ["goto", "click", "fill", "select", "check", "uncheck", "press", "waitFor", "extractTable",
                          "extractText", "extractURL", "findRow", "if", "finishIf", "failIf"]

    static func list(_ json: JSONValue, at path: String) throws(RecipeError) -> [Step] {
        guard let items = json.arrayValue, !items.isEmpty else { throw RecipeError(path, "must be a non-empty array of steps") }
        var steps: [Step] = []
        for (index, item) in items.enumerated() { steps.append(try Step(item, at: "\(path)[\(index)]")) }
        return steps
    }

    init(_ json: JSONValue, at path: String) throws(RecipeError) {
        let m = try Members(json, at: path)
        self.path = path
        let name = try m.string("action")
        var allowed = ["action", "timeoutMs", "dialog", "comment", "within"]
        func selector(_ member: String = "selector") throws(RecipeError) -> SelectorTemplate {
            try SelectorTemplate(m[member], at: m.at(member))
        }
        switch name {
        case "goto":
            allowed += ["url"]
            action = .goto(url: try Template(try m.string("url"), at: m.at("url")))
        case "click":
            allowed += ["selector"]
            action = .click(try selector())
        case "fill", "select":
            allowed += ["selector", "value"]
            guard let text = try m.optionalString("value") else {
                throw RecipeError(m.at("value"), "is required (a string; may use {{placeholders}})")
            }
            let value = try Template(text, at: m.at("value"))
            action = name == "fill" ? .fill(try selector(), value: value) : .select(try selector(), value: value)
        case "check":
            allowed += ["selector"]
            action = .check(try selector())
        case "uncheck":
            allowed += ["selector"]
            action = .uncheck(try selector())
        case "press":
            allowed += ["key", "selector"]
            let key = try m.string("key")
            action = .press(key: key, on: m["selector"].isNull ? nil : try selector())
        case "waitFor":
            allowed += ["selector", "hidden", "text", "url", "networkIdle"]
            let given = ["selector", "hidden", "text", "url", "networkIdle"].filter { !m[$0].isNull }
            guard given.count == 1 else {
                throw RecipeError(path, "waitFor needs exactly one of selector, hidden, text, url, networkIdle")
            }
            switch given[0] {
            case "selector": action = .waitVisible(try selector())
            case "hidden": action = .waitHidden(try selector("hidden"))
            case "text": action = .waitText(try Template(try m.string("text"), at: m.at("text")))
            case "url": action = .waitURL(try Template(try m.string("url"), at: m.at("url")))
            default: action = .waitNetworkIdle
            }
        case "extractTable":
            allowed += ["selector", "nextPage", "into"]
            action = .extractTable(table: try selector(), nextPage: m["nextPage"].isNull ? nil : try selector("nextPage"),
                                   into: try m.string("into"))
        case "extractText":
            allowed += ["selector", "into", "attribute", "match"]
            let match = try m.optionalString("match")
            if let match { try ValueMatch.check(match, at: m.at("match")) }
            action = .extractText(css: try Template(try m.string("selector"), at: m.at("selector")), into: try m.string("into"),
                                  attribute: try m.optionalString("attribute"), match: match)
        case "extractURL":
            allowed += ["match", "into"]
            let match = try m.optionalString("match")
            if let match { try ValueMatch.check(match, at: m.at("match")) }
            action = .extractURL(match: match, into: try m.string("into"))
        case "findRow":
            allowed += ["table", "column", "equals", "nextPage", "search", "maxPages", "into", "optional"]
            var search: (SelectorTemplate, SelectorTemplate?)?
            if !m["search"].isNull {
                let box = try Members(m["search"], at: m.at("search"))
                try box.allow(["field", "submit"])
                search = (try SelectorTemplate(box["field"], at: box.at("field")),
                          box["submit"].isNull ? nil : try SelectorTemplate(box["submit"], at: box.at("submit")))
            }
            let optional: Bool
            switch m["optional"] {
            case .null: optional = false
            case .bool(let b): optional = b
            default: throw RecipeError(m.at("optional"), "must be true or false")
            }
            action = .findRow(FindRow(
                table: try selector("table"), column: try m.string("column"), equals: try Template(try m.string("equals"), at: m.at("equals")),
                nextPage: m["nextPage"].isNull ? nil : try selector("nextPage"), searchField: search?.0, searchSubmit: search?.1,
                maxPages: try m.optionalInt("maxPages", in: 1...1_000) ?? 20, into: try m.string("into"), optional: optional))
        case "if":
            allowed += ["visible", "then", "else"]
            action = .branch(visible: try selector("visible"), then: try Step.list(m["then"], at: m.at("then")),
                             otherwise: m["else"].isNull ? [] : try Step.list(m["else"], at: m.at("else")))
        case "finishIf":
            allowed += ["visible"]
            action = .finishIf(visible: try selector("visible"))
        case "failIf":
            allowed += ["visible", "kind", "message"]
            let kindName = try m.string("kind")
            guard let kind = ErrorKind(rawValue: kindName) else {
                throw RecipeError(m.at("kind"), "unknown error kind \"\(kindName)\" (one of: \(ErrorKind.allCases.map(\.rawValue).joined(separator: ", ")))")
            }
            let message = try Template(try m.string("message"), at: m.at("message"))
            if message.isSensitive { throw RecipeError(m.at("message"), "an error message must not contain secrets") }
            action = .failIf(visible: try selector("visible"), kind: kind, message: message)
        default:
            throw RecipeError(m.at("action"), "unknown action \"\(name)\" (one of: \(Self.actions.joined(separator: ", ")))")
        }
        try m.allow(allowed)
        within = try m.optionalString("within")
        timeout = try m.optionalInt("timeoutMs", in: 0...600_000).map { .milliseconds($0) }
        switch try m.optionalString("dialog") {
        case nil, "dismiss": acceptsDialogs = false
        case "accept": acceptsDialogs = true
        case let other?: throw RecipeError(m.at("dialog"), "must be \"accept\" or \"dismiss\", not \"\(other)\"")
        }
    }

    /// What the step does, for logs and errors: the action and its selectors, never a value.
    var summary: String {
        switch action {
        case .goto(let url): return "goto \(url)"
        case .click(let s): return "click \(s)"
        case .fill(let s, _): return "fill \(s)"
        case .select(let s, _): return "select \(s)"
        case .check(let s): return "check \(s)"
        case .uncheck(let s): return "uncheck \(s)"
        case .press(let key, let s): return "press \(key)" + (s.map { " on \($0)" } ?? "")
        case .waitVisible(let s): return "waitFor \(s)"
        case .waitHidden(let s): return "waitFor hidden \(s)"
        case .waitText(let t): return "waitFor text \(t)"
        case .waitURL(let t): return "waitFor url \(t)"
        case .waitNetworkIdle: return "waitFor networkIdle"
        case .extractTable(let s, _, _): return "extractTable \(s)"
        case .extractText(let css, _, let attribute, _): return "extractText \(css)" + (attribute.map { " @\($0)" } ?? "")
        case .extractURL(let match, _): return "extractURL" + (match.map { " \($0)" } ?? "")
        case .findRow(let f): return "findRow \(f.column) = \(f.equals) in \(f.table)"
        case .branch(let s, _, _): return "if visible \(s)"
        case .finishIf(let s): return "finishIf visible \(s)"
        case .failIf(let s, _, _): return "failIf visible \(s)"
        }
    }

    /// The selectors of a step that acts on or reads an element (not the visibility checks of
    /// `if`, `finishIf` and `failIf`, whose "not there" is an answer).
    var elementSelectors: SelectorTemplate? {
        switch action {
        case .click(let s), .fill(let s, _), .select(let s, _), .check(let s), .uncheck(let s), .waitVisible(let s): return s
        case .press(_, let s): return s
        case .extractTable(let s, _, _): return s
        default: return nil
        }
    }

    /// Whether the step is an action that finds its element by probing (and so knows which
    /// selector found it).
    var actsOnElement: Bool {
        switch action {
        case .click, .fill, .select, .check, .uncheck: return true
        case .press(_, let s): return s != nil
        default: return false
        }
    }

    /// Whether the step can change the app (a mutation is no longer "not applied" after it).
    var mayChangeApp: Bool {
        switch action {
        case .click, .press: return true
        case .select: return true
        default: return false
        }
    }
}

/// A step's selectors (one string or a list of fallbacks), possibly with placeholders, whose
/// syntax is checked at load time with sample values.
struct SelectorTemplate: Sendable, CustomStringConvertible {
    let alternatives: [Template]
    /// For XPath alternatives with placeholders: how they render (see `XPathTemplate`).
    let xpath: [XPathTemplate?]

    init(_ json: JSONValue, at path: String) throws(RecipeError) {
        let strings: [String]
        if let one = json.stringValue {
            strings = [one]
        } else if let items = json.arrayValue, !items.isEmpty, items.allSatisfy({ $0.stringValue != nil }) {
            strings = items.compactMap(\.stringValue)
        } else {
            throw RecipeError(path, "must be a selector string or a non-empty array of selector strings (fallbacks)")
        }
        var templates: [Template] = []
        for (index, text) in strings.enumerated() {
            let at = strings.count == 1 ? path : "\(path)[\(index)]"
            let template = try Template(text, at: at)
            if template.isSensitive { throw RecipeError(at, "a selector must not contain secrets") }
            let sample = template.pieces.map { piece -> String in
                if case .literal(let text) = piece { return text }
                return "sample"
            }.joined()
            do {
                try Selectors(sample).validate()
            } catch {
                throw RecipeError(at, "\(error)")
            }
            templates.append(template)
        }
        alternatives = templates
        xpath = templates.map { template in
            XPathTemplate.isXPath(template.source) && template.pieces.contains { if case .value = $0 { return true } else { return false } }
                ? XPathTemplate(template) : nil
        }
    }

    /// `within`: the mark of a row an earlier `findRow` found; each alternative then looks only
    /// inside that row.
    func render(_ scope: TemplateScope, within: String? = nil) throws -> Selectors {
        let prefix = within.map { "css=[data-steward-within=\"\(selectorEscape($0))\"] >> " } ?? ""
        return Selectors(try zip(alternatives, xpath).map { template, xpath in
            prefix + (try xpath?.render(scope) ?? template.render(scope, escape: selectorEscape))
        })
    }

    var description: String { alternatives.map(\.source).joined(separator: " | ") }
}
