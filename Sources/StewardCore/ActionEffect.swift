import StewardProtocol

/// What an applied action changed in an app, as the folded state must see it so that a plan
/// made right after an apply sees the work done.
///
/// One case per kind of change: adding an operation means adding its effect here, and the
/// compiler then points at every place that must handle it (the executor, the state fold, the
/// journal codec).
public enum ActionEffect: Sendable, Hashable {
    /// The account as the app now shows it (created, enabled, disabled or updated).
    case account(Account)
    /// The app accepted a create without giving an account back yet (an invitation, an
    /// asynchronous provisioning): the next sync brings the account.
    case accountPending(AccountCreateResult.Status)
    case accountRemoved(id: String)
    case grantAdded(Grant)
    /// A single-valued type now holds this value only (a role tier change).
    case tierSet(Grant)
    case grantRemoved(Grant)
    /// The app answered without showing the result (an update with no account returned).
    case unknown
}

extension PlanOperation {
    /// The effect of this operation on `accountId` when the app answered `account` (or
    /// nothing), given the account as last known.
    public func effect(accountId: String, answered account: Account?, known: Account?) -> ActionEffect {
        switch self {
        case .createAccount:
            // The create's own answer is handled by the executor, which knows its status.
            return account.map(ActionEffect.account) ?? .accountPending(.inProgress)
        case .enableAccount, .disableAccount:
            if let account { return .account(account) }
            guard var known else { return .unknown }
            known.status = self == .enableAccount ? .active : .disabled
            return .account(known)
        case .updateAccount:
            return account.map(ActionEffect.account) ?? .unknown
        case .deleteAccount:
            return .accountRemoved(id: accountId)
        case .grant(let e):
            return .grantAdded(Grant(accountId: accountId, type: e.type, entitlementId: e.id))
        case .changeTier(_, let to):
            return .tierSet(Grant(accountId: accountId, type: to.type, entitlementId: to.id))
        case .revoke(let e):
            return .grantRemoved(Grant(accountId: accountId, type: e.type, entitlementId: e.id))
        }
    }
}

extension PlanOperation {
    /// Whether checking this operation needs the account's grants read back.
    public var changesGrants: Bool {
        switch self {
        case .grant, .changeTier, .revoke: return true
        case .createAccount, .enableAccount, .updateAccount, .disableAccount, .deleteAccount: return false
        }
    }
}
