import Foundation
import StewardCore
import StewardJournal
import StewardProtocol

/// One change in a person's history: what changed, in which app, why, who or what did it, and
/// how it ended. Built from the journal, so each line names the events it stands on and a proof
/// can be asked for each (`steward audit proof --seq N`).
///
/// ```
/// 2026-12-02 00:59  github  created account ben.lopez (joiner; policy engineering)  applied, verified  [steward apply]
/// ```
public struct HistoryEntry: Sendable {
    public enum Kind: String, Sendable {
        /// The HR record: joined, moved, left.
        case hr
        /// A change Steward made (or tried to) through a connector.
        case action
        /// Something a sync found in an app that Steward did not do.
        case observed
    }

    public var kind: Kind
    public var time: Timestamp
    /// The app, or the HR source's id for `hr` entries.
    public var app: String
    /// What changed, as a sentence.
    public var change: String
    /// The cause and the rules behind it (`joiner`, `policy engineering`), for actions.
    public var cause: String?
    public var justifications: [String]
    /// Who or what did it: the command that journaled it.
    public var actor: String
    /// How it ended (`applied, verified`, `failed: …`, `in doubt`); nil for HR and observed lines.
    public var outcome: String?
    /// The journal events the line stands on, by role (`event`, `intent`, `outcome`, `verified`, `resolved`).
    public var seqs: [String: Int]
    /// The first event's type, for tools that filtered on it before history had lines.
    public var type: String
    /// For actions: the operation's name and the result and verification as data.
    public var operation: String?
    public var result: String?
    public var verified: Bool?
    public var detail: String?

    /// `2026-12-02 00:59  github  created account … (joiner; policy engineering)  applied, verified  [steward apply]`.
    public var line: String {
        var why: [String] = []
        if let cause { why.append(cause) }
        why += justifications
        let reason = why.isEmpty ? "" : " (\(why.joined(separator: "; ")))"
        let day = String(time.rfc3339.prefix(16)).replacingOccurrences(of: "T", with: " ")
        return "\(day)  \(app)  \(change)\(reason)\(outcome.map { "  \($0)" } ?? "")  [\(actor)]"
    }

    public var json: JSONValue {
        var o = JSONObjectBuilder()
        o.set("kind", kind.rawValue)
        o.set("time", time.rfc3339)
        o.set("type", type)
        o.set("app", app)
        o.set("change", change)
        o.set("cause", cause)
        o.set("justifications", .array(justifications.map(JSONValue.string)))
        o.set("actor", actor)
        o.set("outcome", outcome)
        o.set("operation", operation)
        o.set("result", result)
        o.set("verified", verified.map(JSONValue.bool) ?? .null)
        o.set("detail", detail)
        o.set("seq", seqs["event"] ?? seqs["intent"])
        o.set("seqs", .object(seqs.mapValues { .int($0) }))
        return o.value
    }
}

extension Queries {
    /// The person's history, oldest first: HR events, every action on their behalf with its
    /// outcome and read-back, and what syncs saw change on accounts linked to them.
    public func history(of id: String, app: String? = nil, since: Timestamp? = nil) throws -> [HistoryEntry] {
        let accounts = linkedAccounts(of: id)
        var entries: [HistoryEntry] = []
        var openAction: [String: OpenAction] = [:]  // idempotency key → its entry, until it is complete
        try workspace.journal.forEachEvent { event in
            let subjectApp = event.subjects["app"]
            if let app, subjectApp != app, !(event.type.hasPrefix("person.") && app == workspace.config.source.id) { return true }
            if let since, event.time < since { return true }
            if event.subjects["person"] == id {
                if let entry = hrEntry(event) {
                    // `person.gone` follows the `person.left` that already says so.
                    if event.type == EventType.personGone, entries.last?.change == entry.change { return true }
                    entries.append(entry)
                } else {
                    foldAction(event, into: &entries, open: &openAction)
                }
            } else if let a = subjectApp, let account = event.subjects["account"], accounts.contains(AccountKey(app: a, accountId: account)),
                      let entry = observedEntry(event, app: a) {
                entries.append(entry)
            }
            return true
        }
        return entries
    }

    /// Accounts linked to the person now, and any account an action on their behalf named.
    private func linkedAccounts(of id: String) -> Set<AccountKey> {
        var keys: Set<AccountKey> = []
        for held in person(id)?.accounts ?? [] { keys.insert(AccountKey(app: held.app, accountId: held.account.id)) }
        for (key, person) in state.links where person == id { keys.insert(key) }
        return keys
    }

    private func hrEntry(_ e: StoredEvent) -> HistoryEntry? {
        let person = try? Person(json: e.data["person"])
        let change: String
        switch e.type {
        case EventType.personJoined:
            let role = [person?.department, person?.title].compactMap { $0 }.joined(separator: ", ")
            change = e.data["reason"].stringValue == "start date arrived" ? "started (start date arrived)" : "joined" + (role.isEmpty ? "" : ": \(role)")
        case EventType.personMoved:
            let changes = (e.data["changes"].arrayValue ?? []).compactMap { try? AttributeChange(json: $0, path: "") }
            change = "moved: " + changes.map { "\($0.attribute) \($0.before ?? "(none)") → \($0.after ?? "(none)")" }.joined(separator: ", ")
        case EventType.personLeft:
            let reason = e.data["reason"].stringValue.flatMap(LeaveReason.init(rawValue:))
            change = "left: " + (reason?.explanation ?? e.data["reason"].stringValue ?? "left")
        case EventType.personRehired: change = "rehired"
        case EventType.personUpdated: change = "HR record updated"
        case EventType.personGone: change = "left: gone from the HR feed"
        default: return nil
        }
        return HistoryEntry(kind: .hr, time: e.time, app: workspace.config.source.id, change: change, justifications: [],
                            actor: e.actor, seqs: ["event": e.seq], type: e.type)
    }

    /// An action's events become one entry: the intent opens it, the outcome, read-back or
    /// settlement complete it.
    private func foldAction(_ e: StoredEvent, into entries: inout [HistoryEntry], open: inout [String: OpenAction]) {
        guard let key = e.data["key"].stringValue else { return }
        switch e.type {
        case EventType.actionIntent:
            guard let action = try? PlanAction(json: e.data["action"]) else { return }
            open[key] = OpenAction(entry: entries.count, action: action)
            entries.append(HistoryEntry(kind: .action, time: e.time, app: action.app,
                                        change: PlanRenderer.sentence(action.operation, account: action.accountName, done: false),
                                        cause: action.cause.rawValue, justifications: action.justifications.map(PlanRenderer.describe),
                                        actor: e.actor, outcome: "in doubt", seqs: ["intent": e.seq], type: e.type,
                                        operation: action.operation.name))
        case EventType.actionOutcome:
            guard let opened = open[key] else { return }
            let i = opened.entry
            let result = e.data["result"].stringValue ?? ""
            entries[i].seqs["outcome"] = e.seq
            entries[i].result = result
            let done = result == "applied" || result == "alreadyApplied"
            if done {
                entries[i].change = PlanRenderer.sentence(opened.action.operation, account: opened.action.accountName, done: true)
            }
            switch result {
            case "applied": entries[i].outcome = "applied"
            case "alreadyApplied": entries[i].outcome = "already so"
            case "skipped": entries[i].outcome = "skipped" + (e.data["note"].stringValue.map { " (\($0))" } ?? "")
            default: entries[i].outcome = "failed: " + (e.data["error"].stringValue ?? "unknown error")
            }
            entries[i].detail = e.data["note"].stringValue
            if !done { open[key] = nil }
        case EventType.actionVerified:
            guard let i = open[key]?.entry else { return }
            entries[i].seqs["verified"] = e.seq
            let ok = e.data["result"].stringValue == "verified"
            entries[i].verified = ok
            entries[i].outcome = (entries[i].outcome ?? "") + (ok ? ", verified" : ", UNVERIFIED: " + (e.data["seen"].stringValue ?? "not visible"))
            open[key] = nil
        case EventType.actionResolved:
            guard let i = open[key]?.entry else { return }
            entries[i].seqs["resolved"] = e.seq
            let applied = e.data["result"].stringValue == "applied"
            entries[i].result = applied ? "applied" : "notApplied"
            entries[i].outcome = applied ? "applied (settled by reading the app after an interrupted run)" : "not applied (an interrupted run; read back)"
            open[key] = nil
        default:
            break
        }
    }

    private struct OpenAction {
        var entry: Int
        var action: PlanAction
    }

    private func observedEntry(_ e: StoredEvent, app: String) -> HistoryEntry? {
        func entitlement(_ g: Grant) -> String {
            let name = state.apps[app]?.entitlements[g.type + "\u{1}" + g.entitlementId]?.name ?? g.entitlementId
            return "\(g.type) \(name)"
        }
        let change: String
        switch e.type {
        case EventType.accountDiscovered:
            let a = try? Account(json: e.data["account"])
            change = "account \(a?.userName ?? e.subjects["account"] ?? "") found (\(a?.status.rawValue ?? "?"))"
        case EventType.accountChanged:
            let before = try? Account(json: e.data["before"]), after = try? Account(json: e.data["account"])
            guard let before, let after, before.status != after.status else { return nil }
            change = "account \(after.userName) became \(after.status.rawValue) in the app"
        case EventType.accountGone: change = "account \(e.subjects["account"] ?? "") no longer in the app"
        case EventType.grantObserved:
            guard let g = try? Grant(json: e.data["grant"]) else { return nil }
            change = "holds \(entitlement(g))"
        case EventType.grantGone:
            guard let g = try? Grant(json: e.data["grant"]) else { return nil }
            change = "no longer holds \(entitlement(g))"
        default: return nil
        }
        return HistoryEntry(kind: .observed, time: e.time, app: app, change: change + ", seen in sync", justifications: [],
                            actor: e.actor, seqs: ["event": e.seq], type: e.type)
    }
}
