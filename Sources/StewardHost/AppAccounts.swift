import StewardCore
import StewardProtocol

/// One app's accounts as Steward sees them: each with the person it belongs to and how that was
/// decided, the accounts linked to nobody (orphans), and those a person marked as nobody's.
public struct AppAccounts: Sendable {
    public var app: String
    public var accounts: [Entry]

    public struct Entry: Sendable {
        public var account: Account
        public var owner: Owner
        /// Entitlement names the account holds (`role:Admin`).
        public var entitlements: [String]
    }

    public enum Owner: Sendable, Hashable {
        /// Linked to this person, by a correlation rule or by hand.
        case person(String, how: String)
        /// A person said it is nobody's (a service account), with why.
        case ignored(reason: String)
        /// Linked to nobody: an orphan to link, ignore or remove.
        case nobody
    }

    public var orphans: [Entry] { accounts.filter { $0.owner == .nobody } }

    public var json: JSONValue {
        ["app": .string(app), "accounts": .array(accounts.map { e in
            var o = JSONObjectBuilder()
            o.set("account", e.account.json)
            switch e.owner {
            case .person(let id, let how):
                o.set("person", id)
                o.set("linkedBy", how)
            case .ignored(let reason):
                o.set("ignored", reason)
            case .nobody:
                o.set("orphan", true)
            }
            o.set("entitlements", .array(e.entitlements.map(JSONValue.string)))
            return o.value
        })]
    }
}

extension Queries {
    /// Nil when the app is not configured or was never synced.
    public func accounts(in app: String) -> AppAccounts? {
        guard workspace.config.app(app) != nil, let inventory = state.inventory(app: app) else { return nil }
        let correlation = planned?.correlations.first { $0.appId == app }
        let ignored = Dictionary(correlation?.ignored.map { ($0.account, $0.reason) } ?? [], uniquingKeysWith: { a, _ in a })
        let entries = inventory.accounts.indices.map { i -> AppAccounts.Entry in
            let owner: AppAccounts.Owner
            if let p = correlation?.person(ofAccount: i), let person = planned?.directory.people[p] {
                let how: String
                switch correlation?.linkSource(ofAccount: i) {
                case .manual?: how = "manual link"
                case .rule(let rule)?: how = "rule \(rule.rawValue)"
                case nil: how = "correlation"
                }
                owner = .person(person.id, how: how)
            } else if let reason = ignored[i] {
                owner = .ignored(reason: reason)
            } else {
                owner = .nobody
            }
            let held = inventory.grants(ofAccount: i).map { inventory.entitlements[Int($0)] }.map { "\($0.type):\($0.name)" }
            return AppAccounts.Entry(account: inventory.accounts[i], owner: owner, entitlements: held)
        }
        return AppAccounts(app: app, accounts: entries)
    }
}
