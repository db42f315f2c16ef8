import StewardJSON
import Testing

/// The schema validator, keyword by keyword: each accepts what it should, rejects what it
/// should at the right path, and the schema is refused outright when it uses a keyword the
/// validator does not implement.
@Suite("JSON Schema validator")
struct JSONSchemaTests {
    /// The problems of `instance` against `schema`, as `path: message` lines.
    private func problems(_ schema: JSONValue, _ instance: JSONValue) throws -> [String] {
        try JSONSchema(schema).problems(instance).map(\.description)
    }

    private func expectValid(_ schema: JSONValue, _ instances: JSONValue..., sourceLocation: SourceLocation = #_sourceLocation) throws {
        for instance in instances {
            let found = try problems(schema, instance)
            #expect(found.isEmpty, "\(instance) should pass \(schema): \(found)", sourceLocation: sourceLocation)
        }
    }

    private func expectProblem(_ schema: JSONValue, _ instance: JSONValue, _ expected: String,
                               sourceLocation: SourceLocation = #_sourceLocation) throws {
        let found = try problems(schema, instance)
        #expect(found.contains(expected), "\(instance) against \(schema): expected \"\(expected)\", got \(found)", sourceLocation: sourceLocation)
    }

    @Test func type() throws {
        try expectValid(["type": "string"], "a")
        try expectProblem(["type": "string"], 1, "(root): expected string, got number")
        try expectValid(["type": "integer"], 3, 3.0)
        try expectProblem(["type": "integer"], 1.5, "(root): expected integer, got number")
        try expectValid(["type": "number"], 1.5, 2)
        try expectValid(["type": ["string", "null"]], "x", nil)
        try expectProblem(["type": ["string", "null"]], true, "(root): expected string or null, got boolean")
        try expectProblem(["type": "object"], [], "(root): expected object, got array")
        try expectProblem(["type": "array"], [:], "(root): expected array, got object")
        try expectProblem(["type": "boolean"], "true", "(root): expected boolean, got string")
        try expectProblem(["type": "null"], 0, "(root): expected null, got number")
    }

    @Test func enumAndConst() throws {
        try expectValid(["enum": ["csv", "json", 1]], "csv", 1.0)
        try expectProblem(["enum": ["csv", "json"]], "xml", #"(root): "xml" is not one of "csv", "json""#)
        try expectValid(["const": ["a": [1, 2]]], ["a": [1.0, 2]])
        try expectProblem(["const": "x"], "y", #"(root): expected "x", got "y""#)
    }

    @Test func propertiesRequiredAndAdditionalProperties() throws {
        let schema: JSONValue = ["type": "object", "required": ["path"], "additionalProperties": false,
                                 "properties": ["path": ["type": "string"], "depth": ["type": "integer"]]]
        try expectValid(schema, ["path": "a"], ["path": "a", "depth": 2])
        try expectProblem(schema, ["depth": 2], "path: required")
        try expectProblem(schema, ["path": "a", "bogus": 1], "bogus: not allowed")
        try expectProblem(schema, ["path": 7], "path: expected string, got number")
        let typed: JSONValue = ["additionalProperties": ["type": ["string", "null"]]]
        try expectValid(typed, ["a": "x", "b": nil])
        try expectProblem(typed, ["a": 1], "a: expected string or null, got number")
        let problem = try #require(try JSONSchema(schema).problems(["path": "a", "bogus": 1]).first)
        #expect(problem.isUnexpectedMember)
        #expect(problem.keyword == "additionalProperties")
    }

    @Test func patternPropertiesAndPropertyNames() throws {
        let schema: JSONValue = ["patternProperties": ["^x-": ["type": "string"]], "additionalProperties": false]
        try expectValid(schema, ["x-a": "1"])
        try expectProblem(schema, ["x-a": 1], "x-a: expected string, got number")
        try expectProblem(schema, ["y": "1"], "y: not allowed")
        let names: JSONValue = ["propertyNames": ["enum": ["id", "email"]]]
        try expectValid(names, ["id": "a", "email": "b"])
        try expectProblem(names, ["mail": "b"], #"mail: name not allowed: "mail" is not one of "id", "email""#)
    }

    @Test func dependentRequiredAndDependentSchemas() throws {
        try expectProblem(["dependentRequired": ["args": ["executable"]]], ["args": []], "executable: required together with args")
        try expectValid(["dependentRequired": ["args": ["executable"]]], ["executable": "x", "args": []], [:])
        let schema: JSONValue = ["dependentSchemas": ["tokenURL": ["required": ["scope"]]]]
        try expectProblem(schema, ["tokenURL": "u"], "scope: required")
        try expectValid(schema, ["scope": "s"])
    }

    @Test func minAndMaxProperties() throws {
        let schema: JSONValue = ["minProperties": 1, "maxProperties": 2]
        try expectValid(schema, ["a": 1])
        try expectProblem(schema, [:], "(root): expected at least 1 members, got 0")
        try expectProblem(schema, ["a": 1, "b": 2, "c": 3], "(root): expected at most 2 members, got 3")
    }

    @Test func unevaluatedPropertiesSeesThroughAllOfAndRef() throws {
        let schema: JSONValue = [
            "$defs": ["connector": ["type": "object", "properties": ["plugin": ["type": "string"]]]],
            "allOf": [["$ref": "#/$defs/connector"]],
            "properties": ["id": ["type": "string"]],
            "unevaluatedProperties": false,
        ]
        try expectValid(schema, ["plugin": "scim", "id": "crm"])
        try expectProblem(schema, ["plugin": "scim", "bogus": true], "bogus: not allowed")
        // Members a failing branch of anyOf looked at are not evaluated.
        let either: JSONValue = ["anyOf": [["properties": ["a": ["type": "string"]], "required": ["a"]], ["required": ["b"]]],
                                 "unevaluatedProperties": false]
        try expectValid(either, ["a": "x"])
        try expectProblem(either, ["b": 1, "a": 2], "a: not allowed")
    }

    @Test func itemsPrefixItemsAndCounts() throws {
        let schema: JSONValue = ["type": "array", "prefixItems": [["type": "string"]], "items": ["type": "integer"], "minItems": 1, "maxItems": 3]
        try expectValid(schema, ["x"], ["x", 1, 2])
        try expectProblem(schema, [1], "[0]: expected string, got number")
        try expectProblem(schema, ["x", "y"], "[1]: expected integer, got string")
        try expectProblem(schema, [], "(root): expected at least 1 items, got 0")
        try expectProblem(schema, ["x", 1, 2, 3], "(root): expected at most 3 items, got 4")
        try expectProblem(["properties": ["tiers": ["items": ["type": "string"]]]], ["tiers": ["a", 2]], "tiers[1]: expected string, got number")
    }

    @Test func uniqueItemsAndContains() throws {
        try expectValid(["uniqueItems": true], ["a", "b", 1, 1.5])
        try expectProblem(["uniqueItems": true], ["a", "b", "a"], "(root): items 0 and 2 are equal; each must be unique")
        try expectValid(["uniqueItems": false], ["a", "a"])
        try expectValid(["contains": ["const": "admin"]], ["x", "admin"])
        try expectProblem(["contains": ["const": "admin"]], ["x"], "(root): no item matches the schema at #/contains")
        try expectProblem(["contains": ["type": "string"], "minContains": 2, "maxContains": 2], ["a"],
                          "(root): 1 items match the schema at #/contains; at least 2 must")
        try expectProblem(["contains": ["type": "string"], "maxContains": 1], ["a", "b"], "(root): 2 items match the schema at #/contains; at most 1 may")
    }

    @Test func numbers() throws {
        let schema: JSONValue = ["minimum": 1, "maximum": 10000]
        try expectValid(schema, 1, 10000, 5.5, "not a number")
        try expectProblem(schema, 0, "(root): 0 is less than 1")
        try expectProblem(schema, 10001, "(root): 10001 is more than 10000")
        try expectProblem(["exclusiveMinimum": 0], 0, "(root): 0 must be more than 0")
        try expectValid(["exclusiveMinimum": 0], 0.5)
        try expectProblem(["exclusiveMaximum": 100], 100, "(root): 100 must be less than 100")
        try expectValid(["multipleOf": 0.5], 2.5)
        try expectProblem(["multipleOf": 2], 3, "(root): 3 is not a multiple of 2")
    }

    @Test func strings() throws {
        try expectValid(["minLength": 1, "maxLength": 3], "a", "abc", "ééé")
        try expectProblem(["minLength": 1], "", "(root): shorter than 1 characters")
        try expectProblem(["maxLength": 3], "abcd", "(root): longer than 3 characters")
        // Patterns match anywhere unless anchored, and \d is ASCII as in ECMA-262.
        try expectValid(["pattern": "^https?://"], "https://example.com", "http://x")
        try expectProblem(["pattern": "^https?://"], "ftp://x", #"(root): "ftp://x" does not match ^https?://"#)
        try expectValid(["pattern": "b"], "abc")
        try expectProblem(["pattern": #"^\d{4}-\d{2}-\d{2}$"#], "٢٠٢٦-01-01", #"(root): "٢٠٢٦-01-01" does not match ^\d{4}-\d{2}-\d{2}$"#)
        try expectProblem(["pattern": "^a$"], "a\n", "(root): \"a\\n\" does not match ^a$")
    }

    @Test func combinations() throws {
        let oneOf: JSONValue = ["oneOf": [["type": "string"], ["type": "array", "items": ["type": "string"]]]]
        try expectValid(oneOf, "a", ["a"])
        try expectProblem(oneOf, 1, "(root): matches none of the alternatives: ((root): expected string, got number) or ((root): expected array, got number)")
        try expectProblem(["oneOf": [["type": "number"], ["type": "integer"]]], 1, "(root): matches 2 alternatives; exactly one must match")
        try expectValid(["anyOf": [["type": "number"], ["type": "integer"]]], 1)
        try expectProblem(["anyOf": [["minimum": 5]]], 1, "(root): 1 is less than 5")
        let allOf: JSONValue = ["allOf": [["minimum": 1], ["maximum": 3]]]
        try expectValid(allOf, 2)
        try expectProblem(allOf, 4, "(root): 4 is more than 3")
        try expectValid(["not": ["type": "null"]], 1)
        try expectProblem(["not": ["type": "null"]], nil, "(root): must not match the schema at #/not")
    }

    @Test func ifThenElse() throws {
        let schema: JSONValue = ["if": ["properties": ["action": ["const": "goto"]]], "then": ["required": ["url"]], "else": ["required": ["selector"]]]
        try expectValid(schema, ["action": "goto", "url": "/"], ["action": "click", "selector": "#x"])
        try expectProblem(schema, ["action": "goto"], "url: required")
        try expectProblem(schema, ["action": "click"], "selector: required")
    }

    @Test func refsToDefsAndDefinitionsIncludingRecursion() throws {
        let schema: JSONValue = [
            "definitions": ["name": ["type": "string", "minLength": 1]],
            "$defs": ["matcher": ["oneOf": [["$ref": "#/definitions/name"],
                                            ["type": "object", "properties": ["not": ["$ref": "#/$defs/matcher"]], "additionalProperties": false]]]],
            "additionalProperties": ["$ref": "#/$defs/matcher"],
        ]
        try expectValid(schema, ["department": "Sales", "title": ["not": ["not": "Intern"]]])
        let found = try problems(schema, ["title": ["not": ["not": 3]]])
        #expect(found.count == 1 && found[0].hasPrefix("title: matches none of the alternatives"), "\(found)")
        // Percent-encoded pointers resolve too.
        try expectProblem(["$defs": ["n": ["type": "integer"]], "$ref": "#/%24defs/n"], "x", "(root): expected integer, got string")
    }

    @Test func booleanSchemasAndAnnotations() throws {
        try expectValid(true, 1, "x", nil)
        try expectProblem(false, 1, "(root): no value is allowed here")
        try expectProblem(["properties": ["gone": false]], ["gone": 1], "gone: no value is allowed here")
        let annotated: JSONValue = ["$schema": "https://json-schema.org/draft/2020-12/schema", "$id": "x", "$comment": "c", "title": "t",
                                    "description": "d", "default": 1, "examples": [1], "format": "uri", "deprecated": false,
                                    "readOnly": false, "writeOnly": false, "contentMediaType": "text/plain", "contentEncoding": "base64"]
        // format is an annotation: "not a uri" passes.
        try expectValid(annotated, "not a uri", 7)
    }

    @Test func unimplementedKeywordsAreRefusedWhereverTheyAre() throws {
        for (schema, keyword, location) in [
            (["unevaluatedItems": false] as JSONValue, "unevaluatedItems", "#"),
            (["properties": ["a": ["dependencies": ["b": ["c"]]]]], "dependencies", "#/properties/a"),
            (["$defs": ["unused": ["additionalItems": false]]], "additionalItems", "#/$defs/unused"),
            (["anyOf": [["type": "string"], ["x-custom": 1]]], "x-custom", "#/anyOf/1"),
        ] {
            let error = #expect(throws: JSONSchemaError.self) { try JSONSchema(schema) }
            #expect(error?.keyword == keyword)
            #expect(error?.location == location)
            #expect(error?.description.contains("keyword \"\(keyword)\" is not supported") == true, "\(String(describing: error))")
        }
        let hint = #expect(throws: JSONSchemaError.self) { try JSONSchema(["dependencies": [:]]) }
        #expect(hint?.description.contains("dentRequired") == true)
    }

    @Test func malformedArgumentsAndReferencesAreRefused() throws {
        for (schema, fragment) in [
            (["type": "text"] as JSONValue, "\"type\" must be one of"),
            (["items": [["type": "string"]]], "prefixItems"),
            (["required": "a"], "\"required\" must be an array of strings"),
            (["minLength": -1], "\"minLength\" must be a non-negative integer"),
            (["pattern": "a("], "is not a regular expression"),
            (["patternProperties": ["(": true]], "is not a regular expression"),
            (["anyOf": []], "must be a non-empty array"),
            (["$ref": "#/$defs/missing"], "the schema has nothing at #/$defs/missing"),
            (["$ref": "#name"], "anchors are not supported"),
            (["$ref": "https://example.com/s.json"], "only references inside this schema"),
            (["properties": ["a": 3]], "a schema must be an object or a boolean"),
        ] {
            let error = #expect(throws: JSONSchemaError.self) { try JSONSchema(schema) }
            #expect(error?.description.contains(fragment) == true, "\(schema): \(String(describing: error))")
        }
    }

    @Test func documentsReferToEachOtherByRelativeName() throws {
        let library = try JSONSchemaLibrary(documents: [
            "protocol/defs.json": ["$defs": ["Id": ["type": "string", "minLength": 1]]],
            "protocol/get.json": ["properties": ["id": ["$ref": "defs.json#/$defs/Id"]]],
            "top.json": ["$ref": "protocol/get.json"],
        ])
        #expect(try library.schema("top.json").problems(["id": "a"]).isEmpty)
        #expect(try library.schema("top.json").problems(["id": ""]).map(\.description) == ["id: shorter than 1 characters"])
        #expect(try library.schema("protocol/defs.json#/$defs/Id").problems(7).map(\.description) == ["(root): expected string, got number"])
        #expect(throws: JSONSchemaError.self) { try library.schema("nope.json") }
    }

    @Test func aSchemaThatRefersToItselfWithoutEndIsAProblemNotACrash() throws {
        let found = try problems(["$ref": "#"], 1)
        #expect(found == ["(root): the schema refers to itself without end"])
    }
}
