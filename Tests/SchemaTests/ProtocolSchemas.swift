import Foundation
import StewardProtocol
import Testing

/// The repository, found from this file's path so the schemas are read in place, never copied.
enum Repository {
    /// This file is `Tests/SchemaTests/ProtocolSchemas.swift`.
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let schemas = root.appendingPathComponent("schemas")
    static let protocolDocument = root.appendingPathComponent("docs/connector-protocol.md")

    static func text(_ url: URL) throws -> String {
        try String(contentsOf: url, encoding: .utf8)
    }
}

/// Which schema describes which message, and validation of whole protocol lines with it.
struct ProtocolSchemas {
    let library: JSONSchemaLibrary

    init() throws {
        library = try SchemaFiles.library(root: Repository.schemas, include: Self.isPublished)
    }

    /// Problems of `value` against the schema at `reference` (a file, optionally `#/pointer`).
    func problems(_ value: JSONValue, against reference: String) throws -> [JSONSchemaProblem] {
        try library.schema(reference).problems(value)
    }

    /// The files this suite owns: the protocol's schemas and the plugin manifest's (other
    /// schemas beside them, like the config's, belong to other suites).
    static func isPublished(_ relativePath: String) -> Bool {
        relativePath.hasPrefix("protocol/") || relativePath == "plugin.schema.json"
    }

    /// Every request method of protocol 1.0 (Capabilities.methods names the optional ones).
    static let methods: [String] = [Method.initialize, Method.shutdown, Method.ping, Method.validate, Method.personsList,
                                    Method.accountsList, Method.accountsGet, Method.accountsCreate, Method.accountsUpdate,
                                    Method.accountsDisable, Method.accountsEnable, Method.accountsDelete,
                                    Method.entitlementsList, Method.grantsList, Method.grantsAdd, Method.grantsRemove,
                                    Method.notifySend, Method.evidenceList]

    static let notifications: [String] = [Notification.log, Notification.progress, Notification.rateLimit, Notification.cancel]

    static func requestSchema(_ method: String) -> String {
        "protocol/" + method.replacingOccurrences(of: "/", with: ".") + ".request.json"
    }

    static func notificationSchema(_ method: String) -> String { "protocol/notification.\(method).json" }

    static func resultSchema(_ method: String) -> String {
        switch method {
        case Method.personsList: return "protocol/page.persons.json"
        case Method.accountsList: return "protocol/page.accounts.json"
        case Method.entitlementsList: return "protocol/page.entitlements.json"
        case Method.grantsList: return "protocol/page.grants.json"
        case Method.evidenceList: return "protocol/page.evidence.json"
        case Method.initialize, Method.shutdown, Method.ping, Method.validate, Method.accountsGet, Method.accountsCreate:
            return "protocol/" + method.replacingOccurrences(of: "/", with: ".") + ".result.json"
        default: return "protocol/mutation.result.json"
        }
    }

    /// Problems of one protocol line: its envelope against `message.json`, then its params or
    /// result against the method's own schema. A response needs the method it answers.
    func problems(message: JSONValue, answering method: String? = nil) throws -> [JSONSchemaProblem] {
        var problems = try self.problems(message, against: "protocol/message.json")
        if let name = message["method"].stringValue {
            let isRequest = message.objectValue?["id"] != nil
            guard !isRequest || Self.methods.contains(name), isRequest || Self.notifications.contains(name) else {
                return problems + [.init(path: "method", keyword: "method", schemaLocation: "-", message: "\"\(name)\" is not a method of protocol 1.0")]
            }
            problems += try self.problems(message, against: isRequest ? Self.requestSchema(name) : Self.notificationSchema(name))
        } else if message.objectValue?["result"] != nil {
            guard let method else { return problems + [.init(path: "result", keyword: "result", schemaLocation: "-", message: "no request to match this answer to")] }
            problems += try self.problems(message["result"], against: Self.resultSchema(method))
        }
        return problems
    }
}

/// Expects `value` to be valid against `schema`, listing every problem otherwise.
func expectValid(_ value: JSONValue, _ schema: String, _ schemas: ProtocolSchemas,
                 sourceLocation: SourceLocation = #_sourceLocation) throws {
    let problems = try schemas.problems(value, against: schema)
    #expect(problems.isEmpty, "\(schema) rejects \(value): \(problems)", sourceLocation: sourceLocation)
}

/// Expects `value` to be rejected by `schema` with a problem at `path` whose message contains `mentioning`.
func expectInvalid(_ value: JSONValue, _ schema: String, at path: String, mentioning: String, _ schemas: ProtocolSchemas,
                   sourceLocation: SourceLocation = #_sourceLocation) throws {
    let problems = try schemas.problems(value, against: schema)
    #expect(problems.contains { $0.path == path && $0.message.contains(mentioning) },
            "\(schema) should reject \(value) at \(path) (\(mentioning)); problems: \(problems)", sourceLocation: sourceLocation)
}

/// A protocol line as sent, parsed back: what the peer on the other side receives.
func wire(_ message: RPCMessage) throws -> JSONValue {
    try JSONParser.parse(message.encoded())
}
