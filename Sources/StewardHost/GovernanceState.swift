import Foundation
import StewardCore
import StewardJournal
import StewardProtocol

/// The journal's event types. They are a public contract: auditors and tools filter on them.
public enum EventType {
    public static let hrSynced = "hr.synced"
    public static let personJoined = "person.joined"
    public static let personMoved = "person.moved"
    public static let personUpdated = "person.updated"
    public static let personLeft = "person.left"
    public static let personRehired = "person.rehired"
    public static let personGone = "person.gone"

    public static let appSynced = "app.synced"
    public static let appSyncFailed = "app.sync-failed"
    public static let accountDiscovered = "account.discovered"
    public static let accountChanged = "account.changed"
    public static let accountGone = "account.gone"
    public static let entitlementDiscovered = "entitlement.discovered"
    public static let entitlementGone = "entitlement.gone"
    public static let grantObserved = "grant.observed"
    public static let grantGone = "grant.gone"

    public static let accountLinked = "account.linked"
    public static let accountIgnored = "account.ignored"

    public static let configChanged = "config.changed"
    public static let planComputed = "plan.computed"
    public static let applyStarted = "apply.started"
    public static let actionIntent = "action.intent"
    public static let actionOutcome = "action.outcome"
    public static let actionResolved = "action.resolved"
    /// A read after apply checked the action's effect: `result` is `verified` or `unverified`.
    public static let actionVerified = "action.verified"
    public static let applyFinished = "apply.finished"
    /// Nothing was applied: a safety rail tripped (`rails`) or the rules have errors (`errors`).
    public static let applyBlocked = "apply.blocked"

    // Access reviews (see docs/audit-journal.md).
    public static let reviewLaunched = "review.launched"
    public static let reviewItems = "review.items"
    public static let reviewDecided = "review.decided"
    public static let reviewDelegated = "review.delegated"
    public static let reviewReassigned = "review.reassigned"
    public static let reviewReminded = "review.reminded"
    public static let reviewEscalated = "review.escalated"
    public static let reviewSignedOff = "review.signed-off"
    public static let reviewStageClosed = "review.stage-closed"
    public static let reviewOutcome = "review.outcome"
    public static let reviewClosed = "review.closed"
    /// Reviewer links of a campaign (one reviewer's, or all) issued up to `before` stop working.
    public static let reviewLinksRevoked = "review.links-revoked"

    // steward serve
    /// An HR webhook, accepted (with the people it named) or refused (with why).
    public static let webhookReceived = "webhook.received"
    /// A message handed to a notify connector: recipient, template, result; never its links
    /// (a review link acts as its reviewer) or the connector's secrets.
    public static let notifySent = "notify.sent"
    /// A Slack button press: the decision recorded, or why it was refused.
    public static let slackAction = "slack.action"

    // Discovery (see docs/discovery.md)
    /// A discovery source was read: `records`, `usage` (vendor × user records kept), `changes`.
    public static let discoverySynced = "discovery.synced"
    /// A discovery source could not be read; what was known from it stays as it was.
    public static let discoverySyncFailed = "discovery.sync-failed"
    /// One vendor × user usage record of a source, new or changed (`usage`).
    public static let usageObserved = "usage.observed"
    /// A usage record no longer in the source's export (`key`).
    public static let usageGone = "usage.gone"
    /// A discovery finding seen for the first time (`key`, `kind`, `app`, `summary`).
    public static let findingOpened = "finding.opened"
    /// A finding that no longer holds, and why (`resolution`: linked, ignored, disabled,
    /// deleted, connected, gone).
    public static let findingResolved = "finding.resolved"

    /// A fallback selector rescued a browser recipe's step (`step`, `fallback`, `selector`):
    /// journaled once per app, step and fallback.
    public static let recipeDrift = "recipe.drift"
}

/// Everything Steward knows, derived from the journal by folding its events in order.
///
/// The journal is the database: this is a view of it, rebuilt on open, never a source of truth
/// of its own.
public struct GovernanceState: Sendable {
    /// The HR feed as last synced, by employee id.
    public var people: [String: Person] = [:]
    /// People who were in the feed once and are gone from it.
    public var formerPeople: [String: Person] = [:]
    public var lastHRSync: String?
    /// The time the last HR sync judged the feed at (`STEWARD_NOW` when rehearsing a later day),
    /// so the next sync sees an end date that passed in between as a departure.
    public var lastHRSyncAsOf: String?
    /// The feed as of the last finished apply: the baseline for joiner/mover/leaver causes.
    public var peopleAtLastApply: [String: Person]?
    /// When the last apply finished, the day that baseline is judged on.
    public var lastApplyTime: String?
    /// The last apply's result as journaled, for `steward status`.
    public var lastApply: ApplyRecord?
    /// Review campaigns launched and not yet closed.
    public var openCampaigns: Set<String> = []
    /// Campaigns launched per review definition, so the next one is numbered without a scan.
    public var launches: [String: Int] = [:]
    /// The latest review outcome per person, app and access, which plans follow.
    public var reviewDecisions: [String: ReviewDecisionOverride] = [:]
    /// Day of each person's latest move, for micro-certifications of access a mover kept.
    public var movedOn: [String: String] = [:]
    public var apps: [String: AppState] = [:]
    public var links: [AccountKey: String] = [:]
    public var ignores: [AccountKey: String] = [:]
    /// Actions started but never finished (a crash): resolved by reading the target first.
    public var inDoubt: [String: InDoubtAction] = [:]
    /// The rules (`GovernanceConfig` input) in force at the last finished apply.
    public var configAtLastApply: JSONValue?
    public var lastConfigDigest: String?
    /// Per discovery source: its usage records by `AppUsage.key`.
    public var usage: [String: [String: AppUsage]] = [:]
    /// Per discovery source: when it was last read.
    public var discoverySync: [String: String] = [:]
    /// Findings journaled as opened and not yet resolved, by `AccountFinding.key`.
    public var openFindings: [String: OpenFinding] = [:]
    /// Recipe drift journaled, by `driftKey`.
    public var recipeDrift: [String: DriftRecord] = [:]

    public struct DriftRecord: Sendable, Hashable {
        public var app: String
        public var step: String
        public var fallback: Int
        public var selector: String
        public var since: String

        public var json: JSONValue {
            ["app": .string(app), "step": .string(step), "fallback": .int(fallback), "selector": .string(selector), "since": .string(since)]
        }

        init(app: String, step: String, fallback: Int, selector: String, since: String) {
            self.app = app
            self.step = step
            self.fallback = fallback
            self.selector = selector
            self.since = since
        }

        init?(json v: JSONValue) {
            guard let app = v["app"].stringValue, let step = v["step"].stringValue, let fallback = v["fallback"].intValue else { return nil }
            self.init(app: app, step: step, fallback: fallback, selector: v["selector"].stringValue ?? "", since: v["since"].stringValue ?? "")
        }
    }

    static func driftKey(app: String, step: String, fallback: Int) -> String { "\(app)\u{1}\(step)\u{1}\(fallback)" }
    public var lastSeq = 0

    /// A finding as `finding.opened` recorded it.
    public struct OpenFinding: Sendable, Hashable {
        public var key: String
        public var kind: String
        public var app: String
        public var account: String?
        public var person: String?
        public var summary: String
        public var since: String
    }

    /// Every source's usage, sources in id order.
    public var allUsage: [AppUsage] {
        usage.keys.sorted().flatMap { id -> [AppUsage] in
            guard let records = usage[id] else { return [] }
            return records.keys.sorted().compactMap { records[$0] }
        }
    }

    public init() {}

    /// One app's observed state.
    public struct AppState: Sendable {
        public var accounts: [String: Account] = [:]
        public var entitlements: [String: Entitlement] = [:]
        public var grants: Set<Grant> = []
        public var capabilities: Capabilities?
        public var lastSync: String?
        /// Day each account was first seen disabled.
        public var disabledSince: [String: String] = [:]
    }

    /// What an `apply.finished` event recorded.
    public struct ApplyRecord: Sendable, Hashable {
        public var time: String
        public var applied = 0, alreadyApplied = 0, failed = 0, skipped = 0
        public var verified = 0, unverified = 0
        /// Whether the apply read every touched account back (`--no-verify` turns it off); nil
        /// for applies journaled by versions that did not read back.
        public var verifiedReads: Bool? = true
    }

    /// An intent without an outcome.
    public struct InDoubtAction: Sendable {
        public var key: String
        public var app: String
        public var action: JSONValue
        public var seq: Int
    }

    /// Folds every event of `journal` into a fresh state.
    public static func load(from journal: Journal) throws -> GovernanceState {
        var state = GovernanceState()
        try journal.forEachEvent { event in
            state.apply(event)
            return true
        }
        return state
    }

    /// Applies one event. Unknown types are skipped, so older builds read newer journals.
    public mutating func apply(_ e: StoredEvent) {
        lastSeq = e.seq
        let d = e.data
        let app = e.subjects["app"] ?? ""
        switch e.type {
        case EventType.personJoined, EventType.personMoved, EventType.personUpdated, EventType.personLeft, EventType.personRehired:
            if let p = try? Person(json: d["person"]) {
                people[p.id] = p
                formerPeople[p.id] = nil
                if e.type == EventType.personMoved { movedOn[p.id] = dayOf(e) }
            }
        case EventType.personGone:
            if let id = e.subjects["person"], let p = people.removeValue(forKey: id) { formerPeople[id] = p }
        case EventType.hrSynced:
            lastHRSync = e.time.description
            lastHRSyncAsOf = d["asOf"].stringValue ?? e.time.description
        case EventType.appSynced:
            apps[app, default: AppState()].lastSync = e.time.description
            if let caps = try? Capabilities(json: d["capabilities"]) { apps[app, default: AppState()].capabilities = caps }
        case EventType.accountDiscovered, EventType.accountChanged:
            if let a = try? Account(json: d["account"]) { record(account: a, app: app, day: dayOf(e)) }
        case EventType.accountGone:
            if let id = e.subjects["account"] { removeAccount(id, app: app) }
        case EventType.entitlementDiscovered:
            if let x = try? Entitlement(json: d["entitlement"]) { apps[app, default: AppState()].entitlements[x.type + "\u{1}" + x.id] = x }
        case EventType.entitlementGone:
            if let type = d["type"].stringValue, let id = d["id"].stringValue { apps[app, default: AppState()].entitlements[type + "\u{1}" + id] = nil }
        case EventType.grantObserved:
            if let g = try? Grant(json: d["grant"]) { apps[app, default: AppState()].grants.insert(g) }
        case EventType.grantGone:
            if let g = try? Grant(json: d["grant"]) { apps[app, default: AppState()].grants.remove(g) }
        case EventType.accountLinked:
            if let account = e.subjects["account"], let person = e.subjects["person"] {
                let key = AccountKey(app: app, accountId: account)
                links[key] = person
                ignores[key] = nil
            }
        case EventType.accountIgnored:
            if let account = e.subjects["account"] {
                let key = AccountKey(app: app, accountId: account)
                ignores[key] = d["reason"].stringValue ?? ""
                links[key] = nil
            }
        case EventType.configChanged:
            lastConfigDigest = d["digest"].stringValue
        case EventType.actionIntent:
            if let key = d["key"].stringValue { inDoubt[key] = InDoubtAction(key: key, app: app, action: d["action"], seq: e.seq) }
        case EventType.actionOutcome, EventType.actionResolved:
            if let key = d["key"].stringValue { inDoubt[key] = nil }
            if d["result"].stringValue == "applied" || d["result"].stringValue == "alreadyApplied",
               let effect = ActionEffect(journal: d["effect"]) {
                fold(effect, app: app, day: dayOf(e))
            }
        case EventType.actionVerified:
            if let v = ActionVerification(journal: d), let seen = v.seen, let account = e.subjects["account"] {
                fold(seen, account: account, app: app, day: dayOf(e))
            }
        case EventType.reviewLaunched:
            if let id = d["campaign"].stringValue { openCampaigns.insert(id) }
            if let definition = d["definition"]["id"].stringValue { launches[definition, default: 0] += 1 }
        case EventType.reviewClosed:
            if let id = d["campaign"].stringValue { openCampaigns.remove(id) }
        case EventType.reviewOutcome:
            if let o = ReviewDecisionOverride(outcome: d) { reviewDecisions[o.key] = o }
        case EventType.discoverySynced:
            if let id = e.subjects["source"] { discoverySync[id] = e.time.description }
        case EventType.usageObserved:
            if let id = e.subjects["source"], let u = AppUsage(json: d["usage"]) { usage[id, default: [:]][u.key] = u }
        case EventType.usageGone:
            if let id = e.subjects["source"], let key = d["key"].stringValue { usage[id]?[key] = nil }
        case EventType.findingOpened:
            if let key = d["key"].stringValue {
                openFindings[key] = OpenFinding(key: key, kind: d["kind"].stringValue ?? "", app: app, account: e.subjects["account"],
                                                person: e.subjects["person"], summary: d["summary"].stringValue ?? "", since: e.time.description)
            }
        case EventType.findingResolved:
            if let key = d["key"].stringValue { openFindings[key] = nil }
        case EventType.recipeDrift:
            if let step = d["step"].stringValue, let fallback = d["fallback"].intValue {
                recipeDrift[Self.driftKey(app: app, step: step, fallback: fallback)] = DriftRecord(
                    app: app, step: step, fallback: fallback, selector: d["selector"].stringValue ?? "", since: e.time.description)
            }
        case EventType.applyFinished:
            peopleAtLastApply = people
            lastApplyTime = d["asOf"].stringValue ?? e.time.description
            if !d["config"].isNull { configAtLastApply = d["config"] }
            lastApply = ApplyRecord(time: e.time.description, applied: d["applied"].intValue ?? 0,
                                    alreadyApplied: d["alreadyApplied"].intValue ?? 0, failed: d["failed"].intValue ?? 0,
                                    skipped: d["skipped"].intValue ?? 0, verified: d["verified"].intValue ?? 0,
                                    unverified: d["unverified"].intValue ?? 0, verifiedReads: d["verify"].boolValue)
        default:
            break
        }
    }

    /// The change an applied action made, so a plan right after an apply sees it done.
    private mutating func fold(_ effect: ActionEffect, app: String, day: String) {
        switch effect {
        case .account(let a):
            record(account: a, app: app, day: day)
        case .accountRemoved(let id):
            removeAccount(id, app: app)
        case .grantAdded(let g):
            apps[app, default: AppState()].grants.insert(g)
        case .tierSet(let g):
            var s = apps[app, default: AppState()]
            s.grants = s.grants.filter { !($0.accountId == g.accountId && $0.type == g.type) }
            s.grants.insert(g)
            apps[app] = s
        case .grantRemoved(let g):
            apps[app, default: AppState()].grants.remove(g)
        case .accountPending, .unknown:
            break
        }
    }

    /// What a read after apply showed where it differed from the effect: the app is right.
    private mutating func fold(_ seen: ActionVerification.Seen, account id: String, app: String, day: String) {
        switch seen.account {
        case .some(.some(let a)): record(account: a, app: app, day: day)
        case .some(.none):
            removeAccount(id, app: app)
            return
        case .none: break
        }
        if let type = seen.type, let grants = seen.grants {
            var s = apps[app, default: AppState()]
            s.grants = s.grants.filter { !($0.accountId == id && $0.type == type) }
            for g in grants where g.accountId == id && g.type == type { s.grants.insert(g) }
            apps[app] = s
        }
    }

    private mutating func record(account a: Account, app: String, day: String) {
        var s = apps[app, default: AppState()]
        s.accounts[a.id] = a
        if a.status == .disabled {
            if s.disabledSince[a.id] == nil { s.disabledSince[a.id] = day }
        } else {
            s.disabledSince[a.id] = nil
        }
        apps[app] = s
    }

    private mutating func removeAccount(_ id: String, app: String) {
        var s = apps[app, default: AppState()]
        s.accounts[id] = nil
        s.disabledSince[id] = nil
        s.grants = s.grants.filter { $0.accountId != id }
        apps[app] = s
    }

    private func dayOf(_ e: StoredEvent) -> String { String(e.time.description.prefix(10)) }

    /// The app's state as the planner's inventory.
    public func inventory(app: String) -> AppInventory? {
        guard let s = apps[app], s.lastSync != nil else { return nil }
        var disabled: [String: CalendarDay] = [:]
        for (id, day) in s.disabledSince { if let d = CalendarDay(iso: day) { disabled[id] = d } }
        let caps = s.capabilities
        return AppInventory(appId: app, entitlements: s.entitlements.values.sorted { ($0.type, $0.name, $0.id) < ($1.type, $1.name, $1.id) },
                            accounts: s.accounts.values.sorted { $0.id < $1.id },
                            grants: s.grants.sorted { ($0.accountId, $0.type, $0.entitlementId) < ($1.accountId, $1.type, $1.entitlementId) },
                            entitlementTypes: caps?.entitlementTypes ?? [],
                            accountOperations: caps?.accounts ?? Set(AccountOperation.allCases),
                            disabledSince: disabled)
    }

    public var overrides: CorrelationOverrides { CorrelationOverrides(links: links, ignores: ignores) }
}
