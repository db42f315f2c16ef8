import StewardProtocol

/// What it takes to bring every app to the desired state: ordered actions with their causes and
/// justifications, findings that need a human, and the safety rails that block it.
///
/// A plan is data: `steward plan --out` saves its `json`, `steward apply` reads it back, refuses
/// it when `journalHead` is stale, and runs `executableActions`.
public struct Plan: Sendable, Hashable {
    public static let formatVersion = 1

    /// The journal tree head the plan was computed against; the host fills it in.
    public var journalHead: String?
    /// ISO 8601 UTC time the plan was computed for.
    public var computedAt: String
    /// Per app, in config order; within an app per person, then orphans; within a person in
    /// execution order (create, enable, update, revoke, change tier, grant, disable, delete).
    public var actions: [PlanAction]
    public var findings: [PlanFinding]
    public var rails: [RailViolation]
    /// The caller allowed a plan the rails would block (`--allow-mass-deprovision`).
    public var allowMassDeprovision: Bool
    public var apps: [AppSummary]
    /// Who the actions are about, for reading the plan without the HR feed.
    public var people: [String: PersonSummary]

    public init(journalHead: String? = nil, computedAt: String, actions: [PlanAction], findings: [PlanFinding] = [],
                rails: [RailViolation] = [], allowMassDeprovision: Bool = false, apps: [AppSummary] = [],
                people: [String: PersonSummary] = [:]) {
        self.journalHead = journalHead
        self.computedAt = computedAt
        self.actions = actions
        self.findings = findings
        self.rails = rails
        self.allowMassDeprovision = allowMassDeprovision
        self.apps = apps
        self.people = people
    }

    /// A rail was tripped and not overridden: nothing may be applied.
    public var isBlocked: Bool { !rails.isEmpty && !allowMassDeprovision }

    /// Findings that make the plan wrong as a whole (a rule naming something the app does not
    /// have): with any of them nothing may be applied, since what the broken rule meant to
    /// grant would otherwise be revoked.
    public var errors: [PlanFinding] { findings.filter { $0.severity == .error } }

    public var hasErrors: Bool { findings.contains { $0.severity == .error } }

    /// What `apply` runs: nothing when blocked or wrong, never observe-mode actions.
    public var executableActions: [PlanAction] {
        isBlocked || hasErrors ? [] : actions.filter { !$0.observeOnly }
    }
}

/// One change to one account in one app.
public struct PlanAction: Sendable, Hashable {
    public var app: String
    /// Nil for orphans.
    public var personId: String?
    /// Nil for actions on an account this plan creates: the executor uses the id the
    /// `createAccount` of the same change set returned.
    public var accountId: String?
    /// The account's `userName`, for people reading the plan.
    public var accountName: String?
    public var operation: PlanOperation
    public var cause: Cause
    /// Why the target state is what it is: the rules granting it, or why nothing does.
    public var justifications: [Justification]
    /// Actions that belong together (one person in one app, such as a mover's revokes and
    /// grants) share it; the executor runs them in order and stops at the first failure.
    public var changeSet: String
    /// The app is in observe mode: shown, never applied.
    public var observeOnly: Bool

    public init(app: String, personId: String?, accountId: String?, accountName: String?, operation: PlanOperation,
                cause: Cause, justifications: [Justification], changeSet: String, observeOnly: Bool) {
        self.app = app
        self.personId = personId
        self.accountId = accountId
        self.accountName = accountName
        self.operation = operation
        self.cause = cause
        self.justifications = justifications
        self.changeSet = changeSet
        self.observeOnly = observeOnly
    }

    /// Unique within a plan and stable across plans computed from the same state: a base for
    /// idempotency keys and journal references.
    public var key: String {
        let subject = accountId.map { "account:" + $0 } ?? "person:" + (personId ?? "")
        var key = app + "/" + operation.name + "/" + subject
        switch operation {
        case .grant(let e), .revoke(let e): key += "/" + e.type + "/" + e.id
        case .changeTier(let from, let to): key += "/" + to.type + "/" + from.id + ">" + to.id
        default: break
        }
        return key
    }
}

/// The change itself.
public enum PlanOperation: Sendable, Hashable {
    // The large payloads are boxed (`indirect`) so an action stays small: plans hold hundreds of
    // thousands of them.
    indirect case createAccount(AccountSpec)
    case enableAccount
    case updateAccount([AttributeChange])
    case grant(EntitlementRef)
    /// Replace a single-valued entitlement (a role tier): one `grants/add` of `to`.
    indirect case changeTier(from: EntitlementRef, to: EntitlementRef)
    case revoke(EntitlementRef)
    case disableAccount
    /// `disabledDays` is how long the account has been disabled, when known.
    case deleteAccount(disabledDays: Int?)

    public var name: String {
        switch self {
        case .createAccount: return "createAccount"
        case .enableAccount: return "enableAccount"
        case .updateAccount: return "updateAccount"
        case .grant: return "grant"
        case .changeTier: return "changeTier"
        case .revoke: return "revoke"
        case .disableAccount: return "disableAccount"
        case .deleteAccount: return "deleteAccount"
        }
    }

    /// Position within a change set: create before grants, revokes before disable, disable
    /// before delete.
    public var phase: Int {
        switch self {
        case .createAccount: return 0
        case .enableAccount: return 1
        case .updateAccount: return 2
        case .revoke: return 3
        case .changeTier: return 4
        case .grant: return 5
        case .disableAccount: return 6
        case .deleteAccount: return 7
        }
    }

    /// Takes access away (for the safety rails and reviews).
    public var isDeprovisioning: Bool {
        switch self {
        case .disableAccount, .deleteAccount: return true
        default: return false
        }
    }
}

/// An entitlement as the app knows it.
public struct EntitlementRef: Sendable, Hashable {
    public var type: String
    public var id: String
    public var name: String

    public init(type: String, id: String, name: String) {
        self.type = type
        self.id = id
        self.name = name
    }

    public init(_ e: Entitlement) { self.init(type: e.type, id: e.id, name: e.name) }
}

/// The lifecycle event or state difference behind an action.
public enum Cause: String, Sendable, CaseIterable {
    case joiner
    case mover
    case leaver
    case rehire
    /// The rules changed since the last plan.
    case policyChange
    /// The app differs from what the rules say, though neither the person nor the rules changed.
    case drift
    /// An account linked to nobody.
    case orphan
    /// An access review decided to revoke it.
    case review
    /// A discovery finding the config acts on (`findings: { leftover: "disable" }`).
    case discovery
}

/// The rule behind a desired grant, or why something should go.
public enum Justification: Sendable, Hashable {
    case policy(String)
    case role(String, policy: String)
    case exception(String, until: CalendarDay?)
    /// Nothing grants it: entitlement entropy, or an app the person no longer needs.
    case notGranted
    case personLeft(LeaveReason)
    /// The account is linked to no person.
    case noPerson
    /// A discovery finding of this kind (`orphan`, `leftover`, `dormant`, `service`) and the
    /// config's `findings` setting for it.
    case finding(String)
    /// Account attributes follow the HR record.
    case hrRecord
    /// A decision in access review campaign `campaign` (`quarterly-admins-1`).
    case review(String)
}

/// Something a human should know or fix; never applied.
public struct PlanFinding: Sendable, Hashable {
    public var kind: Kind
    public var severity: Severity
    public var app: String?
    public var personId: String?
    public var accountId: String?
    public var message: String
    /// Where in the config the cause is written (`policies[1].grant[0].entitlements[0]`), so
    /// the host can name the file and line.
    public var configPaths: [String]

    public enum Kind: String, Sendable, CaseIterable {
        /// An account linked to nobody, left alone.
        case orphan
        /// Correlation could not decide; see `CorrelationConflict`.
        case conflict
        /// A rule names an entitlement the app does not list.
        case unknownEntitlement
        /// An app in the config without synced state.
        case missingInventory
        /// The connector does not offer an operation the plan needs.
        case unsupported
        /// A single-valued type without a declared order had several candidates.
        case tierOrderUnknown
        case expiredException
        /// An exception or manual link names a person the feed does not have.
        case unknownPerson
        case duplicatePerson
        /// Unreadable HR data, such as an end date that is not a date.
        case invalidPerson
        /// A disabled account past the grace period whose disable day is unknown.
        case disabledSinceUnknown
        case danglingGrants
        /// A discovery finding configured `review`, waiting for a campaign that takes findings.
        case findingToReview
    }

    public enum Severity: String, Sendable, CaseIterable {
        case info, warning, error
    }

    public init(_ kind: Kind, severity: Severity, app: String? = nil, personId: String? = nil, accountId: String? = nil, message: String,
                configPaths: [String] = []) {
        self.kind = kind
        self.severity = severity
        self.app = app
        self.personId = personId
        self.accountId = accountId
        self.message = message
        self.configPaths = configPaths
    }
}

/// A safety rail the plan trips, with the numbers.
public struct RailViolation: Sendable, Hashable {
    public var rail: Rail
    /// The app, for `massDeprovision`.
    public var app: String?
    /// Accounts disabled or deleted, or people gone from the feed.
    public var count: Int
    /// The app's accounts, or the previous feed's people.
    public var total: Int
    public var limitPercent: Double

    public enum Rail: String, Sendable, CaseIterable {
        case massDeprovision
        case sourceShrink
    }

    public init(rail: Rail, app: String? = nil, count: Int, total: Int, limitPercent: Double) {
        self.rail = rail
        self.app = app
        self.count = count
        self.total = total
        self.limitPercent = limitPercent
    }

    public var percent: Double { total == 0 ? 0 : Double(count) * 100 / Double(total) }

    public var message: String {
        switch rail {
        case .massDeprovision:
            return "\(app ?? "?"): the plan would disable or delete \(count) of \(total) accounts (\(percent.compactText)%); the limit is \(limitPercent.compactText)% (deprovision.maxPercent)"
        case .sourceShrink:
            return "source: \(count) of \(total) people (\(percent.compactText)%) are missing from the HR feed or passed their end date since the last snapshot; the limit is \(limitPercent.compactText)% (source.maxShrinkPercent)"
        }
    }
}

/// One app's state at planning time, for summaries and `steward status`.
public struct AppSummary: Sendable, Hashable {
    public var id: String
    public var mode: AppSettings.Mode
    public var accounts: Int
    public var linked: Int
    public var orphans: Int
    public var ignored: Int
    public var conflicts: Int
    public var actions: Int

    public init(id: String, mode: AppSettings.Mode, accounts: Int = 0, linked: Int = 0, orphans: Int = 0, ignored: Int = 0,
                conflicts: Int = 0, actions: Int = 0) {
        self.id = id
        self.mode = mode
        self.accounts = accounts
        self.linked = linked
        self.orphans = orphans
        self.ignored = ignored
        self.conflicts = conflicts
        self.actions = actions
    }
}

/// Who a person is, as far as reading a plan needs.
public struct PersonSummary: Sendable, Hashable {
    public var name: String
    public var email: String
    /// The lifecycle event this plan follows for them, if any.
    public var event: Cause?

    public init(name: String, email: String, event: Cause? = nil) {
        self.name = name
        self.email = email
        self.event = event
    }
}
