import Foundation
import StewardCore

/// `steward discover`: the findings over what the journal holds, computed with the same plan
/// `steward plan` would show: account findings from the apps' inventories, and shadow apps and
/// leavers still active from the discovery sources' usage.
public struct DiscoveryEngine: Sendable {
    public let workspace: Workspace

    public init(workspace: Workspace) {
        self.workspace = workspace
    }

    /// Every finding as of `now`: leavers still active in an app first, then each app's
    /// account findings in config order, then shadow apps.
    public func findings(now: Date = Date()) async throws -> [AccountFinding] {
        let state = try workspace.state()
        let result = try await PlanEngine(workspace: workspace).plan(now: now, record: false, state: state)
        return Self.findings(result, state: state, workspace: workspace, now: now, candidates: true)
    }

    /// The findings of a plan already computed (`steward status` counts them without candidates).
    static func findings(_ result: PlanResult, state: GovernanceState, workspace: Workspace, now: Date, candidates: Bool) -> [AccountFinding] {
        let config = workspace.config
        let inventories = config.apps.compactMap { state.inventory(app: $0.id) }
        let accounts = AccountFindings.find(result, inventories: inventories, config: config.governance, today: CalendarDay(now), candidates: candidates)
        let usage = state.allUsage
        guard !usage.isEmpty else { return accounts }
        let shadow = ShadowFindings.find(usage: usage, directory: result.directory, connected: connectedApps(config),
                                         catalogue: try? workspace.vendorCatalogue(), today: CalendarDay(now))
        return shadow.filter(\.urgent) + accounts + shadow.filter { !$0.urgent }
    }

    /// The names evidence may give each managed app: its id, its REST definition or recipe,
    /// and its `vendor`.
    static func connectedApps(_ config: StewardConfig) -> [ShadowFindings.ConnectedApp] {
        config.apps.map { app in
            var names = [app.id]
            for key in ["definition", "recipe", "profile"] {
                if let value = app.settings[key].stringValue {
                    names.append(((value as NSString).lastPathComponent as NSString).deletingPathExtension)
                }
            }
            if let vendor = config.governance.app(app.id)?.discovery.vendor { names.insert(vendor, at: 0) }
            return ShadowFindings.ConnectedApp(id: app.id, names: names)
        }
    }
}
