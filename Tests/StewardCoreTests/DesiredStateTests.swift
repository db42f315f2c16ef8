import StewardCore
import StewardProtocol
import Testing

@Suite("Desired state")
struct DesiredStateTests {
    func desired(_ people: [Person] = World.everyone, config: GovernanceConfig? = nil, former: [Person] = []) throws -> DesiredState {
        let directory = PersonDirectory(current: people, former: former, today: World.today)
        return DesiredState(config: try config ?? World.config(), directory: directory,
                            inventories: [World.crm([]), World.wiki([])], today: World.today)
    }

    func names(_ state: DesiredState, _ person: String, _ app: String) -> [String]? {
        state.desiredAccess(ofPerson: person).first { $0.app == app }.map { $0.entitlements.map { "\($0.entitlement.type):\($0.entitlement.name)" } }
    }

    @Test func aLeadEngineerGetsTheMostPrivilegedTierAndTheirGroups() throws {
        let state = try desired()
        #expect(names(state, "E1", "crm") == ["role:Admin", "group:engineering"])
        #expect(names(state, "E2", "crm") == ["role:Viewer", "group:engineering"])
        #expect(names(state, "E3", "crm") == ["role:User", "group:sales"])
        #expect(names(state, "E4", "crm") == ["role:Viewer"])
        #expect(names(state, "E4", "wiki") == ["group:staff"])
    }

    @Test func everyGrantCarriesTheRulesBehindIt() throws {
        let access = try desired().desiredAccess(ofPerson: "E3")
        let crm = try #require(access.first { $0.app == "crm" })
        #expect(crm.account == [.policy("everyone-crm"), .role("sales-rep", policy: "sales")])
        #expect(crm.entitlements.first { $0.entitlement.name == "sales" }?.justifications == [.role("sales-rep", policy: "sales")])
        #expect(crm.entitlements.first { $0.entitlement.name == "User" }?.justifications == [.role("sales-rep", policy: "sales")])
    }

    @Test func aPinnedTierWinsOverAMorePrivilegedOne() throws {
        var text = World.configText
        text = text.replacingOccurrences(of: "policies: [", with: """
        policies: [
            { id: "contractors", when: { employmentType: ["Contractor"] }, grant: [ { app: "crm", entitlements: ["role:Viewer"], pin: true } ] },
        """)
        var contractor = World.ada
        contractor.employmentType = "contractor"
        let state = try desired([contractor], config: World.config(text))
        #expect(names(state, "E1", "crm") == ["role:Viewer", "group:engineering"])
    }

    @Test func leaversAndPendingPeopleDesireNothingUnlessAPolicyAsksForPending() throws {
        var gone = World.cy
        gone.status = .terminated
        let starter = World.person("E5", "Eve", "Sales", "Rep", status: .pending)
        let state = try desired([gone, starter], former: [World.dee])
        #expect(state.desiredAccess(ofPerson: "E3").isEmpty)
        #expect(state.desiredAccess(ofPerson: "E4").isEmpty)
        #expect(state.desiredAccess(ofPerson: "E5").isEmpty)

        let prehire = World.configText.replacingOccurrences(of: "policies: [", with: """
        policies: [
            { id: "prehire", when: { status: ["pending", "active"] }, grant: [ { app: "wiki", entitlements: [] } ] },
        """)
        let early = try desired([starter], config: World.config(prehire))
        #expect(early.desiredAccess(ofPerson: "E5").map(\.app) == ["wiki"])
    }

    @Test func exceptionsAddAccessUntilTheirDay() throws {
        var config = try World.config()
        config.exceptions = [
            AccessException(id: "CHG-1", personId: "E4", app: "crm", entitlements: [EntitlementName(type: "group", name: "finance")],
                            until: CalendarDay(iso: "2026-03-05")),
            AccessException(id: "CHG-0", personId: "E2", app: "crm", entitlements: [EntitlementName(type: "group", name: "finance")],
                            until: CalendarDay(iso: "2026-03-04")),
            AccessException(id: "CHG-2", personId: "E42", app: "crm", entitlements: []),
        ]
        let state = try desired(config: config)
        #expect(names(state, "E4", "crm") == ["role:Viewer", "group:finance"])
        let finance = state.desiredAccess(ofPerson: "E4").first?.entitlements.last
        #expect(finance?.justifications == [.exception("CHG-1", until: CalendarDay(iso: "2026-03-05"))])
        #expect(names(state, "E2", "crm") == ["role:Viewer", "group:engineering"])
        #expect(state.findings.map(\.kind) == [.expiredException, .unknownPerson])
    }

    @Test func unknownEntitlementNamesAreFindingsNotCrashes() throws {
        let text = World.configText.replacingOccurrences(of: "[\"group:engineering\"]", with: "[\"group:engineering\", \"group:platform\"]")
        let state = try desired(config: World.config(text))
        #expect(names(state, "E2", "crm") == ["role:Viewer", "group:engineering"])
        let finding = try #require(state.findings.first)
        #expect(finding.kind == .unknownEntitlement && finding.severity == .error)
        #expect(finding.message.contains("group:platform") && finding.message.contains("role engineer"))
    }

    @Test func peopleWhoLookAlikeShareOneEvaluation() throws {
        let many = (0..<1000).map { World.person("P\($0)", "P\($0)", $0 % 2 == 0 ? "Sales" : "Engineering", "Rep") }
        #expect(try desired(many).profileCount == 2)
    }
}
