import StewardProtocol
import Testing

/// What the Swift implementation puts on the wire must be valid against the published schemas.
@Suite("Messages written by the Swift types match the schemas")
struct SwiftMessageTests {
    let schemas: ProtocolSchemas

    init() throws { schemas = try ProtocolSchemas() }

    static let fullAccount = Account(
        id: "00u1", userName: "ada@example.com", email: "ada@example.com", displayName: "Ada Lovelace", givenName: "Ada",
        familyName: "Lovelace", externalId: "ext-1", employeeNumber: "E1001", status: .disabled,
        lastLoginAt: "2026-11-01T10:00:00Z", createdAt: "2021-03-01T09:00:00Z", attributes: ["costCenter": "CC-7"])

    static let fullPerson = Person(
        id: "E1001", email: "ada@example.com", firstName: "Ada", lastName: "Lovelace", displayName: "Ada Lovelace",
        department: "Engineering", title: "Staff Engineer", managerId: "E1000", location: "London",
        employmentType: "full_time", costCenter: "CC-7", status: .leave, startDate: "2021-03-01", endDate: "2026-12-31",
        attributes: ["badge": "B-1"])

    static let fullSpec = AccountSpec(
        userName: "alan@example.com", email: "alan@example.com", displayName: "Alan Turing", givenName: "Alan",
        familyName: "Turing", externalId: "ext-3", employeeNumber: "E1003", department: "Research", title: "Scientist",
        managerId: "00u1", attributes: ["office": "Bletchley"])

    /// Sends `params` as a request for `method` and checks the whole line.
    private func expectRequest(_ method: String, _ params: JSONValue, id: RequestID = .int(7),
                               sourceLocation: SourceLocation = #_sourceLocation) throws {
        let line = try wire(.request(id: id, method: method, params: params))
        let problems = try schemas.problems(message: line)
        #expect(problems.isEmpty, "\(line): \(problems)", sourceLocation: sourceLocation)
    }

    /// Sends `result` as the answer to `method` and checks the whole line.
    private func expectResult(_ method: String, _ result: JSONValue, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let line = try wire(.response(id: .int(7), result: result))
        let problems = try schemas.problems(message: line, answering: method)
        #expect(problems.isEmpty, "\(line): \(problems)", sourceLocation: sourceLocation)
    }

    private func expectNotification(_ method: String, _ params: JSONValue, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let line = try wire(.notification(method: method, params: params))
        let problems = try schemas.problems(message: line)
        #expect(problems.isEmpty, "\(line): \(problems)", sourceLocation: sourceLocation)
    }

    @Test func lifecycle() throws {
        let full = InitializeParams(protocolVersions: ["1.0", "1.3"], host: PeerInfo(name: "steward", version: "0.1.0"),
                                    appId: "wiki", settings: ["baseURL": "https://wiki.example.com", "pageSize": 100],
                                    secrets: ["token": "s3cr3t"], stateDirectory: "/var/lib/steward/apps/wiki",
                                    baseDirectory: "/etc/steward")
        try expectRequest(Method.initialize, full.json)
        try expectRequest(Method.initialize, InitializeParams(host: PeerInfo(name: "steward", version: "0.1.0"), appId: "hr").json)

        let everything = Capabilities(
            personsList: true, accounts: Set(AccountOperation.allCases),
            entitlementTypes: [EntitlementTypeCapability(type: "role", cardinality: .single, values: ["Admin", "Editor", "Viewer"]),
                               EntitlementTypeCapability(type: "group", cardinality: .multi, list: true, grant: false, revoke: false)],
            grantsList: true, notifySend: true, validate: true)
        try expectResult(Method.initialize, InitializeResult(protocolVersion: "1.0", connector: PeerInfo(name: "scim", version: "1.2.0"),
                                                             capabilities: everything).json)
        try expectResult(Method.initialize, InitializeResult(protocolVersion: "1.0", connector: PeerInfo(name: "bare", version: "0"),
                                                             capabilities: Capabilities()).json)

        for method in [Method.shutdown, Method.ping, Method.validate] {
            try expectRequest(method, [:])
        }
        try expectResult(Method.shutdown, [:])
        try expectResult(Method.ping, [:])
        try expectResult(Method.validate, ValidateResult(ok: true, message: "3 people in hr.csv").json)
        try expectResult(Method.validate, ValidateResult(ok: false).json)
    }

    @Test func listingsThroughBothEncoders() throws {
        let listParams = [ListParams(), ListParams(cursor: "opaque:2", pageSize: 500, type: "group", accountId: "00u1")]
        for method in [Method.personsList, Method.accountsList, Method.entitlementsList, Method.grantsList] {
            for p in listParams { try expectRequest(method, p.json) }
        }

        let persons = Page(items: [Self.fullPerson, Person(id: "E2", email: "")], nextCursor: "2")
        let accounts = Page(items: [Self.fullAccount, Account(id: "x", userName: "")])
        let entitlements = Page(items: [Entitlement(type: "role", id: "admin", name: "Admin", description: "Everything", rank: 3),
                                        Entitlement(type: "group", id: "g1", name: "")], nextCursor: "1:")
        let grants = Page(items: [Grant(accountId: "00u1", type: "role", entitlementId: "admin")])

        // The general path (JSONValue) and the fast path (bytes written directly) must both conform.
        try expectResult(Method.personsList, persons.json)
        try expectResult(Method.personsList, try JSONParser.parse(persons.encoded()))
        try expectResult(Method.accountsList, accounts.json)
        try expectResult(Method.accountsList, try JSONParser.parse(accounts.encoded()))
        try expectResult(Method.entitlementsList, entitlements.json)
        try expectResult(Method.entitlementsList, try JSONParser.parse(entitlements.encoded()))
        try expectResult(Method.grantsList, grants.json)
        try expectResult(Method.grantsList, try JSONParser.parse(grants.encoded()))
        try expectResult(Method.accountsList, Page<Account>(items: []).json)
    }

    @Test func accountsAndGrants() throws {
        for get in [AccountGetParams(id: "00u1"), AccountGetParams(userName: "a"), AccountGetParams(email: "a@x"),
                    AccountGetParams(externalId: "e"), AccountGetParams(employeeNumber: "E1"),
                    AccountGetParams(id: "1", userName: "u", email: "e", externalId: "x", employeeNumber: "n")] {
            try expectRequest(Method.accountsGet, get.json)
        }
        try expectResult(Method.accountsGet, AccountGetResult(account: Self.fullAccount).json)
        try expectResult(Method.accountsGet, AccountGetResult(account: nil).json)

        try expectRequest(Method.accountsCreate, AccountCreateParams(idempotencyKey: "k1", account: Self.fullSpec).json)
        try expectRequest(Method.accountsCreate, AccountCreateParams(idempotencyKey: "k1", account: AccountSpec(userName: "u")).json)
        for status in [AccountCreateResult.Status.created, .alreadyExists, .actionRequired, .inProgress] {
            try expectResult(Method.accountsCreate, AccountCreateResult(status: status, account: Self.fullAccount, message: "m").json)
            try expectResult(Method.accountsCreate, AccountCreateResult(status: status).json)
        }

        let changes: [String: JSONValue] = ["displayName": "Ada King", "title": .null, "attributes": ["office": "Ockham", "desk": .null]]
        try expectRequest(Method.accountsUpdate, AccountUpdateParams(idempotencyKey: "k2", id: "00u1", changes: changes).json)
        for method in [Method.accountsDisable, Method.accountsEnable, Method.accountsDelete] {
            try expectRequest(method, AccountRefParams(idempotencyKey: "k3", id: "00u1").json)
        }
        for method in [Method.grantsAdd, Method.grantsRemove] {
            try expectRequest(method, GrantChangeParams(idempotencyKey: "k4", accountId: "00u1", type: "role", entitlementId: "admin").json)
        }
        try expectRequest(Method.notifySend, NotifyParams(idempotencyKey: "k5", to: "grace@example.com", subject: "Review",
                                                          text: "Please review", links: ["Open": "https://steward.local/r/abc"]).json)
        try expectRequest(Method.notifySend, NotifyParams(idempotencyKey: "k5", to: "g", subject: "", text: "").json)

        for method in [Method.accountsUpdate, Method.accountsDisable, Method.accountsEnable, Method.accountsDelete,
                       Method.grantsAdd, Method.grantsRemove, Method.notifySend] {
            try expectResult(method, MutationResult(alreadyApplied: true).json)
            try expectResult(method, MutationResult(alreadyApplied: false, account: Self.fullAccount).json)
        }
    }

    @Test func notifications() throws {
        for level in LogParams.Level.allCases {
            try expectNotification(Notification.log, LogParams(level: level, message: "hello").json)
        }
        try expectNotification(Notification.progress, ProgressParams(requestId: .int(4), message: "m", completed: 1, total: 9).json)
        try expectNotification(Notification.progress, ProgressParams(requestId: .string("r-4")).json)
        try expectNotification(Notification.progress, ProgressParams(requestId: nil).json)
        try expectNotification(Notification.rateLimit, RateLimitParams(limit: 600, remaining: 0, resetMs: 41_000).json)
        try expectNotification(Notification.rateLimit, RateLimitParams().json)
        try expectNotification(Notification.cancel, CancelParams(id: .int(3)).json)
        try expectNotification(Notification.cancel, CancelParams(id: .string("x")).json)
    }

    @Test func everyApplicationErrorAndItsEnvelope() throws {
        for kind in ErrorKind.allCases {
            for outcome in [nil, WriteOutcome.applied, .notApplied, .unknown] {
                let error = ConnectorError(kind, "it failed", outcome: outcome, retryAfterMs: kind == .rateLimited ? 30_000 : nil,
                                           details: kind == .permissionDenied ? ["httpStatus": 403] : .null)
                try expectValid(error.rpcError.json, "protocol/error.json", schemas)
                let line = try wire(.errorResponse(id: .int(9), error: error.rpcError))
                #expect(try schemas.problems(message: line).isEmpty)
            }
        }
    }

    @Test func protocolErrorsAndEnvelopes() throws {
        let codes: [RPCError.Code] = [.parseError, .invalidRequest, .methodNotFound, .invalidParams, .internalError, .cancelled]
        for code in codes {
            try expectValid(RPCError(code: code, message: "m").json, "protocol/error.json", schemas)
        }
        // A line that could not be read is answered with a null id.
        let unreadable = try wire(.errorResponse(id: nil, error: RPCError(code: .parseError, message: "invalid JSON")))
        #expect(unreadable.objectValue?["id"] == .null)
        #expect(try schemas.problems(message: unreadable).isEmpty)

        let envelopes: [RPCMessage] = [
            .request(id: .int(1), method: Method.ping, params: [:]),
            .request(id: .string("a"), method: "future/method", params: .null),
            .notification(method: "future", params: .null),
            .response(id: .int(1), result: .null),
            .errorResponse(id: .string("a"), error: RPCError(code: .methodNotFound, message: "m")),
        ]
        for message in envelopes {
            try expectValid(try wire(message), "protocol/message.json", schemas)
        }
    }
}
