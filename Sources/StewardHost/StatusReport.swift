import StewardCore
import StewardJournal
import StewardProtocol

/// `steward status`: people, apps, what is pending, in doubt or unverified, and the journal.
public struct StatusReport: Sendable {
    public var activePeople: Int
    /// People whose standing is left, plus people gone from the feed.
    public var leftPeople: Int
    public var lastHRSync: String?
    public var apps: [App]
    public var pendingActions: Int
    public var inDoubtActions: Int
    /// A safety rail blocks the current plan.
    public var blocked: Bool
    /// Findings that stop the current plan (rules naming unknown entitlements, unsynced apps).
    public var ruleErrors: Int
    public var lastApply: GovernanceState.ApplyRecord?
    public var journalEvents: Int
    public var journalHead: String
    /// `steward discover`'s findings by kind (`leftover`, `orphan`, …); only kinds with any.
    public var findings: [String: Int] = [:]
    /// Discovery sources: when each was last read, and the usage records it holds.
    public var discoverySources: [DiscoverySource] = []
    /// Browser recipe steps a fallback selector rescued: the app's UI changed.
    public var drift: [GovernanceState.DriftRecord] = []

    public struct DiscoverySource: Sendable {
        public var id: String
        public var lastSync: String?
        public var usage: Int
    }

    public struct App: Sendable {
        public var id: String
        public var mode: String?
        public var accounts: Int
        public var linked: Int?
        public var orphans: Int?
        public var lastSync: String?
        public var pendingActions: Int?
    }

    /// The `--json` form. Its members are a contract; new ones are only added.
    public var json: JSONValue {
        [
            "people": ["active": .int(activePeople), "left": .int(leftPeople)],
            "lastHRSync": lastHRSync.map(JSONValue.string) ?? .null,
            "apps": .array(apps.map { app in
                var o = JSONObjectBuilder()
                o.set("id", app.id)
                o.set("mode", app.mode)
                o.set("accounts", app.accounts)
                o.set("linked", app.linked)
                o.set("orphans", app.orphans)
                o.set("lastSync", app.lastSync)
                o.set("pendingActions", app.pendingActions)
                return o.value
            }),
            "inDoubtActions": .int(inDoubtActions),
            "pendingActions": .int(pendingActions),
            "blocked": .bool(blocked),
            "ruleErrors": .int(ruleErrors),
            "lastApply": lastApply.map { a in
                ["time": .string(a.time), "applied": .int(a.applied), "alreadyApplied": .int(a.alreadyApplied), "failed": .int(a.failed),
                 "skipped": .int(a.skipped), "verified": .int(a.verified), "unverified": .int(a.unverified), "verify": a.verifiedReads.map(JSONValue.bool) ?? .null]
            } ?? .null,
            "journal": ["events": .int(journalEvents), "head": .string(journalHead)],
            "findings": .object(findings.mapValues { .int($0) }),
            "drift": .array(drift.map(\.json)),
            "discovery": .array(discoverySources.map { d in
                ["id": .string(d.id), "lastSync": d.lastSync.map(JSONValue.string) ?? .null, "usage": .int(d.usage)]
            }),
        ]
    }

    /// The text form, a line per topic.
    public var text: String {
        var lines = ["People: \(activePeople) active, \(leftPeople) left (HR synced \(lastHRSync ?? "never"))"]
        for app in apps {
            lines.append("\(app.id): \(app.mode ?? "") — \(app.accounts) accounts, \(app.linked ?? 0) linked, \(app.orphans ?? 0) orphaned; \(app.pendingActions ?? 0) pending actions; last sync \(app.lastSync ?? "never")")
        }
        for d in drift {
            lines.append("\(d.app): recipe drift at \(d.step) (fallback \(d.fallback), \(d.selector), used since \(d.since)); update the recipe's first selector")
        }
        for d in discoverySources {
            lines.append("\(d.id): discovery source — \(d.usage) app × user records; last read \(d.lastSync ?? "never")")
        }
        var pending = "Pending actions: \(pendingActions)"
        if blocked { pending += " (BLOCKED by a safety rail)" }
        if ruleErrors > 0 { pending += " (the rules have errors: run `steward plan`)" }
        lines.append(pending + "; in doubt: \(inDoubtActions)")
        if let a = lastApply {
            let reads: String
            switch a.verifiedReads {
            case true?: reads = "\(a.verified) verified, \(a.unverified) UNVERIFIED"
            case false?: reads = "not read back (--no-verify)"
            case nil: reads = "not read back (journaled by a version before read-back)"
            }
            lines.append("Last apply \(a.time): \(a.applied) applied, \(a.alreadyApplied) already so, \(a.failed) failed, \(a.skipped) skipped; \(reads)")
        }
        if !findings.isEmpty {
            let order = ["leftover", "orphan", "privileged", "service", "dormant", "shadow"]
            let counts = order.compactMap { kind in findings[kind].map { "\($0) \(kind)" } }
            if !counts.isEmpty { lines.append("Findings: " + counts.joined(separator: ", ") + " (steward discover)") }
        }
        lines.append("Journal: \(journalEvents) events")
        return lines.joined(separator: "\n")
    }
}

extension Queries {
    public func status() -> StatusReport {
        let plan = planned?.plan
        let active = state.people.keys.filter { standing(of: $0)?.hasLeft == false }.count
        let apps = workspace.config.apps.map { app -> StatusReport.App in
            let summary = plan?.apps.first { $0.id == app.id }
            return StatusReport.App(id: app.id, mode: workspace.config.governance.app(app.id)?.mode.rawValue,
                                    accounts: state.apps[app.id]?.accounts.count ?? 0, linked: summary?.linked,
                                    orphans: summary?.orphans, lastSync: state.apps[app.id]?.lastSync,
                                    pendingActions: plan.map { p in p.actions.filter { $0.app == app.id }.count })
        }
        var report = StatusReport(activePeople: active, leftPeople: state.people.count - active + state.formerPeople.count,
                                  lastHRSync: state.lastHRSync, apps: apps, pendingActions: plan?.actions.count ?? 0,
                                  inDoubtActions: state.inDoubt.count, blocked: plan?.isBlocked ?? false,
                                  ruleErrors: plan?.errors.count ?? 0, lastApply: state.lastApply,
                                  journalEvents: workspace.journal.size, journalHead: workspace.journalHead)
        report.drift = state.recipeDrift.keys.sorted().compactMap { state.recipeDrift[$0] }
        report.discoverySources = workspace.config.discoverySources.map {
            StatusReport.DiscoverySource(id: $0.id, lastSync: state.discoverySync[$0.id], usage: state.usage[$0.id]?.count ?? 0)
        }
        if let planned {
            for f in DiscoveryEngine.findings(planned, state: state, workspace: workspace, now: now, candidates: false) where f.kind != .licences {
                report.findings[f.kind.rawValue, default: 0] += 1
            }
        }
        return report
    }
}
