import Foundation
import StewardCore
import StewardHost

/// `steward demo --serve`: after the demo, a second campaign that stays open and `steward serve`
/// on a free port, so a reviewer link has items to decide and a script can sign an HR webhook
/// with the folder's `webhook.secret`.
public struct DemoService: Sendable {
    public var configPath: String
    public var say: @Sendable (String) -> Void

    public init(configPath: String, say: @escaping @Sendable (String) -> Void) {
        self.configPath = configPath
        self.say = say
    }

    /// The running service and a reviewer's link to the open campaign.
    public struct Running: Sendable {
        public var service: StewardService
        public var reviewerLink: String?
        public var reviewer: String?
    }

    /// Launches the open campaign, starts the service on 127.0.0.1 port 0 and its scheduler.
    public func start(log: @escaping @Sendable (String) -> Void) async throws -> Running {
        let ws = try Workspace.open(configPath: configPath, actor: "steward demo")
        let campaign: Campaign
        do {
            guard let definition = ws.config.governance.review(DemoReview.openReviewId) else {
                throw WorkspaceError(message: "the demo's config has no review \(DemoReview.openReviewId)")
            }
            campaign = try await ReviewEngine(workspace: ws).launch(definition)
            await ws.close()
        } catch {
            await ws.close()
            throw error
        }
        let service = try StewardService.start(configPath: configPath, listen: ("127.0.0.1", 0), log: log)
        // The reviewer with the most open items, for a link worth opening.
        let counts = Dictionary(grouping: campaign.undecidedItems.compactMap { campaign.progress[$0].currentReviewer(0) }, by: \.description)
            .filter { !$0.key.hasPrefix("group:") }.mapValues(\.count)
        let reviewer = counts.max { ($0.value, $1.key) < ($1.value, $0.key) }?.key
        var link: String?
        if let reviewer, let issuer = try ReviewLinkIssuer(config: service.config, base: service.baseURL) {
            link = issuer.url(reviewer: reviewer, campaign: campaign.id, now: Date(), lifetime: 14 * 86_400)
        }
        say("Opened \(campaign.id): \(campaign.items.count) items for managers to review.")
        service.startScheduler()
        return Running(service: service, reviewerLink: link, reviewer: reviewer)
    }
}
