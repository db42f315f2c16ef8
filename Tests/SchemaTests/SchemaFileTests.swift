import StewardProtocol
import Testing

/// The schema files themselves: well-formed, complete, and in step with the Swift enums, so that
/// a new field, kind or status cannot be added on one side only.
@Suite("Schema files")
struct SchemaFileTests {
    let schemas: ProtocolSchemas
    var documents: [String: JSONValue] { schemas.library.documents }

    init() throws { schemas = try ProtocolSchemas() }

    @Test func everyFileDeclaresDraft2020AndSaysWhatItIs() {
        #expect(documents.count > 30)
        for (name, document) in documents {
            #expect(document["$schema"] == "https://json-schema.org/draft/2020-12/schema", "\(name)")
            #expect(document["title"].stringValue?.isEmpty == false, "\(name) has no title")
            #expect(document["description"].stringValue?.isEmpty == false, "\(name) has no description")
        }
    }

    @Test func everyReferenceResolves() throws {
        func walk(_ value: JSONValue, in document: String, at pointer: String) throws {
            switch value {
            case .object(let members):
                if let reference = members["$ref"]?.stringValue {
                    _ = try schemas.library.resolve(reference, from: document)
                }
                for (key, child) in members { try walk(child, in: document, at: pointer + "/" + key) }
            case .array(let items):
                for (i, child) in items.enumerated() { try walk(child, in: document, at: pointer + "/\(i)") }
            default:
                break
            }
        }
        for (name, document) in documents { try walk(document, in: name, at: "") }
    }

    @Test func everyMethodAndNotificationHasItsSchemaAndNoFileIsOrphaned() {
        var expected: Set<String> = ["protocol/defs.json", "protocol/message.json", "protocol/error.json", "plugin.schema.json"]
        for method in ProtocolSchemas.methods {
            expected.insert(ProtocolSchemas.requestSchema(method))
            expected.insert(ProtocolSchemas.resultSchema(method))
            #expect(documents[ProtocolSchemas.requestSchema(method)]?["properties"]["method"]["const"] == .string(method))
        }
        for name in ProtocolSchemas.notifications {
            #expect(documents[ProtocolSchemas.notificationSchema(name)]?["properties"]["method"]["const"] == .string(name))
            expected.insert(ProtocolSchemas.notificationSchema(name))
        }
        #expect(Set(documents.keys) == expected)
        // The method list here is the protocol's: every capability-gated method is in it.
        let gated = Capabilities(personsList: true, accounts: Set(AccountOperation.allCases),
                                 entitlementTypes: [EntitlementTypeCapability(type: "t", cardinality: .multi)],
                                 grantsList: true, notifySend: true, validate: true).methods
        #expect(Set(gated).isSubset(of: ProtocolSchemas.methods))
        #expect(Method.mutations.isSubset(of: ProtocolSchemas.methods))
    }

    @Test func enumsMatchTheSwiftTypes() throws {
        func values(_ file: String, _ pointer: String) throws -> [String] {
            let located = try schemas.library.resolve(file + "#" + pointer, from: "")
            return try #require(located.value["enum"].arrayValue).compactMap(\.stringValue)
        }
        #expect(try values("protocol/error.json", "/$defs/ErrorKind") == ErrorKind.allCases.map(\.rawValue))
        #expect(try values("protocol/defs.json", "/$defs/PersonStatus") == PersonStatus.allCases.map(\.rawValue))
        #expect(try values("protocol/defs.json", "/$defs/AccountStatus") == AccountStatus.allCases.map(\.rawValue))
        #expect(try values("protocol/notification.log.json", "/properties/params/properties/level") == LogParams.Level.allCases.map(\.rawValue))

        let outcomes = try values("protocol/error.json", "/$defs/WriteOutcome")
        #expect(outcomes.count == 3 && outcomes.allSatisfy { WriteOutcome(rawValue: $0) != nil })
        let statuses = try values("protocol/accounts.create.result.json", "/properties/status")
        #expect(statuses.count == 4 && statuses.allSatisfy { AccountCreateResult.Status(rawValue: $0) != nil })
        let cardinalities = try values("protocol/defs.json", "/$defs/EntitlementTypeCapability/properties/cardinality")
        #expect(cardinalities.count == 2 && cardinalities.allSatisfy { EntitlementTypeCapability.Cardinality(rawValue: $0) != nil })

        let codes = try #require(documents["protocol/error.json"]?["properties"]["code"]["enum"].arrayValue).compactMap(\.intValue)
        let swiftCodes: [RPCError.Code] = [.parseError, .invalidRequest, .methodNotFound, .invalidParams, .internalError, .cancelled, .connectorError]
        #expect(Set(codes) == Set(swiftCodes.map(\.rawValue)))

        let accountOperations = try #require(documents["protocol/defs.json"]?["$defs"]["Capabilities"]["properties"]["accounts"]["properties"].objectValue)
        #expect(Set(accountOperations.keys) == Set(AccountOperation.allCases.map(\.rawValue)))
        let manifestMethods = try values("plugin.schema.json", "/properties/capabilities/items")
        let gated = Capabilities(personsList: true, accounts: Set(AccountOperation.allCases),
                                 entitlementTypes: [EntitlementTypeCapability(type: "t", cardinality: .multi)],
                                 grantsList: true, notifySend: true, validate: true, evidenceList: true).methods
        #expect(Set(manifestMethods) == Set(gated))
    }

    /// A record's schema lists exactly the members its fully populated Swift value writes.
    @Test func recordSchemasListEveryFieldTheSwiftTypesWrite() throws {
        func properties(_ name: String) throws -> Set<String> {
            Set(try #require(documents["protocol/defs.json"]?["$defs"][name]["properties"].objectValue).keys)
        }
        func members(_ value: JSONValue) -> Set<String> { Set(value.objectValue?.keys.map { $0 } ?? []) }

        #expect(try properties("Person") == members(SwiftMessageTests.fullPerson.json))
        #expect(try properties("Account") == members(SwiftMessageTests.fullAccount.json))
        #expect(try properties("AccountSpec") == members(SwiftMessageTests.fullSpec.json))
        #expect(try properties("Entitlement") == members(Entitlement(type: "t", id: "i", name: "n", description: "d", rank: 1).json))
        #expect(try properties("Grant") == members(Grant(accountId: "a", type: "t", entitlementId: "e").json))
        #expect(try properties("ListParams") == members(ListParams(cursor: "c", pageSize: 1, type: "t", accountId: "a").json))
        #expect(try properties("EntitlementTypeCapability")
                == members(EntitlementTypeCapability(type: "t", cardinality: .single, values: ["v"]).json))
        let everything = Capabilities(personsList: true, accounts: [.list],
                                      entitlementTypes: [EntitlementTypeCapability(type: "t", cardinality: .multi)],
                                      grantsList: true, notifySend: true, validate: true, evidenceList: true)
        #expect(try properties("Capabilities") == members(everything.json))
        #expect(try properties("EvidenceRecord") == members(EvidenceRecord(kind: .expense, user: "u", app: "a", appRef: "r", domain: "d",
                                                                           at: "t", lastAt: "l", amount: 1, currency: "USD", action: "authorize",
                                                                           scopes: ["s"], source: "f:1").withDetail("x").json))

        let updateChanges = try #require(documents["protocol/accounts.update.request.json"]?["properties"]["params"]["properties"]["changes"]["properties"].objectValue)
        #expect(Set(updateChanges.keys) == members(SwiftMessageTests.fullSpec.json))
        let initialize = try #require(documents["protocol/initialize.request.json"]?["properties"]["params"]["properties"].objectValue)
        #expect(Set(initialize.keys) == members(InitializeParams(host: PeerInfo(name: "h", version: "1"), appId: "a",
                                                                 stateDirectory: "/s", baseDirectory: "/b").json))
        let errorData = try #require(documents["protocol/error.json"]?["$defs"]["ErrorData"]["properties"].objectValue)
        let fullError = ConnectorError(.rateLimited, "m", outcome: .unknown, retryAfterMs: 1, details: ["x": 1]).rpcError
        #expect(Set(errorData.keys) == members(fullError.data))
    }
}

private extension EvidenceRecord {
    func withDetail(_ text: String) -> EvidenceRecord {
        var r = self
        r.detail = text
        return r
    }
}
