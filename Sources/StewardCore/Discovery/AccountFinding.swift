import StewardProtocol

/// One thing `steward discover` found.
public struct AccountFinding: Sendable, Hashable {
    public enum Kind: String, Sendable, CaseIterable {
        /// An account linked to nobody.
        case orphan
        /// An enabled account, or a grant, of a person who has left.
        case leftover
        /// No sign-in for longer than the app's `dormantAfterDays`; a paid seat when it holds the licence.
        case dormant
        /// A privileged entitlement no policy, role or exception grants.
        case privileged
        /// A shared or service account with no owner.
        case service
        /// Per app: seats held, seats unused and what they cost.
        case licences
        /// An app in use (by the discovery sources' evidence) that is not connected to Steward.
        case shadow
    }

    public var kind: Kind
    public var app: String
    public var accountId: String?
    public var accountName: String?
    public var personId: String?
    public var summary: String
    public var evidence: [String]
    /// Days the finding has been true, where the data says (since the leave date, the last sign-in).
    public var ageDays: Int?
    public var suggestion: String
    /// For orphans: the likeliest owners, best first.
    public var candidates: [Candidate] = []
    /// For dormant paid seats and licence summaries; for shadow apps, the spend per month.
    public var monthlyCost: Double?
    public var currency: String?
    /// Shadow apps: who uses it; a leaver still active: that leaver.
    public var users: [AppUser] = []
    public var firstSeen: String?
    public var lastSeen: String?
    public var category: String?
    /// A leaver still active in an app: listed before everything else.
    public var urgent = false

    /// A user an app's evidence names, linked to a person where the e-mail correlates.
    public struct AppUser: Sendable, Hashable {
        public var email: String
        public var personId: String?
        public var firstSeen: String?
        public var lastSeen: String?
        /// The discovery sources that show them.
        public var sources: [String] = []
        public var hasLeft = false

        public var json: JSONValue {
            var b = JSONObjectBuilder()
            b.set("email", email)
            b.set("person", personId)
            b.set("firstSeen", firstSeen)
            b.set("lastSeen", lastSeen)
            b.set("sources", .array(sources.map(JSONValue.string)))
            if hasLeft { b.set("hasLeft", true) }
            return b.value
        }
    }

    public struct Candidate: Sendable, Hashable {
        public var personId: String
        public var email: String
        public var name: String?
        public var score: Double
        public var reasons: [String]
    }

    /// Stable across runs while the finding holds: `kind:app:account` (or `:person`).
    public var key: String { "\(kind.rawValue):\(app):\(accountId ?? personId ?? "")" + (kind == .privileged ? ":" + summary : "") }

    public var json: JSONValue {
        var o: [String: JSONValue] = ["kind": .string(kind.rawValue), "app": .string(app), "summary": .string(summary),
                                      "evidence": .array(evidence.map(JSONValue.string)), "suggestion": .string(suggestion)]
        if let accountId { o["account"] = .string(accountId) }
        if let accountName { o["accountName"] = .string(accountName) }
        if let personId { o["person"] = .string(personId) }
        if let ageDays { o["ageDays"] = .int(ageDays) }
        if let monthlyCost { o["monthlyCost"] = .double(monthlyCost) }
        if let currency { o["currency"] = .string(currency) }
        if !users.isEmpty { o["users"] = .array(users.map(\.json)) }
        if let firstSeen { o["firstSeen"] = .string(firstSeen) }
        if let lastSeen { o["lastSeen"] = .string(lastSeen) }
        if let category { o["category"] = .string(category) }
        if urgent { o["urgent"] = .bool(true) }
        if !candidates.isEmpty {
            o["candidates"] = .array(candidates.map { c in
                var j: [String: JSONValue] = ["person": .string(c.personId), "email": .string(c.email), "score": .double((c.score * 100).rounded() / 100),
                                              "reasons": .array(c.reasons.map(JSONValue.string))]
                if let name = c.name { j["name"] = .string(name) }
                return .object(j)
            })
        }
        return .object(o)
    }
}
