import Foundation
import StewardCore
import StewardProtocol
import Testing

/// `steward discover`'s account findings on synthetic data: every kind found, nothing on a clean
/// control set, and orphans' likely owners ranked right for the usual user-name variants.
@Suite("Account findings")
struct DiscoveryTests {
    static let configText = World.configText.replacingOccurrences(of: """
        deprovision: { action: "disable", deleteAfterDays: 30, maxPercent: 50 } },
        """, with: """
        deprovision: { action: "disable", deleteAfterDays: 30, maxPercent: 50 },
          privileged: ["role:Admin"], dormantAfterDays: 90, licence: { entitlement: "license:pro", monthlyCost: 12.5, currency: "EUR" } },
        """)

    static func findings(people: [Person] = World.everyone, crm: [(Account, [String])], wiki: [(Account, [String])]? = nil) throws -> [AccountFinding] {
        let config = try World.config(configText)
        let crmInventory = World.crm(crm), wikiInventory = World.wiki(wiki ?? World.convergedWiki())
        let result = try World.plan(people: people, crm: crmInventory, wiki: wikiInventory, config: config)
        return AccountFindings.find(result, inventories: [crmInventory, wikiInventory], config: config, today: World.today)
    }

    /// Converged accounts that signed in last week and hold a paid seat.
    static func recent(_ accounts: [(Account, [String])], seats: Bool = true) -> [(Account, [String])] {
        accounts.map { account, grants in
            var a = account
            a.lastLoginAt = "2026-03-01T10:00:00Z"
            return (a, seats ? grants + ["l-pro"] : grants)
        }
    }

    @Test func aCleanCompanyHasNoFindingsButItsSeatCount() throws {
        let found = try Self.findings(crm: Self.recent(World.convergedCRM()))
        #expect(found.filter { $0.kind != .licences }.isEmpty, "\(found.map(\.summary))")
        let seats = try #require(found.first { $0.kind == .licences })
        #expect(seats.summary.hasPrefix("4 seats") && seats.monthlyCost == 0)
    }

    @Test func anOrphanIsSuggestedForLinkingUnlessItsOwnerHasAnAccountAlready() throws {
        let eve = World.person("E5", "Eve", "Finance", "Analyst")
        var crm = Self.recent(World.convergedCRM())
        crm.append((Account(id: "c20", userName: "estone", displayName: "Eve Stone"), []))       // Eve has no CRM account
        crm.append((Account(id: "c21", userName: "ada.test", displayName: "Ada Test"), []))        // Ada has one
        var people = World.everyone
        people.append(Person(id: "E5", email: "eve.stone@example.com", firstName: "Eve", lastName: "Stone", department: eve.department,
                             title: eve.title, status: .active))
        let found = try Self.findings(people: people, crm: crm)
        let estone = try #require(found.first { $0.accountId == "c20" })
        #expect(estone.candidates.first?.personId == "E5" && estone.suggestion.hasPrefix("steward link crm:c20 E5"), "\(estone)")
        let second = try #require(found.first { $0.accountId == "c21" })
        #expect(second.candidates.first?.personId == "E1" && second.suggestion.hasPrefix("likely a second account of E1"), "\(second)")
    }

    @Test func aLeaversDisabledAccountIsNotALeftoverEvenWithItsGrants() throws {
        let cy = World.person("E3", "Cy", "Sales", "Account Executive", status: .terminated, endDate: "2026-02-20")
        var crm = Self.recent(World.convergedCRM())
        let index = try #require(crm.firstIndex { $0.0.id == "c3" })
        crm[index].0.status = .disabled
        let found = try Self.findings(people: [World.ada, World.bob, cy, World.dee], crm: crm)
        #expect(!found.contains { $0.kind == .leftover && $0.app == "crm" }, "\(found.map(\.summary))")
        crm[index].0.status = .pending
        let pending = try Self.findings(people: [World.ada, World.bob, cy, World.dee], crm: crm)
        #expect(pending.contains { $0.kind == .leftover && $0.app == "crm" }, "a pending account with grants is still access")
    }

    @Test func everyKindIsFoundWithItsEvidence() throws {
        let cy = World.person("E3", "Cy", "Sales", "Account Executive", status: .terminated, endDate: "2026-02-20")
        let people = [World.ada, World.bob, cy, World.dee]
        var crm = Self.recent(World.convergedCRM())
        crm[1].1.append("r-admin")                                              // Bob: Admin, no rule says so
        crm[3].0.lastLoginAt = "2025-10-01T08:00:00Z"                           // Dee: dormant, on a paid seat
        crm.append((Account(id: "c9", userName: "zed.stranger@example.com", email: "zed.stranger@example.com"), []))
        crm.append((Account(id: "c10", userName: "svc-backup", displayName: "Backup job"), ["r-admin"]))
        crm.append((Account(id: "c11", userName: "old.timer@example.com", status: .active, createdAt: "2025-01-01T00:00:00Z"), []))
        let found = try Self.findings(people: people, crm: crm)
        func of(_ kind: AccountFinding.Kind) -> [AccountFinding] { found.filter { $0.kind == kind } }

        let leftovers = of(.leftover)
        #expect(Set(leftovers.map(\.app)) == ["crm", "wiki"], "Cy's CRM and wiki accounts")
        #expect(leftovers.allSatisfy { $0.personId == "E3" && $0.ageDays == 13 })
        #expect(leftovers.first { $0.app == "wiki" }?.suggestion.contains("observe") == true)

        #expect(of(.privileged).compactMap(\.accountId).sorted() == ["c10", "c2"], "Bob's Admin and the service account's; Ada's is justified")
        #expect(of(.service).map(\.accountId) == ["c10"])
        #expect(of(.orphan).compactMap(\.accountId).sorted() == ["c11", "c9"], "the service account is a service finding, not an orphan")

        let dormant = of(.dormant)
        #expect(dormant.compactMap(\.accountId).sorted() == ["c11", "c4"])
        let dee = try #require(dormant.first { $0.accountId == "c4" })
        #expect(dee.ageDays == 155 && dee.monthlyCost == 12.5 && dee.currency == "EUR")
        #expect(dormant.first { $0.accountId == "c11" }?.evidence.first?.contains("never signed in") == true)
        let seats = try #require(of(.licences).first)
        #expect(seats.monthlyCost == 12.5, "one dormant paid seat (Cy's is a leftover, not counted as dormant)")
    }

    @Test func accountsWithoutSignInDatesAreNeverCalledDormant() throws {
        var crm = World.convergedCRM()
        crm[0].0.lastLoginAt = nil
        let found = try Self.findings(crm: crm)
        #expect(found.filter { $0.kind == .dormant }.isEmpty)
    }

    // MARK: Likely owners

    static let staff: [Person] = [
        Person(id: "E10", email: "robert.smith@acme.com", firstName: "Robert", lastName: "Smith", department: "Sales", title: "Rep"),
        Person(id: "E11", email: "zoe.angstrom@acme.com", firstName: "Zoë", lastName: "Ångström", department: "Sales", title: "Rep"),
        Person(id: "E12", email: "maria.vanderberg@acme.com", firstName: "Maria", lastName: "van der Berg", department: "Sales", title: "Rep"),
        Person(id: "E13", email: "elizabeth.taylor@acme.com", firstName: "Elizabeth", lastName: "Taylor", department: "Sales", title: "Rep"),
        Person(id: "E14", email: "ann.lee@acme.com", firstName: "Ann", lastName: "Lee", department: "Sales", title: "Rep"),
        Person(id: "E15", email: "omar.haddad@acme.com", firstName: "Omar", lastName: "Haddad", department: "Sales", title: "Rep"),
    ]

    @Test(arguments: [
        (Account(id: "1", userName: "Robert.Smith@ACME.com"), "E10"),
        (Account(id: "2", userName: "rsmith@acme.com"), "E10"),
        (Account(id: "3", userName: "bob.smith@acme.com"), "E10"),
        (Account(id: "4", userName: "robert.smith+crm@acme.com"), "E10"),
        (Account(id: "5", userName: "robert.smith@oldcorp.io"), "E10"),
        (Account(id: "6", userName: "u1234", displayName: "Smith, Robert"), "E10"),
        (Account(id: "7", userName: "zoe.angstrom"), "E11"),
        (Account(id: "8", userName: "ZAngstrom"), "E11"),
        (Account(id: "9", userName: "mvanderberg"), "E12"),
        (Account(id: "10", userName: "maria.berg@acme.com"), "E12"),
        (Account(id: "11", userName: "liz.taylor@acme.com"), "E13"),
        (Account(id: "12", userName: "taylor.elizabeth"), "E13"),
        (Account(id: "13", userName: "x9", givenName: "Ann", familyName: "Lee"), "E14"),
        (Account(id: "14", userName: "ohaddad", email: "omar.h@gmail.com"), "E15"),
        (Account(id: "15", userName: "annl"), "E14"),
    ])
    func theRightPersonRanksFirst(account: Account, expected: String) throws {
        let directory = PersonDirectory(current: Self.staff, today: World.today)
        let candidates = OwnerMatcher(directory: directory).candidates(for: account)
        let first = try #require(candidates.first, "no candidate for \(account.userName)")
        #expect(directory.people[first.person].id == expected, "\(account.userName): \(candidates.map { (directory.people[$0.person].id, $0.score) })")
        #expect(!first.reasons.isEmpty)
    }

    @Test func strangersGetNoConfidentCandidate() {
        let directory = PersonDirectory(current: Self.staff, today: World.today)
        let matcher = OwnerMatcher(directory: directory)
        for name in ["zed.stranger@example.com", "printer-3f", "qwerty"] {
            #expect(matcher.candidates(for: Account(id: name, userName: name)).allSatisfy { $0.score < 0.5 }, "\(name)")
        }
    }

    @Test func servicePatternsAreConfigurable() throws {
        let text = Self.configText.replacingOccurrences(of: "dormantAfterDays: 90,", with: "dormantAfterDays: 90, serviceAccounts: [\"robot-*\"],")
        let config = try World.config(text)
        let crm = World.crm(World.convergedCRM() + [(Account(id: "r1", userName: "robot-7"), []), (Account(id: "s1", userName: "svc-x"), [])])
        let wiki = World.wiki(World.convergedWiki())
        let result = try World.plan(crm: crm, wiki: wiki, config: config)
        let found = AccountFindings.find(result, inventories: [crm, wiki], config: config, today: World.today)
        #expect(found.filter { $0.kind == .service }.map(\.accountId) == ["r1"])
        #expect(found.filter { $0.kind == .orphan }.map(\.accountId) == ["s1"], "the user's list replaces the built-in one")
    }

    @Test func badDiscoverySettingsNameTheirKey() {
        for (fragment, path) in [("dormantAfterDays: 0,", "dormantAfterDays"), ("licence: { entitlement: \"pro\" },", "licence.entitlement")] {
            let text = World.configText.replacingOccurrences(of: "mode: \"observe\" },", with: "mode: \"observe\", \(fragment) },")
            #expect(throws: ConfigError.self) { try World.config(text) }
            do { _ = try World.config(text) } catch { #expect("\(error)".contains(path), "\(error)") }
        }
    }
}

@Suite("Service-account patterns")
struct GlobPatternTests {
    @Test(arguments: [
        ("svc-*", "svc-backup", true), ("svc-*", "my-svc-backup", false), ("*-bot", "deploy-bot", true), ("*-bot", "bot", false),
        ("admin", "admin", true), ("admin", "admins", false), ("*service*", "the-service-acct", true), ("a*b*c", "axxbyyc", true),
        ("a*b*c", "axxcyyb", false), ("*[bot]", "dependabot[bot]", true), ("*", "anything", true), ("test-*", "test-", true),
    ])
    func matches(pattern: String, text: String, expected: Bool) {
        let settings = DiscoverySettings(serviceAccountPatterns: [pattern])
        #expect((settings.servicePattern(matching: [text]) != nil) == expected, "\(pattern) vs \(text)")
    }
}
