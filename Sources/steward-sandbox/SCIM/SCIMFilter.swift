import StewardJSON

/// A filter compiled against a resource type (RFC 7644 §3.4.2.2): names are resolved and
/// operands converted once, so evaluating it over 100,000 resources does no parsing.
indirect enum CompiledFilter: Sendable {
    case and(CompiledFilter, CompiledFilter)
    case or(CompiledFilter, CompiledFilter)
    case not(CompiledFilter)
    case present(ValueReference)
    case compare(ValueReference, ComparisonOperator, Operand)
    /// Some element of a multi-valued attribute matches `element` (and then `then`).
    case anyElement(ResolvedAttribute, element: CompiledFilter)

    /// Whether the filter compares or tests the core attribute `name` anywhere.
    func mentions(_ name: String) -> Bool {
        switch self {
        case .and(let a, let b), .or(let a, let b): return a.mentions(name) || b.mentions(name)
        case .not(let a): return a.mentions(name)
        case .present(let reference), .compare(let reference, _, _):
            guard case .resource(let resolved) = reference else { return false }
            return resolved.container == nil && resolved.attribute.name == name
        case .anyElement(let resolved, _): return resolved.container == nil && resolved.attribute.name == name
        }
    }

    /// `userName eq "x"` or `externalId eq "x"`, usable with an index; nil otherwise.
    var indexableEquality: (attribute: String, value: String)? {
        guard case .compare(let reference, .eq, .string(let value, _)) = self,
              case .resource(let resolved) = reference, resolved.container == nil, resolved.sub == nil
        else { return nil }
        return (resolved.attribute.name, value)
    }
}

/// Where a compared value comes from: the resource itself, or (inside `[...]`) one element.
enum ValueReference: Sendable {
    case resource(ResolvedAttribute)
    case element(SCIMAttribute)

    var definition: SCIMAttribute {
        switch self {
        case .resource(let resolved): return resolved.leaf
        case .element(let sub): return sub
        }
    }
}

enum ComparisonOperator: String, Sendable {
    case eq, ne, co, sw, ew, gt, ge, lt, le
}

/// A comparison value converted to the attribute's type.
enum Operand: Sendable {
    case string(String, folded: String)
    case number(Double)
    case bool(Bool)
    case dateTime(Int64)
    case null
}

/// Supplies attribute values of a resource to the evaluator.
protocol FilterSubject {
    /// The stored value of a top-level attribute (or extension attribute) of the resource.
    func value(container: String?, name: String) -> JSONValue?
}

/// The parse tree before names are resolved.
indirect enum FilterNode {
    case and(FilterNode, FilterNode)
    case or(FilterNode, FilterNode)
    case not(FilterNode)
    case present(String)
    case compare(String, String, FilterToken)
    case valuePath(String, FilterNode, sub: String?, comparison: (op: String, value: FilterToken?)?)
}

/// Recursive descent over `FILTER` with `not` > `and` > `or` precedence.
struct FilterParser {
    private let tokens: [FilterToken]
    private var position = 0
    private var depth = 0
    private let errorKind: SCIMError.Kind
    private let original: String
    private static let maxDepth = 32

    init(tokens: [FilterToken], errorKind: SCIMError.Kind, original: String) {
        self.tokens = tokens
        self.errorKind = errorKind
        self.original = original
    }

    static func parse(_ text: String) throws(SCIMError) -> FilterNode {
        var parser = FilterParser(tokens: try FilterLexer.tokens(text, errorKind: .invalidFilter), errorKind: .invalidFilter, original: text)
        return try parser.parseAll()
    }

    mutating func parseAll() throws(SCIMError) -> FilterNode {
        guard !tokens.isEmpty else { throw fail("the filter is empty") }
        let node = try parseOr()
        guard position == tokens.count else { throw fail("unexpected '\(tokens[position].text)'") }
        return node
    }

    private mutating func parseOr() throws(SCIMError) -> FilterNode {
        var node = try parseAnd()
        while keyword("or") {
            node = .or(node, try parseAnd())
        }
        return node
    }

    private mutating func parseAnd() throws(SCIMError) -> FilterNode {
        var node = try parseUnary()
        while keyword("and") {
            node = .and(node, try parseUnary())
        }
        return node
    }

    private mutating func parseUnary() throws(SCIMError) -> FilterNode {
        depth += 1
        defer { depth -= 1 }
        guard depth <= FilterParser.maxDepth else { throw fail("the filter nests deeper than \(FilterParser.maxDepth) levels") }
        if keyword("not") {
            guard peek == .openParen else { throw fail("'not' must be followed by '('") }
            return .not(try parseUnary())
        }
        if peek == .openParen {
            position += 1
            let inner = try parseOr()
            guard next() == .closeParen else { throw fail("missing ')'") }
            return inner
        }
        guard case .word(let path)? = next() else { throw fail("expected an attribute name") }
        if peek == .openBracket {
            position += 1
            let inner = try parseOr()
            guard next() == .closeBracket else { throw fail("missing ']'") }
            // Beyond RFC 7644: `emails[type eq "work"].value eq "x"` compares one sub-attribute
            // of the matching elements.
            if case .word(let word)? = peek, word.hasPrefix(".") {
                position += 1
                let op = try parseOperatorWord()
                if op == "pr" { return .valuePath(path, inner, sub: String(word.dropFirst()), comparison: (op, nil)) }
                return .valuePath(path, inner, sub: String(word.dropFirst()), comparison: (op, try parseValue()))
            }
            return .valuePath(path, inner, sub: nil, comparison: nil)
        }
        let op = try parseOperatorWord()
        if op == "pr" { return .present(path) }
        return .compare(path, op, try parseValue())
    }

    private mutating func parseOperatorWord() throws(SCIMError) -> String {
        guard case .word(let word)? = next() else { throw fail("expected an operator") }
        let op = word.lowercased()
        guard op == "pr" || ComparisonOperator(rawValue: op) != nil else { throw fail("unknown operator '\(word)'") }
        return op
    }

    private mutating func parseValue() throws(SCIMError) -> FilterToken {
        guard let token = next() else { throw fail("expected a value") }
        switch token {
        case .string, .number: return token
        case .word(let w) where ["true", "false", "null"].contains(w.lowercased()): return .word(w.lowercased())
        default: throw fail("expected a string, number, true, false or null, not '\(token.text)'")
        }
    }

    private var peek: FilterToken? { position < tokens.count ? tokens[position] : nil }

    private mutating func next() -> FilterToken? {
        guard position < tokens.count else { return nil }
        position += 1
        return tokens[position - 1]
    }

    private mutating func keyword(_ word: String) -> Bool {
        if case .word(let w)? = peek, w.lowercased() == word {
            position += 1
            return true
        }
        return false
    }

    private func fail(_ message: String) -> SCIMError {
        SCIMError.badRequest(errorKind, "\(message) in '\(original)'")
    }
}

/// Resolves names and types. Errors name the attribute and the reason.
struct FilterCompiler {
    let type: SCIMResourceType
    let errorKind: SCIMError.Kind

    /// Compiles a top-level filter.
    func compile(_ node: FilterNode) throws(SCIMError) -> CompiledFilter {
        try compile(node, element: nil)
    }

    /// Compiles a filter; inside `[...]`, names are sub-attributes of `element`.
    func compile(_ node: FilterNode, element: ResolvedAttribute?) throws(SCIMError) -> CompiledFilter {
        switch node {
        case .and(let a, let b): return .and(try compile(a, element: element), try compile(b, element: element))
        case .or(let a, let b): return .or(try compile(a, element: element), try compile(b, element: element))
        case .not(let a): return .not(try compile(a, element: element))
        case .present(let path):
            return .present(try reference(path, element: element))
        case .compare(let path, let op, let value):
            let reference = try reference(path, element: element)
            guard let op = ComparisonOperator(rawValue: op) else { throw fail("unknown operator '\(op)'") }
            return .compare(reference, op, try operand(value, op: op, for: reference.definition))
        case .valuePath(let path, let inner, let sub, let comparison):
            guard element == nil else { throw fail("value filters cannot be nested") }
            guard let resolved = type.resolve(path), resolved.sub == nil, resolved.attribute.multiValued, resolved.attribute.isComplex else {
                throw fail("'\(path)' is not a multi-valued complex attribute of \(type.name)")
            }
            var elementFilter = try compile(inner, element: resolved)
            if let sub, let comparison {
                guard let subAttribute = resolved.attribute.subAttribute(named: sub) else {
                    throw fail("'\(path)' has no sub-attribute '\(sub)'")
                }
                let reference = ValueReference.element(subAttribute)
                let then: CompiledFilter
                if comparison.op == "pr" {
                    then = .present(reference)
                } else {
                    guard let op = ComparisonOperator(rawValue: comparison.op), let value = comparison.value else {
                        throw fail("unknown operator '\(comparison.op)'")
                    }
                    then = .compare(reference, op, try operand(value, op: op, for: subAttribute))
                }
                elementFilter = .and(elementFilter, then)
            }
            return .anyElement(resolved, element: elementFilter)
        }
    }

    private func reference(_ path: String, element: ResolvedAttribute?) throws(SCIMError) -> ValueReference {
        if let element {
            guard let sub = element.attribute.subAttribute(named: path) else {
                throw fail("'\(element.attribute.name)' has no sub-attribute '\(path)'")
            }
            return .element(sub)
        }
        guard var resolved = type.resolve(path) else { throw fail("'\(path)' is not an attribute of \(type.name)") }
        // A complex attribute compared as a whole means its `value` (e.g. `emails co "@x"`).
        if resolved.sub == nil, resolved.attribute.isComplex {
            guard let value = resolved.attribute.subAttribute(named: "value") else {
                throw fail("'\(path)' is complex; name one of its sub-attributes")
            }
            resolved.sub = value
        }
        return .resource(resolved)
    }

    private func operand(_ token: FilterToken, op: ComparisonOperator, for attribute: SCIMAttribute) throws(SCIMError) -> Operand {
        if case .word("null") = token {
            guard op == .eq || op == .ne else { throw fail("'\(op.rawValue)' cannot compare with null") }
            return .null
        }
        switch attribute.type {
        case .string, .reference, .binary:
            guard case .string(let s) = token else { throw fail("'\(attribute.name)' is a string; compare it with a quoted value") }
            if [.gt, .ge, .lt, .le].contains(op), attribute.type == .binary { throw fail("'\(op.rawValue)' is not defined for binary '\(attribute.name)'") }
            return .string(s, folded: attribute.caseExact ? s : s.lowercased())
        case .boolean:
            guard op == .eq || op == .ne else { throw fail("'\(op.rawValue)' is not defined for boolean '\(attribute.name)'") }
            guard case .word(let w) = token, w == "true" || w == "false" else {
                throw fail("'\(attribute.name)' is a boolean; compare it with true or false")
            }
            return .bool(w == "true")
        case .integer, .decimal:
            guard [.eq, .ne, .gt, .ge, .lt, .le].contains(op) else { throw fail("'\(op.rawValue)' is not defined for numbers") }
            guard case .number(let n) = token, let d = n.doubleValue else { throw fail("'\(attribute.name)' is a number") }
            return .number(d)
        case .dateTime:
            guard [.eq, .ne, .gt, .ge, .lt, .le].contains(op) else { throw fail("'\(op.rawValue)' is not defined for dates") }
            guard case .string(let s) = token, let millis = SCIMTime.parse(s) else {
                throw fail("'\(attribute.name)' is a dateTime; compare it with a quoted RFC 3339 time")
            }
            return .dateTime(millis)
        case .complex:
            throw fail("'\(attribute.name)' is complex; name one of its sub-attributes")
        }
    }

    private func fail(_ message: String) -> SCIMError { SCIMError.badRequest(errorKind, message) }
}

/// Evaluation. Unassigned, null and empty values are all "absent" (RFC 7644 §3.4.2.2);
/// a multi-valued attribute matches when any of its values does; `ne` is `not eq`.
enum FilterEvaluator {
    static func matches<S: FilterSubject>(_ filter: CompiledFilter, _ subject: S) -> Bool {
        matches(filter, subject: subject, element: nil)
    }

    static func matches(_ filter: CompiledFilter, element: [String: JSONValue]) -> Bool {
        matches(filter, subject: NoSubject(), element: element)
    }

    private static func matches<S: FilterSubject>(_ filter: CompiledFilter, subject: S, element: [String: JSONValue]?) -> Bool {
        switch filter {
        case .and(let a, let b): return matches(a, subject: subject, element: element) && matches(b, subject: subject, element: element)
        case .or(let a, let b): return matches(a, subject: subject, element: element) || matches(b, subject: subject, element: element)
        case .not(let a): return !matches(a, subject: subject, element: element)
        case .present(let reference):
            return anyValue(reference, subject: subject, element: element) { isPresent($0) }
        case .compare(let reference, let op, let operand):
            let attribute = reference.definition
            switch (op, operand) {
            case (.eq, .null): return !anyValue(reference, subject: subject, element: element) { isPresent($0) }
            case (.ne, .null): return anyValue(reference, subject: subject, element: element) { isPresent($0) }
            case (.ne, _): return !anyValue(reference, subject: subject, element: element) { compare($0, .eq, operand, attribute) }
            default: return anyValue(reference, subject: subject, element: element) { compare($0, op, operand, attribute) }
            }
        case .anyElement(let resolved, let elementFilter):
            guard case .array(let items)? = subject.value(container: resolved.container, name: resolved.attribute.name) else { return false }
            return items.contains { item in
                guard case .object(let object) = item else { return false }
                return matches(elementFilter, subject: subject, element: object)
            }
        }
    }

    /// Whether any value at `reference` satisfies `predicate`, without collecting the values.
    private static func anyValue<S: FilterSubject>(
        _ reference: ValueReference, subject: S, element: [String: JSONValue]?, _ predicate: (JSONValue) -> Bool
    ) -> Bool {
        switch reference {
        case .element(let sub):
            guard let value = element?[sub.name] else { return false }
            return predicate(value)
        case .resource(let resolved):
            guard let value = subject.value(container: resolved.container, name: resolved.attribute.name) else { return false }
            guard let sub = resolved.sub else {
                if case .array(let items) = value { return items.contains(where: predicate) }
                return predicate(value)
            }
            switch value {
            case .array(let items):
                for item in items {
                    if case .object(let object) = item, let member = object[sub.name], predicate(member) { return true }
                }
                return false
            case .object(let object):
                guard let member = object[sub.name] else { return false }
                return predicate(member)
            default:
                return false
            }
        }
    }

    static func isPresent(_ value: JSONValue) -> Bool {
        switch value {
        case .null: return false
        case .string(let s): return !s.isEmpty
        case .array(let a): return !a.isEmpty
        case .object(let o): return !o.isEmpty
        default: return true
        }
    }

    private static func compare(_ value: JSONValue, _ op: ComparisonOperator, _ operand: Operand, _ attribute: SCIMAttribute) -> Bool {
        switch operand {
        case .null:
            return false
        case .bool(let expected):
            guard case .bool(let actual) = value else { return false }
            return actual == expected
        case .number(let expected):
            guard let actual = value.doubleValue else { return false }
            return ordered(actual, expected, op)
        case .dateTime(let expected):
            guard case .string(let text) = value, let actual = SCIMTime.parse(text) else { return false }
            return ordered(actual, expected, op)
        case .string(_, let folded):
            guard case .string(let raw) = value else { return false }
            if !attribute.caseExact, let result = CaseFolding.compareASCII(raw, op, folded) { return result }
            let actual = attribute.caseExact ? raw : raw.lowercased()
            switch op {
            case .eq: return actual == folded
            case .ne: return actual != folded
            case .co: return folded.isEmpty || actual.contains(folded)
            case .sw: return actual.hasPrefix(folded)
            case .ew: return actual.hasSuffix(folded)
            default: return ordered(actual, folded, op)
            }
        }
    }

    private static func ordered<T: Comparable>(_ a: T, _ b: T, _ op: ComparisonOperator) -> Bool {
        switch op {
        case .eq: return a == b
        case .ne: return a != b
        case .gt: return a > b
        case .ge: return a >= b
        case .lt: return a < b
        case .le: return a <= b
        case .co, .sw, .ew: return false
        }
    }

    private struct NoSubject: FilterSubject {
        func value(container: String?, name: String) -> JSONValue? { nil }
    }
}

/// Case-insensitive comparison without allocating, for the common all-ASCII case.
enum CaseFolding {
    /// The comparison of `raw` (folded here) with an already lowercased operand, or nil when
    /// either side is not ASCII and Unicode case folding is needed.
    static func compareASCII(_ raw: String, _ op: ComparisonOperator, _ folded: String) -> Bool? {
        var raw = raw, folded = folded
        return raw.withUTF8 { a in
            folded.withUTF8 { b -> Bool? in
                guard a.allSatisfy({ $0 < 0x80 }), b.allSatisfy({ $0 < 0x80 }) else { return nil }
                switch op {
                case .eq: return a.count == b.count && equal(a, 0, b)
                case .ne: return !(a.count == b.count && equal(a, 0, b))
                case .sw: return a.count >= b.count && equal(a, 0, b)
                case .ew: return a.count >= b.count && equal(a, a.count - b.count, b)
                case .co:
                    guard a.count >= b.count else { return false }
                    for start in 0...(a.count - b.count) where equal(a, start, b) { return true }
                    return false
                case .gt, .ge, .lt, .le:
                    let order = compare(a, b)
                    switch op {
                    case .gt: return order > 0
                    case .ge: return order >= 0
                    case .lt: return order < 0
                    default: return order <= 0
                    }
                }
            }
        }
    }

    @inline(__always)
    private static func lower(_ c: UInt8) -> UInt8 { c >= 0x41 && c <= 0x5A ? c | 0x20 : c }

    private static func equal(_ a: UnsafeBufferPointer<UInt8>, _ offset: Int, _ b: UnsafeBufferPointer<UInt8>) -> Bool {
        for i in 0..<b.count where lower(a[offset + i]) != b[i] { return false }
        return true
    }

    private static func compare(_ a: UnsafeBufferPointer<UInt8>, _ b: UnsafeBufferPointer<UInt8>) -> Int {
        for i in 0..<min(a.count, b.count) {
            let x = lower(a[i]), y = b[i]
            if x != y { return x < y ? -1 : 1 }
        }
        return a.count == b.count ? 0 : (a.count < b.count ? -1 : 1)
    }
}
