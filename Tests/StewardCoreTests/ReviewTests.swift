import Foundation
import StewardCore
import StewardProtocol
import Testing

/// The review rules with an injected clock: routing and independence, reminders, escalation,
/// default decisions, stage closes, HR-aware rerouting, population and quality. No sleeps.
@Suite("Access review rules")
struct ReviewTests {
    static let t0 = World.now
    static let day = 86_400.0

    // A small company with managers: Max manages Ada and Bob; Ada manages Cy; Dee has no manager.
    static let max = Person(id: "E9", email: "max@example.com", firstName: "Max", lastName: "Test", department: "Engineering", title: "VP")
    static func people(adaManager: String = "E9") -> [Person] {
        var ada = World.ada, bob = World.bob, cy = World.cy
        ada.managerId = adaManager
        bob.managerId = "E9"
        cy.managerId = "E1"
        return [ada, bob, cy, World.dee, max]
    }

    /// The crm grants of everyone (plus a `license:pro` nobody's rule grants, held by Bob).
    static func planned(_ people: [Person] = people(), crm extra: [(Account, [String])] = []) throws -> (PlanResult, [AppInventory]) {
        var accounts = World.convergedCRM()
        accounts[1].1.append("l-pro")
        accounts += extra
        let crm = World.crm(accounts)
        let result = try World.plan(people: people, crm: crm)
        return (result, [crm])
    }

    static func campaign(_ definition: ReviewDefinition, people: [Person] = people(), extra: [(Account, [String])] = []) throws -> (Campaign, ReviewerDirectory) {
        let (planned, inventories) = try planned(people, crm: extra)
        let config = try World.config()
        let items = ReviewPopulation.items(for: definition, config: config, planned: planned, inventories: inventories, today: CalendarDay(t0))
        let directory = ReviewerDirectory(directory: planned.directory)
        let assignments = items.map {
            ReviewerAssignment.assign($0, stage: definition.stages[0], definition: definition, app: config.app($0.app), people: directory, groups: [:])
        }
        var deadline = t0
        let deadlines = definition.stageDays.map { d -> Date in
            deadline = deadline.addingTimeInterval(Double(d) * day)
            return deadline
        }
        return (Campaign(id: "\(definition.id)-1", definition: definition, launchedAt: t0, deadlines: deadlines, items: items,
                         firstAssignments: assignments), directory)
    }

    static let crmOnly = ReviewScope(apps: ["crm"])

    @Test func thePopulationIsEveryGrantInScopeWithContextAndRecommendations() throws {
        let (c, _) = try Self.campaign(ReviewDefinition(id: "q", scope: Self.crmOnly))
        // Every crm grant: Ada 2, Bob 2 and the licence, Cy 2, Dee 1; Max has no crm account.
        #expect(c.items.count == 8)
        #expect(c.items.map(\.id) == (1...8).map(String.init))
        let licence = try #require(c.items.first { $0.accessName == "license:pro" })
        #expect(licence.personId == "E2" && licence.context.unjustified)
        #expect(licence.recommendation == Recommendation(.revoke, "no rule grants it"))
        let admin = try #require(c.items.first { $0.accessName == "role:Admin" })
        #expect(admin.context.justifications == ["policy eng-leads"] && admin.recommendation.verdict == .keep)
        #expect(admin.context.department == "Engineering" && admin.context.title == "Lead Engineer")

        let only = try Self.campaign(ReviewDefinition(id: "q", scope: ReviewScope(apps: ["crm"], entitlements: [EntitlementPattern("role:*")!])))
        #expect(only.0.items.count == 4 && only.0.items.allSatisfy { $0.accessName.hasPrefix("role:") })
    }

    @Test func orphansAndLeaversAreAccountItems() throws {
        let stranger = Account(id: "c9", userName: "zed@example.com", email: "zed@example.com")
        var people = Self.people()
        people[3].status = .terminated  // Dee left; her crm account is still enabled
        let scope = ReviewScope(apps: ["crm"], include: [.orphans, .leavers])
        let (c, _) = try Self.campaign(ReviewDefinition(id: "q", scope: scope), people: people, extra: [(stranger, [])])
        #expect(c.items.map { "\($0.context.kind.rawValue):\($0.accountId)" } == ["leaver:c4", "orphan:c9"])
        #expect(c.items.allSatisfy { $0.access == .account && $0.revokeOperation == .disableAccount && $0.recommendation.verdict == .revoke })
    }

    @Test func recommendationsSayWhy() {
        let settings = RecommendationSettings(inactiveDays: 90, peerPercent: 10)
        let today = CalendarDay(Self.t0)
        let justified = ReviewContext(kind: .access, standing: "active", justifications: ["policy eng"], peersHolding: 5, peers: 10)
        #expect(ReviewPopulation.recommend(justified, settings, today).verdict == .keep)
        var idle = justified
        idle.lastLoginAt = "2025-01-01T00:00:00Z"
        #expect(ReviewPopulation.recommend(idle, settings, today).reason.hasPrefix("no sign-in for "))
        var rare = justified
        rare.peersHolding = 1
        rare.peers = 40
        #expect(ReviewPopulation.recommend(rare, settings, today) == Recommendation(.revoke, "held by 1 of 40 people with the same department and title"))
    }

    @Test func nobodyReviewsTheirOwnAccessAndTheReassignmentSaysWhy() throws {
        // Ada's manager is Ada herself (a data error): her items go to the fallback, with the reason.
        let definition = ReviewDefinition(id: "q", scope: Self.crmOnly, fallback: .person("sec@example.com"))
        var people = Self.people(adaManager: "E1")
        people[0].email = "ada@example.com"
        let (c, _) = try Self.campaign(definition, people: people)
        for p in c.items.indices {
            let subject = c.items[p].context.email
            #expect(c.progress[p].currentReviewer(0) != .person(subject ?? "-"), "item \(c.items[p].id) went to its own subject")
        }
        let adas = c.items.indices.filter { c.items[$0].personId == "E1" }
        #expect(!adas.isEmpty)
        for p in adas {
            #expect(c.progress[p].assignments[0].reviewer == .person("sec@example.com"))
            #expect(c.progress[p].assignments[0].selfReviewBlocked)
            #expect(c.progress[p].assignments[0].reassignment == "self-review: ada@example.com is the subject: to the fallback")
        }
        // Dee has no manager: her items go to the fallback too, saying so.
        let dees = c.items.indices.filter { c.items[$0].personId == "E4" }
        #expect(dees.allSatisfy { c.progress[$0].assignments[0].reassignment?.hasPrefix("E4 has no manager in HR") == true })
        // Without a fallback nobody gets them, and that is visible.
        let (bare, _) = try Self.campaign(ReviewDefinition(id: "q", scope: Self.crmOnly), people: people)
        #expect(adas.allSatisfy { bare.progress[$0].assignments[0].reviewer == nil })
    }

    @Test func onlyTheReviewerMayDecideAndKeepingUnjustifiedAccessNeedsAComment() throws {
        let (c, _) = try Self.campaign(ReviewDefinition(id: "q", scope: Self.crmOnly, fallback: .person("sec@example.com")))
        let bobs = c.items.indices.filter { c.items[$0].personId == "E2" }
        let licence = try #require(bobs.first { c.items[$0].accessName == "license:pro" })
        #expect(c.refusalToDecide([licence], verdict: .revoke, comment: nil, as: "max@example.com", groups: [:]) == nil)
        #expect(c.refusalToDecide([licence], verdict: .revoke, comment: nil, as: "ada@example.com", groups: [:])?.contains("is not ada@example.com's to decide") == true)
        #expect(c.refusalToDecide([licence], verdict: .keep, comment: nil, as: "max@example.com", groups: [:])?.contains("needs --comment") == true)
        #expect(c.refusalToDecide([licence], verdict: .keep, comment: "needed for the Q4 audit", as: "max@example.com", groups: [:]) == nil)
    }

    @Test func aSignedOffReviewerIsLockedAndMustHaveDecidedEverything() throws {
        var (c, _) = try Self.campaign(ReviewDefinition(id: "q", scope: Self.crmOnly))
        let maxes = c.openItems(for: "max@example.com", groups: [:])
        #expect(c.refusalToSignOff(as: "max@example.com", groups: [:])?.contains("undecided") == true)
        c.record(Decision(stage: 0, verdict: .keep, by: "max@example.com", channel: "cli", comment: "ok", at: Self.t0.addingTimeInterval(60),
                          bulk: true, followedRecommendation: true), at: maxes)
        #expect(c.refusalToSignOff(as: "max@example.com", groups: [:]) == nil)
        c.signOff("max@example.com")
        #expect(c.refusalToDecide([maxes[0]], verdict: .revoke, comment: nil, as: "max@example.com", groups: [:])?.contains("signed off") == true)
    }

    @Test func remindersFollowTheLadderOnceEachAndEscalateWhenOverdue() throws {
        let definition = ReviewDefinition(id: "q", scope: Self.crmOnly, fallback: .person("sec@example.com"), days: 14,
                                          reminders: ReminderLadder(before: [7, 3, 1], overdueEvery: 1), escalateAfterDaysOverdue: 2)
        var (c, people) = try Self.campaign(definition)
        func at(_ days: Double) -> Date { Self.t0.addingTimeInterval(days * Self.day) }
        #expect(c.dueWork(at: at(6), people: people, groups: [:]).reminders.isEmpty)
        let first = c.dueWork(at: at(7), people: people, groups: [:]).reminders
        #expect(Set(first.map(\.slot)) == ["7d-before"] && Set(first.map(\.reviewer)) == ["max@example.com", "ada@example.com", "sec@example.com"])
        c.reminders += first
        #expect(c.dueWork(at: at(8), people: people, groups: [:]).reminders.isEmpty, "a slot is sent once")
        #expect(Set(c.dueWork(at: at(11.5), people: people, groups: [:]).reminders.map(\.slot)) == ["3d-before"])
        // After downtime, only the latest slot goes out.
        #expect(Set(c.dueWork(at: at(13.5), people: people, groups: [:]).reminders.map(\.slot)) == ["1d-before"])
        #expect(Set(c.dueWork(at: at(15.2), people: people, groups: [:]).reminders.map(\.slot)) == ["overdue-1d"])
        #expect(c.dueWork(at: at(15.2), people: people, groups: [:]).escalations.isEmpty)
        let escalations = c.dueWork(at: at(16.1), people: people, groups: [:]).escalations
        // Ada's reviewer is Max; Max has no manager, so his escalation has nobody to go to.
        #expect(escalations.first { $0.from == "ada@example.com" }?.to == "max@example.com")
        #expect(escalations.first { $0.from == "max@example.com" }.map { $0.to == nil } == true)
    }

    @Test func theDeadlineAppliesTheDefaultOnlyWhereConfigured() throws {
        func close(_ decision: DefaultDecision) throws -> Campaign {
            var (c, people) = try Self.campaign(ReviewDefinition(id: "q", scope: Self.crmOnly, fallback: .person("sec@example.com"), days: 14,
                                                                defaultDecision: decision))
            let deadline = Self.t0.addingTimeInterval(14 * Self.day)
            #expect(c.dueWork(at: deadline.addingTimeInterval(-1), people: people, groups: [:]).closeStage == false)
            #expect(c.dueWork(at: deadline, people: people, groups: [:]).closeStage == (decision != .none))
            c.close(c.closing(at: deadline), next: [:])
            return c
        }
        #expect(try close(.none).progress.allSatisfy { $0.status == .expired })
        #expect(try close(.keep).progress.allSatisfy { $0.status == .kept && $0.decisions.last?.by == "default" })
        let byRecommendation = try close(.recommendation)
        for (item, progress) in zip(byRecommendation.items, byRecommendation.progress) {
            #expect(progress.status == (item.recommendation.verdict == .keep ? .kept : .revoking))
        }
    }

    @Test func anItemRevokedAtAStageSkipsTheLaterStages() throws {
        let definition = ReviewDefinition(id: "q", scope: Self.crmOnly,
                                          stages: [ReviewStage(reviewer: .manager), ReviewStage(reviewer: .person("owner@example.com"))],
                                          fallback: .person("sec@example.com"), days: 14)
        var (c, _) = try Self.campaign(definition)
        let all = Array(c.items.indices)
        c.record(Decision(stage: 0, verdict: .keep, by: "x", channel: "cli", at: Self.t0, followedRecommendation: true), at: Array(all.dropFirst()))
        c.record(Decision(stage: 0, verdict: .revoke, by: "x", channel: "cli", at: Self.t0, followedRecommendation: false), at: [all[0]])
        let close = c.closing(at: Self.t0.addingTimeInterval(7 * Self.day))
        let next = Dictionary(uniqueKeysWithValues: close.kept.map { ($0, Assignment(reviewer: .person("owner@example.com"))) })
        c.close(close, next: next)
        #expect(c.stage == 1)
        #expect(c.progress[all[0]].status == .revoking && c.progress[all[0]].assignments.count == 1)
        #expect(all.dropFirst().allSatisfy { c.progress[$0].status == .open(stage: 1) && c.progress[$0].currentReviewer(1) == .person("owner@example.com") })
    }

    @Test func aReviewerWhoLeavesOrAManagerChangeMovesTheOpenItems() throws {
        let definition = ReviewDefinition(id: "q", scope: Self.crmOnly, fallback: .person("sec@example.com"))
        let (c, _) = try Self.campaign(definition)
        // Max leaves: Ada's and Bob's items (his) must move. Cy's manager becomes Dee.
        var people = Self.people()
        people[4].status = .terminated
        people[2].managerId = "E4"
        let (planned, _) = try Self.planned(people)
        let moves = c.rerouting(people: ReviewerDirectory(directory: planned.directory), groups: [:], apps: try World.config().apps)
        let byPerson = Dictionary(grouping: moves, by: { c.items[$0.item].personId ?? "" })
        #expect(byPerson["E1"]?.allSatisfy { $0.reason == "the reviewer max@example.com left" && $0.assignment.reviewer == .person("sec@example.com") } == true)
        #expect(byPerson["E2"]?.count == c.items.filter { $0.personId == "E2" }.count)
        #expect(byPerson["E3"]?.allSatisfy { $0.reason == "E3's manager is now dee@example.com, not ada@example.com" && $0.assignment.reviewer == .person("dee@example.com") } == true)
        #expect(byPerson["E4"] == nil, "Dee's items were with the fallback already")
    }

    @Test func keepingEverythingInUnderTwoSecondsEachIsARubberStamp() throws {
        var (c, _) = try Self.campaign(ReviewDefinition(id: "q", scope: Self.crmOnly, fallback: .person("sec@example.com")))
        let maxes = c.openItems(for: "max@example.com", groups: [:])
        c.record(Decision(stage: 0, verdict: .keep, by: "max@example.com", channel: "cli", at: Self.t0.addingTimeInterval(3),
                          bulk: true, followedRecommendation: true), at: maxes)
        let adas = c.openItems(for: "ada@example.com", groups: [:])
        for (i, p) in adas.enumerated() {
            c.record(Decision(stage: 0, verdict: i == 0 ? .revoke : .keep, by: "ada@example.com", channel: "cli",
                              at: Self.t0.addingTimeInterval(Double(60 * (i + 1))), followedRecommendation: true), at: [p])
        }
        let quality = Dictionary(uniqueKeysWithValues: ReviewQuality.perReviewer(c).map { ($0.reviewer, $0) })
        #expect(quality["max@example.com"]?.rubberStamp == true && quality["max@example.com"]?.bulkShare == 1)
        #expect(quality["ada@example.com"]?.rubberStamp == false && quality["ada@example.com"]?.medianSeconds == 60)
    }

    @Test func reviewsAreReadFromConfigWithClearErrors() throws {
        let text = World.configText.replacingOccurrences(of: "  policies: [", with: """
              reviewerGroups: { security: ["Sec@Example.com"] },
              reviews: [ { id: "admins", scope: { privileged: true, include: ["access", "leavers"] },
                           stages: [ { reviewer: "manager" }, { reviewer: "group:security", days: 3 } ], fallback: "it@example.com", days: 10 } ],
              policies: [
            """)
        let config = try World.config(text)
        let review = try #require(config.review("admins"))
        #expect(review.stages.map(\.reviewer) == [.manager, .group("security")] && review.stageDays == [7, 3])
        #expect(review.scope.privilegedOnly && review.scope.include == [.access, .leavers])
        #expect(config.reviewerGroups["security"] == ["sec@example.com"])
        let bad = text.replacingOccurrences(of: "group:security", with: "group:secruity")
        #expect { try World.config(bad) } throws: { "\($0)".contains("reviews[0].stages[1].reviewer: unknown reviewer group \"secruity\" (defined: security)") }
    }
}
