/// A JSON Schema (draft 2020-12), checked when it is built so that validating never skips a rule.
///
/// Steward validates config files, plugin settings and protocol messages with it. It implements
/// the keywords Steward's schemas and plausible third-party plugin manifests use (see
/// `JSONSchemaVocabulary`) and refuses a schema with any other keyword: a rule this validator
/// cannot check must fail loudly when the schema is loaded, not pass every value silently.
///
/// ```swift
/// let schema = try JSONSchema(["type": "object", "additionalProperties": false])
/// schema.problems(["bogus": 1])  // [bogus: not allowed]
/// ```
public struct JSONSchema: Sendable {
    /// The documents this schema's `$ref`s may reach.
    public let library: JSONSchemaLibrary
    /// Where the schema starts.
    public let root: JSONSchemaLibrary.Location

    /// A standalone schema whose `$ref`s point inside it (`#/$defs/X`, `#/definitions/X`).
    public init(_ value: JSONValue) throws(JSONSchemaError) {
        self = try JSONSchemaLibrary(documents: ["": value]).schema("")
    }

    init(library: JSONSchemaLibrary, root: JSONSchemaLibrary.Location) {
        self.library = library
        self.root = root
    }

    /// Every way `instance` breaks the schema; empty when it is valid.
    public func problems(_ instance: JSONValue) -> [JSONSchemaProblem] {
        var problems: [JSONSchemaProblem] = []
        _ = JSONSchemaEvaluator(library: library).evaluate(instance, root, path: "", depth: 0, into: &problems)
        return problems
    }

    public func isValid(_ instance: JSONValue) -> Bool { problems(instance).isEmpty }
}

/// One way a value breaks a schema: where in the value, which rule, and what is wrong.
public struct JSONSchemaProblem: Sendable, Hashable, CustomStringConvertible {
    /// Where in the value, written like `apps[0].settings.baseURL` (empty for the whole value):
    /// the same paths `JSONParser.parseWithLines` records lines for.
    public var path: String
    /// The keyword that failed, like `type` or `additionalProperties`.
    public var keyword: String
    /// Where that keyword is in the schema, like `#/properties/apps/items`.
    public var schemaLocation: String
    public var message: String

    public init(path: String, keyword: String, schemaLocation: String, message: String) {
        self.path = path
        self.keyword = keyword
        self.schemaLocation = schemaLocation
        self.message = message
    }

    /// True when the value is a member the schema does not allow at all (a typo, a stale key).
    public var isUnexpectedMember: Bool {
        (keyword == "additionalProperties" || keyword == "unevaluatedProperties") && message == JSONSchemaEvaluator.notAllowed
    }

    public var description: String { "\(path.isEmpty ? "(root)" : path): \(message)" }
}

/// A mistake in a schema itself: a keyword this validator does not implement, a malformed
/// argument, a `$ref` to nothing, a pattern that does not compile.
public struct JSONSchemaError: Error, Sendable, CustomStringConvertible {
    /// Where in the schema, like `#/properties/x` or `protocol/defs.json#/$defs/Account`.
    public var location: String
    /// The keyword at fault, when one is.
    public var keyword: String?
    public var message: String

    public init(location: String, keyword: String? = nil, message: String) {
        self.location = location
        self.keyword = keyword
        self.message = message
    }

    public var description: String { "\(location): \(message)" }
}
