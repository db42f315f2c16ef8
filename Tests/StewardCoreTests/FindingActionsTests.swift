import Foundation
import StewardCore
import StewardProtocol
import Testing

/// `findings: {...}` in the plan, and campaigns whose scope takes findings.
@Suite("Finding actions")
struct FindingActionsTests {
    static func config(_ findings: String, reviews: String = "") throws -> GovernanceConfig {
        var text = DiscoveryTests.configText
        let start = try #require(text.firstIndex(of: "{"))
        text.replaceSubrange(start...start, with: "{ findings: \(findings),\(reviews.isEmpty ? "" : " reviews: \(reviews),")\n")
        return try World.config(text)
    }

    /// Dee has not signed in since October 2025 (dormant); c9 is linked to nobody (orphan).
    static func world(_ config: GovernanceConfig) throws -> (PlanResult, [AppInventory]) {
        var crm = DiscoveryTests.recent(World.convergedCRM())
        crm[3].0.lastLoginAt = "2025-10-01T08:00:00Z"
        crm.append((Account(id: "c9", userName: "zed.stranger@example.com", email: "zed.stranger@example.com"), []))
        let crmInventory = World.crm(crm), wikiInventory = World.wiki(World.convergedWiki())
        return (try World.plan(people: World.everyone, crm: crmInventory, wiki: wikiInventory, config: config), [crmInventory, wikiInventory])
    }

    @Test func disableMakesAPlanActionAndReviewAPlanFinding() throws {
        let config = try Self.config(#"{ orphan: "disable", dormant: "review" }"#)
        let (result, _) = try Self.world(config)
        let disables = result.plan.actions.filter { $0.cause == .discovery }
        #expect(disables.count == 1, "\(disables)")
        #expect(disables.first?.accountId == "c9" && disables.first?.operation == .disableAccount)
        #expect(disables.first?.justifications == [.finding("orphan")])
        let toReview = result.plan.findings.filter { $0.kind == .findingToReview }
        #expect(toReview.count == 1 && toReview.first?.personId == "E4", "\(toReview.map(\.message))")

        // Without the setting, findings stay findings: no action, nothing to review.
        let (plain, _) = try Self.world(try World.config(DiscoveryTests.configText))
        #expect(!plain.plan.actions.contains { $0.cause == .discovery })
        #expect(!plain.plan.findings.contains { $0.kind == .findingToReview })
    }

    @Test func privilegedAccessCannotBeDisabledWholesale() throws {
        #expect(throws: ConfigError.self) { try Self.config(#"{ privileged: "disable" }"#) }
        #expect(throws: ConfigError.self) { try Self.config(#"{ orphan: "delete" }"#) }
        #expect(throws: ConfigError.self) { try Self.config(#"{ shadow: "review" }"#) }
    }

    @Test func aCampaignWhoseScopeTakesFindingsReviewsTheirAccounts() throws {
        let config = try Self.config(#"{ dormant: "review", orphan: "review" }"#, reviews: """
            [ { id: "findings", scope: { include: ["findings"] }, stages: [ { reviewer: "appOwner", fallback: "admin@example.com" } ] },
              { id: "orphans-only", scope: { findings: ["orphan"] }, stages: [ { reviewer: "admin@example.com" } ] } ]
            """)
        let (result, inventories) = try Self.world(config)
        let all = ReviewPopulation.items(for: try #require(config.review("findings")), config: config, planned: result,
                                         inventories: inventories, today: World.today)
        #expect(Set(all.map(\.accountId)) == ["c4", "c9"], "Dee's dormant account and the orphan: \(all.map(\.accountId))")
        #expect(all.allSatisfy { $0.recommendation.verdict == .revoke && $0.access == .account })
        #expect(all.first { $0.accountId == "c9" }?.context.kind == .orphan)
        let orphans = ReviewPopulation.items(for: try #require(config.review("orphans-only")), config: config, planned: result,
                                             inventories: inventories, today: World.today)
        #expect(orphans.map(\.accountId) == ["c9"])
    }
}
