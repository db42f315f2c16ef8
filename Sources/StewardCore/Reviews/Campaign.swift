import Foundation
import StewardProtocol

/// A review campaign as its journal events describe it: the population at launch, each item's
/// reviewer per stage, decisions, delegations, sign-offs, reminders, escalations and results.
///
/// The host folds events into it; the rules for what may happen next (who may decide which item,
/// what is due at a given time) are functions of it and an injected clock, so they are tested
/// without a process, a file or a sleep.
public struct Campaign: Sendable {
    public var id: String
    public var definition: ReviewDefinition
    public var launchedAt: Date
    /// Each stage's deadline.
    public var deadlines: [Date]
    /// The stage items are being decided at (0-based); `deadlines.count` once every stage closed.
    public var stage: Int
    public var items: [ReviewItem]
    public var progress: [ItemProgress]
    /// Per stage, the reviewers (e-mails) who signed off; their items at that stage are locked.
    public var signOffs: [Set<String>]
    public var reminders: [Reminder] = []
    public var escalations: [Escalation] = []
    public var closedAt: Date?
    /// Item id → index.
    private var index: [String: Int]

    public init(id: String, definition: ReviewDefinition, launchedAt: Date, deadlines: [Date], items: [ReviewItem],
                firstAssignments: [Assignment]) {
        self.id = id
        self.definition = definition
        self.launchedAt = launchedAt
        self.deadlines = deadlines
        stage = 0
        self.items = items
        progress = firstAssignments.map { ItemProgress(assignments: [$0]) }
        signOffs = Array(repeating: [], count: deadlines.count)
        index = Dictionary(uniqueKeysWithValues: items.enumerated().map { ($1.id, $0) })
    }

    public var isClosed: Bool { closedAt != nil }

    /// Adds items (a launch journals them in chunks), each with its first-stage assignment.
    public mutating func append(_ newItems: [ReviewItem], assignments: [Assignment]) {
        for (item, assignment) in zip(newItems, assignments) {
            index[item.id] = items.count
            items.append(item)
            progress.append(ItemProgress(assignments: [assignment]))
        }
    }

    public func position(of itemId: String) -> Int? { index[itemId] }

    public func item(_ id: String) -> ReviewItem? { index[id].map { items[$0] } }

    /// Items waiting for a decision at the current stage.
    public var openItems: [Int] { progress.indices.filter { progress[$0].status == .open(stage: stage) } }

    /// The open items `email` may decide now (their own, delegated to them, or their group's).
    public func openItems(for email: String, groups: [String: [String]]) -> [Int] {
        // Called for every page a reviewer loads: one pass over the items, the e-mail
        // lowercased once rather than per item.
        let email = email.lowercased()
        let memberOf = Set(groups.filter { $0.value.contains(email) }.keys)
        return progress.indices.filter { i in
            guard progress[i].status == .open(stage: stage), let reviewer = progress[i].currentReviewer(stage) else { return false }
            switch reviewer {
            case .person(let p): return p == email
            case .group(let g): return memberOf.contains(g)
            }
        }
    }
}

/// Where one item is.
public struct ItemProgress: Sendable, Hashable {
    /// Per stage reached, who has it (the latest reassignment or delegation wins).
    public var assignments: [Assignment]
    public var decisions: [Decision] = []
    public var status: ItemStatus = .open(stage: 0)
    /// Reassignments and delegations, in order, with their reasons.
    public var routing: [Routing] = []
    public var remediation: Remediation?

    public init(assignments: [Assignment]) { self.assignments = assignments }

    public func currentReviewer(_ stage: Int) -> Reviewer? {
        assignments.indices.contains(stage) ? assignments[stage].reviewer : nil
    }

    /// The decision taken at `stage`, if any.
    public func decision(at stage: Int) -> Decision? { decisions.last { $0.stage == stage } }
}

/// How an item ends, or that it is still waiting.
public enum ItemStatus: Sendable, Hashable, CustomStringConvertible {
    case open(stage: Int)
    /// Every stage kept it.
    case kept
    /// A stage decided revoke; remediation is pending.
    case revoking
    /// A fresh read of the app shows the access gone.
    case revokedVerified
    case revokeFailed(String)
    /// No decision and no default at the deadline.
    case expired

    public var description: String {
        switch self {
        case .open(let stage): return "open (stage \(stage + 1))"
        case .kept: return "kept"
        case .revoking: return "revoke pending"
        case .revokedVerified: return "revoked-verified"
        case .revokeFailed: return "revoke-failed"
        case .expired: return "expired"
        }
    }

    public var isDecided: Bool { if case .open = self { return false } else { return true } }
}

/// One decision on one item.
public struct Decision: Sendable, Hashable {
    public var stage: Int
    public var verdict: Recommendation.Verdict
    /// Who decided (an e-mail), or `default` for a default decision at the deadline.
    public var by: String
    /// `cli`, later `link`, `slack`, `email`; `deadline` for defaults.
    public var channel: String
    public var comment: String?
    public var at: Date
    /// Decided together with other items in one request.
    public var bulk: Bool
    /// The verdict was the item's recommendation.
    public var followedRecommendation: Bool
    /// The journal event that recorded it, for its inclusion proof.
    public var seq: Int?

    public init(stage: Int, verdict: Recommendation.Verdict, by: String, channel: String, comment: String? = nil, at: Date,
                bulk: Bool = false, followedRecommendation: Bool, seq: Int? = nil) {
        self.stage = stage
        self.verdict = verdict
        self.by = by
        self.channel = channel
        self.comment = comment
        self.at = at
        self.bulk = bulk
        self.followedRecommendation = followedRecommendation
        self.seq = seq
    }
}

/// A change of reviewer, with why and who made it.
public struct Routing: Sendable, Hashable {
    public enum Kind: String, Sendable {
        /// A reviewer delegated the item to someone else.
        case delegated
        /// Steward moved it: the reviewer left, the subject's manager changed, an escalation.
        case reassigned
        case escalated
    }

    public var kind: Kind
    public var stage: Int
    public var from: Reviewer?
    public var to: Reviewer?
    public var reason: String
    public var by: String
    public var at: Date

    public init(kind: Kind, stage: Int, from: Reviewer?, to: Reviewer?, reason: String, by: String, at: Date) {
        self.kind = kind
        self.stage = stage
        self.from = from
        self.to = to
        self.reason = reason
        self.by = by
        self.at = at
    }
}

/// A reminder that went to a reviewer.
public struct Reminder: Sendable, Hashable {
    public var stage: Int
    public var reviewer: String
    /// Which rung of the ladder (`7d-before`, `overdue-3`), so a slot is never sent twice.
    public var slot: String
    public var openItems: Int
    public var at: Date

    public init(stage: Int, reviewer: String, slot: String, openItems: Int, at: Date) {
        self.stage = stage
        self.reviewer = reviewer
        self.slot = slot
        self.openItems = openItems
        self.at = at
    }
}

/// Overdue items moved to the reviewer's manager.
public struct Escalation: Sendable, Hashable {
    public var stage: Int
    public var from: String
    public var to: String?
    public var items: Int
    public var at: Date

    public init(stage: Int, from: String, to: String?, items: Int, at: Date) {
        self.stage = stage
        self.from = from
        self.to = to
        self.items = items
        self.at = at
    }
}

/// What remediation did for a revoked item: the plan action and how it ended.
public struct Remediation: Sendable, Hashable {
    public var actionKey: String
    public var verified: Bool
    public var error: String?
    public var at: Date

    public init(actionKey: String, verified: Bool, error: String?, at: Date) {
        self.actionKey = actionKey
        self.verified = verified
        self.error = error
        self.at = at
    }
}
