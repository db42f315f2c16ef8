import Foundation
import StewardCore

/// `steward discover`: the account findings over what the journal holds, computed with the
/// same plan `steward plan` would show (nothing is journaled).
public struct DiscoveryEngine: Sendable {
    public let workspace: Workspace

    public init(workspace: Workspace) {
        self.workspace = workspace
    }

    /// Every account finding as of `now`, apps in config order, leavers' first within an app.
    public func accountFindings(now: Date = Date()) async throws -> [AccountFinding] {
        let state = try workspace.state()
        let result = try await PlanEngine(workspace: workspace).plan(now: now, record: false, state: state)
        return Self.findings(result, state: state, config: workspace.config, now: now, candidates: true)
    }

    /// The findings of a plan already computed (`steward status` counts them without candidates).
    static func findings(_ result: PlanResult, state: GovernanceState, config: StewardConfig, now: Date, candidates: Bool) -> [AccountFinding] {
        let inventories = config.apps.compactMap { state.inventory(app: $0.id) }
        return AccountFindings.find(result, inventories: inventories, config: config.governance, today: CalendarDay(now), candidates: candidates)
    }
}
