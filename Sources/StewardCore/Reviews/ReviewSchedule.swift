import Foundation

/// What a campaign owes at a moment: reminders by its ladder, escalations of overdue items, and
/// whether the stage's deadline has come for a default decision. Computed from `now`, never by
/// waiting, so the same rules serve `steward review remind`, `serve` and tests.
public struct DueWork: Sendable {
    public var reminders: [Reminder] = []
    /// Per reviewer (e-mail) with overdue items: the manager to escalate to (nil: none in HR),
    /// and the items.
    public var escalations: [(from: String, to: String?, items: [Int])] = []
    /// The deadline passed and a default decision is configured: the stage closes.
    public var closeStage = false
}

extension Campaign {
    public func dueWork(at now: Date, people: ReviewerDirectory, groups: [String: [String]]) -> DueWork {
        var due = DueWork()
        guard !isClosed, deadlines.indices.contains(stage) else { return due }
        let deadline = deadlines[stage]
        let stageStart = stage == 0 ? launchedAt : deadlines[stage - 1]
        let day = 86_400.0
        if now >= deadline && definition.defaultDecision != .none {
            due.closeStage = true
            return due
        }
        // The latest slot of the ladder that has come: after downtime one reminder, not a pile.
        var slot: (name: String, at: Date)?
        for daysBefore in definition.reminders.before {
            let at = deadline.addingTimeInterval(-Double(daysBefore) * day)
            if at >= stageStart, at <= now { slot = ("\(daysBefore)d-before", at) }
        }
        if now >= deadline, let every = definition.reminders.overdueEvery {
            let k = Int(now.timeIntervalSince(deadline) / (Double(every) * day))
            slot = ("overdue-\(k * every)d", deadline.addingTimeInterval(Double(k * every) * day))
        }
        var byReviewer: [String: [Int]] = [:]
        for p in undecidedItems {
            guard let reviewer = progress[p].currentReviewer(stage) else { continue }
            byReviewer[reviewer.description, default: []].append(p)
        }
        if let slot {
            for (reviewer, open) in byReviewer.sorted(by: { $0.key < $1.key })
            where !reminders.contains(where: { $0.stage == stage && $0.reviewer == reviewer && $0.slot == slot.name }) {
                due.reminders.append(Reminder(stage: stage, reviewer: reviewer, slot: slot.name, openItems: open.count, at: now))
            }
        }
        if let after = definition.escalateAfterDaysOverdue, now >= deadline.addingTimeInterval(Double(after) * day) {
            for (reviewer, open) in byReviewer.sorted(by: { $0.key < $1.key }) where !reviewer.hasPrefix("group:") {
                if escalations.contains(where: { $0.stage == stage && $0.from == reviewer }) { continue }
                due.escalations.append((reviewer, people.managerEmail(of: reviewer), open))
            }
        }
        return due
    }

    /// Open items whose reviewer should change because HR changed: the reviewer left, or the
    /// subject's manager is someone else now (for manager stages). Each with the new reviewer
    /// and the reason, for the journal.
    public func rerouting(people: ReviewerDirectory, groups: [String: [String]], apps: [AppSettings]) -> [(item: Int, assignment: Assignment, reason: String)] {
        guard !isClosed, definition.stages.indices.contains(stage) else { return [] }
        let stageRule = definition.stages[stage]
        var moves: [(Int, Assignment, String)] = []
        for p in undecidedItems {
            guard case .person(let current)? = progress[p].currentReviewer(stage) else { continue }
            let delegated = progress[p].routing.contains { $0.stage == stage && $0.kind == .delegated }
            let item = items[p]
            var reason: String?
            if people.hasLeft(email: current) == true {
                reason = "the reviewer \(current) left"
            } else if stageRule.reviewer == .manager, !delegated, let subject = item.personId,
                      let manager = people.managerEmail(ofPerson: subject), manager != current,
                      progress[p].assignments[stage].reassignment == nil {
                reason = "\(subject)'s manager is now \(manager), not \(current)"
            }
            guard let reason else { continue }
            var fresh = ReviewerAssignment.assign(item, stage: stageRule, definition: definition,
                                                  app: apps.first { $0.id == item.app }, people: people, groups: groups)
            if case .person(let e)? = fresh.reviewer, e == current { continue }
            if fresh.reviewer == nil { fresh.reassignment = (fresh.reassignment ?? "") + "; nobody can take it" }
            moves.append((p, fresh, reason))
        }
        return moves
    }
}
