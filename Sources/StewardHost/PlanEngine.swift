import Foundation
import StewardCore
import StewardJournal
import StewardProtocol

/// Computes a plan from the journal's state and the config's rules, and checks a saved plan
/// is still current before it is applied.
public struct PlanEngine: Sendable {
    public let workspace: Workspace

    public init(workspace: Workspace) {
        self.workspace = workspace
    }

    /// The plan for `apps` (all when nil) as of `now`. Records a `plan.computed` event.
    public func plan(apps: Set<String>? = nil, allowMassDeprovision: Bool = false, now: Date = Date(),
                     record: Bool = true, state known: GovernanceState? = nil) async throws -> PlanResult {
        let state = try known ?? workspace.state()
        for id in apps ?? [] where workspace.config.app(id) == nil {
            throw WorkspaceError(message: "no app \"\(id)\" in \(workspace.config.file.lastPathComponent)")
        }
        if state.lastHRSync == nil {
            throw WorkspaceError(message: "nothing synced yet: run `steward sync` first")
        }
        let head = workspace.journalHead
        // The baseline is judged on the day of that apply, so a date that passed since reads as
        // the lifecycle event it is (a leaver, a start), not as drift.
        let baselineDay = state.lastApplyTime.flatMap { Timestamp(rfc3339: $0)?.date } ?? now
        let baseline = state.peopleAtLastApply.map { HRSnapshot(people: Array($0.values), takenAt: min(baselineDay, now)) }
        let lifecycle = LifecycleChanges.between(baseline, HRSnapshot(people: Array(state.people.values), takenAt: now))
        var previousConfig: GovernanceConfig?
        if let doc = state.configAtLastApply { previousConfig = try? GovernanceConfig(json: doc) }
        let request = PlanRequest(
            config: workspace.config.governance,
            people: state.people.values.sorted { $0.id < $1.id },
            inventories: workspace.config.apps.compactMap { state.inventory(app: $0.id) },
            now: now,
            formerPeople: state.formerPeople.values.sorted { $0.id < $1.id },
            lifecycle: lifecycle,
            overrides: state.overrides,
            previousConfig: previousConfig,
            onlyApps: apps,
            allowMassDeprovision: allowMassDeprovision)
        var result = Planner.makePlan(request)
        result.plan.journalHead = head
        if record {
            try await workspace.record([workspace.event(EventType.planComputed, data: [
                "journalHead": .string(head), "actions": .int(result.plan.actions.count),
                "executable": .int(result.plan.executableActions.count), "blocked": .bool(result.plan.isBlocked),
                "rails": .array(result.plan.rails.map(\.json)), "apps": apps.map { .array($0.sorted().map(JSONValue.string)) } ?? .null,
            ])])
        }
        return result
    }

    /// A finding as people fix it: where in the config it is written, then what is wrong.
    public func describe(_ finding: PlanFinding) -> String {
        guard let path = finding.configPaths.first else { return finding.message }
        let also = finding.configPaths.dropFirst().map { workspace.config.location(of: $0) }
        return "\(workspace.config.location(of: path)): \(finding.message)" + (also.isEmpty ? "" : " (also \(also.joined(separator: "; ")))")
    }

    /// Why a saved plan may no longer be applied, or nil when it is current: the journal must
    /// still hold the events it was computed against, with nothing that changes state since.
    public func staleness(of plan: Plan) throws -> String? {
        guard let head = plan.journalHead else { return "the plan records no journal head" }
        let parts = head.split(separator: ":", maxSplits: 1)
        guard parts.count == 2, let size = Int(parts[0]) else { return "the plan's journal head \"\(head)\" is malformed" }
        guard size <= workspace.journal.size else { return "the plan was made against a longer journal than this one" }
        guard try workspace.journal.root(size: size).base64 == String(parts[1]) else {
            return "the plan was made against a different journal"
        }
        // Syncs that found nothing new and other plans leave the state as it was.
        let harmless: Set<String> = [EventType.planComputed, EventType.applyBlocked, EventType.hrSynced, EventType.appSynced,
                                     EventType.appSyncFailed]
        var changed: String?
        try workspace.journal.forEachEvent(from: size + 1) { event in
            if harmless.contains(event.type) { return true }
            changed = "\(event.type) at seq \(event.seq)"
            return false
        }
        return changed.map { "the journal changed since the plan was made (\($0)); run `steward plan` again" }
    }
}

extension GovernanceConfig {
    /// The parts of a config document that are rules, recorded at each apply so the next plan
    /// can tell a policy change from drift.
    static func rulesDocument(_ document: JSONValue) -> JSONValue {
        var o: [String: JSONValue] = [:]
        for key in ["apps", "roles", "policies", "exceptions", "source"] { if let v = document.objectValue?[key] { o[key] = v } }
        return .object(o)
    }
}
