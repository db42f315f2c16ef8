import Foundation
import StewardCore
import StewardProtocol
import Testing

@Suite("Joiners, movers, leavers")
struct LifecycleTests {
    let yesterday = Date(timeIntervalSince1970: 1_772_701_200 - 86_400)

    @Test func findsJoinersMoversLeaversAndRehires() {
        var bobPromoted = World.bob
        bobPromoted.title = "Lead Engineer"
        bobPromoted.attributes = ["badge": "gold"]
        var cyTerminated = World.cy
        cyTerminated.status = .terminated
        let deeEnding = World.person("E4", "Dee", "Finance", "Analyst", endDate: "2026-03-04")
        let eve = World.person("E5", "Eve", "Sales", "Account Executive", status: .pending)
        let fay = World.person("E6", "Fay", "Sales", "Rep", status: .terminated)
        let fayBack = World.person("E6", "Fay", "Sales", "Rep")
        let gus = World.person("E7", "Gus", "Finance", "Analyst")

        let before = HRSnapshot(people: [World.ada, World.bob, World.cy, World.dee, fay, gus], takenAt: yesterday)
        let after = HRSnapshot(people: [World.ada, bobPromoted, cyTerminated, deeEnding, eve, fayBack], takenAt: World.now)
        let changes = LifecycleChanges.between(before, after)

        #expect(changes.joined.map(\.id) == ["E5"])
        #expect(changes.moved.map(\.person.id) == ["E2"])
        #expect(changes.moved.first?.changes == [
            AttributeChange(attribute: "title", before: "Engineer", after: "Lead Engineer"),
            AttributeChange(attribute: "badge", before: nil, after: "gold"),
        ])
        #expect(changes.left.map { "\($0.person.id):\($0.reason.rawValue)" } == ["E3:terminated", "E4:endDatePassed", "E7:goneFromFeed"])
        #expect(changes.rehired.map(\.id) == ["E6"])
        #expect(changes.previousCount == 6 && changes.currentCount == 6 && changes.missingCount == 1)
        // The feed lost Gus (missing) and Dee (end date passed): both count toward the shrink rail.
        #expect(changes.endDatePassedCount == 1 && changes.shrinkCount == 2)
        #expect(abs(changes.shrinkPercent - 200.0 / 6) < 0.001)
    }

    /// An end date that had already passed at the previous snapshot is old news, not a new leaver.
    @Test func eachSnapshotIsJudgedOnItsOwnDay() {
        let longGone = World.person("E4", "Dee", "Finance", "Analyst", endDate: "2026-01-31")
        let changes = LifecycleChanges.between(HRSnapshot(people: [longGone], takenAt: yesterday), HRSnapshot(people: [longGone], takenAt: World.now))
        #expect(changes.isEmpty)
    }

    @Test func withoutAPreviousSnapshotEveryonePresentJoins() {
        var gone = World.dee
        gone.status = .terminated
        let changes = LifecycleChanges.between(nil, HRSnapshot(people: [World.ada, gone], takenAt: World.now))
        #expect(changes.joined.map(\.id) == ["E1"])
        #expect(changes.shrinkPercent == 0)
    }

    @Test func aFeedMissingNinetyPercentShrinksByNinetyPercent() {
        let people = (0..<100).map { World.person("P\($0)", "P\($0)", "Sales", "Rep") }
        let changes = LifecycleChanges.between(HRSnapshot(people: people, takenAt: yesterday),
                                               HRSnapshot(people: Array(people.prefix(10)), takenAt: World.now))
        #expect(changes.missingCount == 90)
        #expect(changes.shrinkPercent == 90)
        #expect(changes.left.count == 90)
    }

    @Test func standingFollowsStatusAndDates() {
        let starting = World.person("E8", "Hal", "Sales", "Rep", status: .pending)
        var startsToday = starting
        startsToday.startDate = "2026-03-05"
        var startsLater = starting
        startsLater.startDate = "2026-04-01"
        var lastDayToday = World.ada
        lastDayToday.endDate = "2026-03-05"
        var broken = World.ada
        broken.endDate = "soon"
        #expect(PersonDirectory.standing(of: startsToday, on: World.today).0 == .active)
        #expect(PersonDirectory.standing(of: startsLater, on: World.today).0 == .pending)
        #expect(PersonDirectory.standing(of: lastDayToday, on: World.today).0 == .active)
        let (standing, problem) = PersonDirectory.standing(of: broken, on: World.today)
        #expect(standing == .active)
        #expect(problem?.contains("endDate \"soon\"") == true)
    }
}
