/// One piece of evidence that someone uses an app: an expense line, an OAuth grant, a sign-in,
/// a visit to a domain. A discovery source answers `evidence/list` with these; the host matches
/// them to the vendor catalogue and finds the apps nobody connected.
///
/// Every member but `kind` and `source` is optional: exports differ in what they know. `app`,
/// `appRef` and `domain` are what the record says about the app (a card descriptor, an OAuth
/// client's name and id, a host name); the host decides which vendor that is.
public struct EvidenceRecord: JSONConvertible, Hashable {
    public var kind: EvidenceKind
    /// The user's e-mail address as the export gives it.
    public var user: String?
    /// The app or merchant as the export names it: `SQ *NOTION LABS`, `Slack`, `Figma`.
    public var app: String?
    /// The app's id in the export: an OAuth client id, an Entra appId.
    public var appRef: String?
    public var domain: String?
    /// Free text that may name the app when `app` does not: an expense line's description.
    public var detail: String?
    /// When it happened (RFC 3339 or YYYY-MM-DD); for browser exports the first visit.
    public var at: String?
    /// For browser exports: the last visit.
    public var lastAt: String?
    public var amount: Double?
    public var currency: String?
    /// For OAuth grants: `authorize` or `revoke`.
    public var action: String?
    public var scopes: [String]?
    /// Where in the export the record came from, `expenses.csv:12`, so a finding can cite it.
    public var source: String

    public init(kind: EvidenceKind, user: String? = nil, app: String? = nil, appRef: String? = nil, domain: String? = nil,
                at: String? = nil, lastAt: String? = nil, amount: Double? = nil, currency: String? = nil,
                action: String? = nil, scopes: [String]? = nil, source: String) {
        self.kind = kind
        self.user = user
        self.app = app
        self.appRef = appRef
        self.domain = domain
        self.at = at
        self.lastAt = lastAt
        self.amount = amount
        self.currency = currency
        self.action = action
        self.scopes = scopes
        self.source = source
    }

    public init(json: JSONValue, path: String) throws {
        let f = try JSONFields(json, path: path)
        let k = try f.nonEmptyString("kind")
        guard let kind = EvidenceKind(rawValue: k) else {
            throw ConnectorError(.invalidArgument, "\(f.childPath("kind")): unknown kind \"\(k)\" (expected \(EvidenceKind.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        self.kind = kind
        user = try f.optionalString("user")
        app = try f.optionalString("app")
        appRef = try f.optionalString("appRef")
        domain = try f.optionalString("domain")
        detail = try f.optionalString("detail")
        at = try f.optionalString("at")
        lastAt = try f.optionalString("lastAt")
        amount = try f.optionalDouble("amount")
        currency = try f.optionalString("currency")
        action = try f.optionalString("action")
        scopes = f.has("scopes") ? try f.stringArray("scopes") : nil
        source = try f.nonEmptyString("source")
    }

    public var json: JSONValue {
        var b = JSONObjectBuilder(capacity: 12)
        b.set("kind", kind.rawValue)
        b.set("user", user)
        b.set("app", app)
        b.set("appRef", appRef)
        b.set("domain", domain)
        b.set("detail", detail)
        b.set("at", at)
        b.set("lastAt", lastAt)
        if let amount { b.set("amount", .double(amount)) }
        b.set("currency", currency)
        b.set("action", action)
        if let scopes { b.set("scopes", .array(scopes.map(JSONValue.string))) }
        b.set("source", source)
        return b.value
    }
}

/// What a piece of evidence is. Sign-ins, grants and visits show use on a day; an expense shows
/// that someone pays.
public enum EvidenceKind: String, Sendable, CaseIterable, Hashable {
    case expense
    case oauthGrant = "oauth-grant"
    case signIn = "sign-in"
    /// An IdP's app assignment: the user may use the app; no date.
    case assignment
    case browserVisit = "browser-visit"

    /// Whether the record shows the user active in the app on its date (an expense does not).
    public var showsActivity: Bool { self != .expense && self != .assignment }
}
