import StewardProtocol

/// Everyone a plan knows about, indexed, with where each person stands on a given day.
///
/// It holds the current HR feed and, after it, former people who are gone from the feed but
/// whose accounts may still exist: those accounts are residual access to remove.
public struct PersonDirectory: Sendable {
    /// The feed first (`0..<currentCount`), then former people.
    public let people: [Person]
    public let standings: [Standing]
    public let currentCount: Int
    /// Bad HR data found on the way: duplicate ids, unreadable dates.
    public let findings: [PlanFinding]
    /// Person id → index; correlation's `employeeNumber` and `externalId` rules use it too.
    let idTable: KeyTable<Int32>

    /// Where a person is in their employment on the planning day.
    public enum Standing: Sendable, Hashable {
        case active
        case onLeave
        /// Hired, start date still ahead.
        case pending
        case left(LeaveReason)

        public var hasLeft: Bool { if case .left = self { return true } else { return false } }
    }

    public init(current: [Person], former: [Person] = [], today: CalendarDay) {
        var people: [Person] = []
        var standings: [Standing] = []
        var index = KeyTable<Int32>(capacity: current.count + former.count, ignoresCase: false)
        var findings: [PlanFinding] = []
        people.reserveCapacity(current.count + former.count)
        standings.reserveCapacity(current.count + former.count)

        for person in current {
            if index.findOrInsert(person.id, Int32(people.count)) != Int32(people.count) {
                findings.append(PlanFinding(.duplicatePerson, severity: .error, personId: person.id,
                                            message: "person id \(person.id) appears more than once in the HR feed; only the first record is used"))
                continue
            }
            people.append(person)
            let (standing, problem) = PersonDirectory.standing(of: person, on: today)
            standings.append(standing)
            if let problem { findings.append(PlanFinding(.invalidPerson, severity: .warning, personId: person.id, message: problem)) }
        }
        let currentCount = people.count
        for person in former where index.findOrInsert(person.id, Int32(people.count)) == Int32(people.count) {
            people.append(person)
            standings.append(.left(.goneFromFeed))
        }
        self.people = people
        self.standings = standings
        self.currentCount = currentCount
        self.idTable = index
        self.findings = findings
    }

    public var count: Int { people.count }

    public func index(of id: String) -> Int? { idTable.find(id).map(Int.init) }

    public func person(_ id: String) -> Person? { index(of: id).map { people[$0] } }

    /// Where `person` stands on `day`: terminated or past the end date has left; pending with
    /// the start date reached counts as active, so a joiner has access on day one even when the
    /// HR export lags. The second value describes unreadable dates.
    public static func standing(of person: Person, on day: CalendarDay) -> (Standing, String?) {
        var problem: String?
        if person.status == .terminated { return (.left(.terminated), nil) }
        if let end = person.endDate, !end.isEmpty {
            if let endDay = CalendarDay(iso: end) {
                if endDay < day { return (.left(.endDatePassed), nil) }
            } else {
                problem = "person \(person.id): endDate \"\(end)\" is not a date like 2026-03-31; ignored"
            }
        }
        switch person.status {
        case .active: return (.active, problem)
        case .leave: return (.onLeave, problem)
        case .terminated: return (.left(.terminated), problem)
        case .pending:
            if let start = person.startDate, !start.isEmpty {
                guard let startDay = CalendarDay(iso: start) else {
                    return (.pending, "person \(person.id): startDate \"\(start)\" is not a date like 2026-03-01; ignored")
                }
                if startDay <= day { return (.active, problem) }
            }
            return (.pending, problem)
        }
    }
}

/// Why someone counts as gone.
public enum LeaveReason: String, Sendable, CaseIterable {
    case terminated
    case endDatePassed
    case goneFromFeed

    /// The reason as people read it (`end date passed`).
    public var explanation: String {
        switch self {
        case .terminated: return "terminated in HR"
        case .endDatePassed: return "end date passed"
        case .goneFromFeed: return "gone from the HR feed"
        }
    }
}
