import StewardProtocol

/// The items a trigger opens one-item reviews for, after a sync: the access that changed in a
/// way that deserves a look now.
public enum MicroCertification {
    /// What a sync found new, by app: grants (`type`, `entitlementId`, account) and accounts.
    public struct Changes: Sendable {
        public var grants: Set<Grant> = []
        public var accounts: Set<AccountKey> = []

        public init(grants: Set<Grant> = [], accounts: Set<AccountKey> = []) {
            self.grants = grants
            self.accounts = accounts
        }
    }

    /// Candidates for `definition`'s trigger. `covered` holds item keys (`app/account/access`)
    /// a campaign of this definition already covers, so nothing is opened twice.
    public static func items(for definition: ReviewDefinition, config: GovernanceConfig, planned: PlanResult,
                             inventories: [AppInventory], today: CalendarDay, changes: [String: Changes],
                             movedOn: [String: CalendarDay], covered: Set<String>) -> [ReviewItem] {
        guard let trigger = definition.trigger else { return [] }
        var scope = definition.scope
        switch trigger {
        case .orphan: scope.include = [.orphans]
        case .privilegedGrant, .moverLeftovers, .exceptionExpiring: scope.include = [.access]
        }
        var triggered = definition
        triggered.scope = scope
        let all = ReviewPopulation.items(for: triggered, config: config, planned: planned, inventories: inventories, today: today)
        let expiring: [(person: String, app: String, names: [EntitlementName], until: CalendarDay)] = config.exceptions.compactMap { e in
            guard let until = e.until, case .exceptionExpiring(let days) = trigger, today <= until, until.days(since: today) <= days else { return nil }
            return (e.personId, e.app, e.entitlements, until)
        }
        let picked = all.filter { item in
            if covered.contains(key(item)) { return false }
            switch trigger {
            case .privilegedGrant:
                guard item.context.privileged, case .entitlement(let e) = item.access else { return false }
                return changes[item.app]?.grants.contains(Grant(accountId: item.accountId, type: e.type, entitlementId: e.id)) ?? false
            case .orphan:
                return changes[item.app]?.accounts.contains(AccountKey(app: item.app, accountId: item.accountId)) ?? false
            case .moverLeftovers(let days):
                guard let person = item.personId, let moved = movedOn[person], today.days(since: moved) >= days else { return false }
                return item.context.unjustified
            case .exceptionExpiring:
                guard case .entitlement(let e) = item.access else { return false }
                return expiring.contains { $0.person == item.personId && $0.app == item.app
                    && $0.names.contains { $0.type == e.type && $0.name.caseFolded == e.name.caseFolded } }
            }
        }
        // Each opens a campaign of its own, where it is item 1.
        return picked.map { item in
            var item = item
            item.id = "1"
            return item
        }
    }

    /// What identifies an item across campaigns.
    public static func key(_ item: ReviewItem) -> String { "\(item.app)/\(item.accountId)/\(item.accessName)" }
}
