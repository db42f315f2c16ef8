import StewardCore
import StewardProtocol

/// One person's access across apps: each account linked to them, every entitlement it holds
/// with the rules that justify it (none: nothing grants it), and what is pending for them.
public struct PersonAccess: Sendable {
    public var person: Person
    public var standing: PersonStanding
    public var accounts: [HeldAccount]
    public var pending: [PlanAction]

    public struct HeldAccount: Sendable {
        public var app: String
        public var account: Account
        public var entitlements: [HeldEntitlement]
    }

    public struct HeldEntitlement: Sendable {
        public var entitlement: EntitlementRef
        /// Empty when no rule, role or exception grants it.
        public var justifications: [Justification]

        public var isJustified: Bool { !justifications.isEmpty }
    }

    /// The `person show --json` members besides history.
    public var json: JSONValue {
        [
            "person": person.json,
            "standing": .string(standing.description),
            "access": .array(accounts.map { held in
                ["app": .string(held.app), "account": held.account.json,
                 "entitlements": .array(held.entitlements.map { e in
                     ["type": .string(e.entitlement.type), "name": .string(e.entitlement.name),
                      "justification": .array(e.justifications.map { .string(PlanRenderer.describe($0)) })]
                 })]
            }),
            "pending": .array(pending.map(\.json)),
        ]
    }
}

extension Queries {
    /// Nil when the journal has never seen the person.
    public func person(_ id: String) -> PersonAccess? {
        guard let person = state.people[id] ?? state.formerPeople[id], let standing = standing(of: id) else { return nil }
        var accounts: [PersonAccess.HeldAccount] = []
        if let planned, let p = planned.directory.index(of: id) {
            let desired = planned.desired.desiredAccess(ofPerson: id)
            for app in workspace.config.apps {
                guard let correlation = planned.correlations.first(where: { $0.appId == app.id }),
                      let a = correlation.account(ofPerson: p), let inventory = state.inventory(app: app.id) else { continue }
                let wanted = desired.first { $0.app == app.id }
                let held = inventory.grants(ofAccount: a).map { inventory.entitlements[Int($0)] }.map { e in
                    let why = wanted?.entitlements.first { $0.entitlement.type == e.type && $0.entitlement.id == e.id }
                    return PersonAccess.HeldEntitlement(entitlement: EntitlementRef(e), justifications: why?.justifications ?? [])
                }
                accounts.append(PersonAccess.HeldAccount(app: app.id, account: inventory.accounts[a], entitlements: held))
            }
        }
        return PersonAccess(person: person, standing: standing, accounts: accounts,
                            pending: pendingActions.filter { $0.personId == id })
    }
}
