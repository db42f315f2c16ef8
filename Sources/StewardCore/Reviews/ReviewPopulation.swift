import StewardProtocol

/// The items a campaign covers, from the synced state: every grant in scope, and where asked the
/// orphans and leavers' accounts, each with its context and recommendation.
///
/// It is computed from the same plan result the planner made (directory, desired state,
/// correlations), so what a reviewer sees as "justified" is exactly what the planner would keep.
public enum ReviewPopulation {
    public static func items(for definition: ReviewDefinition, config: GovernanceConfig, planned: PlanResult,
                             inventories: [AppInventory], today: CalendarDay) -> [ReviewItem] {
        let scope = definition.scope
        let directory = planned.directory
        let peers = PeerGroups(directory: directory, today: today)
        var items: [ReviewItem] = []
        var desiredCache: [Int: [(app: String, entitlements: [DesiredState.DesiredEntitlement])]] = [:]
        func desired(_ p: Int) -> [(app: String, entitlements: [DesiredState.DesiredEntitlement])] {
            if let cached = desiredCache[p] { return cached }
            let d = planned.desired.desiredAccess(ofPerson: directory.people[p].id).map { ($0.app, $0.entitlements) }
            desiredCache[p] = d
            return d
        }
        for settings in config.apps where scope.apps?.contains(settings.id) ?? true {
            guard let inventory = inventories.first(where: { $0.appId == settings.id }),
                  let correlation = planned.correlations.first(where: { $0.appId == settings.id }) else { continue }
            let holders = peers.holders(in: inventory, correlation: correlation)
            let ignored = Set(correlation.ignored.map(\.account))
            let hasEntitlements = !inventory.entitlementTypes.isEmpty || !inventory.entitlements.isEmpty
            for a in inventory.accounts.indices {
                let account = inventory.accounts[a]
                guard let p = correlation.person(ofAccount: a) else {
                    if scope.include.contains(.orphans), !ignored.contains(a), account.status != .disabled {
                        items.append(ReviewItem(id: "", app: settings.id, accountId: account.id, accountName: account.userName, personId: nil,
                                                access: .account,
                                                context: ReviewContext(kind: .orphan, email: account.email, standing: "no person",
                                                                       lastLoginAt: account.lastLoginAt),
                                                recommendation: Recommendation(.revoke, "linked to nobody in HR")))
                    }
                    continue
                }
                let person = directory.people[p]
                let standing = directory.standings[p]
                if let people = scope.people, !people.matches(person) { continue }
                let base = ReviewContext(kind: .access, personName: person.fullName, email: person.email, department: person.department,
                                         title: person.title, managerId: person.managerId, standing: describe(standing),
                                         lastLoginAt: account.lastLoginAt)
                if standing.hasLeft {
                    guard scope.include.contains(.leavers), account.status != .disabled else { continue }
                    var context = base
                    context.kind = .leaver
                    items.append(ReviewItem(id: "", app: settings.id, accountId: account.id, accountName: account.userName, personId: person.id,
                                            access: .account, context: context,
                                            recommendation: Recommendation(.revoke, "\(person.id) has \(describe(standing))")))
                    continue
                }
                guard scope.include.contains(.access) else { continue }
                let wanted = desired(p).first { $0.app == settings.id }?.entitlements ?? []
                let grants = inventory.grants(ofAccount: a)
                if grants.isEmpty && !hasEntitlements {
                    guard scope.entitlements.isEmpty, !scope.privilegedOnly else { continue }
                    var context = base
                    let justified = desired(p).contains { $0.app == settings.id }
                    context.justifications = justified ? ["has a rule for \(settings.id)"] : []
                    items.append(ReviewItem(id: "", app: settings.id, accountId: account.id, accountName: account.userName, personId: person.id,
                                            access: .account, context: context,
                                            recommendation: recommend(context, definition.recommend, today)))
                    continue
                }
                for g in grants {
                    let e = inventory.entitlements[Int(g)]
                    let privileged = settings.isPrivileged(type: e.type, name: e.name)
                    if scope.privilegedOnly && !privileged { continue }
                    if !scope.entitlements.isEmpty && !scope.entitlements.contains(where: { $0.matches(type: e.type, name: e.name) }) { continue }
                    var context = base
                    context.privileged = privileged
                    context.justifications = (wanted.first { $0.entitlement.type == e.type && $0.entitlement.id == e.id }?.justifications ?? [])
                        .map(PlanRenderer.describe)
                    (context.peersHolding, context.peers) = peers.count(of: Int(g), holders: holders, person: p)
                    items.append(ReviewItem(id: "", app: settings.id, accountId: account.id, accountName: account.userName, personId: person.id,
                                            access: .entitlement(EntitlementRef(e)), context: context,
                                            recommendation: recommend(context, definition.recommend, today)))
                }
            }
        }
        if scope.include.contains(.findings) {
            items += findingItems(scope: scope, kinds: scope.findingKinds ?? config.findingActions.reviewedKinds, config: config,
                                  planned: planned, inventories: inventories, today: today, covered: items)
        }
        for i in items.indices { items[i].id = String(i + 1) }
        return items
    }

    /// One item per account a discovery finding of `kinds` names (an account already in
    /// `covered` is not asked about twice); revoking it disables the account.
    static func findingItems(scope: ReviewScope, kinds: Set<AccountFinding.Kind>, config: GovernanceConfig, planned: PlanResult,
                             inventories: [AppInventory], today: CalendarDay, covered: [ReviewItem]) -> [ReviewItem] {
        let inScope = inventories.filter { scope.apps?.contains($0.appId) ?? true }
        var seen = Set(covered.filter { $0.access == .account }.map { $0.app + "\u{1}" + $0.accountId })
        var items: [ReviewItem] = []
        let directory = planned.directory
        for f in AccountFindings.find(planned, inventories: inScope, config: config, today: today, candidates: false)
        where kinds.contains(f.kind) {
            guard let id = f.accountId, seen.insert(f.app + "\u{1}" + id).inserted,
                  let account = inScope.first(where: { $0.appId == f.app })?.accounts.first(where: { $0.id == id }) else { continue }
            let person = f.personId.flatMap { directory.person($0) }
            if let people = scope.people, let person, !people.matches(person) { continue }
            let kind: ReviewItem.Kind = f.kind == .leftover ? .leaver : person == nil ? .orphan : .access
            var context = ReviewContext(kind: kind, personName: person?.fullName, email: person?.email ?? account.email,
                                        department: person?.department, title: person?.title, managerId: person?.managerId,
                                        standing: person == nil ? "no person" : "finding: \(f.kind.rawValue)", lastLoginAt: account.lastLoginAt)
            context.justifications = []
            items.append(ReviewItem(id: "", app: f.app, accountId: id, accountName: account.userName, personId: person?.id,
                                    access: .account, context: context,
                                    recommendation: Recommendation(.revoke, "\(f.kind.rawValue): \(f.summary)")))
        }
        return items
    }

    /// Revoke when nothing justifies it, when it has not been used for the configured days, or
    /// when few peers hold it; keep when a rule justifies it and nothing says otherwise.
    public static func recommend(_ c: ReviewContext, _ settings: RecommendationSettings, _ today: CalendarDay) -> Recommendation {
        if let last = c.lastLoginAt, let day = CalendarDay(iso: String(last.prefix(10))) {
            let idle = today.days(since: day)
            if idle > settings.inactiveDays {
                return Recommendation(.revoke, "no sign-in for \(idle) days (last \(day)); the limit is \(settings.inactiveDays)")
            }
        }
        if c.unjustified { return Recommendation(.revoke, "no rule grants it") }
        if c.peers >= 5, Double(c.peersHolding) * 100 < settings.peerPercent * Double(c.peers) {
            return Recommendation(.revoke, "held by \(c.peersHolding) of \(c.peers) people with the same department and title")
        }
        var reason = "granted by \(c.justifications.joined(separator: ", "))"
        if let last = c.lastLoginAt { reason += "; last sign-in \(last.prefix(10))" }
        return Recommendation(.keep, reason)
    }

    static func describe(_ standing: PersonDirectory.Standing) -> String {
        switch standing {
        case .active: return "active"
        case .onLeave: return "on leave"
        case .pending: return "pending"
        case .left(let reason): return "left (\(reason.explanation))"
        }
    }
}

/// People with the same department and title, and how many of them hold each entitlement.
struct PeerGroups {
    /// Directory index → peer group, for people who have not left.
    private var groupOf: [Int: Int] = [:]
    private var sizes: [Int] = []

    init(directory: PersonDirectory, today: CalendarDay) {
        var index: [String: Int] = [:]
        for p in 0..<directory.count where !directory.standings[p].hasLeft {
            let person = directory.people[p]
            let key = (person.department ?? "").lowercased() + "\u{1}" + (person.title ?? "").lowercased()
            let g: Int
            if let existing = index[key] {
                g = existing
            } else {
                g = sizes.count
                index[key] = g
                sizes.append(0)
            }
            groupOf[p] = g
            sizes[g] += 1
        }
    }

    /// Per entitlement index of `inventory`, holders per peer group.
    func holders(in inventory: AppInventory, correlation: AppCorrelation) -> [Int: [Int: Int]] {
        var holders: [Int: [Int: Int]] = [:]
        for a in inventory.accounts.indices {
            guard let p = correlation.person(ofAccount: a), let g = groupOf[p] else { continue }
            for e in inventory.grants(ofAccount: a) { holders[Int(e), default: [:]][g, default: 0] += 1 }
        }
        return holders
    }

    /// How many of `person`'s peers (them included) hold entitlement `e`, and how many peers.
    func count(of e: Int, holders: [Int: [Int: Int]], person: Int) -> (Int, Int) {
        guard let g = groupOf[person] else { return (0, 0) }
        return (holders[e]?[g] ?? 0, sizes[g])
    }
}
