import StewardCore
import StewardProtocol

// The only place where an action's effect and its verification meet the journal's string keys.
// The on-disk format is a public contract: journals written by earlier versions decode here
// unchanged, so a key is never renamed, only added.

extension ActionEffect {
    /// The `effect` member of an `action.outcome` or `action.resolved` event.
    var journalJSON: JSONValue {
        switch self {
        case .account(let a): return ["account": a.json]
        case .accountPending(let status): return ["account": .null, "status": .string(status.rawValue)]
        case .accountRemoved(let id): return ["removedAccount": .string(id)]
        case .grantAdded(let g): return ["addGrant": g.json]
        case .tierSet(let g): return ["addGrant": g.json, "replaceType": .string(g.type)]
        case .grantRemoved(let g): return ["removeGrant": g.json]
        case .unknown: return ["account": .null]
        }
    }

    /// Reads an effect as any version wrote it; nil when it says nothing usable.
    init?(journal e: JSONValue) {
        if let a = try? Account(json: e["account"]) {
            self = .account(a)
        } else if let removed = e["removedAccount"].stringValue {
            self = .accountRemoved(id: removed)
        } else if let g = try? Grant(json: e["addGrant"]) {
            self = e["replaceType"].stringValue == nil ? .grantAdded(g) : .tierSet(g)
        } else if let g = try? Grant(json: e["removeGrant"]) {
            self = .grantRemoved(g)
        } else if let status = e["status"].stringValue.flatMap(AccountCreateResult.Status.init(rawValue:)) {
            self = .accountPending(status)
        } else {
            return nil
        }
    }

    /// The account the effect names, for the event's subjects.
    var accountId: String? {
        switch self {
        case .account(let a): return a.id
        case .accountRemoved(let id): return id
        case .grantAdded(let g), .tierSet(let g), .grantRemoved(let g): return g.accountId
        case .accountPending, .unknown: return nil
        }
    }
}

/// What a read after apply showed for one action: journaled as `action.verified`.
struct ActionVerification: Sendable {
    var key: String
    /// The operation's name (`grant`, `disableAccount`), for people reading the journal.
    var operation: String?
    var verdict: Verdict
    /// What was seen, kept for unverified actions so the folded state follows the app and the
    /// next plan does the work again.
    var seen: Seen?

    struct Seen: Sendable {
        /// `.some(nil)`: the app has no such account.
        var account: Account??
        /// The account's grants of `type` as read.
        var grants: [Grant]?
        var type: String?
    }

    var json: JSONValue {
        var o = JSONObjectBuilder()
        o.set("key", key)
        o.set("operation", operation)
        switch verdict {
        case .visible:
            o.set("result", "verified")
        case .notVisible(let why):
            o.set("result", "unverified")
            o.set("seen", why)
        }
        if let seen {
            var s = JSONObjectBuilder()
            if let account = seen.account { s.set("account", account?.json ?? .null) }
            if let grants = seen.grants { s.set("grants", .array(grants.map(\.json))) }
            s.set("type", seen.type)
            o.set("observed", s.value)
        }
        return o.value
    }

    /// Reads an `action.verified` event's data.
    init?(journal d: JSONValue) {
        guard let key = d["key"].stringValue, let result = d["result"].stringValue else { return nil }
        self.key = key
        operation = d["operation"].stringValue
        verdict = result == "verified" ? .visible : .notVisible(d["seen"].stringValue ?? "not visible")
        let observed = d["observed"]
        guard case .object(let o) = observed else { return }
        var seen = Seen()
        if let account = o["account"] {
            if account.isNull { seen.account = .some(nil) } else if let a = try? Account(json: account) { seen.account = .some(a) }
        }
        seen.grants = observed["grants"].arrayValue?.compactMap { try? Grant(json: $0) }
        seen.type = observed["type"].stringValue
        self.seen = seen
    }

    init(key: String, operation: String?, verdict: Verdict, seen: Seen?) {
        self.key = key
        self.operation = operation
        self.verdict = verdict
        self.seen = seen
    }
}
