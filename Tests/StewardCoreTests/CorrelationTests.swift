import StewardCore
import StewardProtocol
import Testing

@Suite("Correlation")
struct CorrelationTests {
    func correlate(_ accounts: [Account], rules: [CorrelationRule] = CorrelationRule.defaultOrder, people: [Person] = World.everyone,
                   former: [Person] = [], overrides: CorrelationOverrides = CorrelationOverrides()) -> (AppCorrelation, AppInventory, PersonDirectory) {
        let directory = PersonDirectory(current: people, former: former, today: World.today)
        let inventory = AppInventory(appId: "crm", entitlements: [], accounts: accounts, grants: [])
        let correlation = AppCorrelation(inventory: inventory, rules: rules, overrides: overrides, directory: directory,
                                         index: CorrelationIndex(directory: directory))
        return (correlation, inventory, directory)
    }

    func owner(_ c: (AppCorrelation, AppInventory, PersonDirectory), _ accountId: String) -> String? {
        guard let a = c.1.accounts.firstIndex(where: { $0.id == accountId }), let p = c.0.person(ofAccount: a) else { return nil }
        return c.2.people[p].id
    }

    @Test func rulesLinkByIdEmailAndUserName() {
        let c = correlate([
            Account(id: "a1", userName: "whatever", employeeNumber: "E1"),
            Account(id: "a2", userName: "x", email: "BOB@Example.com"),
            Account(id: "a3", userName: "cy"),
            Account(id: "a4", userName: "DEE@example.com"),
            Account(id: "a5", userName: "svc-backup"),
        ])
        #expect(owner(c, "a1") == "E1")
        #expect(owner(c, "a2") == "E2")
        #expect(owner(c, "a3") == "E3")
        #expect(owner(c, "a4") == "E4")
        #expect(c.0.orphans == [4])
        #expect(c.0.linkSource(ofAccount: 1) == .rule(.email))
        #expect(c.0.linkedCount == 4)
    }

    @Test func rulesApplyOnlyInTheAppsOrder() {
        let account = Account(id: "a1", userName: "u", email: "ada@example.com", employeeNumber: "E2")
        #expect(owner(correlate([account], rules: [.email, .employeeNumber]), "a1") == "E1")
        #expect(owner(correlate([account], rules: [.employeeNumber, .email]), "a1") == "E2")
        #expect(owner(correlate([account], rules: [.userName]), "a1") == nil)
    }

    @Test func manualLinksWinAndIgnoredAccountsAreNeitherLinkedNorOrphans() {
        let overrides = CorrelationOverrides(
            links: [AccountKey(app: "crm", accountId: "a1"): "E3"],
            ignores: [AccountKey(app: "crm", accountId: "a2"): "service account"])
        let c = correlate([Account(id: "a1", userName: "ada@example.com"), Account(id: "a2", userName: "svc")], overrides: overrides)
        #expect(owner(c, "a1") == "E3")
        #expect(c.0.linkSource(ofAccount: 0) == .manual)
        #expect(c.0.ignored.map(\.reason) == ["service account"])
        #expect(c.0.orphans.isEmpty)
    }

    @Test func oneAccountMatchingTwoPeopleIsReportedNotGuessed() {
        let twins = [World.person("E1", "Sam", "Sales", "Rep", email: "sam@example.com"),
                     World.person("E2", "Sam", "Sales", "Rep", email: "sam@example.org")]
        let c = correlate([Account(id: "a1", userName: "sam")], people: twins)
        #expect(owner(c, "a1") == nil)
        #expect(c.0.conflicts.map(\.kind) == [.ambiguous])
        #expect(c.0.conflicts.first?.personIds == ["E1", "E2"])
        #expect(c.0.conflicts.first?.message.contains("by userName") == true)
        #expect(c.0.orphans.isEmpty)
    }

    @Test func onePersonMatchingTwoAccountsIsReportedAndLinkedToNeither() throws {
        let c = correlate([Account(id: "a1", userName: "ada@example.com"), Account(id: "a2", userName: "x", employeeNumber: "E1")])
        #expect(owner(c, "a1") == nil && owner(c, "a2") == nil)
        #expect(c.0.conflicts.map(\.kind) == [.multipleAccounts])
        #expect(Set(try #require(c.0.conflicts.first).accountIds) == ["a1", "a2"])
        #expect(c.0.isConflicted(person: 0))
    }

    @Test func aManualLinkStandsAgainstARuleMatch() {
        let overrides = CorrelationOverrides(links: [AccountKey(app: "crm", accountId: "a2"): "E1"])
        let c = correlate([Account(id: "a1", userName: "ada@example.com"), Account(id: "a2", userName: "admin-ada")], overrides: overrides)
        #expect(owner(c, "a2") == "E1")
        #expect(owner(c, "a1") == nil)
        #expect(c.0.conflicts.map(\.kind) == [.multipleAccounts])
        #expect(!c.0.isConflicted(person: 0))
    }

    @Test func aLinkToSomeoneUnknownIsAConflict() {
        let overrides = CorrelationOverrides(links: [AccountKey(app: "crm", accountId: "a1"): "E99"])
        let c = correlate([Account(id: "a1", userName: "x")], overrides: overrides)
        #expect(c.0.conflicts.map(\.kind) == [.unknownPerson])
    }

    /// Former people still own their accounts, but a current person reusing an address wins.
    @Test func formerPeopleCorrelateUnlessTheirEmailWasReused() {
        let formerAda = World.person("E0", "Ada", "Sales", "Rep")
        let formerZed = World.person("E9", "Zed", "Sales", "Rep")
        let c = correlate([Account(id: "a1", userName: "ada@example.com"), Account(id: "a2", userName: "zed@example.com")],
                          former: [formerAda, formerZed])
        #expect(owner(c, "a1") == "E1")
        #expect(owner(c, "a2") == "E9")
    }
}
