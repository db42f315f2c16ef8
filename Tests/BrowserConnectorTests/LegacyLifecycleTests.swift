import Foundation
import StewardHost
import StewardJSON
import StewardProtocol
import StewardTestSupport
import Testing

/// The shipped legacy recipe through the host, against the sandbox's legacy app in real
/// headless Chromium; every effect is checked in the sandbox's own state.
@Suite(.enabled(if: Chromium.testsEnabled, "Chromium is not installed and CI is unset"))
struct LegacyLifecycleTests {
    @Test func listsAccountsAcrossPages() async throws {
        try await withLegacy { sandbox, connector in
            let accounts = try await connector.listAll(Method.accountsList, of: Account.self)
            let state = try await sandbox.users()
            #expect(accounts.count == state.count)
            #expect(accounts.count > 20, "the sandbox shows 10 users a page, so this read three pages")
            let ada = try #require(accounts.first { $0.userName == "ada.lovelace" })
            #expect(ada.id == state["ada.lovelace"]?["id"].stringValue)
            #expect(ada.email == "ada.lovelace@example.com")
            #expect(ada.displayName == "Ada Lovelace")
            let disabled = Set(accounts.filter { $0.status == .disabled }.map(\.userName))
            #expect(disabled == Set(state.values.filter { $0["status"].stringValue == "disabled" }.compactMap { $0["userName"].stringValue }))
            #expect(!disabled.isEmpty)

            let byID = try await connector.call(Method.accountsGet, params: AccountGetParams(id: ada.id).json, as: AccountGetResult.self)
            #expect(byID.account == ada, "the user's own page shows what the table shows")
            let byName = try await connector.call(Method.accountsGet, params: AccountGetParams(userName: "ADA.lovelace").json, as: AccountGetResult.self)
            #expect(byName.account?.id == ada.id)
            let absent = try await connector.call(Method.accountsGet, params: AccountGetParams(id: "99999").json, as: AccountGetResult.self)
            #expect(absent.account == nil)

            let grants = try await connector.listAll(Method.grantsList, of: Grant.self)
            #expect(grants.contains(Grant(accountId: ada.id, type: "role", entitlementId: "editor")))
            #expect(grants.contains(Grant(accountId: ada.id, type: "group", entitlementId: "engineering")))

            let groups = try await connector.listAll(Method.entitlementsList, params: ListParams(type: "group"), of: Entitlement.self)
            #expect(Set(groups.map(\.id)) == ["engineering", "finance", "sales", "support"])
            let roles = try await connector.listAll(Method.entitlementsList, params: ListParams(type: "role"), of: Entitlement.self)
            #expect(roles.map(\.id) == ["admin", "editor", "viewer"])
        }
    }

    @Test func joinerMoverLeaver() async throws {
        try await withLegacy { sandbox, connector in
            // Joiner: invited through the form.
            let created = try await connector.call(Method.accountsCreate, params: AccountCreateParams(
                idempotencyKey: "k1", account: AccountSpec(userName: "joan.clarke", email: "joan@example.com", displayName: "Joan Clarke")).json,
                as: AccountCreateResult.self)
            #expect(created.status == .created)
            var joan = try await sandbox.user("joan.clarke")
            #expect(joan["status"].stringValue == "invited")
            #expect(joan["email"].stringValue == "joan@example.com")
            let id = try #require(joan["id"].stringValue)
            #expect(created.account?.id == id)

            // Inviting again is already done.
            let again = try await connector.call(Method.accountsCreate, params: AccountCreateParams(
                idempotencyKey: "k2", account: AccountSpec(userName: "joan.clarke")).json, as: AccountCreateResult.self)
            #expect(again.status == .alreadyExists)

            // Mover: a role tier and groups.
            _ = try await connector.call(Method.grantsAdd, params: GrantChangeParams(idempotencyKey: "k3", accountId: id, type: "role", entitlementId: "admin").json)
            _ = try await connector.call(Method.grantsAdd, params: GrantChangeParams(idempotencyKey: "k4", accountId: id, type: "group", entitlementId: "finance").json)
            _ = try await connector.call(Method.grantsAdd, params: GrantChangeParams(idempotencyKey: "k5", accountId: id, type: "group", entitlementId: "sales").json)
            joan = try await sandbox.user("joan.clarke")
            #expect(joan["role"].stringValue == "admin")
            #expect(joan["groups"] == ["finance", "sales"])
            let repeated = try await connector.call(Method.grantsAdd, params: GrantChangeParams(idempotencyKey: "k6", accountId: id, type: "group", entitlementId: "sales").json,
                                                    as: MutationResult.self)
            #expect(repeated.alreadyApplied)
            _ = try await connector.call(Method.grantsRemove, params: GrantChangeParams(idempotencyKey: "k7", accountId: id, type: "group", entitlementId: "finance").json)
            joan = try await sandbox.user("joan.clarke")
            #expect(joan["groups"] == ["sales"])
            #expect(joan["role"].stringValue == "admin", "saving the groups kept the role")

            // Leaver: deactivated through the confirmation dialog, then reactivated.
            let disabled = try await connector.call(Method.accountsDisable, params: AccountRefParams(idempotencyKey: "k8", id: id).json, as: MutationResult.self)
            #expect(!disabled.alreadyApplied)
            #expect(try await sandbox.user("joan.clarke")["status"].stringValue == "disabled")
            let twice = try await connector.call(Method.accountsDisable, params: AccountRefParams(idempotencyKey: "k9", id: id).json, as: MutationResult.self)
            #expect(twice.alreadyApplied)
            _ = try await connector.call(Method.accountsEnable, params: AccountRefParams(idempotencyKey: "k10", id: id).json)
            #expect(try await sandbox.user("joan.clarke")["status"].stringValue == "active")

            // Delete, also behind a confirmation.
            _ = try await connector.call(Method.accountsDelete, params: AccountRefParams(idempotencyKey: "k11", id: id).json)
            #expect(try await sandbox.user("joan.clarke").isNull)

            // A user that does not exist is notFound, and nothing was applied.
            let missing = await connectorError {
                _ = try await connector.call(Method.accountsDisable, params: AccountRefParams(idempotencyKey: "k12", id: "99999").json)
            }
            #expect(missing?.kind == .notFound)
            #expect(missing?.outcome == .notApplied)
        }
    }

    @Test func signsInAgainWhenTheSessionExpires() async throws {
        try await withLegacy { sandbox, connector in
            let first = try await connector.listAll(Method.accountsList, of: Account.self)
            let expired = try await sandbox.call("POST", "/_sandbox/expire-sessions")
            #expect(expired["expired"].intValue == 1, "one session: the connector reused it for the listing")
            let leaver = try #require(first.first { $0.status == .active })
            _ = try await connector.call(Method.accountsDisable, params: AccountRefParams(idempotencyKey: "k1", id: leaver.id).json)
            #expect(try await sandbox.user(leaver.userName)["status"].stringValue == "disabled")
        }
    }
}
