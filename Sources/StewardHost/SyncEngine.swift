import Foundation
import StewardCore
import StewardJournal
import StewardProtocol

/// Pulls people from the HR source and accounts, entitlements and grants from every app,
/// concurrently, and journals only what changed.
///
/// Each app is all or nothing: a listing that fails for good leaves that app's known state as
/// it was (journaled as `app.sync-failed`), while the other apps' changes are recorded. A page
/// that fails with a retryable error is retried on its own, not the whole listing.
public struct SyncEngine: Sendable {
    public let workspace: Workspace
    public var pageSize = 500
    /// Retries of one page before the listing (and so the app) fails.
    public var pageRetries = 4
    public var now: @Sendable () -> Date = { Date() }

    public init(workspace: Workspace) {
        self.workspace = workspace
    }

    public struct Summary: Sendable {
        public var people = 0
        public var previousPeople = 0
        public var joined = 0, moved = 0, left = 0, rehired = 0, updated = 0
        public var sourceError: String?
        public var apps: [AppSummary] = []
        public var events = 0
        /// Open review items moved to a new reviewer because HR changed.
        public var reviewItemsRerouted = 0
        /// One-item review campaigns this sync opened (micro-certifications).
        public var microCertifications: [String] = []
        public var discovery: [DiscoverySummary] = []
        /// Discovery findings journaled as first seen and as resolved by this sync.
        public var findingsOpened = 0, findingsResolved = 0

        public var failed: Bool { sourceError != nil || apps.contains { $0.error != nil } || discovery.contains { $0.error != nil } }

        public var json: JSONValue {
            var o = JSONObjectBuilder()
            o.set("people", people)
            o.set("joined", joined)
            o.set("moved", moved)
            o.set("left", left)
            o.set("rehired", rehired)
            o.set("updated", updated)
            o.set("sourceError", sourceError)
            o.set("apps", .array(apps.map(\.json)))
            o.set("events", events)
            o.set("reviewItemsRerouted", reviewItemsRerouted)
            o.set("microCertifications", .array(microCertifications.map(JSONValue.string)))
            o.set("discovery", .array(discovery.map(\.json)))
            o.set("findingsOpened", findingsOpened)
            o.set("findingsResolved", findingsResolved)
            return o.value
        }
    }

    /// One discovery source's read.
    public struct DiscoverySummary: Sendable {
        public var id: String
        public var records = 0, usage = 0, changes = 0, notSoftware = 0, unknown = 0
        public var error: String?

        public var json: JSONValue {
            var o = JSONObjectBuilder()
            o.set("id", id)
            o.set("records", records)
            o.set("usage", usage)
            o.set("changes", changes)
            o.set("notSoftware", notSoftware)
            o.set("unknown", unknown)
            o.set("error", error)
            return o.value
        }
    }

    public struct AppSummary: Sendable {
        public var id: String
        public var accounts = 0, entitlements = 0, grants = 0, changes = 0
        public var retries = 0
        /// How long its listing took (all pages).
        public var seconds = 0.0
        public var error: String?

        public var json: JSONValue {
            var o = JSONObjectBuilder()
            o.set("id", id)
            o.set("accounts", accounts)
            o.set("entitlements", entitlements)
            o.set("grants", grants)
            o.set("changes", changes)
            o.set("retries", retries)
            o.set("error", error)
            return o.value
        }
    }

    /// Syncs the HR source and every app, or only the apps named (`apps: []` with
    /// `includingSource: true` re-reads the source alone, as an HR webhook asks).
    public func run(apps only: [String]? = nil, includingSource: Bool? = nil) async throws -> Summary {
        let state = try workspace.state()
        let config = workspace.config
        for id in only ?? [] where config.app(id) == nil && config.discoverySource(id) == nil {
            throw WorkspaceError(message: "no app or discovery source \"\(id)\" in \(config.file.lastPathComponent)")
        }
        let appIds = only?.filter { config.app($0) != nil } ?? config.apps.map(\.id)
        let sourceIds = only?.filter { config.discoverySource($0) != nil } ?? config.discoverySources.map(\.id)
        let includeSource = includingSource ?? (only == nil)
        let takenAt = now()

        async let source: Result<[Person], Error>? = includeSource ? listPeople() : nil
        async let evidence = listDiscoverySources(sourceIds)
        let timed = await withTaskGroup(of: (String, Result<Listing, Error>, Double).self) { group in
            for id in appIds {
                group.addTask {
                    let started = Date()
                    let listing = await self.listApp(id)
                    return (id, listing, Date().timeIntervalSince(started))
                }
            }
            var all: [String: (Result<Listing, Error>, Double)] = [:]
            for await (id, r, seconds) in group { all[id] = (r, seconds) }
            return all
        }
        let listings = timed.mapValues(\.0)

        var summary = Summary()
        var drafts: [EventDraft] = []
        if let source = await source {
            switch source {
            case .success(let people):
                drafts += hrEvents(previous: state, current: people, takenAt: takenAt, summary: &summary)
            case .failure(let error):
                summary.sourceError = "\(error)"
                drafts.append(workspace.event(EventType.appSyncFailed, subjects: ["app": workspace.config.source.id],
                                              data: ["error": .string("\(error)")]))
            }
        }
        for id in appIds {
            var app = AppSummary(id: id)
            app.seconds = timed[id]?.1 ?? 0
            switch listings[id] {
            case .success(let listing)?:
                app.accounts = listing.accounts.count
                app.entitlements = listing.entitlements.count
                app.grants = listing.grants.count
                app.retries = listing.retries
                let events = appEvents(app: id, known: state.apps[id], listing: listing)
                app.changes = events.count - 1
                drafts += events
            case .failure(let error)?:
                app.error = "\(error)"
                drafts.append(workspace.event(EventType.appSyncFailed, subjects: ["app": id], data: ["error": .string("\(error)")]))
            case nil:
                break
            }
            summary.apps.append(app)
        }
        for (id, result) in await evidence {
            var d = DiscoverySummary(id: id)
            switch result {
            case .success(let (records, usage)):
                d.records = records
                d.usage = usage.count
                d.notSoftware = usage.filter(\.notSoftware).reduce(0) { $0 + $1.count }
                d.unknown = usage.filter { $0.vendor == nil }.count
                let events = usageEvents(source: id, known: state.usage[id] ?? [:], usage: usage, records: records)
                d.changes = events.count - 1
                drafts += events
            case .failure(let error):
                d.error = "\(error)"
                drafts.append(workspace.event(EventType.discoverySyncFailed, subjects: ["source": id], data: ["error": .string("\(error)")]))
            }
            summary.discovery.append(d)
        }
        summary.events = drafts.count
        try await workspace.record(drafts)
        try await workspace.recordDrift()
        let reviews = ReviewEngine(workspace: workspace, now: takenAt)
        if includeSource, summary.sourceError == nil {
            // HR-aware routing: a reviewer who left, or a subject with a new manager, moves items now.
            summary.reviewItemsRerouted = try await reviews.rerouteAfterHRChanges()
        }
        summary.microCertifications = try await reviews.openMicroCertifications(changes: Self.changes(in: drafts, known: state))
        // Derived from what was just journaled; a rule error only means findings wait for the fix.
        if let (opened, resolved) = try? await FindingsLedger(workspace: workspace).update(now: takenAt) {
            summary.findingsOpened = opened
            summary.findingsResolved = resolved
        }
        return summary
    }

    /// New grants and accounts in apps that had been synced before (a first sync finds
    /// everything "new", which is not news).
    static func changes(in drafts: [EventDraft], known state: GovernanceState) -> [String: MicroCertification.Changes] {
        var changes: [String: MicroCertification.Changes] = [:]
        for d in drafts {
            guard let app = d.subjects["app"], state.apps[app]?.lastSync != nil else { continue }
            if d.type == EventType.grantObserved, let g = try? Grant(json: d.data["grant"]) {
                changes[app, default: MicroCertification.Changes()].grants.insert(g)
            } else if d.type == EventType.accountDiscovered, let account = d.subjects["account"] {
                changes[app, default: MicroCertification.Changes()].accounts.insert(AccountKey(app: app, accountId: account))
            }
        }
        return changes
    }

    // MARK: Listing

    struct Listing: Sendable {
        var capabilities: Capabilities
        var accounts: [Account] = []
        var entitlements: [Entitlement] = []
        var grants: [Grant] = []
        var retries = 0
    }

    private func listPeople() async -> Result<[Person], Error> {
        do {
            let c = try workspace.sourceConnector
            try await c.start()
            var retries = 0
            return .success(try await listAll(c, Method.personsList, of: Person.self, retries: &retries))
        } catch {
            return .failure(error)
        }
    }

    private func listApp(_ id: String) async -> Result<Listing, Error> {
        do {
            let c = try workspace.connector(id)
            let handshake = try await c.start()
            let caps = handshake.capabilities
            var listing = Listing(capabilities: caps)
            guard caps.accounts.contains(.list) else {
                throw WorkspaceError(message: "the connector for \(id) cannot list accounts")
            }
            listing.accounts = try await listAll(c, Method.accountsList, of: Account.self, retries: &listing.retries)
            if caps.entitlementTypes.contains(where: \.list) {
                listing.entitlements = try await listAll(c, Method.entitlementsList, of: Entitlement.self, retries: &listing.retries)
            }
            if caps.grantsList {
                listing.grants = try await listAll(c, Method.grantsList, of: Grant.self, retries: &listing.retries)
            }
            return .success(listing)
        } catch {
            return .failure(error)
        }
    }

    /// A whole listing, each failed page retried on its own (see `SupervisedConnector.list`).
    private func listAll<Item: JSONConvertible>(_ c: SupervisedConnector, _ method: String, of type: Item.Type,
                                                retries: inout Int) async throws -> [Item] {
        var items: [Item] = []
        var retried = 0
        try await c.list(method, params: ListParams(pageSize: pageSize), of: type, pageRetries: pageRetries,
                         onRetry: { _ in retried += 1 }) { items.append(contentsOf: $0) }
        retries += retried
        return items
    }

    /// Every named discovery source's evidence as usage, concurrently; each one all or nothing.
    private func listDiscoverySources(_ ids: [String]) async -> [(String, Result<(Int, [AppUsage]), Error>)] {
        guard !ids.isEmpty else { return [] }
        let catalogue: VendorCatalogue
        do {
            catalogue = try workspace.vendorCatalogue()
        } catch {
            return ids.map { ($0, .failure(error)) }
        }
        let results = await withTaskGroup(of: (String, Result<(Int, [AppUsage]), Error>).self) { group in
            for id in ids {
                group.addTask {
                    do {
                        let c = try self.workspace.connector(id)
                        let handshake = try await c.start()
                        guard handshake.capabilities.evidenceList else {
                            throw WorkspaceError(message: "the connector for \(id) is not a discovery source (no evidence/list); give the file plugin a settings.kind")
                        }
                        var retries = 0
                        var records: [EvidenceRecord] = []
                        try await c.list(Method.evidenceList, params: ListParams(pageSize: max(self.pageSize, 5_000)), of: EvidenceRecord.self,
                                         pageRetries: self.pageRetries, onRetry: { _ in retries += 1 }) { records.append(contentsOf: $0) }
                        return (id, .success((records.count, AppUsage.aggregate(records, source: id, catalogue: catalogue))))
                    } catch {
                        return (id, .failure(error))
                    }
                }
            }
            var all: [String: Result<(Int, [AppUsage]), Error>] = [:]
            for await (id, r) in group { all[id] = r }
            return all
        }
        return ids.compactMap { id in results[id].map { (id, $0) } }
    }

    // MARK: Diffs

    private func usageEvents(source: String, known: [String: AppUsage], usage: [AppUsage], records: Int) -> [EventDraft] {
        var drafts: [EventDraft] = []
        var listed: Set<String> = []
        for u in usage {
            listed.insert(u.key)
            if known[u.key] != u {
                drafts.append(workspace.event(EventType.usageObserved, subjects: ["source": source], data: ["usage": u.json]))
            }
        }
        for key in known.keys.sorted() where !listed.contains(key) {
            drafts.append(workspace.event(EventType.usageGone, subjects: ["source": source], data: ["key": .string(key)]))
        }
        drafts.append(workspace.event(EventType.discoverySynced, subjects: ["source": source], data: [
            "records": .int(records), "usage": .int(usage.count), "changes": .int(drafts.count),
        ]))
        return drafts
    }

    private func hrEvents(previous state: GovernanceState, current raw: [Person], takenAt: Date, summary: inout Summary) -> [EventDraft] {
        var current: [Person] = []
        var seen: Set<String> = []
        for p in raw where seen.insert(p.id).inserted { current.append(p) }
        // The previous feed is judged on the day it was read, so an end date or start date that
        // passed since then is a departure or a start now, even on a row that did not change.
        let previousAsOf = state.lastHRSyncAsOf.flatMap { Timestamp(rfc3339: $0)?.date } ?? takenAt
        let changes = LifecycleChanges.between(state.people.isEmpty ? nil : HRSnapshot(people: Array(state.people.values), takenAt: previousAsOf),
                                               HRSnapshot(people: current, takenAt: takenAt))
        var drafts: [EventDraft] = []
        var described: Set<String> = []
        func person(_ type: String, _ p: Person, _ extra: [String: JSONValue] = [:]) {
            var data: [String: JSONValue] = ["person": p.json]
            for (k, v) in extra { data[k] = v }
            drafts.append(workspace.event(type, subjects: ["person": p.id], data: .object(data)))
            described.insert(p.id)
        }
        for p in changes.joined { person(EventType.personJoined, p) }
        for m in changes.moved {
            person(EventType.personMoved, m.person, ["changes": .array(m.changes.map {
                ["attribute": .string($0.attribute), "before": $0.before.map(JSONValue.string) ?? .null, "after": $0.after.map(JSONValue.string) ?? .null]
            })])
        }
        for p in changes.rehired { person(EventType.personRehired, p) }
        for p in changes.started { person(EventType.personJoined, p, ["reason": "start date arrived"]) }
        let currentIds = Set(current.map(\.id))
        for d in changes.left {
            person(EventType.personLeft, d.person, ["reason": .string(d.reason.rawValue), "because": .string(d.reason.explanation)])
        }
        for p in current where !described.contains(p.id) {
            if let before = state.people[p.id], before != p {
                person(EventType.personUpdated, p)
                summary.updated += 1
            } else if state.people[p.id] == nil {
                // New but already gone (hired and terminated between syncs): recorded, not a joiner.
                person(EventType.personUpdated, p)
            }
        }
        for id in state.people.keys.sorted() where !currentIds.contains(id) {
            drafts.append(workspace.event(EventType.personGone, subjects: ["person": id]))
        }
        summary.people = current.count
        summary.previousPeople = state.people.count
        summary.joined = changes.joined.count + changes.started.count
        summary.moved = changes.moved.count
        summary.left = changes.left.count
        summary.rehired = changes.rehired.count
        drafts.append(workspace.event(EventType.hrSynced, subjects: ["app": workspace.config.source.id], data: [
            "people": .int(current.count), "previous": .int(state.people.count), "joined": .int(changes.joined.count + changes.started.count),
            "moved": .int(changes.moved.count), "left": .int(changes.left.count), "rehired": .int(changes.rehired.count),
            "missing": .int(changes.missingCount), "started": .int(changes.started.count),
            "endDatePassed": .int(changes.endDatePassedCount), "asOf": .string(Timestamp(takenAt).rfc3339),
        ]))
        return drafts
    }

    private func appEvents(app: String, known: GovernanceState.AppState?, listing: Listing) -> [EventDraft] {
        var drafts: [EventDraft] = []
        let known = known ?? GovernanceState.AppState()
        var seen: Set<String> = []
        for a in listing.accounts where seen.insert(a.id).inserted {
            if let before = known.accounts[a.id] {
                if before != a {
                    drafts.append(workspace.event(EventType.accountChanged, subjects: ["app": app, "account": a.id],
                                                  data: ["account": a.json, "before": before.json]))
                }
            } else {
                drafts.append(workspace.event(EventType.accountDiscovered, subjects: ["app": app, "account": a.id], data: ["account": a.json]))
            }
        }
        let listedIds = Set(listing.accounts.map(\.id))
        for id in known.accounts.keys.sorted() where !listedIds.contains(id) {
            drafts.append(workspace.event(EventType.accountGone, subjects: ["app": app, "account": id]))
        }
        var listedEntitlements: Set<String> = []
        for e in listing.entitlements {
            let key = e.type + "\u{1}" + e.id
            listedEntitlements.insert(key)
            if known.entitlements[key] != e {
                drafts.append(workspace.event(EventType.entitlementDiscovered, subjects: ["app": app], data: ["entitlement": e.json]))
            }
        }
        for (key, e) in known.entitlements.sorted(by: { $0.key < $1.key }) where !listedEntitlements.contains(key) {
            drafts.append(workspace.event(EventType.entitlementGone, subjects: ["app": app], data: ["type": .string(e.type), "id": .string(e.id)]))
        }
        let grants = Set(listing.grants)
        for g in listing.grants.sorted(by: { ($0.accountId, $0.type, $0.entitlementId) < ($1.accountId, $1.type, $1.entitlementId) })
        where !known.grants.contains(g) {
            drafts.append(workspace.event(EventType.grantObserved, subjects: ["app": app, "account": g.accountId], data: ["grant": g.json]))
        }
        for g in known.grants.sorted(by: { ($0.accountId, $0.type, $0.entitlementId) < ($1.accountId, $1.type, $1.entitlementId) })
        where !grants.contains(g) && listedIds.contains(g.accountId) {
            drafts.append(workspace.event(EventType.grantGone, subjects: ["app": app, "account": g.accountId], data: ["grant": g.json]))
        }
        drafts.append(workspace.event(EventType.appSynced, subjects: ["app": app], data: [
            "accounts": .int(listing.accounts.count), "entitlements": .int(listing.entitlements.count),
            "grants": .int(listing.grants.count), "changes": .int(drafts.count), "capabilities": listing.capabilities.json,
        ]))
        return drafts
    }
}
