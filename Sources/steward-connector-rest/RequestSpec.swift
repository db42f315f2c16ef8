import StewardProtocol

/// One HTTP request of an operation, as the definition writes it: method, path, query, headers
/// and body, each a template, and what the answers mean.
struct RequestSpec: Sendable {
    var method: String
    /// Relative to the base URL; holes are path segments.
    var path: Template
    var query: [(name: String, value: Template)]
    var headers: [(name: String, value: Template)]
    var body: Body?
    /// Statuses that mean it worked; any 2xx when empty.
    var success: [StatusRule]
    /// Specific meanings for failure statuses, tried before the generic mapping.
    var errors: [ErrorRule]

    enum Body: Sendable {
        case json(JSONTemplate)
        case form([(name: String, value: Template)])
    }

    static let keys = ["method", "path", "query", "headers", "body", "form", "success", "errors"]
    static let methods = ["GET", "POST", "PUT", "PATCH", "DELETE"]

    init(_ members: [String: DefinitionNode], node: DefinitionNode, defaultMethod: String) throws(DefinitionError) {
        method = try (members["method"] ?? node.child("method")).choice(Self.methods, default: defaultMethod)
        guard let pathNode = members["path"] else { throw node.child("path").error("required: the request path, e.g. \"/users/{{params.id}}\"") }
        path = try pathNode.template()
        let pathText = path.source
        guard pathText.hasPrefix("/") else { throw pathNode.error("must start with \"/\" (it is appended to the base URL)") }
        let literalText = path.pieces.map { piece -> String in if case .text(let t) = piece { return t } else { return "" } }.joined()
        guard !literalText.contains("?"), !literalText.contains("#") else {
            throw pathNode.error("must not contain \"?\" or \"#\": put query parameters in \"query\"")
        }
        query = try Self.templateMap(members["query"])
        headers = try Self.templateMap(members["headers"])
        for (name, _) in headers where name.lowercased() == "authorization" {
            throw (members["headers"] ?? node).child(name).error("set credentials in \"auth\", not as a header, so they are redacted and refreshed")
        }
        if let bodyNode = members["body"], let formNode = members["form"] {
            _ = formNode
            throw bodyNode.error("give either \"body\" (JSON) or \"form\", not both")
        }
        if let bodyNode = members["body"] {
            body = .json(try JSONTemplate(bodyNode))
        } else if let formNode = members["form"] {
            body = .form(try Self.templateMap(formNode))
        } else {
            body = nil
        }
        success = try StatusRule.list(members["success"])
        errors = try ErrorRule.list(members["errors"])
    }

    static func templateMap(_ node: DefinitionNode?) throws(DefinitionError) -> [(name: String, value: Template)] {
        guard let node else { return [] }
        var result: [(name: String, value: Template)] = []
        for (key, child) in try node.entries() {
            guard !key.isEmpty, !key.contains(where: { $0 == "\r" || $0 == "\n" || $0 == ":" && node.path.hasSuffix("headers") }) else {
                throw child.error("not a valid name")
            }
            result.append((key, try child.template()))
        }
        return result
    }

    /// Every template in the request, with the key path it came from, for validation.
    func templates(at path: String) -> [(String, Template)] {
        var all: [(String, Template)] = [("\(path).path", self.path)]
        all += query.map { ("\(path).query.\($0.name)", $0.value) }
        all += headers.map { ("\(path).headers.\($0.name)", $0.value) }
        switch body {
        case .json(let t): all += t.templates(at: "\(path).body")
        case .form(let fields): all += fields.map { ("\(path).form.\($0.name)", $0.value) }
        case nil: break
        }
        all += errors.enumerated().compactMap { i, rule in rule.message.map { ("\(path).errors[\(i)].message", $0) } }
        return all
    }
}

/// A JSON body whose string leaves may be templates. Built as a value and written by the JSON
/// writer, so inserted text is always escaped as a JSON string.
indirect enum JSONTemplate: Sendable {
    case literal(JSONValue)
    case template(Template)
    case array([JSONTemplate])
    case object([(String, JSONTemplate)])

    init(_ node: DefinitionNode) throws(DefinitionError) {
        switch node.value {
        case .string(let s) where s.contains("{{") || s.contains("}}"):
            self = .template(try node.template())
        case .array:
            self = .array(try node.elements().map { e throws(DefinitionError) in try JSONTemplate(e) })
        case .object:
            self = .object(try node.entries().map { entry throws(DefinitionError) in (entry.key, try JSONTemplate(entry.node)) })
        default:
            self = .literal(node.value)
        }
    }

    /// The body for `scope`. Members and elements whose sole expression has no value are left
    /// out, so optional attributes are simply not sent.
    func render(_ scope: JSONValue) throws(TemplateError) -> JSONValue? {
        switch self {
        case .literal(let v): return v
        case .template(let t): return try t.value(scope)
        case .array(let items):
            var out: [JSONValue] = []
            for item in items { if let v = try item.render(scope) { out.append(v) } }
            return .array(out)
        case .object(let members):
            var out: [String: JSONValue] = [:]
            for (key, member) in members { if let v = try member.render(scope) { out[key] = v } }
            return .object(out)
        }
    }

    func templates(at path: String) -> [(String, Template)] {
        switch self {
        case .literal: return []
        case .template(let t): return [(path, t)]
        case .array(let items): return items.enumerated().flatMap { $1.templates(at: "\(path)[\($0)]") }
        case .object(let members): return members.flatMap { $1.templates(at: "\(path).\($0)") }
        }
    }
}

/// A test on a response or a record: a body value or a header, present, equal to a value,
/// one of several, or containing some text.
struct Condition: Sendable {
    enum Source: Sendable {
        case body(ValuePath)
        case header(String)
    }

    enum Test: Sendable {
        case present(Bool)
        case equals(JSONValue)
        case notEquals(JSONValue)
        case oneOf([JSONValue])
        case contains(String)
    }

    var source: Source
    var test: Test

    static let keys = ["from", "header", "present", "equals", "notEquals", "in", "contains"]

    init(_ node: DefinitionNode) throws(DefinitionError) {
        let m = try node.members(known: Self.keys)
        switch (m["from"], m["header"]) {
        case (let from?, nil): source = .body(try from.valuePath())
        case (nil, let header?): source = .header(try header.string().lowercased())
        default: throw node.error("give exactly one of \"from\" (a pointer into the body) or \"header\"")
        }
        let tests = ["present", "equals", "notEquals", "in", "contains"].filter { m[$0] != nil }
        guard tests.count <= 1 else { throw node.error("give one test, not \(tests.joined(separator: " and "))") }
        switch tests.first {
        case "equals"?: test = .equals(node.value["equals"])
        case "notEquals"?: test = .notEquals(node.value["notEquals"])
        case "in"?:
            guard let values = node.value["in"].arrayValue else { throw node.child("in").error("expected an array of values") }
            test = .oneOf(values)
        case "contains"?: test = .contains(try node.child("contains").string())
        case "present"?: test = .present(try node.child("present").bool(default: true))
        default: test = .present(true)
        }
    }

    func holds(body: JSONValue, headers: [String: String] = [:]) -> Bool {
        let value: JSONValue?
        switch source {
        case .body(let path): value = path.resolve(in: body)
        case .header(let name): value = headers[name].map(JSONValue.string)
        }
        switch test {
        case .present(let wanted): return (value.map { !$0.isNull } ?? false) == wanted
        case .equals(let expected): return value.map { Self.same($0, expected) } ?? expected.isNull
        case .notEquals(let expected): return !(value.map { Self.same($0, expected) } ?? expected.isNull)
        case .oneOf(let options): return value.map { v in options.contains { Self.same(v, $0) } } ?? false
        case .contains(let text):
            guard let v = value else { return false }
            if case .array(let items) = v { return items.contains { $0.scalarText == text } }
            return v.scalarText?.localizedCaseInsensitiveContains(text) ?? false
        }
    }

    /// Equal as JSON, or as text when one side is text (headers are always text).
    private static func same(_ a: JSONValue, _ b: JSONValue) -> Bool {
        if a == b { return true }
        guard let x = a.scalarText, let y = b.scalarText else { return false }
        return x == y
    }
}

/// Status codes with an optional condition on the body: `422` or
/// `{"status": 422, "when": {"from": "/errors/0/message", "contains": "already"}}`.
struct StatusRule: Sendable {
    var codes: [Int]
    var when: Condition?

    static func list(_ node: DefinitionNode?) throws(DefinitionError) -> [StatusRule] {
        guard let node, !node.isMissing else { return [] }
        let items: [DefinitionNode] = node.value.arrayValue != nil ? try node.elements() : [node]
        return try items.map { item throws(DefinitionError) in
            if item.value.intValue != nil { return StatusRule(codes: try item.statusCodes(), when: nil) }
            let m = try item.members(known: ["status", "when"])
            guard let status = m["status"] else { throw item.child("status").error("required") }
            return StatusRule(codes: try status.statusCodes(), when: try m["when"].map { n throws(DefinitionError) in try Condition(n) })
        }
    }

    func matches(status: Int, body: JSONValue, headers: [String: String]) -> Bool {
        codes.contains(status) && (when?.holds(body: body, headers: headers) ?? true)
    }
}

extension Array where Element == StatusRule {
    func match(status: Int, body: JSONValue, headers: [String: String]) -> Bool {
        contains { $0.matches(status: status, body: body, headers: headers) }
    }
}

/// What a failure status means in the protocol's taxonomy, when the generic mapping (404 is
/// not found, 409 already exists...) would say the wrong thing.
struct ErrorRule: Sendable {
    var rule: StatusRule
    var kind: ErrorKind
    var message: Template?
    var retryable: Bool?

    static func list(_ node: DefinitionNode?) throws(DefinitionError) -> [ErrorRule] {
        guard let node, !node.isMissing else { return [] }
        return try node.elements().map { item throws(DefinitionError) in
            let m = try item.members(known: ["status", "when", "kind", "message", "retryable"])
            guard let status = m["status"] else { throw item.child("status").error("required") }
            let kindNode = m["kind"] ?? item.child("kind")
            let kindName = try kindNode.choice(ErrorKind.allCases.map(\.rawValue))
            return ErrorRule(
                rule: StatusRule(codes: try status.statusCodes(), when: try m["when"].map { n throws(DefinitionError) in try Condition(n) }),
                kind: ErrorKind(rawValue: kindName) ?? .internal,
                message: try m["message"]?.template(),
                retryable: try m["retryable"]?.bool(default: false))
        }
    }
}
