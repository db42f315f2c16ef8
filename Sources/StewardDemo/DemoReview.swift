import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import StewardCore
import StewardHost
import StewardJournal
import StewardProtocol
import StewardReports

/// What the demo's campaign came to.
public struct DemoReviewResult: Sendable {
    public var campaign: String
    public var items: Int
    /// Item status (`kept`, `revoked-verified`, …) → count.
    public var outcomes: [String: Int]
    /// The report files written, one per format.
    public var reports: [String]
}

/// The demo's access review: a two-stage campaign over the CRM (each person's manager, then the
/// app owner), decided as scripted reviewers would, closed with its revokes applied and read
/// back, and reported in every format.
///
/// It runs on the review engine the CLI uses, with the engine's clock moved forward where a real
/// campaign would wait for days (what `STEWARD_NOW` does from the command line).
struct DemoReview {
    static let reviewId = "quarterly-crm"
    /// The campaign `steward demo --serve` leaves open for its reviewer link.
    public static let openReviewId = "crm-managers"
    static let security = "security.lead@example.com"

    var configPath: String
    var world: DemoWorld
    var sandbox: SandboxProcess
    var directory: URL
    var say: @Sendable (String) -> Void

    func run() async throws -> DemoReviewResult {
        let ws = try Workspace.open(configPath: configPath, actor: "steward demo")
        do {
            let result = try await run(in: ws)
            await ws.close()
            return result
        } catch {
            await ws.close()
            throw error
        }
    }

    private func run(in ws: Workspace) async throws -> DemoReviewResult {
        guard let definition = ws.config.governance.review(Self.reviewId) else {
            throw WorkspaceError(message: "the demo's config has no review \(Self.reviewId)")
        }
        let start = Date()
        var campaign = try await ReviewEngine(workspace: ws, now: start).launch(definition)
        say("launched \(campaign.id): \(campaign.items.count) items (every CRM grant and the orphan account), "
            + "stage 1 to each person's manager until \(day(campaign.deadlines[0])), stage 2 to the CRM's owner until \(day(campaign.deadlines[1]))")
        let blocked = campaign.progress.filter { $0.assignments.first?.reassignment != nil }.count
        if blocked > 0 { say("  \(blocked) items went to the fallback (group:security): their subject has no manager in HR or would review themselves") }

        // Stage 1, a few days in: the scripted reviewers.
        let stage1 = ReviewEngine(workspace: ws, now: start.addingTimeInterval(2 * 86_400))
        try await decideStageOne(campaign, engine: stage1)

        // The deadline passes: what is due is done, the one item nobody decided expires, and the
        // revokes run through the connector and are read back.
        let atDeadline = ReviewEngine(workspace: ws, now: campaign.deadlines[0].addingTimeInterval(60))
        let due = try await atDeadline.remind(campaign.id)
        if !due.reminders.isEmpty {
            say("  at the deadline: \(due.reminders.count) reminder\(due.reminders.count == 1 ? "" : "s") due (recorded; a notifier would send them)")
        }
        campaign = try await atDeadline.close(campaign.id)
        say("stage 1 closed at its deadline: " + counts(campaign))

        // Stage 2: the CRM's owner reviews what managers kept.
        let stage2 = ReviewEngine(workspace: ws, now: campaign.deadlines[0].addingTimeInterval(86_400))
        for reviewer in openByReviewer(campaign).keys.sorted() {
            let acting = actingEmail(reviewer)
            let accepted = try await stage2.acceptRecommendations(campaign.id, as: acting)
            try await keepWithComment(accepted.left, campaign.id, engine: stage2, as: acting,
                                      comment: "admin is part of the lead role; checked against the on-call list")
            say("  \(reviewer): accepted \(accepted.decided) recommendations\(accepted.left.isEmpty ? "" : ", kept \(accepted.left.count) privileged grants with a comment")")
        }
        try await stage2.signOff(campaign.id, as: ownerEmail(ws))
        campaign = try await stage2.close(campaign.id)
        say("stage 2 closed; campaign \(campaign.isClosed ? "closed" : "still open"): " + counts(campaign))

        try await showRevokesInTheSandbox(campaign)
        let reports = try await writeReports(ws, campaign: campaign.id, now: stage2.now.addingTimeInterval(60))
        let outcomes = Dictionary(grouping: campaign.progress, by: { $0.status.description }).mapValues(\.count)
        return DemoReviewResult(campaign: campaign.id, items: campaign.items.count, outcomes: outcomes, reports: reports)
    }

    /// Managers accept the recommendations for most items; Engineering's and Support's heads
    /// revoke one grant each, Sales' head delegates one item to a lead, and one Support item is
    /// left for the deadline.
    private func decideStageOne(_ campaign: Campaign, engine: ReviewEngine) async throws {
        let heads = Dictionary(world.people.filter { $0.managerId == nil && $0.status == .active }.map { ($0.department ?? "", $0.email.lowercased()) },
                               uniquingKeysWith: { a, _ in a })
        let byReviewer = openByReviewer(campaign)
        func items(of reviewer: String?, _ access: String) -> [ReviewItem] {
            guard let reviewer, let positions = byReviewer[reviewer] else { return [] }
            return positions.map { campaign.items[$0] }.filter { $0.accessName == access }
        }

        if let item = items(of: heads["Engineering"], "group:engineering").last, let head = heads["Engineering"] {
            try await engine.decide(campaign.id, items: [item.id], verdict: .revoke, comment: "moved to the data team; the engineering group is no longer needed", as: head)
            say("  \(head) revoked \(item.accessName) from \(item.context.personName ?? item.accountName)")
        }
        if let item = items(of: heads["Support"], "group:support").last, let head = heads["Support"] {
            try await engine.decide(campaign.id, items: [item.id], verdict: .revoke, comment: "off the support rota since October", as: head)
            say("  \(head) revoked \(item.accessName) from \(item.context.personName ?? item.accountName)")
        }
        var leftForDeadline: String?
        if let item = items(of: heads["Support"], "group:support").first, let head = heads["Support"] {
            leftForDeadline = item.id
            let rest = (byReviewer[head] ?? []).map { campaign.items[$0].id }.filter { $0 != item.id && campaign.item($0)?.recommendation.verdict == .keep }
            let undecided = try engine.campaign(campaign.id)
            let open = rest.filter { id in undecided.position(of: id).map { undecided.progress[$0].decision(at: 0) == nil } ?? false }
            if !open.isEmpty { try await engine.decide(campaign.id, items: open, verdict: .keep, comment: "checked with the team leads", as: head) }
            say("  \(head) kept \(open.count) items and left \(item.accessName) of \(item.context.personName ?? item.accountName) undecided")
        }
        if let head = heads["Sales"], let item = items(of: head, "group:sales").first,
           let lead = world.people.first(where: { $0.department == "Sales" && ($0.title ?? "").hasPrefix("Lead") && $0.id != item.personId && $0.status == .active }) {
            try await engine.delegate(campaign.id, items: [item.id], to: .person(lead.email.lowercased()), reason: "\(lead.fullName ?? lead.email) runs that team day to day", as: head)
            try await engine.decide(campaign.id, items: [item.id], verdict: .keep, comment: "still on my team", as: lead.email.lowercased())
            say("  \(head) delegated \(item.accessName) of \(item.context.personName ?? item.accountName) to \(lead.email), who kept it")
        }

        let now = try engine.campaign(campaign.id)
        for (reviewer, positions) in openByReviewer(now).sorted(by: { $0.key < $1.key }) {
            let undecided = positions.filter { now.progress[$0].decision(at: 0) == nil && now.items[$0].id != leftForDeadline }
            guard !undecided.isEmpty else { continue }
            if reviewer == heads["Support"] { continue }
            let acting = actingEmail(reviewer)
            let accepted = try await engine.acceptRecommendations(now.id, as: acting)
            try await keepWithComment(accepted.left, now.id, engine: engine, as: acting, comment: "lead engineer on the CRM on-call rota")
            say("  \(reviewer): accepted \(accepted.decided) recommendations\(accepted.left.isEmpty ? "" : ", kept \(accepted.left.count) privileged grants with a comment")")
        }
    }

    private func keepWithComment(_ ids: [String], _ campaign: String, engine: ReviewEngine, as email: String, comment: String) async throws {
        guard !ids.isEmpty else { return }
        try await engine.decide(campaign, items: ids, verdict: .keep, comment: comment, as: email)
    }

    /// Open items of the current stage by the reviewer who has them (`group:NAME` or an e-mail).
    private func openByReviewer(_ campaign: Campaign) -> [String: [Int]] {
        var by: [String: [Int]] = [:]
        for p in campaign.openItems {
            guard let reviewer = campaign.progress[p].currentReviewer(campaign.stage) else { continue }
            by[reviewer.description, default: []].append(p)
        }
        return by
    }

    /// A group's items are decided by its member, the security lead.
    private func actingEmail(_ reviewer: String) -> String {
        reviewer.hasPrefix("group:") ? Self.security : reviewer
    }

    private func ownerEmail(_ ws: Workspace) -> String {
        ws.config.governance.app("crm")?.owner ?? Self.security
    }

    private func counts(_ campaign: Campaign) -> String {
        let by = Dictionary(grouping: campaign.progress, by: { $0.status.description }).mapValues(\.count)
        return by.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(separator: ", ")
    }

    /// Reads each revoked account from the sandbox's SCIM API, independently of Steward's own
    /// read-back, to show the access is gone.
    private func showRevokesInTheSandbox(_ campaign: Campaign) async throws {
        guard let scim = sandbox.apps["scim"] else { return }
        for p in campaign.progress.indices {
            let status = campaign.progress[p].status
            guard status == .revokedVerified || { if case .revokeFailed = status { return true } else { return false } }() else { continue }
            let item = campaign.items[p]
            let user = try await DemoConfig.get(scim + "/Users/" + item.accountId, token: sandbox.token)
            let groups = user["groups"].arrayValue?.compactMap { $0["display"].stringValue } ?? []
            say("  \(status): \(item.accessName) of \(item.context.personName ?? item.accountName); the CRM now shows "
                + "active \(user["active"].boolValue.map(String.init) ?? "?"), groups [\(groups.sorted().joined(separator: ", "))]")
        }
    }

    /// The report in every format under `reports/`. Without Chromium the PDF is skipped, saying so.
    private func writeReports(_ ws: Workspace, campaign: String, now: Date) async throws -> [String] {
        let report = try ReviewReportBuilder(workspace: ws, now: now).build(campaign)
        let folder = directory.appendingPathComponent("reports")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        var written: [String] = []
        for format in ReviewReportFormat.allCases {
            let url = folder.appendingPathComponent("\(campaign).\(format.fileExtension)")
            do {
                try Data(try await renderReport(report, as: format)).write(to: url, options: .atomic)
                written.append(url.path)
            } catch {
                say("  the \(format.rawValue) report was not written: \(error)")
            }
        }
        say("reports: " + written.joined(separator: ", "))
        return written
    }

    private func day(_ date: Date) -> String { String(Timestamp(date).rfc3339.prefix(10)) }
}
