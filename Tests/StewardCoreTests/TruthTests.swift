import Foundation
import StewardCore
import StewardProtocol
import Testing

/// The pure rules behind "apply tells the truth": what a read-back must show for each
/// operation, and why a rule naming an unknown entitlement stops the whole plan.
@Suite("Verification and rule errors")
struct TruthTests {
    let admin = EntitlementRef(type: "role", id: "r-admin", name: "Admin")
    let viewer = EntitlementRef(type: "role", id: "r-viewer", name: "Viewer")
    let sales = EntitlementRef(type: "group", id: "g-sales", name: "sales")

    func readback(status: AccountStatus = .active, email: String? = "a@example.com", grants: [(String, String)]? = []) -> AccountReadback {
        AccountReadback(account: Account(id: "a1", userName: "a", email: email, status: status),
                        grants: grants?.map { Grant(accountId: "a1", type: $0.0, entitlementId: $0.1) })
    }

    @Test func eachOperationIsCheckedAgainstWhatTheAppShows() {
        let gone = AccountReadback(account: nil, grants: nil)
        #expect(PlanOperation.disableAccount.verdict(on: readback(status: .disabled), accountId: "a1") == .visible)
        #expect(PlanOperation.disableAccount.verdict(on: readback(), accountId: "a1") == .notVisible("the account is active"))
        #expect(PlanOperation.enableAccount.verdict(on: readback(), accountId: "a1") == .visible)
        #expect(PlanOperation.deleteAccount(disabledDays: 31).verdict(on: gone, accountId: "a1") == .visible)
        #expect(!PlanOperation.deleteAccount(disabledDays: 31).verdict(on: readback(), accountId: "a1").isVisible)
        #expect(PlanOperation.createAccount(AccountSpec(userName: "a")).verdict(on: readback(), accountId: "a1") == .visible)
        #expect(!PlanOperation.createAccount(AccountSpec(userName: "a")).verdict(on: gone, accountId: "a1").isVisible)

        #expect(PlanOperation.grant(sales).verdict(on: readback(grants: [("group", "g-sales")]), accountId: "a1") == .visible)
        #expect(!PlanOperation.grant(sales).verdict(on: readback(grants: []), accountId: "a1").isVisible)
        #expect(PlanOperation.revoke(sales).verdict(on: readback(grants: []), accountId: "a1") == .visible)
        #expect(PlanOperation.revoke(sales).verdict(on: readback(grants: [("group", "g-sales")]), accountId: "a1")
                == .notVisible("the account still holds group sales"))
        // A tier change shows only when the new tier is held and the old one is gone.
        let tier = PlanOperation.changeTier(from: admin, to: viewer)
        #expect(tier.verdict(on: readback(grants: [("role", "r-viewer")]), accountId: "a1") == .visible)
        #expect(!tier.verdict(on: readback(grants: [("role", "r-viewer"), ("role", "r-admin")]), accountId: "a1").isVisible)
        #expect(!tier.verdict(on: readback(grants: [("role", "r-admin")]), accountId: "a1").isVisible)
    }

    /// Nothing is taken on trust: grants that could not be read are not "not held".
    @Test func anUnreadableGrantListIsNeverAVerifiedRevoke() {
        let verdict = PlanOperation.revoke(sales).verdict(on: readback(grants: nil), accountId: "a1")
        #expect(verdict == .notVisible("the app's grants could not be read"))
    }

    @Test func updatesCompareEachAttributeAndEmailIgnoringCase() {
        let op = PlanOperation.updateAccount([AttributeChange(attribute: "email", before: "old@example.com", after: "New@Example.com")])
        #expect(op.verdict(on: readback(email: "new@example.com"), accountId: "a1") == .visible)
        #expect(op.verdict(on: readback(email: "old@example.com"), accountId: "a1") == .notVisible(#"email is "old@example.com""#))
        #expect(op.verdict(on: readback(email: nil), accountId: "a1") == .notVisible("email is not shown"))
    }

    @Test func anUnknownRoleIsAnErrorWithItsPlaceAndTheLikelyFix() throws {
        let text = World.configText.replacingOccurrences(of: #"entitlements: ["role:Admin"]"#, with: #"entitlements: ["role:Superuser"]"#)
        let result = try World.plan(config: World.config(text))
        let plan = result.plan
        #expect(plan.hasErrors)
        #expect(plan.executableActions.isEmpty, "a plan with an error finding runs nothing")
        let error = try #require(plan.errors.first)
        #expect(error.kind == .unknownEntitlement && error.app == "crm")
        #expect(error.configPaths == ["policies[4].grant[0].entitlements[0]"])
        #expect(error.message.contains("crm has no role:Superuser (named by policy eng-leads)"), "\(error.message)")
        #expect(error.message.contains("did you mean role:Admin? known: Admin, User, Viewer"), "\(error.message)")
        // The JSON plan carries the path, so `steward apply plan.json` can refuse it the same way.
        #expect(try Plan(json: plan.json).errors.first?.configPaths == error.configPaths)
    }

    @Test func aMisspelledTypeOrValueSuggestsTheClosestKnownOne() throws {
        let typeTypo = try World.plan(config: World.config(World.configText.replacingOccurrences(of: #""group:sales""#, with: #""groop:sales""#))).plan
        #expect(typeTypo.errors.first?.message.contains("there is no entitlement type \"groop\" in crm; did you mean group:sales? known types: group, license, role") == true,
                "\(typeTypo.errors.map(\.message))")
        let valueTypo = try World.plan(config: World.config(World.configText.replacingOccurrences(of: #""group:sales""#, with: #""group:sals""#))).plan
        let message = try #require(valueTypo.errors.first?.message)
        #expect(message.contains("did you mean group:sales?"), "\(message)")
        #expect(valueTypo.errors.first?.configPaths == ["roles.sales-rep[0].entitlements[1]"])
    }

    /// Moving a rule within the file changes no access, so it is not a policy change.
    @Test func whereARuleIsWrittenIsNotPartOfItsMeaning() throws {
        let a = GrantRule(app: "crm", entitlements: [EntitlementName(type: "role", name: "Admin")], source: RuleSource("policies[0].grant[0]"))
        let b = GrantRule(app: "crm", entitlements: [EntitlementName(type: "role", name: "Admin")], source: RuleSource("policies[3].grant[0]"))
        #expect(a == b && a.hashValue == b.hashValue)
    }

    @Test func aPendingPersonWhoseStartDateArrivesHasStarted() {
        var dee = World.person("E4", "Dee", "Finance", "Analyst", status: .pending)
        dee.startDate = "2026-03-05"
        let before = HRSnapshot(people: [dee], takenAt: World.now.addingTimeInterval(-2 * 86_400))
        let after = HRSnapshot(people: [dee], takenAt: World.now)
        let changes = LifecycleChanges.between(before, after)
        #expect(changes.started.map(\.id) == ["E4"])
        #expect(changes.joined.isEmpty && changes.moved.isEmpty)
        #expect(!changes.isEmpty)
    }
}
