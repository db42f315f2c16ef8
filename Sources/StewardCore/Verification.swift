import StewardProtocol

/// One account as a fresh read of the app shows it, after the actions on it ran.
///
/// `applied` in the journal means the app shows the change; this is what "shows" is checked
/// against. A read that could not be made is not a readback: the caller says why instead.
public struct AccountReadback: Sendable, Hashable {
    /// Nil: the app has no such account.
    public var account: Account?
    /// The account's grants of every type; nil when the connector cannot list grants.
    public var grants: [Grant]?

    public init(account: Account?, grants: [Grant]?) {
        self.account = account
        self.grants = grants
    }

    /// The grants of `type`, when grants were read.
    public func grants(ofType type: String) -> [Grant]? { grants?.filter { $0.type == type } }
}

/// Whether a readback shows an action's effect, and if not, what it showed instead.
public enum Verdict: Sendable, Hashable {
    case visible
    /// The read shows something else; the text says what, for people and the journal.
    case notVisible(String)

    public var isVisible: Bool { self == .visible }
}

extension PlanOperation {
    /// Checks `readback` of account `accountId` for this operation's effect. Nothing is taken
    /// on trust: an attribute or grant list the read does not carry is "not visible".
    public func verdict(on readback: AccountReadback, accountId: String) -> Verdict {
        switch self {
        case .createAccount:
            return readback.account == nil ? .notVisible("the app shows no such account") : .visible
        case .enableAccount, .disableAccount:
            let wanted: AccountStatus = self == .enableAccount ? .active : .disabled
            guard let account = readback.account else { return .notVisible("the app shows no such account") }
            return account.status == wanted ? .visible : .notVisible("the account is \(account.status.rawValue)")
        case .deleteAccount:
            guard let account = readback.account else { return .visible }
            return .notVisible("the account still exists (\(account.status.rawValue))")
        case .updateAccount(let changes):
            guard let account = readback.account else { return .notVisible("the app shows no such account") }
            let wrong = changes.filter { change in
                let shown = account.value(of: change.attribute)
                // Apps store e-mail addresses in their own case; the address is the same.
                if change.attribute == "email", let shown, let after = change.after { return !shown.equalsIgnoringCase(after) }
                return shown != change.after
            }
            if wrong.isEmpty { return .visible }
            return .notVisible(wrong.map { "\($0.attribute) is \(account.value(of: $0.attribute).map { "\"\($0)\"" } ?? "not shown")" }
                .joined(separator: ", "))
        case .grant(let e):
            return holding(e, readback, accountId, wanted: true)
        case .changeTier(let from, let to):
            let gained = holding(to, readback, accountId, wanted: true)
            guard gained.isVisible else { return gained }
            return from.id == to.id ? .visible : holding(from, readback, accountId, wanted: false)
        case .revoke(let e):
            return holding(e, readback, accountId, wanted: false)
        }
    }

    private func holding(_ e: EntitlementRef, _ readback: AccountReadback, _ accountId: String, wanted: Bool) -> Verdict {
        guard readback.account != nil else { return .notVisible("the app shows no such account") }
        guard let held = readback.grants(ofType: e.type) else { return .notVisible("the app's grants could not be read") }
        let holds = held.contains { $0.accountId == accountId && $0.entitlementId == e.id }
        if holds == wanted { return .visible }
        let others = held.filter { $0.accountId == accountId }.map(\.entitlementId).sorted()
        let now = others.isEmpty ? "holds no \(e.type)" : "holds \(e.type) \(others.joined(separator: ", "))"
        return .notVisible(wanted ? "the account does not hold \(e.type) \(e.name); it \(now)" : "the account still holds \(e.type) \(e.name)")
    }
}

extension Account {
    /// An attribute by the name plans use (`AccountAttribute`), as the account shows it.
    public func value(of attribute: String) -> String? {
        switch attribute {
        case "email": return email
        case "displayName": return displayName
        case "givenName": return givenName
        case "familyName": return familyName
        case "userName": return userName
        default: return attributes[attribute]
        }
    }
}
