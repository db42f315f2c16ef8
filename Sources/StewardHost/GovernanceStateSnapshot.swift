import StewardCore
import StewardJournal
import StewardProtocol

/// Saving and restoring `GovernanceState`, so opening a large journal folds only the events
/// since the last snapshot. The journal stores the snapshot with the tree root it was taken at
/// and hands it back only while the log under it is unchanged; otherwise the state is rebuilt
/// from the events, which stay the source of truth.
extension GovernanceState {
    static let snapshotName = "governance-state"
    static let snapshotVersion = 4
    /// Fold at least this many events before saving a new snapshot.
    static let snapshotEvery = 5_000

    /// The state at the journal's head: the latest snapshot plus the events after it.
    public static func loadFast(from journal: Journal) throws -> GovernanceState {
        var state = GovernanceState()
        if let (seq, bytes) = try journal.loadSnapshot(name: snapshotName),
           let decoded = try? GovernanceState(snapshot: JSONParser.parse(bytes)), decoded.lastSeq == seq {
            state = decoded
        }
        let from = state.lastSeq + 1
        var folded = 0
        try journal.forEachEvent(from: from) { event in
            state.apply(event)
            folded += 1
            return true
        }
        if folded >= snapshotEvery {
            try? journal.saveSnapshot(name: snapshotName, seq: state.lastSeq, bytes: JSONWriter.bytes(state.snapshot))
        }
        return state
    }

    var snapshot: JSONValue {
        func people(_ p: [String: Person]) -> JSONValue { .array(p.values.sorted { $0.id < $1.id }.map(\.json)) }
        var apps: [String: JSONValue] = [:]
        for (id, s) in self.apps {
            var o = JSONObjectBuilder()
            o.set("accounts", .array(s.accounts.values.sorted { $0.id < $1.id }.map(\.json)))
            o.set("entitlements", .array(s.entitlements.values.sorted { ($0.type, $0.id) < ($1.type, $1.id) }.map(\.json)))
            o.set("grants", .array(s.grants.map(\.json)))
            o.set("capabilities", s.capabilities?.json)
            o.set("lastSync", s.lastSync)
            o.set("disabledSince", s.disabledSince.json)
            apps[id] = o.value
        }
        var o = JSONObjectBuilder()
        o.set("version", Self.snapshotVersion)
        o.set("lastSeq", lastSeq)
        o.set("people", people(self.people))
        o.set("formerPeople", people(formerPeople))
        o.set("lastHRSync", lastHRSync)
        o.set("lastHRSyncAsOf", lastHRSyncAsOf)
        o.set("peopleAtLastApply", peopleAtLastApply.map(people))
        o.set("lastApplyTime", lastApplyTime)
        o.set("openCampaigns", .array(openCampaigns.sorted().map(JSONValue.string)))
        o.set("movedOn", movedOn.json)
        o.set("launches", .object(launches.mapValues { .int($0) }))
        o.set("reviewDecisions", .array(reviewDecisions.keys.sorted().compactMap { reviewDecisions[$0]?.outcomeJSON }))
        if let a = lastApply {
            o.set("lastApply", ["time": .string(a.time), "applied": .int(a.applied), "alreadyApplied": .int(a.alreadyApplied),
                                "failed": .int(a.failed), "skipped": .int(a.skipped), "verified": .int(a.verified),
                                "unverified": .int(a.unverified), "verify": a.verifiedReads.map(JSONValue.bool) ?? .null])
        }
        o.set("apps", .object(apps))
        o.set("links", .array(links.map { ["app": .string($0.key.app), "account": .string($0.key.accountId), "person": .string($0.value)] }))
        o.set("ignores", .array(ignores.map { ["app": .string($0.key.app), "account": .string($0.key.accountId), "reason": .string($0.value)] }))
        o.set("inDoubt", .array(inDoubt.values.map { ["key": .string($0.key), "app": .string($0.app), "action": $0.action, "seq": .int($0.seq)] }))
        o.set("configAtLastApply", configAtLastApply)
        o.set("lastConfigDigest", lastConfigDigest)
        o.set("usage", .array(allUsage.map(\.json)))
        o.set("discoverySync", discoverySync.json)
        o.set("recipeDrift", .array(recipeDrift.keys.sorted().compactMap { recipeDrift[$0]?.json }))
        o.set("openFindings", .array(openFindings.keys.sorted().compactMap { k in
            openFindings[k].map { f in
                var b = JSONObjectBuilder()
                b.set("key", f.key)
                b.set("kind", f.kind)
                b.set("app", f.app)
                b.set("account", f.account)
                b.set("person", f.person)
                b.set("summary", f.summary)
                b.set("since", f.since)
                return b.value
            }
        }))
        return o.value
    }

    init(snapshot s: JSONValue) throws {
        guard s["version"].intValue == Self.snapshotVersion, let seq = s["lastSeq"].intValue else {
            throw ConnectorError(.invalidArgument, "unknown snapshot version")
        }
        func people(_ v: JSONValue) throws -> [String: Person] {
            var result: [String: Person] = [:]
            for p in v.arrayValue ?? [] { let person = try Person(json: p); result[person.id] = person }
            return result
        }
        self.init()
        lastSeq = seq
        self.people = try people(s["people"])
        formerPeople = try people(s["formerPeople"])
        lastHRSync = s["lastHRSync"].stringValue
        lastHRSyncAsOf = s["lastHRSyncAsOf"].stringValue
        peopleAtLastApply = s["peopleAtLastApply"].isNull ? nil : try people(s["peopleAtLastApply"])
        lastApplyTime = s["lastApplyTime"].stringValue
        openCampaigns = Set((s["openCampaigns"].arrayValue ?? []).compactMap(\.stringValue))
        movedOn = (s["movedOn"].objectValue ?? [:]).compactMapValues(\.stringValue)
        launches = (s["launches"].objectValue ?? [:]).compactMapValues(\.intValue)
        for v in s["reviewDecisions"].arrayValue ?? [] {
            if let o = ReviewDecisionOverride(outcome: v) { reviewDecisions[o.key] = o }
        }
        let a = s["lastApply"]
        if let time = a["time"].stringValue {
            lastApply = ApplyRecord(time: time, applied: a["applied"].intValue ?? 0, alreadyApplied: a["alreadyApplied"].intValue ?? 0,
                                    failed: a["failed"].intValue ?? 0, skipped: a["skipped"].intValue ?? 0,
                                    verified: a["verified"].intValue ?? 0, unverified: a["unverified"].intValue ?? 0,
                                    verifiedReads: a["verify"].boolValue)
        }
        for (id, a) in s["apps"].objectValue ?? [:] {
            var app = AppState()
            for v in a["accounts"].arrayValue ?? [] { let x = try Account(json: v); app.accounts[x.id] = x }
            for v in a["entitlements"].arrayValue ?? [] { let x = try Entitlement(json: v); app.entitlements[x.type + "\u{1}" + x.id] = x }
            for v in a["grants"].arrayValue ?? [] { app.grants.insert(try Grant(json: v)) }
            app.capabilities = a["capabilities"].isNull ? nil : try Capabilities(json: a["capabilities"])
            app.lastSync = a["lastSync"].stringValue
            app.disabledSince = (a["disabledSince"].objectValue ?? [:]).compactMapValues(\.stringValue)
            apps[id] = app
        }
        for v in s["links"].arrayValue ?? [] {
            if let app = v["app"].stringValue, let account = v["account"].stringValue, let person = v["person"].stringValue {
                links[AccountKey(app: app, accountId: account)] = person
            }
        }
        for v in s["ignores"].arrayValue ?? [] {
            if let app = v["app"].stringValue, let account = v["account"].stringValue {
                ignores[AccountKey(app: app, accountId: account)] = v["reason"].stringValue ?? ""
            }
        }
        for v in s["inDoubt"].arrayValue ?? [] {
            if let key = v["key"].stringValue, let app = v["app"].stringValue, let seq = v["seq"].intValue {
                inDoubt[key] = InDoubtAction(key: key, app: app, action: v["action"], seq: seq)
            }
        }
        configAtLastApply = s["configAtLastApply"].isNull ? nil : s["configAtLastApply"]
        lastConfigDigest = s["lastConfigDigest"].stringValue
        for v in s["usage"].arrayValue ?? [] {
            if let u = AppUsage(json: v) { usage[u.source, default: [:]][u.key] = u }
        }
        discoverySync = (s["discoverySync"].objectValue ?? [:]).compactMapValues(\.stringValue)
        for v in s["recipeDrift"].arrayValue ?? [] {
            if let d = DriftRecord(json: v) { recipeDrift[Self.driftKey(app: d.app, step: d.step, fallback: d.fallback)] = d }
        }
        for v in s["openFindings"].arrayValue ?? [] {
            if let key = v["key"].stringValue {
                openFindings[key] = OpenFinding(key: key, kind: v["kind"].stringValue ?? "", app: v["app"].stringValue ?? "",
                                                account: v["account"].stringValue, person: v["person"].stringValue,
                                                summary: v["summary"].stringValue ?? "", since: v["since"].stringValue ?? "")
            }
        }
    }
}
