import Foundation
import StewardHost
import StewardProtocol
import StewardTestSupport
import Testing

/// The SCIM connector through the host against a real `steward-sandbox`, every effect checked
/// by reading the sandbox's SCIM API directly.
@Suite("SCIM connector against the sandbox", .serialized)
struct SandboxEndToEndTests {
    static let enterprise = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
    /// The sandbox's SCIM profiles: `full`, and `minimal` (like many real providers: User.groups
    /// never filled, no filter on members, no value-filter PATCH paths, no ETags).
    static let profiles = ["full", "minimal"]

    @Test(arguments: profiles) func conformanceCheckPasses(profile: String) async throws {
        let sandbox = try ScimSandbox(["--users", "150", "--scim-profile", profile])
        defer { sandbox.stop() }
        let results = Collected<ConformanceCheck.Result>()
        let check = ConformanceCheck(command: [try Products.executable("steward-connector-scim")],
                                     settings: sandbox.settings, secrets: sandbox.secrets, timeout: 30, pageSize: 40)
        let passed = await check.run { results.add($0) }
        let failures = results.all.filter(\.failed).map { "\($0.name): \($0.detail)" }
        #expect(passed, "failed checks: \(failures)")
        #expect(results.all.contains { $0.name == Method.accountsList && $0.detail.contains("150 items in 4 pages") })
        for name in [Method.accountsGet, "accounts/get by userName", "accounts/get by email", "accounts/list pageSize",
                     "accounts/list same cursor", "unknown id answers notFound", "cancel"] {
            #expect(results.all.first { $0.name == name }?.passed == true, "\(name): \(results.all.map { "\($0.name): \($0.detail)" })")
        }
        #expect(try await sandbox.direct.get("/Users?count=1")["totalResults"] == 150, "a read-only check changed the app")
    }

    /// With --writes: a throwaway user is created, put in a group and taken out, given role
    /// tiers, disabled and enabled, each effect read back, and deleted.
    @Test func conformanceCheckWithWritesPassesAndLeavesNothingBehind() async throws {
        let sandbox = try ScimSandbox(["--users", "20"])
        defer { sandbox.stop() }
        _ = try await sandbox.direct.createGroup("check-team")
        var settings = sandbox.settings.objectValue ?? [:]
        settings["roleTiers"] = ["Admin", "User", "Viewer"]
        let results = Collected<ConformanceCheck.Result>()
        let check = ConformanceCheck(command: [try Products.executable("steward-connector-scim")],
                                     settings: .object(settings), secrets: sandbox.secrets, timeout: 30, writes: true)
        let passed = await check.run { results.add($0) }
        let lines = results.all.map { "\($0.status.rawValue) \($0.name): \($0.detail)" }
        #expect(passed, "\(lines.filter { $0.hasPrefix("failed") })")
        for name in ["accounts/create", "accounts/create visible", "grants/add group", "grants/add group visible", "grants/add group again",
                     "grants/remove group", "grants/remove group visible", "grants/remove group not held", "grants/add role replaces",
                     "accounts/disable", "accounts/disable visible", "accounts/disable again", "accounts/enable", "accounts/enable visible",
                     "accounts/delete", "accounts/delete visible"] {
            #expect(results.all.first { $0.name == name }?.passed == true, "\(name): \(lines)")
        }
        let users = try await sandbox.direct.get("/Users?count=100")["Resources"].arrayValue ?? []
        #expect(users.count == 20)
        #expect(!users.contains { $0["userName"].stringValue?.hasPrefix("steward-check-") == true })
    }

    @Test func declaresWhatTheSandboxSupports() async throws {
        let sandbox = try ScimSandbox()
        defer { sandbox.stop() }
        let c = try sandbox.connector(settings: ["roleTiers": ["Admin", "User", "Viewer"]])
        let handshake = try await c.start()
        let caps = handshake.capabilities
        #expect(caps.accounts == Set(AccountOperation.allCases))
        #expect(caps.entitlementType("group")?.cardinality == .multi)
        #expect(caps.entitlementType("role")?.cardinality == .single)
        #expect(caps.entitlementType("role")?.values == ["Admin", "User", "Viewer"])
        // The sandbox's schema has `entitlements`, but no values are known to list.
        #expect(caps.entitlementType("entitlement")?.list == false)
        #expect(caps.entitlementType("entitlement")?.grant == true)
        #expect(caps.grantsList)
        #expect(caps.validate)
        let validation = try await c.call(Method.validate, as: ValidateResult.self)
        #expect(validation.ok)
        #expect(validation.message?.contains("0 users") == true)
        await c.stop()
    }

    @Test(arguments: profiles) func userLifecycle(profile: String) async throws {
        let sandbox = try ScimSandbox(["--scim-profile", profile])
        defer { sandbox.stop() }
        let c = try sandbox.connector()
        try await Self.runUserLifecycle(c, sandbox.direct, name: "ada")
        await c.stop()
    }

    @Test(arguments: profiles) func groupMembership(profile: String) async throws {
        let sandbox = try ScimSandbox(["--scim-profile", profile])
        defer { sandbox.stop() }
        let c = try sandbox.connector()
        try await Self.runGroupMembership(c, sandbox.direct, name: "grace", emptyGroupShowsAbsence: profile == "full")
        await c.stop()
    }

    @Test(arguments: profiles) func roleTiersReplaceEachOther(profile: String) async throws {
        let sandbox = try ScimSandbox(["--scim-profile", profile])
        defer { sandbox.stop() }
        let c = try sandbox.connector(settings: ["roleTiers": ["Admin", "User", "Viewer"]])
        let created = try await c.write(Method.accountsCreate, AccountCreateParams(
            idempotencyKey: "k1", account: AccountSpec(userName: "tier@example.com")).json, as: AccountCreateResult.self)
        let id = try #require(created.account?.id)

        let roles = try await c.listAll(Method.entitlementsList, params: ListParams(type: "role"), of: Entitlement.self)
        #expect(roles.map(\.id) == ["Admin", "User", "Viewer"])
        #expect(roles.map(\.rank) == [3, 2, 1])

        func grant(_ value: String) async throws -> MutationResult {
            try await c.write(Method.grantsAdd, GrantChangeParams(idempotencyKey: "g-\(value)", accountId: id, type: "role",
                                                                  entitlementId: value).json, as: MutationResult.self)
        }
        func rolesNow() async throws -> [String] {
            try await sandbox.direct.get("/Users/\(id)")["roles"].arrayValue?.compactMap { $0["value"].stringValue } ?? []
        }
        #expect(try await grant("Admin").alreadyApplied == false)
        #expect(try await rolesNow() == ["Admin"])
        #expect(try await grant("Admin").alreadyApplied == true)
        #expect(try await grant("Viewer").alreadyApplied == false)
        #expect(try await rolesNow() == ["Viewer"])

        let grants = try await c.listAll(Method.grantsList, params: ListParams(type: "role"), of: Grant.self)
        #expect(grants == [Grant(accountId: id, type: "role", entitlementId: "Viewer")])

        let bad = await #expect(throws: ConnectorFailure.self) { try await grant("Owner") }
        #expect(bad?.connectorError?.kind == .invalidArgument)

        let revoked = try await c.write(Method.grantsRemove, GrantChangeParams(idempotencyKey: "r1", accountId: id, type: "role",
                                                                               entitlementId: "Viewer").json, as: MutationResult.self)
        #expect(revoked.alreadyApplied == false)
        #expect(try await rolesNow() == [])
        await c.stop()
    }

    @Test func listsTenThousandUsersAcrossPages() async throws {
        let sandbox = try ScimSandbox(["--users", "10000"])
        defer { sandbox.stop() }
        let total = try await sandbox.direct.get("/Users?count=0")["totalResults"].intValue
        #expect(total == 10_000)
        let c = try sandbox.connector()
        var pages = 0
        var ids = Set<String>()
        var userNames = Set<String>()
        try await c.list(Method.accountsList, params: ListParams(pageSize: 700), of: Account.self) { page in
            pages += 1
            for account in page {
                ids.insert(account.id)
                userNames.insert(account.userName)
            }
        }
        #expect(ids.count == 10_000)
        #expect(userNames.count == 10_000)
        #expect(pages == 15)
        await c.stop()
    }

    @Test func aNewListingIsNeverServedPagesFetchedAheadForAnEarlierOne() async throws {
        let sandbox = try ScimSandbox(["--users", "12"])
        defer { sandbox.stop() }
        let c = try sandbox.connector()
        let first = try await c.call(Method.accountsList, params: ListParams(pageSize: 3).json, as: Page<Account>.self)
        #expect(first.items.count == 3)
        // Give the read-ahead time to fetch the following pages, then change what they hold.
        try await Task.sleep(nanoseconds: 500_000_000)
        let victims = try await sandbox.direct.get("/Users?startIndex=4&count=6")["Resources"].arrayValue?.compactMap { $0["id"].stringValue } ?? []
        #expect(victims.count == 6)
        for id in victims { try await sandbox.direct.request("DELETE", "/Users/\(id)") }

        let fresh = try await c.listAll(Method.accountsList, params: ListParams(pageSize: 3), of: Account.self)
        #expect(fresh.count == 6)
        #expect(Set(fresh.map(\.id)).isDisjoint(with: victims))
        await c.stop()
    }

    @Test func convergesUnderFaultsAndRateLimits() async throws {
        let sandbox = try ScimSandbox(["--fail-rate", "0.2", "--rate-limit", "15/s", "--seed", "7", "--users", "300"])
        defer { sandbox.stop() }
        let events = ConnectorEventLog()
        let c = try sandbox.connector(events: events.events)
        let host = RetryingHost(c)
        try await Self.runUserLifecycle(host, sandbox.direct, name: "faulty")
        try await Self.runGroupMembership(host, sandbox.direct, name: "flaky")
        let accounts = try await host.listAll(pageSize: 50)
        #expect(Set(accounts.map(\.id)).count == accounts.count)
        #expect(accounts.count == 301)  // 300 generated, plus flaky's user (faulty's was deleted)
        // Exactly one user per userName: retried creates never duplicated anyone.
        #expect(try await sandbox.direct.users(named: "flaky@example.com").count == 1)
        #expect(events.logMessages.contains { $0.contains("as Retry-After asks") },
                "the connector should have waited as Retry-After asked at least once")
        await c.stop()
    }

    // MARK: - Shared sequences

    static func runUserLifecycle(_ c: some AccountCaller, _ direct: DirectSCIM, name: String) async throws {
        let userName = "\(name)@example.com"
        let spec = AccountSpec(userName: userName, email: userName, displayName: "Ada Lovelace", givenName: "Ada",
                               familyName: "Lovelace", externalId: "ext-\(name)", employeeNumber: "E-\(name)",
                               department: "Engineering", title: "Analyst", managerId: "boss-1")
        // Create, with the enterprise extension.
        let created = try await c.create(spec, key: "create-\(name)")
        #expect(created.status == .created || created.status == .alreadyExists)
        let account = try #require(created.account)
        #expect(account.userName == userName)
        #expect(account.email == userName)
        #expect(account.employeeNumber == "E-\(name)")
        #expect(account.attributes["department"] == "Engineering")
        let stored = try await direct.get("/Users/\(account.id)")
        #expect(stored["userName"].stringValue == userName)
        #expect(stored["name"]["givenName"].stringValue == "Ada")
        #expect(stored[enterprise]["employeeNumber"].stringValue == "E-\(name)")
        #expect(stored[enterprise]["department"].stringValue == "Engineering")
        #expect(stored[enterprise]["manager"]["value"].stringValue == "boss-1")
        #expect(stored["emails"].arrayValue?.compactMap { $0["value"].stringValue } == [userName])

        // Creating again finds the same user: idempotent, no duplicate.
        let again = try await c.create(spec, key: "create-\(name)-again")
        #expect(again.status == .alreadyExists)
        #expect(again.account?.id == account.id)
        #expect(try await direct.users(named: userName).count == 1)

        // Find by every unique attribute.
        for params in [AccountGetParams(id: account.id), AccountGetParams(userName: userName), AccountGetParams(email: userName),
                       AccountGetParams(externalId: "ext-\(name)"), AccountGetParams(employeeNumber: "E-\(name)")] {
            #expect(try await c.get(params)?.id == account.id, "lookup by \(params.json)")
        }
        #expect(try await c.get(AccountGetParams(id: "no-such-id")) == nil)
        #expect(try await c.get(AccountGetParams(userName: "nobody@example.com")) == nil)

        // Update by PATCH, including a value-filtered email path.
        let newEmail = "\(name).l@example.com"
        let updated = try await c.mutate(Method.accountsUpdate, AccountUpdateParams(
            idempotencyKey: "upd-\(name)", id: account.id,
            changes: ["givenName": "Augusta", "email": .string(newEmail), "title": "Countess", "department": .null]).json)
        #expect(updated.alreadyApplied == false)
        let afterUpdate = try await direct.get("/Users/\(account.id)")
        #expect(afterUpdate["name"]["givenName"].stringValue == "Augusta")
        #expect(afterUpdate["name"]["familyName"].stringValue == "Lovelace")
        #expect(afterUpdate["title"].stringValue == "Countess")
        #expect(afterUpdate["emails"].arrayValue?.compactMap { $0["value"].stringValue } == [newEmail])
        #expect(afterUpdate[enterprise]["department"].isNull)
        #expect(afterUpdate[enterprise]["employeeNumber"].stringValue == "E-\(name)")
        let sameAgain = try await c.mutate(Method.accountsUpdate, AccountUpdateParams(
            idempotencyKey: "upd-\(name)-2", id: account.id, changes: ["givenName": "Augusta", "email": .string(newEmail)]).json)
        #expect(sameAgain.alreadyApplied)

        // Deactivate and reactivate.
        let ref = AccountRefParams(idempotencyKey: "dis-\(name)", id: account.id).json
        #expect(try await c.mutate(Method.accountsDisable, ref).alreadyApplied == false)
        #expect(try await direct.get("/Users/\(account.id)")["active"].boolValue == false)
        #expect(try await c.get(AccountGetParams(id: account.id))?.status == .disabled)
        #expect(try await c.mutate(Method.accountsDisable, ref).alreadyApplied == true)
        #expect(try await c.mutate(Method.accountsEnable, ref).alreadyApplied == false)
        #expect(try await direct.get("/Users/\(account.id)")["active"].boolValue == true)
        #expect(try await c.mutate(Method.accountsEnable, ref).alreadyApplied == true)

        // Delete, twice.
        #expect(try await c.mutate(Method.accountsDelete, ref).alreadyApplied == false)
        #expect(try await direct.request("GET", "/Users/\(account.id)").0 == 404)
        #expect(try await c.mutate(Method.accountsDelete, ref).alreadyApplied == true)
        #expect(try await c.get(AccountGetParams(id: account.id)) == nil)
    }

    /// `emptyGroupShowsAbsence`: whether the provider can show that a user is not in an empty
    /// group (by a filter on members); where it cannot, a repeated revoke is sent again.
    static func runGroupMembership(_ c: some AccountCaller, _ direct: DirectSCIM, name: String,
                                   emptyGroupShowsAbsence: Bool = true) async throws {
        let groupId = try await direct.createGroup("team-\(name)")
        let user = try #require(try await c.create(AccountSpec(userName: "\(name)@example.com"), key: "c-\(name)").account)

        let groups = try await c.entitlements(type: "group")
        #expect(groups.contains(Entitlement(type: "group", id: groupId, name: "team-\(name)")))

        let change = GrantChangeParams(idempotencyKey: "g-\(name)", accountId: user.id, type: "group", entitlementId: groupId).json
        #expect(try await c.mutate(Method.grantsAdd, change).alreadyApplied == false)
        #expect(try await direct.memberIds(ofGroup: groupId) == [user.id])
        #expect(try await c.mutate(Method.grantsAdd, change).alreadyApplied == true)
        #expect(try await direct.memberIds(ofGroup: groupId) == [user.id])

        let grants = try await c.grants(ListParams(type: "group"))
        #expect(grants.contains(Grant(accountId: user.id, type: "group", entitlementId: groupId)))
        let forAccount = try await c.grants(ListParams(accountId: user.id))
        #expect(forAccount == [Grant(accountId: user.id, type: "group", entitlementId: groupId)])

        #expect(try await c.mutate(Method.grantsRemove, change).alreadyApplied == false)
        #expect(try await direct.memberIds(ofGroup: groupId) == [])
        #expect(try await c.mutate(Method.grantsRemove, change).alreadyApplied == emptyGroupShowsAbsence)
        #expect(try await direct.memberIds(ofGroup: groupId) == [])
        #expect(try await c.grants(ListParams(accountId: user.id)) == [])

        let missing = GrantChangeParams(idempotencyKey: "g2", accountId: user.id, type: "group", entitlementId: "no-such-group").json
        do {
            _ = try await c.mutate(Method.grantsAdd, missing)
            Issue.record("granting a group that does not exist succeeded")
        } catch let f as ConnectorFailure {
            #expect(f.connectorError?.kind == .notFound)
        }
    }
}

/// The calls the shared sequences make, so they run against a plain connector and against one
/// wrapped in host-style retries.
protocol AccountCaller: Sendable {
    func call<R: JSONConvertible>(_ method: String, _ params: JSONValue, as type: R.Type) async throws -> R
    func listAll<Item: JSONConvertible>(_ method: String, _ params: ListParams, of type: Item.Type) async throws -> [Item]
}

extension AccountCaller {
    func create(_ spec: AccountSpec, key: String) async throws -> AccountCreateResult {
        try await call(Method.accountsCreate, AccountCreateParams(idempotencyKey: key, account: spec).json, as: AccountCreateResult.self)
    }

    func get(_ params: AccountGetParams) async throws -> Account? {
        try await call(Method.accountsGet, params.json, as: AccountGetResult.self).account
    }

    func mutate(_ method: String, _ params: JSONValue) async throws -> MutationResult {
        try await call(method, params, as: MutationResult.self)
    }

    func entitlements(type: String) async throws -> [Entitlement] {
        try await listAll(Method.entitlementsList, ListParams(type: type), of: Entitlement.self)
    }

    func grants(_ params: ListParams) async throws -> [Grant] {
        try await listAll(Method.grantsList, params, of: Grant.self)
    }

    func listAll(pageSize: Int) async throws -> [Account] {
        try await listAll(Method.accountsList, ListParams(pageSize: pageSize), of: Account.self)
    }
}

extension SupervisedConnector: AccountCaller {
    func call<R: JSONConvertible>(_ method: String, _ params: JSONValue, as type: R.Type) async throws -> R {
        try await call(method, params: params, as: type)
    }

    func listAll<Item: JSONConvertible>(_ method: String, _ params: ListParams, of type: Item.Type) async throws -> [Item] {
        try await listAll(method, params: params, of: type)
    }
}

/// Retries what the connector reports as retryable, as the host's executor does. Every
/// operation of the SCIM connector reads before it writes, so repeating one is safe.
struct RetryingHost: AccountCaller {
    let connector: SupervisedConnector

    init(_ connector: SupervisedConnector) { self.connector = connector }

    func call<R: JSONConvertible>(_ method: String, _ params: JSONValue, as type: R.Type) async throws -> R {
        try await retrying { try await connector.call(method, params: params, as: type) }
    }

    func listAll<Item: JSONConvertible>(_ method: String, _ params: ListParams, of type: Item.Type) async throws -> [Item] {
        var all: [Item] = []
        var p = params
        while true {
            let page = try await retrying { try await connector.call(method, params: p.json, as: Page<Item>.self) }
            all.append(contentsOf: page.items)
            guard let next = page.nextCursor else { return all }
            p.cursor = next
        }
    }

    private func retrying<T>(_ body: () async throws -> T) async throws -> T {
        var attempt = 0
        while true {
            attempt += 1
            do {
                return try await body()
            } catch let f as ConnectorFailure where attempt < 8 && (f.connectorError?.retryable ?? false) {
                let wait = Double(f.connectorError?.retryAfterMs ?? 200) / 1000
                try await Task.sleep(nanoseconds: UInt64(min(wait, 5) * 1e9))
            }
        }
    }
}

