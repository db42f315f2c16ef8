import Foundation
import StewardCore
import StewardJournal
import StewardProtocol

// How review values are written into journal events and read back. Like JournalCodec, the keys
// are a contract: reports and auditors read these events, and later versions must read them.

extension ReviewDefinition {
    var json: JSONValue {
        var o = JSONObjectBuilder()
        o.set("id", id)
        o.set("description", description)
        o.set("scope", scope.json)
        o.set("stages", .array(stages.map { s in
            var b = JSONObjectBuilder()
            b.set("reviewer", s.reviewer.description)
            b.set("fallback", s.fallback.map { .string($0.description) } ?? JSONValue.null)
            b.set("days", s.days.map { .int($0) } ?? JSONValue.null)
            return b.value
        }))
        o.set("fallback", fallback.map { .string($0.description) } ?? JSONValue.null)
        o.set("days", days)
        o.set("reminders", ["before": .array(reminders.before.map { .int($0) }), "overdueEvery": reminders.overdueEvery.map { .int($0) } ?? .null])
        o.set("escalateAfterDaysOverdue", escalateAfterDaysOverdue.map { .int($0) } ?? JSONValue.null)
        o.set("defaultDecision", defaultDecision.rawValue)
        o.set("recommend", ["inactiveDays": .int(recommend.inactiveDays), "peerPercent": .double(recommend.peerPercent)])
        o.set("remediate", remediate.rawValue)
        o.set("maxSyncAgeHours", .double(maxSyncAgeHours))
        o.set("every", every.map(JSONValue.string) ?? JSONValue.null)
        if let notify { o.set("notify", notify) }
        if chatButtons != .all { o.set("chatButtons", chatButtons.rawValue) }
        if let trigger { o.set("trigger", ["event": .string(trigger.name), "days": trigger.days.map(JSONValue.int) ?? .null]) }
        return o.value
    }

    init(journal d: JSONValue) {
        let stages = (d["stages"].arrayValue ?? []).map { s in
            ReviewStage(reviewer: s["reviewer"].stringValue.flatMap(ReviewerRule.init) ?? .manager,
                        fallback: s["fallback"].stringValue.flatMap(ReviewerRule.init), days: s["days"].intValue)
        }
        self.init(id: d["id"].stringValue ?? "", description: d["description"].stringValue, scope: ReviewScope(journal: d["scope"]),
                  stages: stages.isEmpty ? [ReviewStage(reviewer: .manager)] : stages,
                  fallback: d["fallback"].stringValue.flatMap(ReviewerRule.init), days: d["days"].intValue ?? 14,
                  reminders: ReminderLadder(before: (d["reminders"]["before"].arrayValue ?? []).compactMap(\.intValue),
                                            overdueEvery: d["reminders"]["overdueEvery"].intValue),
                  escalateAfterDaysOverdue: d["escalateAfterDaysOverdue"].intValue,
                  defaultDecision: d["defaultDecision"].stringValue.flatMap(DefaultDecision.init) ?? .none,
                  recommend: RecommendationSettings(inactiveDays: d["recommend"]["inactiveDays"].intValue ?? 90,
                                                    peerPercent: d["recommend"]["peerPercent"].doubleValue ?? 10),
                  remediate: d["remediate"].stringValue.flatMap(RemediationTiming.init) ?? .atClose,
                  maxSyncAgeHours: d["maxSyncAgeHours"].doubleValue ?? 24, every: d["every"].stringValue)
        trigger = d["trigger"]["event"].stringValue.flatMap { ReviewTrigger(name: $0, days: d["trigger"]["days"].intValue) }
        notify = d["notify"].stringValue
        chatButtons = d["chatButtons"].stringValue.flatMap(ChatButtons.init) ?? .all
    }
}

extension ReviewScope {
    var json: JSONValue {
        var o = JSONObjectBuilder()
        o.set("apps", apps.map { .array($0.map(JSONValue.string)) } ?? JSONValue.null)
        o.set("entitlements", .array(entitlements.map { .string($0.description) }))
        o.set("privileged", privilegedOnly)
        o.set("people", people.map(\.json) ?? JSONValue.null)
        o.set("include", .array(include.map(\.rawValue).sorted().map(JSONValue.string)))
        return o.value
    }

    init(journal d: JSONValue) {
        self.init(apps: d["apps"].arrayValue?.compactMap(\.stringValue),
                  entitlements: (d["entitlements"].arrayValue ?? []).compactMap { $0.stringValue.flatMap(EntitlementPattern.init) },
                  privilegedOnly: d["privileged"].boolValue ?? false,
                  people: d["people"].isNull ? nil : try? Condition(json: d["people"]),
                  include: Set((d["include"].arrayValue ?? []).compactMap { $0.stringValue.flatMap(Include.init) }))
    }
}

extension ReviewItem {
    var json: JSONValue {
        var o = JSONObjectBuilder()
        o.set("id", id)
        o.set("app", app)
        o.set("account", accountId)
        o.set("accountName", accountName)
        o.set("person", personId)
        switch access {
        case .entitlement(let e): o.set("entitlement", ["type": .string(e.type), "id": .string(e.id), "name": .string(e.name)])
        case .account: o.set("entitlement", .null)
        }
        o.set("context", context.json)
        o.set("recommendation", ["verdict": .string(recommendation.verdict.rawValue), "reason": .string(recommendation.reason)])
        return o.value
    }

    init?(journal d: JSONValue) {
        guard let id = d["id"].stringValue, let app = d["app"].stringValue, let account = d["account"].stringValue else { return nil }
        let e = d["entitlement"]
        let access: Access
        if let type = e["type"].stringValue, let eid = e["id"].stringValue {
            access = .entitlement(EntitlementRef(type: type, id: eid, name: e["name"].stringValue ?? eid))
        } else {
            access = .account
        }
        let r = d["recommendation"]
        self.init(id: id, app: app, accountId: account, accountName: d["accountName"].stringValue ?? account, personId: d["person"].stringValue,
                  access: access, context: ReviewContext(journal: d["context"]),
                  recommendation: Recommendation(r["verdict"].stringValue.flatMap(Recommendation.Verdict.init) ?? .keep, r["reason"].stringValue ?? ""))
    }
}

extension ReviewContext {
    var json: JSONValue {
        var o = JSONObjectBuilder()
        o.set("kind", kind.rawValue)
        o.set("name", personName)
        o.set("email", email)
        o.set("department", department)
        o.set("title", title)
        o.set("managerId", managerId)
        o.set("standing", standing)
        o.set("justifications", .array(justifications.map(JSONValue.string)))
        o.set("lastLoginAt", lastLoginAt)
        o.set("privileged", privileged)
        o.set("peersHolding", peersHolding)
        o.set("peers", peers)
        return o.value
    }

    init(journal d: JSONValue) {
        self.init(kind: d["kind"].stringValue.flatMap(ReviewItem.Kind.init) ?? .access, personName: d["name"].stringValue,
                  email: d["email"].stringValue, department: d["department"].stringValue, title: d["title"].stringValue,
                  managerId: d["managerId"].stringValue, standing: d["standing"].stringValue ?? "",
                  justifications: (d["justifications"].arrayValue ?? []).compactMap(\.stringValue), lastLoginAt: d["lastLoginAt"].stringValue,
                  privileged: d["privileged"].boolValue ?? false, peersHolding: d["peersHolding"].intValue ?? 0, peers: d["peers"].intValue ?? 0)
    }
}

extension Assignment {
    var json: JSONValue {
        var o = JSONObjectBuilder()
        o.set("reviewer", reviewer?.description)
        o.set("reassignment", reassignment)
        if selfReviewBlocked { o.set("selfReviewBlocked", true) }
        return o.value
    }

    init(journal d: JSONValue) {
        self.init(reviewer: d["reviewer"].stringValue.flatMap(Reviewer.init), reassignment: d["reassignment"].stringValue,
                  selfReviewBlocked: d["selfReviewBlocked"].boolValue ?? false)
    }
}

extension Condition {
    /// The `when` form it was read from: attribute → matcher.
    var json: JSONValue {
        .object(Dictionary(uniqueKeysWithValues: clauses.map { ($0.attribute, $0.matcher.json) }))
    }

    init(json: JSONValue) throws {
        try self.init(governanceJSON: json)
    }
}

extension ValueMatcher {
    var json: JSONValue {
        switch self {
        case .anyOf(let values): return .array(values.map(JSONValue.string))
        case .prefix(let prefixes): return ["prefix": .array(prefixes.map(JSONValue.string))]
        case .present(let wanted): return ["present": .bool(wanted)]
        case .not(let inner): return ["not": inner.json]
        case .all(let parts):
            var o: [String: JSONValue] = [:]
            for part in parts { for (k, v) in part.json.objectValue ?? [:] { o[k] = v } }
            return .object(o)
        }
    }
}

extension Date {
    var rfc3339: String { Timestamp(self).rfc3339 }

    init?(rfc3339 text: String?) {
        guard let text, let t = Timestamp(rfc3339: text) else { return nil }
        self = t.date
    }
}

extension ReviewDecisionOverride {
    /// From a `review.outcome` event's data: kept items stay, revoked ones stay revoked (also
    /// when remediation failed: the plan keeps trying); expired ones decide nothing.
    init?(outcome d: JSONValue) {
        guard let person = d["person"].stringValue, let app = d["app"].stringValue, let campaign = d["campaign"].stringValue else { return nil }
        let verdict: Recommendation.Verdict
        switch d["status"].stringValue {
        case "kept": verdict = .keep
        case "revoked-verified", "revoke-failed": verdict = .revoke
        default: return nil
        }
        let e = d["entitlement"]
        let entitlement = e["type"].stringValue.flatMap { type in
            e["id"].stringValue.map { EntitlementRef(type: type, id: $0, name: e["name"].stringValue ?? $0) }
        }
        self.init(personId: person, app: app, entitlement: entitlement, verdict: verdict, campaign: campaign)
    }

    /// The same shape, for the state snapshot.
    var outcomeJSON: JSONValue {
        var o: [String: JSONValue] = ["person": .string(personId), "app": .string(app), "campaign": .string(campaign),
                                      "status": .string(verdict == .keep ? "kept" : "revoked-verified")]
        if let e = entitlement { o["entitlement"] = ["type": .string(e.type), "id": .string(e.id), "name": .string(e.name)] }
        return .object(o)
    }

    var key: String { "\(personId)\u{1}\(app)\u{1}\(entitlement?.type ?? "")\u{1}\(entitlement?.id ?? "")" }
}
