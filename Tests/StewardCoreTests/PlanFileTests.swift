import Foundation
import StewardCore
import StewardProtocol
import Testing

@Suite("Plan file and rendering")
struct PlanFileTests {
    /// A plan touching every kind of action: joiner, mover, tier change, leaver, deletion,
    /// exception, update, observe mode, an orphan finding and a tripped rail.
    func busyPlan() throws -> Plan {
        var bob = World.bob
        bob.department = "Sales"
        var ada = World.ada
        ada.title = "Engineer"
        var cy = World.cy
        cy.status = .terminated
        let eve = World.person("E5", "Eve", "Sales", "Account Executive")
        var config = try World.config()
        config.exceptions = [AccessException(id: "CHG-7", personId: "E5", app: "crm", entitlements: [EntitlementName(type: "group", name: "finance")],
                                             until: CalendarDay(iso: "2026-04-01"))]
        var dee = World.account("c4", for: World.dee, status: .active)
        dee.attributes = ["title": "Intern"]
        let crm = World.crm([(World.account("c1", for: ada), ["r-admin", "g-eng"]),
                             (World.account("c2", for: bob), ["r-viewer", "g-eng"]),
                             (World.account("c3", for: cy), ["r-user", "g-sales"]),
                             (dee, ["r-viewer"]),
                             (World.account("c6", for: World.person("E6", "Old", "Sales", "Rep"), status: .disabled), []),
                             (Account(id: "c7", userName: "svc-backup"), [])],
                            disabledSince: ["c6": World.today.adding(days: -40)])
        let lifecycle = LifecycleChanges(joined: [eve], moved: [Move(person: bob, changes: [AttributeChange(attribute: "department", before: "Engineering", after: "Sales")])],
                                         left: [Departure(person: cy, reason: .terminated)], previousCount: 5, currentCount: 5)
        var plan = try World.plan(people: [ada, bob, cy, World.dee, eve], crm: crm, config: config, lifecycle: lifecycle,
                                  former: [World.person("E6", "Old", "Sales", "Rep")]).plan
        plan.journalHead = "sha256:ab12"
        return plan
    }

    @Test func theTextGroupsByPersonAndAppWithCausesAndRules() throws {
        let text = PlanRenderer.text(try busyPlan())
        let expected = [
            "Plan computed 2026-03-05T09:00:00Z against journal head sha256:ab12: ",
            "E1 Ada Test <ada@example.com>\n  crm: account ada@example.com (c1)\n    ~ role Admin → Viewer",
            "E2 Bob Test <bob@example.com> (mover)\n  crm: account bob@example.com (c2)\n    - group engineering",
            "    ~ role Viewer → User                    mover · role sales-rep (policy sales)\n",
            "    + group sales                           mover · role sales-rep (policy sales)\n",
            "E3 Cy Test <cy@example.com> (leaver)\n  crm: account cy@example.com (c3)\n    - disable account                       leaver · left (terminated)\n",
            "  wiki [observe]: account cy@example.com (w3)\n    - disable account",
            "    ~ update title \"Intern\" → \"Analyst\"     drift · HR record\n",
            "E5 Eve Test <eve@example.com> (joiner)\n  crm: new account eve@example.com\n    + create account                        joiner · policy everyone-crm, role sales-rep (policy sales), exception CHG-7 until 2026-04-01\n",
            "    + group finance                         joiner · exception CHG-7 until 2026-04-01\n",
            "E6 Old Test <old@example.com> (leaver)\n  crm: account old@example.com (c6)\n    - delete account (disabled 40 days)     leaver · left (gone from the HR feed)\n",
            "Findings:\n  info: crm: account svc-backup (c7, active) is linked to nobody",
        ]
        for fragment in expected {
            #expect(text.contains(fragment), "missing:\n\(fragment)\nin:\n\(text)")
        }
    }

    @Test func aPlanFileReadsBackToTheSamePlan() throws {
        let plan = try busyPlan()
        let text = JSONWriter.string(plan.json)
        let reread = try Plan(json: JSONParser.parse(text))
        #expect(reread == plan)
        #expect(reread.journalHead == "sha256:ab12")
        #expect(PlanRenderer.text(reread) == PlanRenderer.text(plan))
        #expect(plan.json["actions"].arrayValue?.first?["key"].stringValue == plan.actions[0].key)
        // The streamed file form is the same document.
        #expect(try JSONParser.parse(plan.jsonBytes()) == plan.json)
        #expect(try Plan(json: JSONParser.parse(plan.jsonBytes())) == plan)
    }

    @Test func blockedPlansSayWhyAndReadBackBlocked() throws {
        var plan = try busyPlan()
        plan.rails = [RailViolation(rail: .massDeprovision, app: "crm", count: 2, total: 6, limitPercent: 10)]
        let reread = try Plan(json: JSONParser.parse(JSONWriter.string(plan.json)))
        #expect(reread.isBlocked && reread.executableActions.isEmpty)
        #expect(plan.json["blocked"] == true)
        #expect(PlanRenderer.text(reread).contains("! crm: the plan would disable or delete 2 of 6 accounts (33.3%); the limit is 10% (deprovision.maxPercent)"))
    }

    @Test func actionKeysAreUniqueWithinAPlan() throws {
        let plan = try busyPlan()
        #expect(Set(plan.actions.map(\.key)).count == plan.actions.count)
    }

    @Test func badPlanFilesAreRefusedWithThePath() throws {
        var json = try busyPlan().json
        guard case .object(var root) = json, case .array(var actions) = root["actions"], case .object(var first) = actions[0] else {
            Issue.record("unexpected shape")
            return
        }
        first["op"] = "teleport"
        actions[0] = .object(first)
        root["actions"] = .array(actions)
        json = .object(root)
        let error = #expect(throws: PlanFormatError.self) { try Plan(json: json) }
        #expect(error?.message == "actions[0].op: unknown operation \"teleport\"")
        #expect(throws: PlanFormatError.self) { try Plan(json: ["format": "something-else", "version": 1]) }
        #expect(throws: PlanFormatError.self) { try Plan(json: ["format": "steward-plan", "version": 99, "computedAt": "x"]) }
    }

    @Test func anEmptyPlanSaysSo() throws {
        #expect(PlanRenderer.text(try World.plan().plan).contains("no changes; every app matches the desired state."))
    }
}
