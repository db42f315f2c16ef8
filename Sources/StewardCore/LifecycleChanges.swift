import Foundation
import StewardProtocol

/// The HR feed as read at one moment.
public struct HRSnapshot: Sendable {
    public var people: [Person]
    public var takenAt: Date

    public init(people: [Person], takenAt: Date) {
        self.people = people
        self.takenAt = takenAt
    }
}

/// Joiners, movers, leavers and rehires between two HR snapshots, plus how much the feed shrank
/// (the input of the source safety rail).
public struct LifecycleChanges: Sendable {
    /// New in the feed and not gone: active, pending or on leave.
    public var joined: [Person]
    public var moved: [Move]
    public var left: [Departure]
    /// Had left in the previous snapshot and is back.
    public var rehired: [Person]
    /// Were pending in the previous snapshot and have reached their start date.
    public var started: [Person]
    public var previousCount: Int
    public var currentCount: Int
    /// People of the previous snapshot missing from the current one.
    public var missingCount: Int
    /// People still in the feed whose end date passed since the previous snapshot. They count
    /// toward the shrink like missing people: a broken date column must not wipe a company.
    public var endDatePassedCount: Int

    /// People the feed lost since the previous snapshot: missing, or past their end date.
    public var shrinkCount: Int { missingCount + endDatePassedCount }

    /// Share of the previous feed lost now, 0...100.
    public var shrinkPercent: Double {
        previousCount == 0 ? 0 : Double(shrinkCount) * 100 / Double(previousCount)
    }

    public var isEmpty: Bool { joined.isEmpty && moved.isEmpty && left.isEmpty && rehired.isEmpty && started.isEmpty }

    /// Attributes whose change makes someone a mover, besides extra HR columns.
    public static let trackedAttributes = ["department", "title", "location", "managerId", "employmentType", "costCenter"]

    public init(joined: [Person] = [], moved: [Move] = [], left: [Departure] = [], rehired: [Person] = [], started: [Person] = [],
                previousCount: Int = 0, currentCount: Int = 0, missingCount: Int = 0, endDatePassedCount: Int = 0) {
        self.joined = joined
        self.moved = moved
        self.left = left
        self.rehired = rehired
        self.started = started
        self.previousCount = previousCount
        self.currentCount = currentCount
        self.missingCount = missingCount
        self.endDatePassedCount = endDatePassedCount
    }

    /// Compares two snapshots; each is judged on its own day, so an end date that had already
    /// passed at the previous snapshot is not a new leaver. Without a previous snapshot everyone
    /// present and not gone is a joiner.
    public static func between(_ previous: HRSnapshot?, _ current: HRSnapshot) -> LifecycleChanges {
        let today = CalendarDay(current.takenAt)
        let previousDay = previous.map { CalendarDay($0.takenAt) } ?? today
        var previousById: [String: Person] = [:]
        previousById.reserveCapacity(previous?.people.count ?? 0)
        for person in previous?.people ?? [] where previousById[person.id] == nil { previousById[person.id] = person }

        var changes = LifecycleChanges(previousCount: previousById.count)
        var seen = Set<String>()
        seen.reserveCapacity(current.people.count)
        for person in current.people where seen.insert(person.id).inserted {
            let now = PersonDirectory.standing(of: person, on: today).0
            guard let before = previousById[person.id] else {
                if !now.hasLeft { changes.joined.append(person) }
                continue
            }
            let then = PersonDirectory.standing(of: before, on: previousDay).0
            switch (then.hasLeft, now.hasLeft) {
            case (false, true):
                if case .left(let reason) = now {
                    changes.left.append(Departure(person: person, reason: reason))
                    if reason == .endDatePassed { changes.endDatePassedCount += 1 }
                }
            case (true, false):
                changes.rehired.append(person)
            case (false, false):
                let attributeChanges = LifecycleChanges.changedAttributes(before, person)
                if !attributeChanges.isEmpty {
                    changes.moved.append(Move(person: person, changes: attributeChanges))
                } else if then == .pending && now != .pending {
                    changes.started.append(person)
                }
            case (true, true):
                break
            }
        }
        changes.currentCount = seen.count
        var missing = Set<String>()
        for person in previous?.people ?? [] where !seen.contains(person.id) && missing.insert(person.id).inserted {
            changes.missingCount += 1
            if !PersonDirectory.standing(of: person, on: previousDay).0.hasLeft {
                changes.left.append(Departure(person: person, reason: .goneFromFeed))
            }
        }
        return changes
    }

    /// Tracked attributes and extra columns that differ, in a stable order.
    static func changedAttributes(_ before: Person, _ after: Person) -> [AttributeChange] {
        var result: [AttributeChange] = []
        for name in trackedAttributes {
            let old = before.attributeValue(name), new = after.attributeValue(name)
            if old != new { result.append(AttributeChange(attribute: name, before: old, after: new)) }
        }
        if before.attributes != after.attributes {
            for name in Set(before.attributes.keys).union(after.attributes.keys).sorted() {
                let old = before.attributes[name], new = after.attributes[name]
                if old != new { result.append(AttributeChange(attribute: name, before: old, after: new)) }
            }
        }
        return result
    }
}

/// Someone whose job attributes changed, with each change before and after.
public struct Move: Sendable, Hashable {
    public var person: Person
    public var changes: [AttributeChange]

    public init(person: Person, changes: [AttributeChange]) {
        self.person = person
        self.changes = changes
    }
}

/// Someone who left, with their last known record.
public struct Departure: Sendable, Hashable {
    public var person: Person
    public var reason: LeaveReason

    public init(person: Person, reason: LeaveReason) {
        self.person = person
        self.reason = reason
    }
}

/// One attribute's value before and after (nil: no value).
public struct AttributeChange: Sendable, Hashable {
    public var attribute: String
    public var before: String?
    public var after: String?

    public init(attribute: String, before: String?, after: String?) {
        self.attribute = attribute
        self.before = before
        self.after = after
    }
}

// MARK: - JSON, for journal events

extension AttributeChange {
    public var json: JSONValue {
        var b = JSONObjectBuilder(capacity: 3)
        b.set("attribute", attribute)
        b.set("before", before.map(JSONValue.string) ?? .null)
        b.set("after", after.map(JSONValue.string) ?? .null)
        return b.value
    }

    public init(json: JSONValue, path: String) throws {
        let f = try JSONFields(json, path: path)
        attribute = try f.nonEmptyString("attribute")
        before = try f.optionalString("before")
        after = try f.optionalString("after")
    }
}

extension Move {
    public var json: JSONValue { ["person": person.json, "changes": .array(changes.map(\.json))] }
}

extension Departure {
    public var json: JSONValue { ["person": person.json, "reason": .string(reason.rawValue)] }
}

extension LifecycleChanges {
    /// A summary for `steward sync --json` and the journal.
    public var json: JSONValue {
        [
            "joined": .array(joined.map(\.json)),
            "moved": .array(moved.map(\.json)),
            "left": .array(left.map(\.json)),
            "rehired": .array(rehired.map(\.json)),
            "started": .array(started.map(\.json)),
            "previousCount": .int(previousCount),
            "currentCount": .int(currentCount),
            "missingCount": .int(missingCount),
            "endDatePassedCount": .int(endDatePassedCount),
            "shrinkPercent": .double(shrinkPercent),
        ]
    }
}
