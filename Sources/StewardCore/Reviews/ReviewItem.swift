import StewardProtocol

/// One thing a reviewer decides: a grant an account holds, or an account itself (an orphan, a
/// leaver's account, an account in an app without entitlements), with everything a reviewer
/// needs to decide it without looking anything up.
public struct ReviewItem: Sendable, Hashable {
    /// `1`, `2`, … in population order (by app, person, account, entitlement).
    public var id: String
    public var app: String
    public var accountId: String
    public var accountName: String
    /// Nil for orphans.
    public var personId: String?
    public var access: Access
    public var context: ReviewContext
    public var recommendation: Recommendation

    public enum Access: Sendable, Hashable {
        case entitlement(EntitlementRef)
        /// The account as such; revoking it disables the account.
        case account
    }

    public enum Kind: String, Sendable, CaseIterable {
        /// A person's grant, or account in an app without entitlements.
        case access
        /// An account linked to nobody.
        case orphan
        /// An enabled account of someone who left.
        case leaver
    }

    public init(id: String, app: String, accountId: String, accountName: String, personId: String?, access: Access,
                context: ReviewContext, recommendation: Recommendation) {
        self.id = id
        self.app = app
        self.accountId = accountId
        self.accountName = accountName
        self.personId = personId
        self.access = access
        self.context = context
        self.recommendation = recommendation
    }

    /// `role:Admin`, or `account` for an account item.
    public var accessName: String {
        switch access {
        case .entitlement(let e): return "\(e.type):\(e.name)"
        case .account: return "account"
        }
    }

    /// What taking this access away is, as a plan operation.
    public var revokeOperation: PlanOperation {
        switch access {
        case .entitlement(let e): return .revoke(e)
        case .account: return .disableAccount
        }
    }
}

/// What a reviewer sees beside an item.
public struct ReviewContext: Sendable, Hashable {
    public var kind: ReviewItem.Kind
    public var personName: String?
    public var email: String?
    public var department: String?
    public var title: String?
    public var managerId: String?
    /// `active`, `left (terminated)`, or `no person` for orphans.
    public var standing: String
    /// What justifies the access (`policy engineering`, `exception CHG-1`, `review q3 kept`);
    /// empty: no rule does.
    public var justifications: [String]
    public var lastLoginAt: String?
    public var privileged: Bool
    /// How many people with the same department and title hold this access, of how many.
    public var peersHolding: Int
    public var peers: Int

    public init(kind: ReviewItem.Kind, personName: String? = nil, email: String? = nil, department: String? = nil,
                title: String? = nil, managerId: String? = nil, standing: String, justifications: [String] = [],
                lastLoginAt: String? = nil, privileged: Bool = false, peersHolding: Int = 0, peers: Int = 0) {
        self.kind = kind
        self.personName = personName
        self.email = email
        self.department = department
        self.title = title
        self.managerId = managerId
        self.standing = standing
        self.justifications = justifications
        self.lastLoginAt = lastLoginAt
        self.privileged = privileged
        self.peersHolding = peersHolding
        self.peers = peers
    }

    /// The access is justified by nothing: no policy, role, exception or earlier decision.
    public var unjustified: Bool { justifications.isEmpty }
}

/// The suggested decision for an item, and why, in words a reviewer can check.
public struct Recommendation: Sendable, Hashable {
    public var verdict: Verdict
    public var reason: String

    public enum Verdict: String, Sendable, CaseIterable {
        case keep, revoke
    }

    public init(_ verdict: Verdict, _ reason: String) {
        self.verdict = verdict
        self.reason = reason
    }
}
