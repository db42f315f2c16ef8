/// The keywords `JSONSchema` implements, and the check that a schema uses no others.
///
/// A keyword outside this list is refused when the schema is loaded, naming the keyword and
/// where it is, so that a rule is never skipped silently. Annotations (which describe and never
/// reject) are accepted as they are.
public enum JSONSchemaVocabulary {
    /// Keywords that only describe a value; they never reject one.
    public static let annotations: Set<String> = [
        "$schema", "$id", "$comment", "title", "description", "default", "examples", "format",
        "deprecated", "readOnly", "writeOnly", "contentMediaType", "contentEncoding",
    ]

    /// Keywords that check values.
    public static let assertions: Set<String> = [
        "$ref", "type", "enum", "const",
        "properties", "patternProperties", "additionalProperties", "unevaluatedProperties", "propertyNames",
        "required", "dependentRequired", "dependentSchemas", "minProperties", "maxProperties",
        "items", "prefixItems", "contains", "minContains", "maxContains", "minItems", "maxItems", "uniqueItems",
        "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf",
        "minLength", "maxLength", "pattern",
        "allOf", "anyOf", "oneOf", "not", "if", "then", "else",
    ]

    /// Containers of subschemas that `$ref` points into.
    public static let definitions: Set<String> = ["$defs", "definitions"]

    static let typeNames: Set<String> = ["null", "boolean", "object", "array", "number", "string", "integer"]

    /// Why a keyword from another draft or an unimplemented vocabulary is refused, and what to
    /// write instead.
    private static let hints: [String: String] = [
        "dependencies": "draft-07's \"dependencies\" is \"dependentRequired\" or \"dependentSchemas\" in draft 2020-12",
        "additionalItems": "draft-07's \"additionalItems\" is \"items\" after \"prefixItems\" in draft 2020-12",
        "$anchor": "refer to subschemas by JSON pointer (#/$defs/Name) instead",
        "$dynamicAnchor": "refer to subschemas by JSON pointer (#/$defs/Name) instead",
        "$dynamicRef": "refer to subschemas by JSON pointer (#/$defs/Name) instead",
        "$recursiveRef": "refer to subschemas by JSON pointer (#/$defs/Name) instead",
    ]

    /// Walks schemas and refuses what the evaluator could not apply; compiles patterns on the way.
    struct Checker {
        let documents: [String: JSONValue]
        private var checked: Set<String> = []

        init(documents: [String: JSONValue]) { self.documents = documents }

        mutating func check(_ schema: JSONSchemaLibrary.Location) throws(JSONSchemaError) {
            guard checked.insert(schema.description).inserted else { return }
            let keywords: [String: JSONValue]
            switch schema.value {
            case .bool: return
            case .object(let members): keywords = members
            default:
                throw JSONSchemaError(location: schema.description, message: "a schema must be an object or a boolean, not \(schema.value.typeName)")
            }
            for (keyword, argument) in keywords.sorted(by: { $0.key < $1.key }) {
                try checkKeyword(keyword, argument, in: schema)
            }
        }

        private mutating func checkKeyword(_ keyword: String, _ argument: JSONValue,
                                           in schema: JSONSchemaLibrary.Location) throws(JSONSchemaError) {
            let at = schema.description
            func bad(_ message: String) -> JSONSchemaError {
                JSONSchemaError(location: at, keyword: keyword, message: "\"\(keyword)\" \(message)")
            }
            switch keyword {
            case _ where JSONSchemaVocabulary.annotations.contains(keyword):
                return
            case "$defs", "definitions", "properties", "patternProperties", "dependentSchemas":
                guard let members = argument.objectValue else { throw bad("must be an object of schemas") }
                for name in members.keys.sorted() {
                    if keyword == "patternProperties" { try compile(name, keyword, at) }
                    try check(schema.child(keyword + "/" + JSONSchemaLibrary.escape(name)))
                }
            case "additionalProperties", "unevaluatedProperties", "propertyNames", "contains", "not", "if", "then", "else":
                try check(schema.child(keyword))
            case "items":
                if argument.arrayValue != nil {
                    throw bad("must be one schema; an array of schemas is draft-07 tuple syntax, written \"prefixItems\" in draft 2020-12")
                }
                try check(schema.child(keyword))
            case "prefixItems", "allOf", "anyOf", "oneOf":
                guard let branches = argument.arrayValue, !branches.isEmpty else { throw bad("must be a non-empty array of schemas") }
                for i in branches.indices { try check(schema.child("\(keyword)/\(i)")) }
            case "$ref":
                guard let reference = argument.stringValue else { throw bad("must be a string") }
                let target = try JSONSchemaLibrary.resolve(reference, from: schema.document, in: documents)
                try check(target)
            case "type":
                let names = argument.arrayValue ?? [argument]
                guard !names.isEmpty, names.allSatisfy({ $0.stringValue.map(JSONSchemaVocabulary.typeNames.contains) ?? false }) else {
                    throw bad("must be one of \(JSONSchemaVocabulary.typeNames.sorted().joined(separator: ", ")), or an array of them")
                }
            case "enum":
                guard argument.arrayValue != nil else { throw bad("must be an array") }
            case "const":
                return
            case "required":
                guard let names = argument.arrayValue, names.allSatisfy({ $0.stringValue != nil }) else {
                    throw bad("must be an array of strings")
                }
            case "dependentRequired":
                guard let members = argument.objectValue,
                      members.values.allSatisfy({ $0.arrayValue?.allSatisfy { $0.stringValue != nil } ?? false }) else {
                    throw bad("must be an object of arrays of strings")
                }
            case "minProperties", "maxProperties", "minContains", "maxContains", "minItems", "maxItems", "minLength", "maxLength":
                guard let n = argument.intValue, n >= 0 else { throw bad("must be a non-negative integer") }
            case "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum":
                guard argument.doubleValue != nil else { throw bad("must be a number") }
            case "multipleOf":
                guard let n = argument.doubleValue, n > 0 else { throw bad("must be a number greater than 0") }
            case "uniqueItems":
                guard argument.boolValue != nil else { throw bad("must be true or false") }
            case "pattern":
                guard let pattern = argument.stringValue else { throw bad("must be a string") }
                try compile(pattern, keyword, at)
            default:
                let hint = JSONSchemaVocabulary.hints[keyword].map { "; \($0)" } ?? ""
                throw JSONSchemaError(location: at, keyword: keyword,
                                      message: "keyword \"\(keyword)\" is not supported by Steward's schema validator, so its rule cannot be checked\(hint)")
            }
        }

        private func compile(_ pattern: String, _ keyword: String, _ at: String) throws(JSONSchemaError) {
            do {
                _ = try JSONSchemaPatterns.compile(pattern)
            } catch {
                throw JSONSchemaError(location: at, keyword: keyword, message: "\"\(keyword)\" \"\(pattern)\" is not a regular expression this validator can compile: \(error)")
            }
        }
    }
}
