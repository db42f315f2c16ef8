import Foundation
import StewardProtocol

// The rules of a campaign: who may do what to which item now, what a stage's close turns items
// into, and how decisions, routing and closes change it. The host checks a request against
// these rules, journals the event, and folds the event back through the same functions.

extension Campaign {
    /// Items at the current stage that still lack a decision.
    public var undecidedItems: [Int] {
        progress.indices.filter { progress[$0].status == .open(stage: stage) && progress[$0].decision(at: stage) == nil }
    }

    /// Why `email` may not decide `positions` now, or nil when they may. Checks, in order: the
    /// campaign is open, each item waits at this stage, `email` is its reviewer and not its
    /// subject, they have not signed off, and a keep of privileged or unjustified access has a
    /// comment.
    public func refusalToDecide(_ positions: [Int], verdict: Recommendation.Verdict, comment: String?, as email: String,
                                groups: [String: [String]]) -> String? {
        if isClosed { return "campaign \(id) is closed" }
        let email = email.lowercased()
        if signOffs.indices.contains(stage), signOffs[stage].contains(email) {
            return "\(email) signed off stage \(stage + 1); their decisions are locked"
        }
        for p in positions {
            let item = items[p]
            guard progress[p].status == .open(stage: stage) else {
                return "item \(item.id) is \(progress[p].status), not open at stage \(stage + 1)"
            }
            guard let reviewer = progress[p].currentReviewer(stage), reviewer.includes(email, groups: groups) else {
                return "item \(item.id) is not \(email)'s to decide (its reviewer is \(progress[p].currentReviewer(stage)?.description ?? "nobody"))"
            }
            if let subject = item.context.email?.lowercased(), subject == email {
                return "item \(item.id) is \(email)'s own access; nobody reviews their own access"
            }
            if verdict == .keep, item.context.privileged || (item.context.unjustified && item.context.kind == .access) || item.context.kind != .access,
               (comment ?? "").trimmingCharacters(in: .whitespaces).isEmpty {
                let why = item.context.kind == .orphan ? "an account linked to nobody"
                    : item.context.kind == .leaver ? "a leaver's account" : item.context.privileged ? "privileged access" : "access no rule grants"
                return "keeping item \(item.id) (\(why)) needs --comment saying why"
            }
        }
        return nil
    }

    /// Why `email` may not hand `positions` to `to`, or nil.
    public func refusalToDelegate(_ positions: [Int], to: Reviewer, as email: String, groups: [String: [String]]) -> String? {
        if let refusal = refusalToDecide(positions, verdict: .revoke, comment: nil, as: email, groups: groups) { return refusal }
        for p in positions {
            if case .person(let target) = to, target == items[p].context.email?.lowercased() {
                return "item \(items[p].id) cannot go to \(target): it is their own access"
            }
        }
        if to.includes(email, groups: groups), case .person = to { return "item is already \(email)'s" }
        return nil
    }

    /// Why `email` may not sign off now, or nil: they must have had items at this stage and
    /// decided all of them.
    public func refusalToSignOff(as email: String, groups: [String: [String]]) -> String? {
        if isClosed { return "campaign \(id) is closed" }
        let email = email.lowercased()
        let theirs = progress.indices.filter { progress[$0].status == .open(stage: stage) && (progress[$0].currentReviewer(stage)?.includes(email, groups: groups) ?? false) }
        if theirs.isEmpty && !progress.contains(where: { $0.decision(at: stage)?.by == email }) {
            return "\(email) has no items at stage \(stage + 1) of \(id)"
        }
        let undecided = theirs.filter { progress[$0].decision(at: stage) == nil }
        if !undecided.isEmpty { return "\(email) still has \(undecided.count) undecided item\(undecided.count == 1 ? "" : "s") at stage \(stage + 1)" }
        if signOffs[stage].contains(email) { return "\(email) already signed off stage \(stage + 1)" }
        return nil
    }

    // MARK: Folding

    public mutating func record(_ decision: Decision, at positions: [Int]) {
        for p in positions {
            progress[p].decisions.append(decision)
            if decision.verdict == .revoke && definition.remediate == .immediately { progress[p].status = .revoking }
        }
    }

    public mutating func route(_ routing: Routing, at positions: [Int]) {
        for p in positions {
            progress[p].routing.append(routing)
            if progress[p].assignments.indices.contains(routing.stage) {
                progress[p].assignments[routing.stage].reviewer = routing.to
            }
        }
    }

    public mutating func signOff(_ email: String) {
        signOffs[stage].insert(email.lowercased())
    }

    /// What closing the current stage does to each item, given the default decision: it is
    /// computed once, journaled, and folded with `close(_:)`.
    public func closing(at now: Date) -> StageClose {
        var close = StageClose(stage: stage, at: now)
        for p in progress.indices where progress[p].status == .open(stage: stage) {
            let item = items[p]
            if let decision = progress[p].decision(at: stage) {
                if decision.verdict == .revoke { close.revoking.append(item.id) } else { close.kept.append(item.id) }
                continue
            }
            switch definition.defaultDecision {
            case .none: close.expired.append(item.id)
            case .keep: close.defaulted.append((item.id, .keep))
            case .revoke: close.defaulted.append((item.id, .revoke))
            case .recommendation: close.defaulted.append((item.id, item.recommendation.verdict))
            }
        }
        return close
    }

    /// Applies a stage close: defaults become decisions, revokes wait for remediation, kept
    /// items move to the next stage (with the assignments the host computed) or end kept.
    public mutating func close(_ close: StageClose, next assignments: [String: Assignment]) {
        for (itemId, verdict) in close.defaulted {
            guard let p = position(of: itemId) else { continue }
            let decision = Decision(stage: close.stage, verdict: verdict, by: "default", channel: "deadline", at: close.at,
                                    followedRecommendation: verdict == items[p].recommendation.verdict)
            progress[p].decisions.append(decision)
        }
        let lastStage = close.stage + 1 >= deadlines.count
        for itemId in close.revoking + close.defaulted.filter({ $0.1 == .revoke }).map(\.0) {
            if let p = position(of: itemId) { progress[p].status = .revoking }
        }
        for itemId in close.kept + close.defaulted.filter({ $0.1 == .keep }).map(\.0) {
            guard let p = position(of: itemId) else { continue }
            if lastStage {
                progress[p].status = .kept
            } else {
                progress[p].status = .open(stage: close.stage + 1)
                progress[p].assignments.append(assignments[itemId] ?? Assignment(reviewer: nil, reassignment: "not routed"))
            }
        }
        for itemId in close.expired {
            if let p = position(of: itemId) { progress[p].status = .expired }
        }
        stage = close.stage + 1
    }

    public mutating func remediated(_ itemId: String, _ remediation: Remediation) {
        guard let p = position(of: itemId) else { return }
        progress[p].remediation = remediation
        progress[p].status = remediation.verified ? .revokedVerified : .revokeFailed(remediation.error ?? "the app still shows it")
    }

    /// Items whose revoke was decided and not yet remediated.
    public var pendingRevokes: [Int] { progress.indices.filter { progress[$0].status == .revoking } }
}

/// The outcome of closing one stage, as journaled.
public struct StageClose: Sendable {
    public var stage: Int
    public var at: Date
    public var kept: [String] = []
    public var revoking: [String] = []
    public var expired: [String] = []
    /// Undecided items the default decision settled.
    public var defaulted: [(String, Recommendation.Verdict)] = []

    public init(stage: Int, at: Date) {
        self.stage = stage
        self.at = at
    }
}
