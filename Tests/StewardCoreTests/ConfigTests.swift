import StewardCore
import StewardProtocol
import Testing

@Suite("Config: policies, roles, exceptions and app settings")
struct ConfigTests {
    @Test func readsTheIssueExample() throws {
        let config = try World.config()
        #expect(config.apps.map(\.id) == ["crm", "wiki"])
        let crm = try #require(config.app("crm"))
        #expect(crm.mode == .enforce)
        #expect(crm.correlate == [.employeeNumber, .email, .userName])
        #expect(crm.deprovision == DeprovisionSettings(action: .disable, deleteAfterDays: 30, maxPercent: 50))
        #expect(config.app("wiki")?.mode == .observe)
        #expect(config.app("wiki")?.correlate == CorrelationRule.defaultOrder)
        #expect(config.role(named: "sales-rep")?.grants == [GrantRule(app: "crm", entitlements: [
            EntitlementName(type: "role", name: "User"), EntitlementName(type: "group", name: "sales")])])
        let leads = try #require(config.policies.first { $0.id == "eng-leads" })
        #expect(leads.when.clauses.count == 2)
        #expect(config.source.maxShrinkPercent == 20)
    }

    @Test func readsExceptionsPinsAndSourceRail() throws {
        let config = try World.config("""
        { apps: [{ id: "crm", orphans: "disable", manage: ["group"], userName: "emailLocalPart", updateAttributes: ["title"] }],
          policies: [{ id: "contractors", when: { employmentType: "Contractor" },
                       grant: [{ app: "crm", entitlements: ["role:Viewer"], pin: true }] }],
          exceptions: [{ id: "CHG-1", person: "E1", app: "crm", entitlements: ["group:finance"], until: "2026-06-30",
                         reason: "quarter close", approvedBy: "cfo@example.com" }],
          source: { maxShrinkPercent: 5 } }
        """)
        #expect(config.policies[0].grants[0].pin)
        #expect(config.exceptions == [AccessException(id: "CHG-1", personId: "E1", app: "crm",
                                                      entitlements: [EntitlementName(type: "group", name: "finance")],
                                                      until: CalendarDay(iso: "2026-06-30"), reason: "quarter close",
                                                      approvedBy: "cfo@example.com")])
        #expect(config.source.maxShrinkPercent == 5)
        let crm = try #require(config.app("crm"))
        #expect(crm.orphans == .disable)
        #expect(crm.manage == ["group"])
        #expect(crm.userName == .emailLocalPart)
        #expect(crm.updateAttributes == [.title])
    }

    /// Every mistake names the key path, so the loader can point at the line.
    @Test(arguments: [
        (#"{ apps: [{id: "crm"}], policies: [{id: "a", grant: [{app: "crm"}]}, {id: "b", grant: [{app: "crm"}]}, {id: "c", when: { title: { prefix: 5 } }, grant: [{app: "crm"}]}] }"#,
         "policies[2].when.title.prefix", "expected a string or a list of strings"),
        (#"{ apps: [{id: "crm"}], policies: [{id: "a", roles: ["nope"]}] }"#, "policies[0].roles[0]", "unknown role \"nope\""),
        (#"{ apps: [{id: "crm"}], policies: [{id: "a", grant: [{app: "erp", entitlements: []}]}] }"#, "policies[0].grant[0].app", "unknown app \"erp\""),
        (#"{ apps: [{id: "crm"}], policies: [{id: "a", grant: [{app: "crm", entitlements: ["Admin"]}]}] }"#,
         "policies[0].grant[0].entitlements[0]", "expected \"type:name\""),
        (#"{ apps: [{id: "crm"}], policies: [{id: "a", whne: {}, grant: [{app: "crm"}]}] }"#, "policies[0].whne", "unknown key"),
        (#"{ apps: [{id: "crm"}], policies: [{id: "a", grant: [{app: "crm"}]}, {id: "a", grant: [{app: "crm"}]}] }"#,
         "policies[1].id", "duplicate policy id \"a\" (also policies[0])"),
        (#"{ apps: [{id: "crm"}], policies: [{id: "a", when: { department: [] }, grant: [{app: "crm"}]}] }"#,
         "policies[0].when.department", "matches nobody"),
        (#"{ apps: [{id: "crm"}], policies: [{id: "a", when: { title: { prefx: "Lead" } }, grant: [{app: "crm"}]}] }"#,
         "policies[0].when.title.prefx", "unknown key"),
        (#"{ apps: [{id: "crm"}], policies: [{id: "a"}] }"#, "policies[0]", "grants nothing"),
        (#"{ apps: [{id: "crm", mode: "yolo"}] }"#, "apps[0].mode", "unknown value \"yolo\" (expected one of enforce, observe)"),
        (#"{ apps: [{id: "crm", deprovision: { maxPercent: 150 }}] }"#, "apps[0].deprovision.maxPercent", "between 0 and 100"),
        (#"{ apps: [{id: "crm", correlate: ["email", "phone"]}] }"#, "apps[0].correlate[1]", "unknown value \"phone\""),
        (#"{ apps: [{id: "crm"}, {id: "crm"}] }"#, "apps[1].id", "duplicate app id"),
        (#"{ apps: [{id: "crm"}], exceptions: [{person: "E1", app: "crm", until: "next week"}] }"#, "exceptions[0].until", "expected a date"),
        (#"{ apps: [{id: "crm"}], roles: { r: [{app: "crm", entitlements: ["role:"]}] } }"#, "roles.r[0].entitlements[0]", "expected \"type:name\""),
        (#"{ source: { maxShrinkPercent: "lots" } }"#, "source.maxShrinkPercent", "expected a number, got string"),
        (#"{ apps: [{id: "crm"}], policies: [{id: "a", when: { department: ["Sales", true] }, grant: [{app: "crm"}]}] }"#,
         "policies[0].when.department[1]", "expected a string, got boolean"),
    ])
    func errorsNameTheKeyPath(text: String, path: String, message: String) throws {
        let error = #expect(throws: ConfigError.self) { try World.config(text) }
        #expect(error?.path == path)
        #expect(error?.message.contains(message) == true, "\(error?.description ?? "no error")")
        #expect(error?.description.hasPrefix(path + ": ") == true)
    }

    @Test func entitlementNamesSplitAtTheFirstColon() {
        #expect(EntitlementName(parsing: "group:team:core") == EntitlementName(type: "group", name: "team:core"))
        #expect(EntitlementName(parsing: "role: Admin ") == EntitlementName(type: "role", name: "Admin"))
        #expect(EntitlementName(parsing: "Admin") == nil)
        #expect(EntitlementName(parsing: ":x") == nil)
    }
}

@Suite("Policy conditions")
struct ConditionTests {
    func condition(_ text: String) throws -> Condition {
        let config = try World.config("{ apps: [{id: \"a\"}], policies: [{ id: \"p\", when: \(text), grant: [{app: \"a\"}] }] }")
        return config.policies[0].when
    }

    @Test func listsMatchAnyValueIgnoringCase() throws {
        let c = try condition(#"{ department: ["Sales", "marketing"] }"#)
        #expect(c.matches(World.cy))
        #expect(c.matches(World.person("X", "X", "MARKETING", "")))
        #expect(!c.matches(World.ada))
    }

    @Test func prefixNotAndPresentCombine() throws {
        let c = try condition(#"{ title: { prefix: ["lead", "Head"], not: ["Lead Intern"] }, managerId: { present: false } }"#)
        #expect(c.matches(World.ada))
        #expect(!c.matches(World.bob))
        #expect(!c.matches(World.person("X", "X", "Eng", "Lead Intern")))
        var managed = World.ada
        managed.managerId = "E9"
        #expect(!c.matches(managed))
    }

    @Test func notMatchesMissingValuesAndExtraColumnsWork() throws {
        let c = try condition(#"{ location: { not: ["Remote"] }, badge: ["gold"] }"#)
        var p = World.ada
        p.attributes = ["badge": "Gold"]
        #expect(c.matches(p))
        p.location = "remote"
        #expect(!c.matches(p))
        p.location = nil
        p.attributes = [:]
        #expect(!c.matches(p))
    }

    @Test func wholeNumbersMatchAsText() throws {
        let c = try condition(#"{ costCenter: [4100, "4200"] }"#)
        var p = World.ada
        p.costCenter = "4100"
        #expect(c.matches(p))
        p.costCenter = "4300"
        #expect(!c.matches(p))
    }

    @Test func emptyConditionMatchesEveryone() {
        #expect(Condition.everyone.matches(World.dee))
    }
}

@Suite("Calendar days")
struct CalendarDayTests {
    @Test func readsDatesAndTimestampsAndRejectsImpossibleOnes() throws {
        let day = try #require(CalendarDay(iso: "2026-03-05"))
        #expect(day == World.today)
        #expect(day.description == "2026-03-05")
        #expect(CalendarDay(iso: "2026-03-05T23:59:59Z") == day)
        #expect(CalendarDay(iso: "2024-02-29")?.description == "2024-02-29")
        #expect(CalendarDay(iso: "2026-02-29") == nil)
        #expect(CalendarDay(iso: "2026-13-01") == nil)
        #expect(CalendarDay(iso: "05/03/2026") == nil)
        #expect(CalendarDay(iso: "2026-03-05x") == nil)
        #expect(day.days(since: try #require(CalendarDay(iso: "2026-02-02"))) == 31)
        #expect(CalendarDay(iso: "1969-12-31")?.daysSinceEpoch == -1)
    }
}
