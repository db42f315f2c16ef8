import StewardProtocol

/// What a discovery source shows about one app and one user: when they were first and last
/// seen in it, how often, what it cost per month, and the lines of the export that say so.
///
/// Evidence comes by the million (every card line, every sign-in); usage is what is kept of it,
/// one record per vendor and user, matched to the vendor catalogue once, at sync.
public struct AppUsage: Sendable, Hashable {
    /// The discovery source (`discovery[].id`) it came from.
    public var source: String
    /// The catalogue vendor; nil when no vendor matched (`label` then says what the evidence named).
    public var vendor: String?
    public var category: String?
    /// The app as the evidence names it, tidied: the unknown merchant, the OAuth app's name.
    public var label: String
    /// A card merchant the catalogue knows is not software (travel, meals, marketplaces).
    public var notSoftware = false
    /// The user's e-mail, lowercased; nil for company-wide evidence (a card with no employee,
    /// an admin's consent for everyone).
    public var user: String?
    public var kinds: Set<EvidenceKind> = []
    /// Days (YYYY-MM-DD) of the first and last evidence of any kind.
    public var firstSeen: String?
    public var lastSeen: String?
    /// The last day the user was seen active (a sign-in, an OAuth grant, a visit), not paying.
    public var lastActive: String?
    public var count = 0
    /// Amount spent per month (YYYY-MM), in `currency`.
    public var spend: [String: Double] = [:]
    public var currency: String?
    /// An OAuth grant whose latest event is a revoke.
    public var revoked = false
    /// The export lines behind it: the first and the latest few.
    public var evidence: [String] = []

    public static let evidenceKept = 4

    public init(source: String, vendor: String?, category: String?, label: String, notSoftware: Bool, user: String?) {
        self.source = source
        self.vendor = vendor
        self.category = category
        self.label = label
        self.notSoftware = notSoftware
        self.user = user
    }

    /// Stable within a source: vendor (or `?label`) and user.
    public var key: String { (vendor ?? "?" + label.lowercased()) + "\u{1}" + (user ?? "") }

    /// The average spend of the months with spend.
    public var monthlySpend: Double? {
        spend.isEmpty ? nil : spend.values.reduce(0, +) / Double(spend.count)
    }

    /// Folds one record in; `day` is its date, when it has one.
    mutating func add(_ r: EvidenceRecord) {
        count += 1
        let day = r.at.map { String($0.prefix(10)) }
        let last = r.lastAt.map { String($0.prefix(10)) } ?? day
        if let day, firstSeen.map({ day < $0 }) ?? true { firstSeen = day }
        if let last, lastSeen.map({ last > $0 }) ?? true { lastSeen = last }
        kinds.insert(r.kind)
        if r.kind.showsActivity, r.action != "revoke", let last, lastActive.map({ last > $0 }) ?? true { lastActive = last }
        if r.kind == .oauthGrant, let day, day >= (lastSeen ?? day) { revoked = r.action == "revoke" }
        if let amount = r.amount, let day {
            spend[String(day.prefix(7)), default: 0] += amount
            if currency == nil { currency = r.currency }
        }
        if evidence.count < Self.evidenceKept {
            evidence.append(r.source)
        } else {
            evidence[Self.evidenceKept - 1] = r.source
        }
    }

    /// One source's evidence as usage, matched to `catalogue`. A name seen on many lines is
    /// matched once. Not-software lines are kept, without their user, so they can be counted.
    public static func aggregate(_ records: [EvidenceRecord], source: String, catalogue: VendorCatalogue) -> [AppUsage] {
        var matches: [String: VendorCatalogue.Match] = [:]
        func match(_ r: EvidenceRecord) -> VendorCatalogue.Match {
            if let domain = r.domain {
                let cacheKey = "d\u{1}" + domain
                if let m = matches[cacheKey] { return m }
                let m = catalogue.match(domain: domain)
                matches[cacheKey] = m
                return m
            }
            let name = r.app ?? r.detail ?? r.appRef ?? ""
            let cacheKey = "n\u{1}" + name + "\u{1}" + (r.app != nil ? r.detail ?? "" : "")
            if let m = matches[cacheKey] { return m }
            var m = catalogue.match(descriptor: name)
            if case .unknown = m, r.app != nil, let detail = r.detail, case .vendor(let v) = catalogue.match(descriptor: detail) { m = .vendor(v) }
            matches[cacheKey] = m
            return m
        }
        var usage: [String: AppUsage] = [:]
        for r in records {
            let u: AppUsage
            switch match(r) {
            case .vendor(let v): u = AppUsage(source: source, vendor: v.name, category: v.category, label: v.name, notSoftware: false, user: r.user?.lowercased())
            case .notSoftware(let v): u = AppUsage(source: source, vendor: v.name, category: v.category, label: v.name, notSoftware: true, user: nil)
            case .unknown(let name):
                u = AppUsage(source: source, vendor: nil, category: nil, label: name.isEmpty ? (r.appRef ?? "unnamed") : name,
                             notSoftware: false, user: r.user?.lowercased())
            }
            usage[u.key, default: u].add(r)
        }
        // Cents, as the journal keeps them, so an unchanged export journals no change.
        return usage.values.map { u in
            var u = u
            u.spend = u.spend.mapValues { ($0 * 100).rounded() / 100 }
            return u
        }.sorted { $0.key < $1.key }
    }

    // MARK: Journal form

    public var json: JSONValue {
        var b = JSONObjectBuilder(capacity: 16)
        b.set("source", source)
        b.set("vendor", vendor)
        b.set("category", category)
        b.set("label", label)
        if notSoftware { b.set("notSoftware", true) }
        b.set("user", user)
        b.set("kinds", .array(kinds.map(\.rawValue).sorted().map(JSONValue.string)))
        b.set("firstSeen", firstSeen)
        b.set("lastSeen", lastSeen)
        b.set("lastActive", lastActive)
        b.set("count", count)
        if !spend.isEmpty { b.set("spend", .object(spend.mapValues { .double(($0 * 100).rounded() / 100) })) }
        b.set("currency", currency)
        if revoked { b.set("revoked", true) }
        b.set("evidence", .array(evidence.map(JSONValue.string)))
        return b.value
    }

    public init?(json v: JSONValue) {
        guard let source = v["source"].stringValue, let label = v["label"].stringValue else { return nil }
        self.init(source: source, vendor: v["vendor"].stringValue, category: v["category"].stringValue, label: label,
                  notSoftware: v["notSoftware"].boolValue ?? false, user: v["user"].stringValue)
        kinds = Set((v["kinds"].arrayValue ?? []).compactMap { $0.stringValue.flatMap(EvidenceKind.init(rawValue:)) })
        firstSeen = v["firstSeen"].stringValue
        lastSeen = v["lastSeen"].stringValue
        lastActive = v["lastActive"].stringValue
        count = v["count"].intValue ?? 0
        spend = (v["spend"].objectValue ?? [:]).compactMapValues(\.doubleValue)
        currency = v["currency"].stringValue
        revoked = v["revoked"].boolValue ?? false
        evidence = (v["evidence"].arrayValue ?? []).compactMap(\.stringValue)
    }
}
