import Foundation
import StewardProtocol
import Testing

/// The schemas reject what the protocol forbids, and the validator refuses rules it cannot check.
@Suite("Invalid messages are rejected")
struct RejectionTests {
    let schemas: ProtocolSchemas

    init() throws { schemas = try ProtocolSchemas() }

    private func lineProblems(_ text: String, answering method: String? = nil) throws -> [JSONSchemaProblem] {
        try schemas.problems(message: try JSONParser.parse(text), answering: method)
    }

    @Test func missingRequiredMembers() throws {
        try expectInvalid(["items": [["id": "00u1"]]], "protocol/page.accounts.json", at: "items[0].userName", mentioning: "required", schemas)
        try expectInvalid(["items": [["id": "E1", "firstName": "Ada"]]], "protocol/page.persons.json", at: "items[0].email", mentioning: "required", schemas)
        try expectInvalid(["nextCursor": "2"], "protocol/page.grants.json", at: "items", mentioning: "required", schemas)
        try expectInvalid(["connector": ["name": "x", "version": "1"], "capabilities": [:]], "protocol/initialize.result.json",
                          at: "protocolVersion", mentioning: "required", schemas)
        try expectInvalid([:], "protocol/mutation.result.json", at: "alreadyApplied", mentioning: "required", schemas)
        try expectInvalid(["code": -32000, "message": "no data"], "protocol/error.json", at: "", mentioning: "none of the alternatives", schemas)

        let noKey = try lineProblems(#"{"jsonrpc":"2.0","id":5,"method":"accounts/create","params":{"account":{"userName":"a"}}}"#)
        #expect(noKey.contains { $0.path == "params.idempotencyKey" && $0.message == "required" })
        let noTarget = try lineProblems(#"{"jsonrpc":"2.0","id":5,"method":"accounts/get","params":{}}"#)
        #expect(noTarget.contains { $0.path == "params" && $0.message.contains("none of the alternatives") })
        let noCancelId = try lineProblems(#"{"jsonrpc":"2.0","method":"cancel","params":{}}"#)
        #expect(noCancelId.contains { $0.path == "params.id" && $0.message == "required" })
    }

    @Test func wrongTypes() throws {
        let versions = try lineProblems(#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersions":"1.0","host":{"name":"h","version":"1"},"appId":"a","settings":{},"secrets":{}}}"#)
        #expect(versions.contains { $0.path == "params.protocolVersions" && $0.message == "expected array, got string" })
        try expectInvalid(["items": [["id": 7, "userName": "u"]]], "protocol/page.accounts.json", at: "items[0].id", mentioning: "expected string, got number", schemas)
        try expectInvalid(["items": [["type": "role", "id": "a", "name": "Admin", "rank": 1.5]]], "protocol/page.entitlements.json",
                          at: "items[0].rank", mentioning: "expected integer", schemas)
        try expectInvalid(["alreadyApplied": "yes"], "protocol/mutation.result.json", at: "alreadyApplied", mentioning: "expected boolean", schemas)
        try expectInvalid(["ok": true, "message": .null], "protocol/validate.result.json", at: "message", mentioning: "expected string, got null", schemas)
        let pageSize = try lineProblems(#"{"jsonrpc":"2.0","id":2,"method":"accounts/list","params":{"pageSize":0}}"#)
        #expect(pageSize.contains { $0.path == "params.pageSize" && $0.message.contains("less than 1") })
        let version = try lineProblems(#"{"jsonrpc":"2.0","id":1,"result":{"protocolVersion":"one","connector":{"name":"x","version":"1"},"capabilities":{}}}"#,
                                       answering: Method.initialize)
        #expect(version.contains { $0.path == "protocolVersion" && $0.message.contains("does not match") })
    }

    @Test func unknownNamesFromClosedSets() throws {
        let kind = ConnectorError(.internal, "m").rpcError
        var data = try #require(kind.data.objectValue)
        data["kind"] = "teapot"
        try expectInvalid(["code": -32000, "message": "m", "data": .object(data)], "protocol/error.json", at: "data.kind", mentioning: "is not one of", schemas)
        try expectInvalid(["code": -32000, "message": "m", "data": ["kind": "timeout", "outcome": "maybe"]], "protocol/error.json",
                          at: "data.outcome", mentioning: "is not one of", schemas)
        try expectInvalid(["code": -32001, "message": "m"], "protocol/error.json", at: "code", mentioning: "is not one of", schemas)
        try expectInvalid(["items": [["id": "E1", "email": "e", "status": "fired"]]], "protocol/page.persons.json",
                          at: "items[0].status", mentioning: "is not one of", schemas)
        try expectInvalid(["status": "done"], "protocol/accounts.create.result.json", at: "status", mentioning: "is not one of", schemas)
        // Records are closed, so a misspelt member is caught instead of silently dropped.
        try expectInvalid(["items": [["id": "1", "usrName": "u"]]], "protocol/page.accounts.json", at: "items[0].usrName", mentioning: "not allowed", schemas)
        let level = try lineProblems(#"{"jsonrpc":"2.0","method":"log","params":{"level":"fatal","message":"m"}}"#)
        #expect(level.contains { $0.path == "params.level" })
        let unknownMethod = try lineProblems(#"{"jsonrpc":"2.0","id":3,"method":"accounts/purge","params":{}}"#)
        #expect(unknownMethod.contains { $0.path == "method" })
    }

    @Test func capabilitiesStayOpenForLaterMinorVersions() throws {
        try expectValid(["accounts": ["list": true, "archive": true], "audit": ["export": true],
                         "entitlementTypes": [["type": "seat", "priced": true]]],
                        "protocol/defs.json#/$defs/Capabilities", schemas)
        try expectInvalid(["entitlementTypes": [["type": "role", "cardinality": "double"]]], "protocol/defs.json#/$defs/Capabilities",
                          at: "entitlementTypes[0].cardinality", mentioning: "is not one of", schemas)
    }

    @Test func brokenEnvelopes() throws {
        try expectInvalid(["jsonrpc": "1.0", "id": 1, "result": [:]], "protocol/message.json", at: "", mentioning: "none of the alternatives", schemas)
        try expectInvalid(["jsonrpc": "2.0", "id": 1, "result": [:], "error": ["code": -32603, "message": "m"]], "protocol/message.json",
                          at: "", mentioning: "none of the alternatives", schemas)
        try expectInvalid(["jsonrpc": "2.0", "id": true, "method": "ping"], "protocol/message.json", at: "", mentioning: "none of the alternatives", schemas)
        try expectInvalid(["jsonrpc": "2.0", "id": 1, "method": "ping", "params": "x"], "protocol/message.json", at: "", mentioning: "none", schemas)
        // A result needs an id; only errors may carry a null one.
        try expectInvalid(["jsonrpc": "2.0", "id": .null, "result": [:]], "protocol/message.json", at: "", mentioning: "none", schemas)
        // A notification with an id is a request, and log is not a request method.
        let logRequest = try lineProblems(#"{"jsonrpc":"2.0","id":4,"method":"log","params":{"message":"m"}}"#)
        #expect(!logRequest.isEmpty)
    }

    @Test func manifests() throws {
        let good: JSONValue = ["name": "scim", "version": "1.0.0", "command": ["ssh", "runner-1", "steward-connector-scim"]]
        try expectValid(good, "plugin.schema.json", schemas)
        try expectValid(["name": "x", "version": "1", "executable": "bin/x", "args": ["--fast"], "protocol": "1"], "plugin.schema.json", schemas)
        try expectInvalid(["version": "1", "executable": "x"], "plugin.schema.json", at: "name", mentioning: "required", schemas)
        try expectInvalid(["name": "x", "version": "1"], "plugin.schema.json", at: "", mentioning: "none of the alternatives", schemas)
        try expectInvalid(["name": "x", "version": "1", "executable": "x", "command": ["x"]], "plugin.schema.json",
                          at: "", mentioning: "exactly one", schemas)
        try expectInvalid(["name": "x", "version": "1", "command": ["x"], "args": ["a"]], "plugin.schema.json",
                          at: "executable", mentioning: "required together with args", schemas)
        try expectInvalid(["name": "x", "version": "1", "command": [""]], "plugin.schema.json", at: "command[0]", mentioning: "shorter", schemas)
        try expectInvalid(["name": "x", "version": "1", "executable": "x", "capabilities": ["accounts/purge"]], "plugin.schema.json",
                          at: "capabilities[0]", mentioning: "is not one of", schemas)
        try expectInvalid(["name": "x", "version": "1", "executable": "x", "secret": ["token"]], "plugin.schema.json",
                          at: "secret", mentioning: "not allowed", schemas)
    }

    @Test func theManifestsInTheRepositoryAreValid() throws {
        var files = [Repository.root.appendingPathComponent("docs/examples/plugin.json")]
        let plugins = Repository.root.appendingPathComponent("plugins")
        for name in try FileManager.default.contentsOfDirectory(atPath: plugins.path).sorted() {
            let file = plugins.appendingPathComponent(name).appendingPathComponent("plugin.json")
            if FileManager.default.fileExists(atPath: file.path) { files.append(file) }
        }
        #expect(files.count >= 2)
        for file in files {
            let manifest = try JSONParser.parse(try Repository.text(file))
            try expectValid(manifest, "plugin.schema.json", schemas)
        }
    }

    /// A schema with a rule the validator cannot apply is refused when loaded, never half-checked.
    @Test func theValidatorRefusesWhatItCannotCheck() throws {
        let unsupported = #expect(throws: JSONSchemaError.self) {
            try JSONSchemaLibrary(documents: ["a.json": ["type": "array", "items": ["type": "string"], "unevaluatedItems": false]])
        }
        #expect(unsupported?.keyword == "unevaluatedItems")
        #expect(unsupported?.description.hasPrefix("a.json#: keyword \"unevaluatedItems\" is not supported") == true)
        let missingFile = #expect(throws: JSONSchemaError.self) {
            try JSONSchemaLibrary(documents: ["b.json": ["$ref": "missing.json#/$defs/X"]])
        }
        #expect(missingFile?.message.contains("no schema file missing.json") == true)
        let missingDefinition = #expect(throws: JSONSchemaError.self) {
            try JSONSchemaLibrary(documents: ["a.json": ["type": "string"], "c.json": ["$ref": "a.json#/$defs/X"]])
        }
        #expect(missingDefinition?.message.contains("a.json has nothing at #/$defs/X") == true)
    }

    /// Every schema Steward ships, and every shipped manifest's settings schema, uses only
    /// keywords the validator implements (the library refuses any other when it is built).
    @Test func everyShippedSchemaUsesOnlyImplementedKeywords() throws {
        let all = try SchemaFiles.library(root: Repository.schemas)
        #expect(all.documents.keys.contains("config.schema.json"))
        #expect(all.documents.keys.contains("rest-app.schema.json"))
        let plugins = Repository.root.appendingPathComponent("plugins")
        var checked = 0
        for name in try FileManager.default.contentsOfDirectory(atPath: plugins.path).sorted() {
            let file = plugins.appendingPathComponent(name).appendingPathComponent("plugin.json")
            guard FileManager.default.fileExists(atPath: file.path) else { continue }
            let settingsSchema = try JSONParser.parse(try Repository.text(file))["settingsSchema"]
            _ = try JSONSchema(settingsSchema)
            checked += 1
        }
        #expect(checked >= 4)
    }
}
