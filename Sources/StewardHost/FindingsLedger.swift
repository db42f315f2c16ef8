import Foundation
import StewardCore
import StewardJournal
import StewardProtocol

/// Journals discovery findings as they appear and go: `finding.opened` the first time a
/// finding holds, `finding.resolved` (with how: linked, ignored, disabled, deleted, connected,
/// gone) when it no longer does. Run after a sync, an apply, a link or an ignore, so the journal
/// tells an auditor when each orphan, leftover or shadow app was found and how it was settled.
///
/// Findings are derived, never a source of truth: a failure here leaves the journal's record of
/// the sync or apply that ran before it untouched.
struct FindingsLedger {
    let workspace: Workspace

    @discardableResult
    func update(now: Date) async throws -> (opened: Int, resolved: Int) {
        let state = try workspace.state()
        let result = try await PlanEngine(workspace: workspace).plan(now: now, record: false, state: state)
        let current = DiscoveryEngine.findings(result, state: state, workspace: workspace, now: now, candidates: false)
            .filter { $0.kind != .licences }
        var byKey: [String: AccountFinding] = [:]
        for f in current where byKey[f.key] == nil { byKey[f.key] = f }
        var drafts: [EventDraft] = []
        for key in byKey.keys.sorted() where state.openFindings[key] == nil {
            guard let f = byKey[key] else { continue }
            var subjects = ["app": f.app]
            if let account = f.accountId { subjects["account"] = account }
            if let person = f.personId { subjects["person"] = person }
            var data: [String: JSONValue] = ["key": .string(key), "kind": .string(f.kind.rawValue), "summary": .string(f.summary)]
            if f.urgent { data["urgent"] = true }
            drafts.append(workspace.event(EventType.findingOpened, subjects: subjects, data: .object(data)))
        }
        let opened = drafts.count
        let connected = ShadowFindings.connectedIndex(DiscoveryEngine.connectedApps(workspace.config), catalogue: try? workspace.vendorCatalogue())
        for key in state.openFindings.keys.sorted() where byKey[key] == nil {
            guard let f = state.openFindings[key] else { continue }
            var subjects = ["app": f.app]
            if let account = f.account { subjects["account"] = account }
            if let person = f.person { subjects["person"] = person }
            drafts.append(workspace.event(EventType.findingResolved, subjects: subjects, data: [
                "key": .string(key), "kind": .string(f.kind), "resolution": .string(resolution(of: f, state: state, connected: connected)),
            ]))
        }
        try await workspace.record(drafts)
        return (opened, drafts.count - opened)
    }

    /// Why a finding no longer holds, read from the state that made it go.
    private func resolution(of f: GovernanceState.OpenFinding, state: GovernanceState, connected: [String: String]) -> String {
        if f.kind == AccountFinding.Kind.shadow.rawValue {
            return connected[ShadowFindings.normalized(f.app)] != nil ? "connected" : "gone"
        }
        guard let account = f.account else { return "gone" }
        let key = AccountKey(app: f.app, accountId: account)
        if state.links[key] != nil { return "linked" }
        if state.ignores[key] != nil { return "ignored" }
        guard let a = state.apps[f.app]?.accounts[account] else { return "deleted" }
        return a.status == .disabled ? "disabled" : "gone"
    }
}
