import StewardProtocol

/// Who decides an item: a person (by e-mail) or any member of a group.
public enum Reviewer: Sendable, Hashable, CustomStringConvertible {
    case person(String)
    case group(String)

    public var description: String {
        switch self {
        case .person(let email): return email
        case .group(let name): return "group:\(name)"
        }
    }

    /// `group:NAME` or an e-mail.
    public init?(_ text: String) {
        if text.hasPrefix("group:"), text.count > 6 {
            self = .group(String(text.dropFirst(6)))
        } else if text.contains("@") {
            self = .person(text.lowercased())
        } else {
            return nil
        }
    }

    /// Whether `email` may act as this reviewer.
    public func includes(_ email: String, groups: [String: [String]]) -> Bool {
        let email = email.lowercased()
        switch self {
        case .person(let p): return p == email
        case .group(let g): return groups[g]?.contains(email) ?? false
        }
    }
}

/// An item's reviewer at one stage, and if it is not the stage's own reviewer, why.
public struct Assignment: Sendable, Hashable {
    /// Nil when no independent reviewer could be found (the report lists such items).
    public var reviewer: Reviewer?
    /// Why the stage's own reviewer does not have it (`self-review: …`, `no manager in HR`).
    public var reassignment: String?
    /// The stage's own reviewer was the subject.
    public var selfReviewBlocked: Bool

    public init(reviewer: Reviewer?, reassignment: String? = nil, selfReviewBlocked: Bool = false) {
        self.reviewer = reviewer
        self.reassignment = reassignment
        self.selfReviewBlocked = selfReviewBlocked
    }
}

/// E-mail and manager lookups over the HR feed, for routing.
public struct ReviewerDirectory: Sendable {
    private let byEmail: [String: Int]
    private let directory: PersonDirectory

    public init(directory: PersonDirectory) {
        self.directory = directory
        var byEmail: [String: Int] = [:]
        for p in 0..<directory.count where !directory.people[p].email.isEmpty {
            // The feed comes first in the directory, so a current record wins over a former one.
            let email = directory.people[p].email.lowercased()
            if byEmail[email] == nil { byEmail[email] = p }
        }
        self.byEmail = byEmail
    }

    public func person(_ id: String) -> Person? { directory.person(id) }

    public func person(withEmail email: String) -> Person? { byEmail[email.lowercased()].map { directory.people[$0] } }

    /// Whether the person with this e-mail has left (or is not in HR at all: nil).
    public func hasLeft(email: String) -> Bool? {
        guard let p = byEmail[email.lowercased()] else { return nil }
        return directory.standings[p].hasLeft
    }

    /// The e-mail of the manager of the person `id`, when HR names one who has not left.
    public func managerEmail(ofPerson id: String) -> String? {
        guard let person = directory.person(id), let managerId = person.managerId, let p = directory.index(of: managerId),
              !directory.standings[p].hasLeft, !directory.people[p].email.isEmpty else { return nil }
        return directory.people[p].email.lowercased()
    }

    /// The manager of whoever has this e-mail: where overdue items escalate.
    public func managerEmail(of email: String) -> String? {
        person(withEmail: email).flatMap { managerEmail(ofPerson: $0.id) }
    }
}

/// The routing rules: each stage's reviewer, never the subject, with the fallback taking over
/// (and the reason recorded) when the reviewer is missing or would review their own access.
public enum ReviewerAssignment {
    public static func assign(_ item: ReviewItem, stage: ReviewStage, definition: ReviewDefinition, app: AppSettings?,
                              people: ReviewerDirectory, groups: [String: [String]]) -> Assignment {
        let subject = item.personId.flatMap { people.person($0)?.email.lowercased() }
        func resolve(_ rule: ReviewerRule) -> (Reviewer?, String?) {
            switch rule {
            case .manager:
                guard let id = item.personId else { return (nil, "an account linked to nobody has no manager") }
                guard let email = people.managerEmail(ofPerson: id) else { return (nil, "\(id) has no manager in HR who is still there") }
                return (.person(email), nil)
            case .appOwner:
                guard let owner = app?.owner else { return (nil, "\(item.app) has no owner (apps[].owner)") }
                return (.person(owner), nil)
            case .entitlementOwner:
                guard case .entitlement(let e) = item.access, let owner = app?.entitlementOwner(type: e.type, name: e.name) else {
                    return (nil, "\(item.app) names no owner for \(item.accessName) (apps[].entitlementOwners)")
                }
                return (.person(owner), nil)
            case .person(let email):
                return (.person(email), nil)
            case .group(let name):
                return (.group(name), nil)
            }
        }
        /// A reviewer who is not the subject, or why not.
        func independent(_ reviewer: Reviewer?) -> (Reviewer?, String?) {
            guard let reviewer else { return (nil, nil) }
            guard let subject else { return (reviewer, nil) }
            switch reviewer {
            case .person(let email) where email == subject:
                return (nil, "self-review: \(email) is the subject")
            case .group(let name) where (groups[name] ?? []).allSatisfy({ $0 == subject }):
                return (nil, "self-review: the only member of group:\(name) is the subject")
            default:
                return (reviewer, nil)
            }
        }
        let (own, missing) = resolve(stage.reviewer)
        let (ownChecked, selfReview) = independent(own)
        if let ownChecked { return Assignment(reviewer: ownChecked) }
        let why = selfReview ?? missing ?? "no reviewer"
        guard let fallbackRule = stage.fallback ?? definition.fallback else {
            return Assignment(reviewer: nil, reassignment: "\(why); no fallback is configured", selfReviewBlocked: selfReview != nil)
        }
        let (fallback, fallbackMissing) = resolve(fallbackRule)
        let (fallbackChecked, fallbackSelf) = independent(fallback)
        guard let fallbackChecked else {
            return Assignment(reviewer: nil, reassignment: "\(why); the fallback cannot take it either (\(fallbackSelf ?? fallbackMissing ?? "none"))",
                              selfReviewBlocked: selfReview != nil)
        }
        return Assignment(reviewer: fallbackChecked, reassignment: "\(why): to the fallback", selfReviewBlocked: selfReview != nil)
    }
}
