import StewardProtocol

/// An access review campaign as configured (`reviews: [...]` in `steward.json`) or started ad
/// hoc: what is in scope, who reviews it in which stages, and the timing.
///
/// ```json5
/// reviews: [ { id: "quarterly-admins", scope: { privileged: true },
///              stages: [ { reviewer: "manager" }, { reviewer: "appOwner" } ],
///              fallback: "security@example.com", days: 14,
///              reminders: { before: [7, 3, 1], overdueEvery: 1 }, escalateAfterDaysOverdue: 3,
///              defaultDecision: "none", recommend: { inactiveDays: 90, peerPercent: 10 } } ]
/// ```
/// A campaign is data in the journal, not a process: this is what its launch records.
public struct ReviewDefinition: Sendable, Hashable {
    public var id: String
    public var description: String?
    public var scope: ReviewScope
    public var stages: [ReviewStage]
    /// Who takes an item when a stage's own reviewer cannot (no manager, a self-review) and the
    /// stage names no fallback of its own.
    public var fallback: ReviewerRule?
    /// Days from launch to the last stage's deadline when no due date is given; stages without
    /// `days` share it equally.
    public var days: Int
    public var reminders: ReminderLadder
    /// Escalate to the reviewer's manager this many days after a stage's deadline; nil never.
    public var escalateAfterDaysOverdue: Int?
    /// What an undecided item becomes at the deadline.
    public var defaultDecision: DefaultDecision
    public var recommend: RecommendationSettings
    public var remediate: RemediationTiming
    /// An app whose last successful sync is older than this blocks launch.
    public var maxSyncAgeHours: Double
    /// The calendar it runs on (`quarter`, `month`, or a five-field cron line), for `serve`.
    public var every: String?
    /// For micro-certifications: the event that opens a one-item campaign by itself.
    public var trigger: ReviewTrigger?
    /// The notifier (`notify[].id`) its messages go through; `none` sends nothing; nil: the
    /// first one configured.
    public var notify: String?
    /// Which items chat messages offer keep/revoke buttons for; the rest are decided on the
    /// web page (a privileged grant deserves its context, not a tap in a channel).
    public var chatButtons: ChatButtons = .all

    public init(id: String, description: String? = nil, scope: ReviewScope = ReviewScope(),
                stages: [ReviewStage] = [ReviewStage(reviewer: .manager)], fallback: ReviewerRule? = nil, days: Int = 14,
                reminders: ReminderLadder = ReminderLadder(), escalateAfterDaysOverdue: Int? = nil,
                defaultDecision: DefaultDecision = .none, recommend: RecommendationSettings = RecommendationSettings(),
                remediate: RemediationTiming = .atClose, maxSyncAgeHours: Double = 24, every: String? = nil) {
        self.id = id
        self.description = description
        self.scope = scope
        self.stages = stages
        self.fallback = fallback
        self.days = days
        self.reminders = reminders
        self.escalateAfterDaysOverdue = escalateAfterDaysOverdue
        self.defaultDecision = defaultDecision
        self.recommend = recommend
        self.remediate = remediate
        self.maxSyncAgeHours = maxSyncAgeHours
        self.every = every
    }

    public init(id: String, trigger: ReviewTrigger, stages: [ReviewStage], fallback: ReviewerRule? = nil, days: Int = 7) {
        self.init(id: id, scope: .everything, stages: stages, fallback: fallback, days: days)
        self.trigger = trigger
    }

    /// Each stage's length in days, summing to `days` unless stages give their own.
    public var stageDays: [Int] {
        let given = stages.compactMap(\.days).reduce(0, +)
        let open = stages.filter { $0.days == nil }.count
        let share = open == 0 ? 0 : max(1, (days - given) / open)
        return stages.map { $0.days ?? share }
    }
}

/// `chatButtons` of a campaign.
public enum ChatButtons: String, Sendable, Hashable, CaseIterable {
    case all, unprivileged, none

    /// Whether a chat message may offer buttons deciding this item.
    public func allows(privileged: Bool) -> Bool {
        switch self {
        case .all: return true
        case .unprivileged: return !privileged
        case .none: return false
        }
    }
}

/// What a campaign covers. Items are each person's grants (`access`), accounts linked to nobody
/// (`orphans`), and enabled accounts of people who left (`leavers`).
public struct ReviewScope: Sendable, Hashable {
    /// Nil: every app.
    public var apps: [String]?
    /// Empty: every entitlement. `role:Admin`, `group:prod-*`, `license:*`.
    public var entitlements: [EntitlementPattern]
    /// Only what the app's `privileged` patterns name.
    public var privilegedOnly: Bool
    /// Whose access, in the policies' `when` syntax; nil: everyone.
    public var people: Condition?
    public var include: Set<Include>
    /// With `include: ["findings"]`: the finding kinds reviewed; nil takes the config's
    /// `findings` kinds set to `review` (every account kind when none is).
    public var findingKinds: Set<AccountFinding.Kind>?

    public enum Include: String, Sendable, CaseIterable {
        case access, orphans, leavers
        /// The accounts discovery findings name (orphans, leftovers, dormant and service accounts).
        case findings
    }

    public init(apps: [String]? = nil, entitlements: [EntitlementPattern] = [], privilegedOnly: Bool = false,
                people: Condition? = nil, include: Set<Include> = [.access]) {
        self.apps = apps
        self.entitlements = entitlements
        self.privilegedOnly = privilegedOnly
        self.people = people
        self.include = include
    }

    /// Every grant, orphan and leaver's account in every app.
    public static let everything = ReviewScope(include: Set(Include.allCases))
}

/// One stage of review: its reviewer, its own fallback, and optionally its length.
public struct ReviewStage: Sendable, Hashable {
    public var reviewer: ReviewerRule
    public var fallback: ReviewerRule?
    public var days: Int?

    public init(reviewer: ReviewerRule, fallback: ReviewerRule? = nil, days: Int? = nil) {
        self.reviewer = reviewer
        self.fallback = fallback
        self.days = days
    }
}

/// Who reviews an item.
public enum ReviewerRule: Sendable, Hashable, CustomStringConvertible {
    /// The subject's manager, from HR.
    case manager
    /// The app's `owner`.
    case appOwner
    /// The owner the app's `entitlementOwners` gives the entitlement.
    case entitlementOwner
    /// A named person, by e-mail.
    case person(String)
    /// Any member of a `reviewerGroups` group.
    case group(String)

    public var description: String {
        switch self {
        case .manager: return "manager"
        case .appOwner: return "appOwner"
        case .entitlementOwner: return "entitlementOwner"
        case .person(let email): return email
        case .group(let name): return "group:\(name)"
        }
    }

    /// `manager`, `appOwner`, `entitlementOwner`, `group:NAME`, or an e-mail address.
    public init?(_ text: String) {
        switch text {
        case "manager": self = .manager
        case "appOwner": self = .appOwner
        case "entitlementOwner": self = .entitlementOwner
        default:
            if text.hasPrefix("group:"), text.count > 6 {
                self = .group(String(text.dropFirst(6)))
            } else if text.contains("@"), !text.hasPrefix("@"), !text.hasSuffix("@") {
                self = .person(text.lowercased())
            } else {
                return nil
            }
        }
    }
}

/// What opens a micro-certification: a one-item review of one piece of access, right when it
/// matters instead of at the next quarterly campaign.
public enum ReviewTrigger: Sendable, Hashable {
    /// A privileged entitlement appeared on someone's account (granted outside Steward or not).
    case privilegedGrant
    /// A new account linked to nobody.
    case orphan
    /// Someone moved at least `days` ago and still holds access no rule grants.
    case moverLeftovers(days: Int)
    /// An exception ends within `days`: renew it or let it go.
    case exceptionExpiring(days: Int)

    public var name: String {
        switch self {
        case .privilegedGrant: return "privilegedGrant"
        case .orphan: return "orphan"
        case .moverLeftovers: return "moverLeftovers"
        case .exceptionExpiring: return "exceptionExpiring"
        }
    }

    public var days: Int? {
        switch self {
        case .moverLeftovers(let d), .exceptionExpiring(let d): return d
        case .privilegedGrant, .orphan: return nil
        }
    }

    public init?(name: String, days: Int?) {
        switch name {
        case "privilegedGrant": self = .privilegedGrant
        case "orphan": self = .orphan
        case "moverLeftovers": self = .moverLeftovers(days: days ?? 14)
        case "exceptionExpiring": self = .exceptionExpiring(days: days ?? 7)
        default: return nil
        }
    }
}

/// When reminders go out: so many days before a stage's deadline, then every so many days
/// while it is overdue.
public struct ReminderLadder: Sendable, Hashable {
    public var before: [Int]
    public var overdueEvery: Int?

    public init(before: [Int] = [7, 3, 1], overdueEvery: Int? = 1) {
        self.before = before.sorted(by: >)
        self.overdueEvery = overdueEvery
    }
}

/// What an item nobody decided becomes at the deadline. Only where configured: `none` leaves it
/// `expired`, which the report shows as such.
public enum DefaultDecision: String, Sendable, CaseIterable {
    case none, keep, revoke, recommendation
}

/// When revoke decisions become plan actions.
public enum RemediationTiming: String, Sendable, CaseIterable {
    /// When the stage (or the campaign) closes.
    case atClose
    /// As each revoke is decided.
    case immediately
}

/// Thresholds behind each item's recommendation.
public struct RecommendationSettings: Sendable, Hashable {
    /// Recommend revoking access not used (no sign-in) for this many days.
    public var inactiveDays: Int
    /// Recommend revoking what fewer than this share of peers (same department and title) hold.
    public var peerPercent: Double

    public init(inactiveDays: Int = 90, peerPercent: Double = 10) {
        self.inactiveDays = inactiveDays
        self.peerPercent = peerPercent
    }
}

/// `type:name` with `*` matching any run of characters, compared ignoring case: `role:Admin`,
/// `group:prod-*`, `license:*`.
public struct EntitlementPattern: Sendable, Hashable, CustomStringConvertible {
    public var type: String
    public var name: String

    public init?(_ text: String) {
        guard let colon = text.firstIndex(of: ":") else { return nil }
        type = String(text[..<colon]).lowercased()
        name = String(text[text.index(after: colon)...]).lowercased()
        guard !type.isEmpty, !name.isEmpty else { return nil }
    }

    public var description: String { "\(type):\(name)" }

    public func matches(type: String, name: String) -> Bool {
        globMatches(self.type, type.lowercased()) && globMatches(self.name, name.lowercased())
    }
}

/// `*` matches any run of characters; everything else literally.
func globMatches(_ pattern: String, _ text: String) -> Bool {
    let p = Array(pattern.unicodeScalars), t = Array(text.unicodeScalars)
    var pi = 0, ti = 0
    var star: Int?, mark = 0
    while ti < t.count {
        if pi < p.count, p[pi] != "*", p[pi] == t[ti] {
            pi += 1
            ti += 1
        } else if pi < p.count, p[pi] == "*" {
            star = pi
            mark = ti
            pi += 1
        } else if let s = star {
            pi = s + 1
            mark += 1
            ti = mark
        } else {
            return false
        }
    }
    while pi < p.count, p[pi] == "*" { pi += 1 }
    return pi == p.count
}
