import Foundation
import StewardCore
import StewardProtocol
import Testing

@Suite("Plans")
struct PlannerTests {
    @Test func aConvergedWorldNeedsNothing() throws {
        let plan = try World.plan().plan
        #expect(plan.actions.isEmpty)
        #expect(plan.findings.isEmpty)
        #expect(!plan.isBlocked)
        #expect(plan.apps.map(\.linked) == [4, 4])
    }

    @Test func aJoinerGetsAnAccountThenTheirTierAndGroups() throws {
        let eve = World.person("E5", "Eve", "Sales", "Account Executive")
        let lifecycle = LifecycleChanges(joined: [eve], previousCount: 4, currentCount: 5)
        let plan = try World.plan(people: World.everyone + [eve], lifecycle: lifecycle).plan
        #expect(plan.steps(app: "crm", person: "E5") == ["create eve@example.com", "grant role:User", "grant group:sales"])
        let actions = plan.actions(app: "crm", person: "E5")
        #expect(actions.allSatisfy { $0.cause == .joiner && $0.changeSet == "crm/E5" && $0.accountId == nil && !$0.observeOnly })
        #expect(actions[2].justifications == [.role("sales-rep", policy: "sales")])
        guard case .createAccount(let spec) = actions[0].operation else { Issue.record("not a create"); return }
        #expect(spec.employeeNumber == "E5" && spec.externalId == "E5" && spec.displayName == "Eve Test" && spec.department == "Sales")
        #expect(plan.steps(app: "wiki", person: "E5") == ["create eve@example.com", "grant group:staff"])
        #expect(plan.people["E5"]?.event == .joiner)
    }

    @Test func anEngineeringToSalesMoverSwapsGroupsInOneChangeSet() throws {
        var bob = World.bob
        bob.department = "Sales"
        let lifecycle = LifecycleChanges(moved: [Move(person: bob, changes: [AttributeChange(attribute: "department", before: "Engineering", after: "Sales")])])
        let plan = try World.plan(people: [World.ada, bob, World.cy, World.dee], lifecycle: lifecycle).plan
        #expect(plan.steps(app: "crm", person: "E2") == ["revoke group:engineering", "tier Viewer>User", "grant group:sales"])
        let actions = plan.actions(app: "crm", person: "E2")
        #expect(Set(actions.map(\.changeSet)) == ["crm/E2"])
        #expect(actions.allSatisfy { $0.cause == .mover && $0.accountId == "c2" })
        #expect(actions[0].justifications == [.notGranted])
        #expect(plan.actions.count == 3)
    }

    @Test func aTitleChangeDowngradesAdminToViewer() throws {
        var ada = World.ada
        ada.title = "Engineer"
        let lifecycle = LifecycleChanges(moved: [Move(person: ada, changes: [AttributeChange(attribute: "title", before: "Lead Engineer", after: "Engineer")])])
        let plan = try World.plan(people: [ada, World.bob, World.cy, World.dee], lifecycle: lifecycle).plan
        #expect(plan.steps(app: "crm") == ["tier Admin>Viewer"])
        #expect(plan.actions.first?.justifications == [.policy("everyone-crm")])
        #expect(PlanRenderer.describe(try #require(plan.actions.first).operation) == "~ role Admin → Viewer")
    }

    /// The leaver loses every account, including one IT never created that matches by email; it
    /// is deleted once the grace period after disabling has passed.
    @Test func aLeaverIsDisabledEverywhereThenDeletedAfterTheGracePeriod() throws {
        var cy = World.cy
        cy.status = .terminated
        let shadow = Account(id: "c9", userName: "cy.sales", email: "CY@example.com")
        let crm = World.crm(World.convergedCRM() + [(shadow, ["g-sales"])])
        let lifecycle = LifecycleChanges(left: [Departure(person: cy, reason: .terminated)], previousCount: 4, currentCount: 4)
        let first = try World.plan(people: [World.ada, World.bob, cy, World.dee], crm: crm, lifecycle: lifecycle).plan
        #expect(first.steps(app: "crm") == ["disable", "disable"])
        #expect(Set(first.actions(app: "crm").compactMap(\.accountId)) == ["c3", "c9"])
        #expect(first.actions(app: "crm").allSatisfy { $0.justifications == [.personLeft(.terminated)] })
        #expect(first.steps(app: "wiki") == ["disable"])
        #expect(first.actions.allSatisfy { $0.cause == .leaver && $0.personId == "E3" })
        // Two accounts for one person is still worth a human's look.
        #expect(first.findings.map(\.kind) == [.conflict])

        // 31 days after the disable, past the 30-day grace period: delete.
        let disabledDay = World.today.adding(days: -31)
        let later = try World.plan(people: [World.ada, World.bob, cy, World.dee],
                                   crm: World.crm([(World.account("c3", for: cy, status: .disabled), ["r-user", "g-sales"])] +
                                                  World.convergedCRM().filter { $0.0.id != "c3" },
                                                  disabledSince: ["c3": disabledDay])).plan
        #expect(later.steps(app: "crm") == ["delete 31"])
        #expect(PlanRenderer.describe(try #require(later.actions(app: "crm").first).operation) == "- delete account (disabled 31 days)")

        // Within the grace period nothing happens.
        let early = try World.plan(people: [World.ada, World.bob, cy, World.dee],
                                   crm: World.crm([(World.account("c3", for: cy, status: .disabled), [])] + World.convergedCRM().filter { $0.0.id != "c3" },
                                                  disabledSince: ["c3": World.today.adding(days: -3)])).plan
        #expect(early.steps(app: "crm").isEmpty)
    }

    @Test func aRehireGetsTheirDisabledAccountBack() throws {
        let crm = World.crm(World.convergedCRM().dropLast() + [(World.account("c4", for: World.dee, status: .disabled), [])])
        let lifecycle = LifecycleChanges(rehired: [World.dee])
        let plan = try World.plan(crm: crm, lifecycle: lifecycle).plan
        #expect(plan.steps(app: "crm") == ["enable", "grant role:Viewer"])
        #expect(plan.actions.allSatisfy { $0.cause == .rehire && $0.accountId == "c4" })
    }

    @Test func peopleGoneFromTheFeedLoseTheirAccounts() throws {
        let result = try World.plan(people: [World.ada, World.bob, World.cy], former: [World.dee])
        #expect(result.plan.steps(app: "crm") == ["disable"])
        #expect(result.plan.actions(app: "crm").first?.justifications == [.personLeft(.goneFromFeed)])
    }

    @Test func observeModeActionsAreShownButNeverExecutable() throws {
        let eve = World.person("E5", "Eve", "Sales", "Account Executive")
        let plan = try World.plan(people: World.everyone + [eve]).plan
        let wiki = plan.actions(app: "wiki")
        #expect(!wiki.isEmpty && wiki.allSatisfy(\.observeOnly))
        #expect(plan.executableActions.allSatisfy { $0.app == "crm" })
        #expect(plan.executableActions.count == plan.actions(app: "crm").count)
        #expect(PlanRenderer.text(plan).contains("wiki [observe]: new account eve@example.com"))
    }

    @Test func accessNobodyJustifiesIsRevokedButUnmanagedTypesAreLeftAlone() throws {
        let crm = World.crm([(World.account("c1", for: World.ada), ["r-admin", "g-eng", "g-fin", "l-pro"])] + World.convergedCRM().dropFirst())
        let plan = try World.plan(crm: crm).plan
        #expect(plan.steps(app: "crm") == ["revoke group:finance"])
        #expect(plan.actions.first?.cause == .drift)
    }

    @Test func aDisabledAccountOfSomeoneEntitledIsEnabledAndHRAttributesAreKept() throws {
        var account = World.account("c4", for: World.dee, status: .disabled)
        account.displayName = "Dee Old"
        account.attributes = ["title": "Intern"]
        let crm = World.crm(World.convergedCRM().dropLast() + [(account, ["r-viewer"])])
        let plan = try World.plan(crm: crm).plan
        #expect(plan.steps(app: "crm") == ["enable", "update displayName,title"])
        guard case .updateAccount(let changes) = plan.actions[1].operation else { Issue.record("no update"); return }
        #expect(changes == [AttributeChange(attribute: "displayName", before: "Dee Old", after: "Dee Test"),
                            AttributeChange(attribute: "title", before: "Intern", after: "Analyst")])
    }

    @Test func someoneWhoLostTheAppHasAccessRemovedThenTheAccountDisabled() throws {
        let text = World.configText.replacingOccurrences(of: #"{ id: "everyone-crm", when: {}"#, with: #"{ id: "everyone-crm", when: { department: { not: ["Finance"] } }"#)
        let config = try World.config(text)
        let plan = try World.plan(config: config, previousConfig: World.config()).plan
        #expect(plan.steps(app: "crm", person: "E4") == ["revoke role:Viewer", "disable"])
        #expect(plan.actions(app: "crm", person: "E4").allSatisfy { $0.cause == .policyChange })
    }

    @Test func driftIsToldApartFromPolicyChanges() throws {
        let crm = World.crm(World.convergedCRM().dropLast() + [(World.account("c4", for: World.dee), [])])
        let plan = try World.plan(crm: crm, previousConfig: World.config()).plan
        #expect(plan.steps(app: "crm") == ["grant role:Viewer"])
        #expect(plan.actions.first?.cause == .drift)
    }

    @Test func conflictedPeopleGetNoThirdAccount() throws {
        let twin = Account(id: "c8", userName: "dee.other", email: "dee@example.com")
        let crm = World.crm(World.convergedCRM() + [(twin, [])])
        let plan = try World.plan(crm: crm).plan
        #expect(plan.steps(app: "crm").isEmpty)
        #expect(plan.findings.map(\.kind) == [.conflict])
    }

    @Test func orphansAreReportedByDefaultAndDisabledWhenAsked() throws {
        let orphan = Account(id: "c7", userName: "svc-backup")
        let crm = World.crm(World.convergedCRM() + [(orphan, ["g-fin"])])
        let reported = try World.plan(crm: crm).plan
        #expect(reported.actions.isEmpty)
        #expect(reported.findings.map(\.kind) == [.orphan])
        #expect(reported.apps.first?.orphans == 1)

        var config = try World.config()
        config.apps[0].orphans = .disable
        let disabled = try World.plan(crm: crm, config: config).plan
        #expect(disabled.steps(app: "crm") == ["disable"])
        #expect(disabled.actions.first?.cause == .orphan)
        #expect(disabled.actions.first?.changeSet == "crm/account:c7")
    }

    @Test func operationsTheConnectorLacksBecomeFindings() throws {
        let eve = World.person("E5", "Eve", "Sales", "Account Executive")
        let crm = World.crm(World.convergedCRM(), operations: [.list, .disable])
        let plan = try World.plan(people: World.everyone + [eve], crm: crm).plan
        #expect(plan.steps(app: "crm").isEmpty)
        #expect(plan.findings.contains { $0.kind == .unsupported && $0.message.contains("accounts/create") })
    }

    @Test func anAppWithoutSyncedStateIsReportedAndSkipped() throws {
        let request = PlanRequest(config: try World.config(), people: World.everyone, inventories: [World.crm(World.convergedCRM())], now: World.now)
        let plan = Planner.makePlan(request).plan
        #expect(plan.findings.map(\.kind) == [.missingInventory])
        #expect(plan.actions.isEmpty)
    }
}

@Suite("Safety rails")
struct SafetyRailTests {
    @Test func aFeedMissingNinetyPercentOfPeopleIsBlocked() throws {
        let people = (0..<100).map { World.person("P\($0)", "P\($0)", "Sales", "Rep") }
        let crm = World.crm(people.enumerated().map { (World.account("c\($0.offset)", for: $0.element), ["r-user", "g-sales"]) })
        let wiki = World.wiki(people.enumerated().map { (World.account("w\($0.offset)", for: $0.element), ["w-staff"]) })
        let survivors = Array(people.prefix(10))
        let lifecycle = LifecycleChanges.between(HRSnapshot(people: people, takenAt: World.now.addingTimeInterval(-86_400)),
                                                 HRSnapshot(people: survivors, takenAt: World.now))
        let result = try World.plan(people: survivors, crm: crm, wiki: wiki, lifecycle: lifecycle, former: people)
        let plan = result.plan
        #expect(plan.isBlocked)
        #expect(plan.executableActions.isEmpty)
        #expect(plan.actions(app: "crm").count == 90)
        let rails = plan.rails.map { "\($0.rail.rawValue) \($0.app ?? "-") \($0.count)/\($0.total)" }
        #expect(rails == ["sourceShrink - 90/100", "massDeprovision crm 90/100"])
        #expect(plan.rails[0].message.contains("90 of 100 people (90%)"))
        #expect(PlanRenderer.text(plan).contains("BLOCKED by safety rails"))

        let allowed = try World.plan(people: survivors, crm: crm, wiki: wiki, lifecycle: lifecycle, former: people, allowMassDeprovision: true).plan
        #expect(!allowed.isBlocked)
        #expect(allowed.executableActions.count == 90)
    }

    @Test func oneLeaverNeverTripsTheRailButAShareAboveTheLimitDoes() {
        let crm = AppSettings(id: "crm", deprovision: DeprovisionSettings(maxPercent: 10))
        func disable(_ n: Int) -> [PlanAction] {
            (0..<n).map { PlanAction(app: "crm", personId: "P\($0)", accountId: "a\($0)", accountName: nil, operation: .disableAccount,
                                     cause: .leaver, justifications: [], changeSet: "crm/P\($0)", observeOnly: false) }
        }
        #expect(SafetyRails.violations(actions: disable(1), apps: [(crm, 3)], lifecycle: nil, source: SourceSettings()).isEmpty)
        #expect(SafetyRails.violations(actions: disable(10), apps: [(crm, 100)], lifecycle: nil, source: SourceSettings()).isEmpty)
        #expect(SafetyRails.violations(actions: disable(11), apps: [(crm, 100)], lifecycle: nil, source: SourceSettings()).map(\.count) == [11])
        let observed = disable(50).map { action -> PlanAction in
            var a = action
            a.observeOnly = true
            return a
        }
        #expect(SafetyRails.violations(actions: observed, apps: [(crm, 100)], lifecycle: nil, source: SourceSettings()).isEmpty)
    }
}
