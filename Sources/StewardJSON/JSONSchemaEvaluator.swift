/// Applies checked schemas to values. Every schema it meets has passed
/// `JSONSchemaVocabulary.Checker`, so a keyword it does not know cannot occur and a malformed
/// argument is skipped rather than trusted.
struct JSONSchemaEvaluator {
    typealias Location = JSONSchemaLibrary.Location

    let library: JSONSchemaLibrary
    let patterns = JSONSchemaPatterns()

    /// The message of a member that `additionalProperties` or `unevaluatedProperties` forbids.
    static let notAllowed = "not allowed"

    /// Deeper than this, a schema is taken to recurse without end (`{"$ref": "#"}`).
    private static let maxDepth = 256

    /// Checks `instance` against `schema`, appending problems. Returns the object members the
    /// schema evaluated, which is what `unevaluatedProperties` needs from its neighbours.
    func evaluate(_ instance: JSONValue, _ schema: Location, path: String, depth: Int,
                  into problems: inout [JSONSchemaProblem]) -> Set<String> {
        guard depth < Self.maxDepth else {
            problems.append(JSONSchemaProblem(path: path, keyword: "$ref", schemaLocation: schema.description,
                                              message: "the schema refers to itself without end"))
            return []
        }
        let keywords: [String: JSONValue]
        switch schema.value {
        case .bool(true):
            return []
        case .object(let members):
            keywords = members
        default:
            problems.append(JSONSchemaProblem(path: path, keyword: "false", schemaLocation: schema.description, message: "no value is allowed here"))
            return []
        }
        var evaluated: Set<String> = []
        for (keyword, argument) in keywords.sorted(by: { $0.key < $1.key }) where keyword != "unevaluatedProperties" {
            let context = Context(evaluator: self, keyword: keyword, argument: argument, keywords: keywords,
                                  schema: schema, path: path, depth: depth)
            evaluated.formUnion(context.apply(to: instance, into: &problems))
        }
        if keywords["unevaluatedProperties"] != nil, case .object(let members) = instance {
            let sub = schema.child("unevaluatedProperties")
            for name in members.keys.sorted() where !evaluated.contains(name) {
                let memberPath = Self.member(path, name)
                if sub.value == .bool(false) {
                    problems.append(JSONSchemaProblem(path: memberPath, keyword: "unevaluatedProperties",
                                                      schemaLocation: sub.description, message: Self.notAllowed))
                } else {
                    _ = evaluate(members[name] ?? .null, sub, path: memberPath, depth: depth + 1, into: &problems)
                }
            }
            evaluated.formUnion(members.keys)
        }
        return evaluated
    }

    /// Checks without reporting: the problems `instance` has, and the members it evaluated.
    func passes(_ instance: JSONValue, _ schema: Location, path: String, depth: Int) -> (problems: [JSONSchemaProblem], evaluated: Set<String>) {
        var problems: [JSONSchemaProblem] = []
        let evaluated = evaluate(instance, schema, path: path, depth: depth, into: &problems)
        return (problems, evaluated)
    }

    static func member(_ path: String, _ name: String) -> String { path.isEmpty ? name : path + "." + name }

    /// JSON equality, under which 1 and 1.0 are the same number.
    static func equal(_ a: JSONValue, _ b: JSONValue) -> Bool {
        switch (a, b) {
        case (.int, .double), (.double, .int): return a.doubleValue == b.doubleValue
        case (.array(let x), .array(let y)): return x.count == y.count && zip(x, y).allSatisfy { equal($0, $1) }
        case (.object(let x), .object(let y)):
            return x.count == y.count && x.allSatisfy { key, value in y[key].map { equal(value, $0) } ?? false }
        default: return a == b
        }
    }

    static func matches(_ value: JSONValue, type: String) -> Bool {
        switch (type, value) {
        case ("null", .null), ("boolean", .bool), ("string", .string), ("array", .array), ("object", .object): return true
        case ("number", .int), ("number", .double), ("integer", .int): return true
        case ("integer", .double(let d)): return d.rounded() == d
        default: return false
        }
    }

    /// A value as it appears in a message: JSON, cut short when long.
    static func show(_ value: JSONValue) -> String {
        let text = value.description
        return text.count > 80 ? String(text.prefix(77)) + "..." : text
    }
}

/// One keyword of one schema applied to one value.
private struct Context {
    let evaluator: JSONSchemaEvaluator
    let keyword: String
    let argument: JSONValue
    let keywords: [String: JSONValue]
    let schema: JSONSchemaLibrary.Location
    let path: String
    let depth: Int

    private var rule: String { schema.description + "/" + keyword }

    private func problem(_ message: String, at memberPath: String? = nil) -> JSONSchemaProblem {
        JSONSchemaProblem(path: memberPath ?? path, keyword: keyword, schemaLocation: rule, message: message)
    }

    private func sub(_ relativePointer: String) -> JSONSchemaLibrary.Location { schema.child(relativePointer) }

    private func evaluate(_ value: JSONValue, _ location: JSONSchemaLibrary.Location, at childPath: String,
                          into problems: inout [JSONSchemaProblem]) -> Set<String> {
        evaluator.evaluate(value, location, path: childPath, depth: depth + 1, into: &problems)
    }

    /// Applies the keyword; returns the members it evaluated.
    func apply(to instance: JSONValue, into problems: inout [JSONSchemaProblem]) -> Set<String> {
        switch keyword {
        case "$ref":
            guard let reference = argument.stringValue,
                  let target = try? evaluator.library.resolve(reference, from: schema.document) else { return [] }
            return evaluate(instance, target, at: path, into: &problems)
        case "type":
            let names = (argument.arrayValue ?? [argument]).compactMap(\.stringValue)
            if !names.contains(where: { JSONSchemaEvaluator.matches(instance, type: $0) }) {
                problems.append(problem("expected \(names.joined(separator: " or ")), got \(instance.typeName)"))
            }
        case "enum":
            let options = argument.arrayValue ?? []
            if !options.contains(where: { JSONSchemaEvaluator.equal($0, instance) }) {
                problems.append(problem("\(JSONSchemaEvaluator.show(instance)) is not one of \(options.map(JSONSchemaEvaluator.show).joined(separator: ", "))"))
            }
        case "const":
            if !JSONSchemaEvaluator.equal(argument, instance) {
                problems.append(problem("expected \(JSONSchemaEvaluator.show(argument)), got \(JSONSchemaEvaluator.show(instance))"))
            }
        case "not":
            if evaluator.passes(instance, sub("not"), path: path, depth: depth + 1).problems.isEmpty {
                problems.append(problem("must not match the schema at \(sub("not").description)"))
            }
        case "allOf", "anyOf", "oneOf":
            return applyCombination(instance, into: &problems)
        case "if":
            let condition = evaluator.passes(instance, sub("if"), path: path, depth: depth + 1)
            let branch = condition.problems.isEmpty ? "then" : "else"
            var evaluated = condition.problems.isEmpty ? condition.evaluated : []
            if keywords[branch] != nil { evaluated.formUnion(evaluate(instance, sub(branch), at: path, into: &problems)) }
            return evaluated
        case "then", "else":
            return []  // applied by "if"
        default:
            if case .object(let members) = instance { return applyObject(members, into: &problems) }
            if case .array(let items) = instance { applyArray(items, into: &problems) }
            if case .string(let text) = instance { applyString(text, into: &problems) }
            if instance.doubleValue != nil { applyNumber(instance, into: &problems) }
        }
        return []
    }

    /// Members evaluated by passing branches count for `unevaluatedProperties`. When the
    /// combination fails anyway, every branch's do: the value is invalid either way, and a
    /// member the failing branch knew is not also reported as not allowed.
    private func applyCombination(_ instance: JSONValue, into problems: inout [JSONSchemaProblem]) -> Set<String> {
        let branches = argument.arrayValue ?? []
        var passing = 0
        var evaluatedByPassing: Set<String> = []
        var evaluatedByAll: Set<String> = []
        var failures: [[JSONSchemaProblem]] = []
        for i in branches.indices {
            let result = evaluator.passes(instance, sub("\(keyword)/\(i)"), path: path, depth: depth + 1)
            evaluatedByAll.formUnion(result.evaluated)
            if result.problems.isEmpty {
                passing += 1
                evaluatedByPassing.formUnion(result.evaluated)
            } else {
                failures.append(result.problems)
            }
        }
        let succeeded = keyword == "allOf" ? failures.isEmpty : keyword == "anyOf" ? passing > 0 : passing == 1
        let evaluated = succeeded ? evaluatedByPassing : evaluatedByAll
        switch keyword {
        case "allOf":
            problems += failures.flatMap { $0 }
        case "anyOf" where passing == 0, "oneOf" where passing == 0:
            if failures.count == 1 {
                problems += failures[0]
            } else {
                problems.append(problem("matches none of the alternatives: " + failures.map { "(" + $0.map(\.description).joined(separator: "; ") + ")" }.joined(separator: " or ")))
            }
        case "oneOf" where passing > 1:
            problems.append(problem("matches \(passing) alternatives; exactly one must match"))
        default:
            break
        }
        return evaluated
    }

    private func applyObject(_ members: [String: JSONValue], into problems: inout [JSONSchemaProblem]) -> Set<String> {
        switch keyword {
        case "properties":
            let declared = argument.objectValue ?? [:]
            var evaluated: Set<String> = []
            for name in members.keys.sorted() where declared[name] != nil {
                evaluated.insert(name)
                _ = evaluate(members[name] ?? .null, sub("properties/" + JSONSchemaLibrary.escape(name)),
                             at: JSONSchemaEvaluator.member(path, name), into: &problems)
            }
            return evaluated
        case "patternProperties":
            var evaluated: Set<String> = []
            for pattern in (argument.objectValue ?? [:]).keys.sorted() {
                guard let regex = evaluator.patterns.regex(pattern) else { continue }
                for name in members.keys.sorted() where name.contains(regex) {
                    evaluated.insert(name)
                    _ = evaluate(members[name] ?? .null, sub("patternProperties/" + JSONSchemaLibrary.escape(pattern)),
                                 at: JSONSchemaEvaluator.member(path, name), into: &problems)
                }
            }
            return evaluated
        case "additionalProperties":
            let declared = keywords["properties"]?.objectValue ?? [:]
            let patterns = (keywords["patternProperties"]?.objectValue ?? [:]).keys.compactMap { evaluator.patterns.regex($0) }
            var evaluated: Set<String> = []
            for name in members.keys.sorted() where declared[name] == nil && !patterns.contains(where: { name.contains($0) }) {
                evaluated.insert(name)
                let memberPath = JSONSchemaEvaluator.member(path, name)
                if argument == .bool(false) {
                    problems.append(problem(JSONSchemaEvaluator.notAllowed, at: memberPath))
                } else {
                    _ = evaluate(members[name] ?? .null, sub("additionalProperties"), at: memberPath, into: &problems)
                }
            }
            return evaluated
        case "propertyNames":
            for name in members.keys.sorted() {
                let result = evaluator.passes(.string(name), sub("propertyNames"), path: path, depth: depth + 1)
                if let first = result.problems.first {
                    problems.append(problem("name not allowed: \(first.message)", at: JSONSchemaEvaluator.member(path, name)))
                }
            }
        case "required":
            for name in (argument.arrayValue ?? []).compactMap(\.stringValue) where members[name] == nil {
                problems.append(problem("required", at: JSONSchemaEvaluator.member(path, name)))
            }
        case "dependentRequired":
            for (name, needed) in (argument.objectValue ?? [:]).sorted(by: { $0.key < $1.key }) where members[name] != nil {
                for other in (needed.arrayValue ?? []).compactMap(\.stringValue) where members[other] == nil {
                    problems.append(problem("required together with \(name)", at: JSONSchemaEvaluator.member(path, other)))
                }
            }
        case "dependentSchemas":
            var evaluated: Set<String> = []
            for name in (argument.objectValue ?? [:]).keys.sorted() where members[name] != nil {
                evaluated.formUnion(evaluate(.object(members), sub("dependentSchemas/" + JSONSchemaLibrary.escape(name)), at: path, into: &problems))
            }
            return evaluated
        case "minProperties":
            if let n = argument.intValue, members.count < n { problems.append(problem("expected at least \(n) members, got \(members.count)")) }
        case "maxProperties":
            if let n = argument.intValue, members.count > n { problems.append(problem("expected at most \(n) members, got \(members.count)")) }
        default:
            break
        }
        return []
    }

    private func applyArray(_ items: [JSONValue], into problems: inout [JSONSchemaProblem]) {
        switch keyword {
        case "prefixItems":
            let count = argument.arrayValue?.count ?? 0
            for (i, item) in items.prefix(count).enumerated() {
                _ = evaluate(item, sub("prefixItems/\(i)"), at: "\(path)[\(i)]", into: &problems)
            }
        case "items":
            let skip = keywords["prefixItems"]?.arrayValue?.count ?? 0
            for (i, item) in items.enumerated().dropFirst(skip) {
                _ = evaluate(item, sub("items"), at: "\(path)[\(i)]", into: &problems)
            }
        case "contains":
            let matching = items.indices.filter { evaluator.passes(items[$0], sub("contains"), path: "\(path)[\($0)]", depth: depth + 1).problems.isEmpty }.count
            let least = keywords["minContains"]?.intValue ?? 1
            if matching < least {
                problems.append(problem(least == 1 ? "no item matches the schema at \(sub("contains").description)"
                                                   : "\(matching) items match the schema at \(sub("contains").description); at least \(least) must"))
            }
            if let most = keywords["maxContains"]?.intValue, matching > most {
                problems.append(problem("\(matching) items match the schema at \(sub("contains").description); at most \(most) may"))
            }
        case "minItems":
            if let n = argument.intValue, items.count < n { problems.append(problem("expected at least \(n) items, got \(items.count)")) }
        case "maxItems":
            if let n = argument.intValue, items.count > n { problems.append(problem("expected at most \(n) items, got \(items.count)")) }
        case "uniqueItems":
            guard argument == .bool(true) else { return }
            for j in items.indices {
                if let i = items[..<j].firstIndex(where: { JSONSchemaEvaluator.equal($0, items[j]) }) {
                    problems.append(problem("items \(i) and \(j) are equal; each must be unique"))
                    return
                }
            }
        default:
            break
        }
    }

    private func applyString(_ text: String, into problems: inout [JSONSchemaProblem]) {
        switch keyword {
        case "minLength":
            if let n = argument.intValue, text.unicodeScalars.count < n { problems.append(problem("shorter than \(n) characters")) }
        case "maxLength":
            if let n = argument.intValue, text.unicodeScalars.count > n { problems.append(problem("longer than \(n) characters")) }
        case "pattern":
            guard let pattern = argument.stringValue, let regex = evaluator.patterns.regex(pattern) else { return }
            if !text.contains(regex) { problems.append(problem("\(JSONSchemaEvaluator.show(.string(text))) does not match \(pattern)")) }
        default:
            break
        }
    }

    private func applyNumber(_ value: JSONValue, into problems: inout [JSONSchemaProblem]) {
        guard let number = value.doubleValue, let limit = argument.doubleValue else { return }
        let shown = JSONSchemaEvaluator.show(value), bound = JSONSchemaEvaluator.show(argument)
        switch keyword {
        case "minimum" where number < limit: problems.append(problem("\(shown) is less than \(bound)"))
        case "maximum" where number > limit: problems.append(problem("\(shown) is more than \(bound)"))
        case "exclusiveMinimum" where number <= limit: problems.append(problem("\(shown) must be more than \(bound)"))
        case "exclusiveMaximum" where number >= limit: problems.append(problem("\(shown) must be less than \(bound)"))
        case "multipleOf":
            let quotient = number / limit
            if quotient.rounded() != quotient { problems.append(problem("\(shown) is not a multiple of \(bound)")) }
        default:
            break
        }
    }
}

/// Compiled patterns for one validation. `Regex` is not `Sendable`, so each validation compiles
/// the patterns it meets, once, and never shares them; the vocabulary check has already proved
/// that every one compiles.
final class JSONSchemaPatterns {
    private var compiled: [String: Regex<AnyRegexOutput>] = [:]

    func regex(_ pattern: String) -> Regex<AnyRegexOutput>? {
        if let regex = compiled[pattern] { return regex }
        let regex = try? Self.compile(pattern)
        compiled[pattern] = regex
        return regex
    }

    /// JSON Schema patterns are ECMA-262 regular expressions matched anywhere in the string,
    /// where `\d` and `\w` are ASCII; so they are here.
    static func compile(_ pattern: String) throws -> Regex<AnyRegexOutput> {
        try Regex(pattern).asciiOnlyDigits().asciiOnlyWordCharacters()
    }
}
