import Foundation
import StewardCore
import StewardJournal
import StewardProtocol

/// The read model: what every surface asks of a Steward folder (the CLI, and later the reviewer
/// pages, reports and metrics), answered as typed values.
///
/// It folds the journal once and plans once, when it is made; each question is then answered
/// from those. Surfaces print or render the answers and never join state themselves, so two of
/// them cannot disagree about who holds what.
public struct Queries: Sendable {
    public let workspace: Workspace
    public let state: GovernanceState
    /// The day standings are judged on (`STEWARD_NOW` when rehearsing).
    public let now: Date
    /// The plan as of `now`, when anything was synced.
    public let planned: PlanResult?

    public init(workspace: Workspace, now: Date = Date()) async throws {
        self.workspace = workspace
        self.now = now
        let state = try workspace.state()
        self.state = state
        planned = state.lastHRSync == nil ? nil : try await PlanEngine(workspace: workspace).plan(now: now, record: false, state: state)
    }

    /// Actions the rules call for now, in plan order.
    public var pendingActions: [PlanAction] { planned?.plan.actions ?? [] }

    /// Writes a run left without an outcome, oldest first: `steward apply` settles them first.
    public var inDoubt: [GovernanceState.InDoubtAction] { state.inDoubt.values.sorted { $0.seq < $1.seq } }

    /// Where a person stands today, by the HR record and the dates on it.
    public func standing(of id: String) -> PersonStanding? {
        if let person = state.people[id] {
            return PersonStanding(PersonDirectory.standing(of: person, on: CalendarDay(now)).0, startDate: person.startDate)
        }
        if state.formerPeople[id] != nil { return .left(.goneFromFeed) }
        return nil
    }
}

/// Where someone is in their employment, as people read it.
public enum PersonStanding: Sendable, Hashable, CustomStringConvertible {
    case active
    case onLeave
    case pending(startDate: String?)
    case left(LeaveReason)

    init(_ standing: PersonDirectory.Standing, startDate: String? = nil) {
        switch standing {
        case .active: self = .active
        case .onLeave: self = .onLeave
        case .pending: self = .pending(startDate: startDate)
        case .left(let reason): self = .left(reason)
        }
    }

    public var hasLeft: Bool { if case .left = self { return true } else { return false } }

    public var description: String {
        switch self {
        case .active: return "active"
        case .onLeave: return "on leave"
        case .pending(let start): return "pending (starts \(start ?? "later"))"
        case .left(let reason): return "left (\(reason.explanation))"
        }
    }
}
