import Foundation
import StewardHost
import StewardJSON
import StewardProtocol
import StewardTestSupport
import Testing

/// The GitHub definition against the sandbox's GitHub-shaped app, through the host's
/// supervisor, checked by reading the sandbox directly.
@Suite("GitHub definition against the sandbox", .serialized)
struct GitHubSandboxTests {
    @Test func conformanceCheckPasses() async throws {
        let sandbox = try GitHubSandbox()
        defer { sandbox.stop() }
        var settings = sandbox.settings
        settings["definition"] = .string(Products.appDefinition("github"))
        let check = ConformanceCheck(command: [try Products.executable("steward-connector-rest")], settings: .object(settings),
                                     secrets: sandbox.secrets, timeout: 20, pageSize: 2)
        let failures = Collected<String>()
        let passed = await check.run { result in
            if result.failed { failures.add("\(result.name): \(result.detail)") }
        }
        #expect(passed, "failed checks: \(failures.all)")
    }

    @Test func joinerMoverTierChangeAndLeaver() async throws {
        let sandbox = try GitHubSandbox()
        defer { sandbox.stop() }
        let github = try restConnector(definition: Products.appDefinition("github"), settings: sandbox.settings, secrets: sandbox.secrets)
        defer { Task { await github.stop() } }
        try await runLifecycle(github, sandbox)
        await github.stop()
    }

    /// With the sandbox answering 403 and 429 with Retry-After above 4 requests a second, the
    /// same sequence completes without errors, and no request comes before the wait is over.
    @Test func convergesUnderSecondaryRateLimits() async throws {
        let sandbox = try GitHubSandbox(["--rate-limit", "4/s"])
        defer { sandbox.stop() }
        let github = try restConnector(definition: Products.appDefinition("github"), settings: sandbox.settings, secrets: sandbox.secrets)
        try await runLifecycle(github, sandbox)
        _ = try await github.listAll(Method.grantsList, of: Grant.self)
        await github.stop()
        let stats = try await sandbox.call("GET", "/_sandbox/stats")
        #expect((stats["rateLimited"].intValue ?? 0) > 0, "the sandbox never rate-limited: \(stats)")
        #expect(stats["earlyRetries"].intValue == 0, "requests came before Retry-After had passed: \(stats)")
    }

    @Test func listingsFollowLinkPagingAcrossSources() async throws {
        let sandbox = try GitHubSandbox(["--users", "7"])
        defer { sandbox.stop() }
        for login in ["inv-a", "inv-b"] { try await sandbox.call("PUT", "/orgs/acme/memberships/\(login)", ["role": "member"]) }
        let github = try restConnector(definition: Products.appDefinition("github"), settings: sandbox.settings, secrets: sandbox.secrets)
        var pages = 0
        var accounts: [Account] = []
        try await github.list(Method.accountsList, params: ListParams(pageSize: 3), of: Account.self) { page in
            pages += 1
            accounts += page
        }
        // 8 members in pages of 3, then one page of invitations.
        #expect(pages == 4)
        #expect(accounts.count == 10)
        #expect(accounts.filter { $0.status == .pending }.map(\.id).sorted() == ["inv-a", "inv-b"])
        #expect(Set(accounts.map(\.id)).count == 10)
        let roles = try await github.listAll(Method.entitlementsList, params: ListParams(type: "role"), of: Entitlement.self)
        #expect(roles.map(\.id) == ["admin", "member"])
        #expect(roles.map(\.rank) == [2, 1])
        let teams = try await github.listAll(Method.entitlementsList, params: ListParams(pageSize: 1, type: "team"), of: Entitlement.self)
        #expect(teams.map(\.id) == ["engineering", "platform", "security", "sales", "sales-engineering"])
        #expect(teams.map(\.name) == teams.map(\.id))
        let grants = try await github.listAll(Method.grantsList, params: ListParams(pageSize: 2, type: "role"), of: Grant.self)
        #expect(grants.filter { $0.entitlementId == "admin" }.map(\.accountId) == ["sandbox-admin"])
        // Seven members, and the two invitees with the member role they were invited with.
        #expect(grants.filter { $0.entitlementId == "member" }.count == 9)
        await github.stop()
    }

    /// Given an email address, the invitation goes by email; the sandbox knows the address as
    /// the user whose login is its local part, as GitHub does for addresses of existing users.
    @Test func invitesByEmailWhenGivenAnAddress() async throws {
        let sandbox = try GitHubSandbox()
        defer { sandbox.stop() }
        let github = try restConnector(definition: Products.appDefinition("github"), settings: sandbox.settings, secrets: sandbox.secrets)
        let created = try await github.call(Method.accountsCreate, params: AccountCreateParams(
            idempotencyKey: "k1", account: AccountSpec(userName: "cy.dee@example.com")).json, as: AccountCreateResult.self)
        #expect(created.status == .actionRequired)
        #expect(created.account?.id == "cy.dee")
        #expect(created.account?.email == "cy.dee@example.com")
        let again = try await github.call(Method.accountsCreate, params: AccountCreateParams(
            idempotencyKey: "k1", account: AccountSpec(userName: "cy.dee@example.com", email: "cy.dee@example.com")).json,
                                          as: AccountCreateResult.self)
        #expect(again.status == .alreadyExists)
        #expect(again.account?.id == "cy.dee")
        #expect(try await sandbox.state().isInvited("cy.dee"))
        await github.stop()
    }

    @Test func createOfAnExistingMemberReturnsIt() async throws {
        let sandbox = try GitHubSandbox()
        defer { sandbox.stop() }
        let github = try restConnector(definition: Products.appDefinition("github"), settings: sandbox.settings, secrets: sandbox.secrets)
        let result = try await github.call(Method.accountsCreate, params: AccountCreateParams(
            idempotencyKey: "k1", account: AccountSpec(userName: "sandbox-admin")).json, as: AccountCreateResult.self)
        #expect(result.status == .alreadyExists)
        #expect(result.account?.id == "sandbox-admin")
        #expect(result.account?.status == .active)

        let unknown = await connectorError {
            _ = try await github.call(Method.accountsCreate, params: AccountCreateParams(
                idempotencyKey: "k2", account: AccountSpec(userName: "no_such_user")).json)
        }
        #expect(unknown?.kind == .invalidArgument)
        #expect(unknown?.message.contains("there is no GitHub user named no_such_user") == true)

        // Demoting the only owner is refused the way GitHub refuses it.
        let lastOwner = await connectorError {
            _ = try await github.call(Method.grantsAdd, params: GrantChangeParams(
                idempotencyKey: "k3", accountId: "sandbox-admin", type: "role", entitlementId: "member").json)
        }
        #expect(lastOwner?.kind == .invalidArgument)
        #expect(lastOwner?.message.contains("422") == true)
        #expect(try await sandbox.state().role(of: "sandbox-admin") == "admin")
        await github.stop()
    }
}

/// Joiner, mover, tier change and leaver, each checked in the sandbox.
private func runLifecycle(_ github: SupervisedConnector, _ sandbox: GitHubSandbox) async throws {
    func add(_ login: String, _ type: String, _ id: String, key: String) async throws -> MutationResult {
        try await github.call(Method.grantsAdd, params: GrantChangeParams(idempotencyKey: key, accountId: login, type: type, entitlementId: id).json,
                              as: MutationResult.self)
    }

    // Joiner: invited to the org and added to teams; pending until accepted.
    let created = try await github.call(Method.accountsCreate, params: AccountCreateParams(
        idempotencyKey: "join-1", account: AccountSpec(userName: "octo-ann", email: "ann@example.com")).json, as: AccountCreateResult.self)
    #expect(created.status == .actionRequired)
    #expect(created.account?.id == "octo-ann")
    #expect(created.account?.status == .pending)
    #expect(created.message?.contains("invited octo-ann") == true)
    _ = try await add("octo-ann", "team", "engineering", key: "join-2")
    _ = try await add("octo-ann", "team", "platform", key: "join-3")
    var org = try await sandbox.state()
    #expect(org.isInvited("octo-ann"))
    #expect(org.role(of: "octo-ann") == nil)
    #expect(org.pendingTeams(of: "octo-ann") == ["engineering", "platform"])
    let pending = try await github.call(Method.accountsGet, params: AccountGetParams(userName: "octo-ann").json, as: AccountGetResult.self)
    #expect(pending.account?.status == .pending)
    // Creating again finds the invitation instead of failing.
    let again = try await github.call(Method.accountsCreate, params: AccountCreateParams(
        idempotencyKey: "join-1", account: AccountSpec(userName: "octo-ann")).json, as: AccountCreateResult.self)
    #expect(again.status == .alreadyExists)

    try await sandbox.call("POST", "/_sandbox/invitations/accept", ["login": "octo-ann"])
    org = try await sandbox.state()
    #expect(org.role(of: "octo-ann") == "member")
    #expect(org.teams(of: "octo-ann") == ["engineering", "platform"])
    let accounts = try await github.listAll(Method.accountsList, of: Account.self)
    #expect(accounts.first { $0.id == "octo-ann" }?.status == .active)
    let teamGrants = try await github.listAll(Method.grantsList, params: ListParams(type: "team", accountId: "octo-ann"), of: Grant.self)
    #expect(Set(teamGrants.map(\.entitlementId)) == ["engineering", "platform"])

    // Mover: leaves platform, joins security.
    let removed = try await github.call(Method.grantsRemove, params: GrantChangeParams(
        idempotencyKey: "move-1", accountId: "octo-ann", type: "team", entitlementId: "platform").json, as: MutationResult.self)
    #expect(!removed.alreadyApplied)
    _ = try await add("octo-ann", "team", "security", key: "move-2")
    let removedAgain = try await github.call(Method.grantsRemove, params: GrantChangeParams(
        idempotencyKey: "move-1", accountId: "octo-ann", type: "team", entitlementId: "platform").json, as: MutationResult.self)
    #expect(removedAgain.alreadyApplied)
    #expect(try await sandbox.state().teams(of: "octo-ann") == ["engineering", "security"])

    // Tier: promoted to owner, then downgraded admin → member.
    _ = try await add("octo-ann", "role", "admin", key: "tier-1")
    #expect(try await sandbox.state().role(of: "octo-ann") == "admin")
    let roleGrants = try await github.listAll(Method.grantsList, params: ListParams(type: "role"), of: Grant.self)
    #expect(roleGrants.contains(Grant(accountId: "octo-ann", type: "role", entitlementId: "admin")))
    _ = try await add("octo-ann", "role", "member", key: "tier-2")
    #expect(try await sandbox.state().role(of: "octo-ann") == "member")
    let badTier = await connectorError { _ = try await add("octo-ann", "role", "owner", key: "tier-3") }
    #expect(badTier?.kind == .invalidArgument)

    // Leaver: removed from the org and so from its teams; removing again changes nothing.
    let deleted = try await github.call(Method.accountsDelete, params: AccountRefParams(idempotencyKey: "leave-1", id: "octo-ann").json,
                                        as: MutationResult.self)
    #expect(!deleted.alreadyApplied)
    org = try await sandbox.state()
    #expect(org.role(of: "octo-ann") == nil)
    #expect(org.teams(of: "octo-ann").isEmpty)
    let deletedAgain = try await github.call(Method.accountsDelete, params: AccountRefParams(idempotencyKey: "leave-1", id: "octo-ann").json,
                                             as: MutationResult.self)
    #expect(deletedAgain.alreadyApplied)
    let gone = try await github.call(Method.accountsGet, params: AccountGetParams(id: "octo-ann").json, as: AccountGetResult.self)
    #expect(gone.account == nil)
}

/// Failed conformance checks, collected from the report callback.
