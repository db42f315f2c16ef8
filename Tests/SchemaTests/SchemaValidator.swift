import Foundation
import StewardProtocol

/// Validates JSON values against Steward's published schemas (draft 2020-12).
///
/// It implements exactly the keywords those schemas use and refuses any other keyword, so a
/// schema can never rely on a rule these tests silently skip. References are file-relative
/// (`defs.json#/$defs/Account`) because the schemas carry no `$id`.
struct SchemaValidator {
    let store: SchemaStore

    /// The problems `instance` has against the schema at `reference` (a file path relative to
    /// the store's root, optionally with a `#/json/pointer`); empty when it is valid.
    func problems(_ instance: JSONValue, against reference: String) throws -> [Problem] {
        let target = try store.resolve(reference, from: "")
        var problems: [Problem] = []
        try check(instance, target, path: "", into: &problems)
        return problems
    }

    /// One way the instance breaks the schema, with where in the instance and which rule.
    struct Problem: CustomStringConvertible {
        var path: String
        var rule: String
        var message: String

        var description: String { "\(path.isEmpty ? "(root)" : path): \(message) [\(rule)]" }
    }

    private func check(_ instance: JSONValue, _ schema: SchemaStore.Located, path: String, into problems: inout [Problem]) throws {
        switch schema.value {
        case .bool(true):
            return
        case .bool(false):
            problems.append(Problem(path: path, rule: schema.location, message: "no value is allowed here"))
            return
        case .object(let keywords):
            for (keyword, argument) in keywords.sorted(by: { $0.key < $1.key }) {
                try apply(keyword, argument, keywords, instance, schema, path: path, into: &problems)
            }
        default:
            throw SchemaError("\(schema.location): a schema must be an object or a boolean, not \(schema.value.typeName)")
        }
    }

    private func apply(_ keyword: String, _ argument: JSONValue, _ keywords: [String: JSONValue], _ instance: JSONValue,
                       _ schema: SchemaStore.Located, path: String, into problems: inout [Problem]) throws {
        let rule = schema.location + "/" + keyword
        func fail(_ message: String) { problems.append(Problem(path: path, rule: rule, message: message)) }
        func sub(_ pointer: String) -> SchemaStore.Located { schema.child(pointer) }

        switch keyword {
        case _ where Self.annotations.contains(keyword):
            return
        case "$ref":
            guard let reference = argument.stringValue else { throw SchemaError("\(rule): must be a string") }
            try check(instance, try store.resolve(reference, from: schema.document), path: path, into: &problems)
        case "type":
            let names = argument.arrayValue != nil ? try Self.strings(argument, rule) : [try Self.string(argument, rule)]
            if !names.contains(where: { Self.matches(instance, type: $0) }) {
                fail("expected \(names.joined(separator: " or ")), got \(instance.typeName)")
            }
        case "enum":
            guard let options = argument.arrayValue else { throw SchemaError("\(rule): must be an array") }
            if !options.contains(where: { Self.equal($0, instance) }) {
                fail("\(instance) is not one of \(options.map(\.description).joined(separator: ", "))")
            }
        case "const":
            if !Self.equal(argument, instance) { fail("expected \(argument), got \(instance)") }
        case "properties":
            guard let properties = argument.objectValue else { throw SchemaError("\(rule): must be an object") }
            guard case .object(let members) = instance else { return }
            for (name, value) in members.sorted(by: { $0.key < $1.key }) where properties[name] != nil {
                try check(value, sub("properties/" + Self.escape(name)), path: Self.member(path, name), into: &problems)
            }
        case "additionalProperties":
            guard case .object(let members) = instance else { return }
            let declared = keywords["properties"]?.objectValue ?? [:]
            for (name, value) in members.sorted(by: { $0.key < $1.key }) where declared[name] == nil {
                if argument == .bool(false) {
                    problems.append(Problem(path: Self.member(path, name), rule: rule, message: "unexpected member"))
                } else {
                    try check(value, sub("additionalProperties"), path: Self.member(path, name), into: &problems)
                }
            }
        case "required":
            guard case .object(let members) = instance else { return }
            for name in try Self.strings(argument, rule) where members[name] == nil {
                problems.append(Problem(path: Self.member(path, name), rule: rule, message: "required"))
            }
        case "dependentRequired":
            guard let dependencies = argument.objectValue else { throw SchemaError("\(rule): must be an object") }
            guard case .object(let members) = instance else { return }
            for (name, needed) in dependencies.sorted(by: { $0.key < $1.key }) where members[name] != nil {
                for other in try Self.strings(needed, rule) where members[other] == nil {
                    problems.append(Problem(path: Self.member(path, other), rule: rule, message: "required together with \(name)"))
                }
            }
        case "propertyNames":
            guard case .object(let members) = instance else { return }
            for name in members.keys.sorted() {
                var nameProblems: [Problem] = []
                try check(.string(name), sub("propertyNames"), path: Self.member(path, name), into: &nameProblems)
                if !nameProblems.isEmpty {
                    problems.append(Problem(path: Self.member(path, name), rule: rule, message: "member name not allowed"))
                }
            }
        case "prefixItems":
            guard let prefix = argument.arrayValue else { throw SchemaError("\(rule): must be an array") }
            guard case .array(let elements) = instance else { return }
            for (i, element) in elements.prefix(prefix.count).enumerated() {
                try check(element, sub("prefixItems/\(i)"), path: "\(path)[\(i)]", into: &problems)
            }
        case "items":
            guard case .array(let elements) = instance else { return }
            let skip = keywords["prefixItems"]?.arrayValue?.count ?? 0
            for (i, element) in elements.enumerated().dropFirst(skip) {
                try check(element, sub("items"), path: "\(path)[\(i)]", into: &problems)
            }
        case "minItems":
            guard case .array(let elements) = instance else { return }
            if elements.count < (try Self.int(argument, rule)) { fail("expected at least \(argument) items, got \(elements.count)") }
        case "minimum":
            guard let limit = argument.doubleValue else { throw SchemaError("\(rule): must be a number") }
            if let number = instance.doubleValue, number < limit { fail("\(instance) is less than \(argument)") }
        case "minLength":
            guard case .string(let s) = instance else { return }
            if s.unicodeScalars.count < (try Self.int(argument, rule)) { fail("shorter than \(argument) characters") }
        case "pattern":
            let pattern = try Self.string(argument, rule)
            guard case .string(let s) = instance else { return }
            let regex: NSRegularExpression
            do { regex = try NSRegularExpression(pattern: pattern) } catch { throw SchemaError("\(rule): bad pattern: \(error)") }
            if regex.firstMatch(in: s, range: NSRange(s.startIndex..., in: s)) == nil { fail("\"\(s)\" does not match \(pattern)") }
        case "allOf", "anyOf", "oneOf":
            guard let branches = argument.arrayValue, !branches.isEmpty else { throw SchemaError("\(rule): must be a non-empty array") }
            var passing = 0
            var firstProblems: [[Problem]] = []
            for i in branches.indices {
                var branchProblems: [Problem] = []
                try check(instance, sub("\(keyword)/\(i)"), path: path, into: &branchProblems)
                if branchProblems.isEmpty { passing += 1 } else { firstProblems.append(branchProblems) }
            }
            switch keyword {
            case "allOf": problems += firstProblems.flatMap { $0 }
            case "anyOf" where passing == 0: fail("matches none of the alternatives: " + Self.summary(firstProblems))
            case "oneOf" where passing == 0: fail("matches none of the alternatives: " + Self.summary(firstProblems))
            case "oneOf" where passing > 1: fail("matches \(passing) alternatives; exactly one must match")
            default: break
            }
        default:
            throw SchemaError("\(rule): keyword \"\(keyword)\" is not supported by this validator")
        }
    }

    /// Keywords that only describe; they never reject a value.
    private static let annotations: Set<String> = ["$schema", "$comment", "$defs", "title", "description", "default", "examples", "format"]

    private static func matches(_ value: JSONValue, type: String) -> Bool {
        switch (type, value) {
        case ("null", .null), ("boolean", .bool), ("string", .string), ("array", .array), ("object", .object): return true
        case ("number", .int), ("number", .double), ("integer", .int): return true
        case ("integer", .double(let d)): return d.rounded() == d
        default: return false
        }
    }

    /// JSON equality, under which 1 and 1.0 are the same number.
    private static func equal(_ a: JSONValue, _ b: JSONValue) -> Bool {
        switch (a, b) {
        case (.int, .double), (.double, .int): return a.doubleValue == b.doubleValue
        case (.array(let x), .array(let y)): return x.count == y.count && zip(x, y).allSatisfy { equal($0, $1) }
        case (.object(let x), .object(let y)):
            return x.count == y.count && x.allSatisfy { key, value in y[key].map { equal(value, $0) } ?? false }
        default: return a == b
        }
    }

    private static func summary(_ branches: [[Problem]]) -> String {
        branches.map { "(" + $0.map(\.description).joined(separator: "; ") + ")" }.joined(separator: " or ")
    }

    private static func member(_ path: String, _ name: String) -> String { path.isEmpty ? name : path + "." + name }

    private static func escape(_ name: String) -> String {
        name.replacingOccurrences(of: "~", with: "~0").replacingOccurrences(of: "/", with: "~1")
    }

    private static func string(_ v: JSONValue, _ rule: String) throws -> String {
        guard let s = v.stringValue else { throw SchemaError("\(rule): expected a string") }
        return s
    }

    private static func strings(_ v: JSONValue, _ rule: String) throws -> [String] {
        guard let a = v.arrayValue else { throw SchemaError("\(rule): expected an array of strings") }
        return try a.map { try string($0, rule) }
    }

    private static func int(_ v: JSONValue, _ rule: String) throws -> Int {
        guard let i = v.intValue, i >= 0 else { throw SchemaError("\(rule): expected a non-negative integer") }
        return i
    }
}

/// Every schema file under one directory, read once, addressed by relative path.
struct SchemaStore {
    /// Relative path (`protocol/defs.json`) to the file's JSON.
    let documents: [String: JSONValue]

    /// Reads the `.json` files under `root` whose relative path `include` accepts.
    init(root: URL, include: (String) -> Bool = { _ in true }) throws {
        var documents: [String: JSONValue] = [:]
        let base = root.resolvingSymlinksInPath().standardizedFileURL.path
        guard let walker = FileManager.default.enumerator(atPath: base) else { throw SchemaError("cannot read \(base)") }
        while let relative = walker.nextObject() as? String {
            guard relative.hasSuffix(".json"), include(relative) else { continue }
            let file = base + "/" + relative
            guard let data = FileManager.default.contents(atPath: file) else { throw SchemaError("cannot read \(file)") }
            do {
                documents[relative] = try JSONParser.parse(data)
            } catch {
                throw SchemaError("\(file): \(error)")
            }
        }
        self.documents = documents
    }

    /// A subschema and where it lives, for resolving the references inside it.
    struct Located {
        let document: String
        let pointer: String
        let value: JSONValue

        var location: String { document + "#" + pointer }

        func child(_ relativePointer: String) -> Located {
            let full = pointer + "/" + relativePointer
            return Located(document: document, pointer: full, value: SchemaStore.follow(relativePointer, in: value) ?? .bool(false))
        }
    }

    /// Resolves `reference` (`other.json#/$defs/X`, `#/$defs/X`, `../x.json`) against `document`.
    func resolve(_ reference: String, from document: String) throws -> Located {
        let parts = reference.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false)
        let filePart = String(parts[0])
        let pointer = parts.count > 1 ? String(parts[1]) : ""
        let target = filePart.isEmpty ? document : Self.join(document, filePart)
        guard let root = documents[target] else {
            throw SchemaError("\(document): $ref \"\(reference)\": no schema file \(target)")
        }
        guard let value = Self.follow(pointer, in: root) else {
            throw SchemaError("\(document): $ref \"\(reference)\": \(target) has nothing at #\(pointer)")
        }
        return Located(document: target, pointer: pointer, value: value)
    }

    /// The value at a JSON Pointer (RFC 6901), or nil.
    static func follow(_ pointer: String, in root: JSONValue) -> JSONValue? {
        var current = root
        for raw in pointer.split(separator: "/", omittingEmptySubsequences: true) {
            let token = raw.replacingOccurrences(of: "~1", with: "/").replacingOccurrences(of: "~0", with: "~")
            switch current {
            case .object(let o):
                guard let next = o[token] else { return nil }
                current = next
            case .array(let a):
                guard let i = Int(token), a.indices.contains(i) else { return nil }
                current = a[i]
            default:
                return nil
            }
        }
        return current
    }

    /// `relative` resolved against the directory of `document`, with `..` folded.
    private static func join(_ document: String, _ relative: String) -> String {
        var components = document.split(separator: "/").map(String.init).dropLast()
        for part in relative.split(separator: "/").map(String.init) {
            switch part {
            case ".": continue
            case "..": components = components.dropLast()
            default: components.append(part)
            }
        }
        return components.joined(separator: "/")
    }
}

/// A mistake in a schema itself (an unknown keyword, a reference to nothing).
struct SchemaError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
