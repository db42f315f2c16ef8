import Foundation
import Testing
@testable import StewardCore

@Suite struct CampaignCalendarTests {
    static func utc(_ text: String) -> Date {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime]
        guard let d = f.date(from: text) else { fatalError("bad date \(text)") }
        return d
    }

    static func text(_ date: Date?) -> String? {
        guard let date else { return nil }
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime]
        return f.string(from: date)
    }

    @Test func keywordsFallOnTheirDaysAtMidnightUTC() throws {
        let now = Self.utc("2026-12-02T09:42:00Z")  // a Wednesday
        #expect(Self.text(try CampaignCalendar("day").latestSlot(atOrBefore: now)) == "2026-12-02T00:00:00Z")
        #expect(Self.text(try CampaignCalendar("week").latestSlot(atOrBefore: now)) == "2026-11-30T00:00:00Z")
        #expect(Self.text(try CampaignCalendar("month").latestSlot(atOrBefore: now)) == "2026-12-01T00:00:00Z")
        #expect(Self.text(try CampaignCalendar("quarter").latestSlot(atOrBefore: now)) == "2026-10-01T00:00:00Z")
        #expect(Self.text(try CampaignCalendar("half-year").latestSlot(atOrBefore: now)) == "2026-07-01T00:00:00Z")
        #expect(Self.text(try CampaignCalendar("year").latestSlot(atOrBefore: now)) == "2026-01-01T00:00:00Z")
        #expect(Self.text(try CampaignCalendar("quarter").nextSlot(after: now)) == "2027-01-01T00:00:00Z")
    }

    @Test func cronLines() throws {
        let friday = Self.utc("2026-12-04T18:00:00Z")
        #expect(Self.text(try CampaignCalendar("0 9 * * MON-FRI").nextSlot(after: friday)) == "2026-12-07T09:00:00Z")
        #expect(Self.text(try CampaignCalendar("*/15 * * * *").nextSlot(after: Self.utc("2026-12-04T18:14:00Z"))) == "2026-12-04T18:15:00Z")
        #expect(Self.text(try CampaignCalendar("*/15 * * * *").nextSlot(after: Self.utc("2026-12-04T18:15:00Z"))) == "2026-12-04T18:30:00Z")
        #expect(Self.text(try CampaignCalendar("0 0 1 */3 *").nextSlot(after: friday)) == "2027-01-01T00:00:00Z")
        // Both day fields restricted: the 15th or any Friday.
        #expect(Self.text(try CampaignCalendar("30 2 15 * 5").nextSlot(after: Self.utc("2026-12-05T00:00:00Z"))) == "2026-12-11T02:30:00Z")
        #expect(Self.text(try CampaignCalendar("30 2 15 * 5").nextSlot(after: Self.utc("2026-12-12T00:00:00Z"))) == "2026-12-15T02:30:00Z")
        // Sunday as 0 or 7, names in any case.
        #expect(try CampaignCalendar("0 0 * * 7") == CampaignCalendar("0 0 * * sun"))
        #expect(Self.text(try CampaignCalendar("0 0 29 2 *").nextSlot(after: friday)) == "2028-02-29T00:00:00Z")
        #expect(try CampaignCalendar("0 0 31 2 *").nextSlot(after: friday) == nil)
        #expect(Self.text(try CampaignCalendar("59 23 31 12 *").latestSlot(atOrBefore: friday)) == "2025-12-31T23:59:00Z")
    }

    @Test func badLinesSayWhatIsWrong() {
        let cases: [(String, String)] = [
            ("fortnight", "five-field"), ("0 0 * *", "five-field"), ("60 * * * *", "minute: 60 is outside 0-59"),
            ("* 24 * * *", "hour: 24"), ("* * 0 * *", "day-of-month: 0"), ("* * * 13 *", "month: 13"),
            ("* * * * 8", "day-of-week: 8"), ("*/0 * * * *", "step"), ("1,,2 * * * *", "empty item"),
            ("5-1 * * * *", "backwards"), ("x * * * *", "not a number"), ("* * * FOO *", "JAN"),
        ]
        for (line, expected) in cases {
            #expect(throws: CampaignCalendar.ParseError.self, "\(line)") { try CampaignCalendar(line) }
            do {
                _ = try CampaignCalendar(line)
            } catch {
                #expect(error.description.contains(expected), "\(line): \(error.description)")
            }
        }
    }

    @Test func afterDowntimeOneLaunchForTheLatestMissedSlot() throws {
        let monthly = try CampaignCalendar("month")
        let last = Self.utc("2026-08-01T00:00:00Z")
        let now = Self.utc("2026-11-20T10:00:00Z")  // September, October and November missed
        #expect(Self.text(monthly.launchSlot(lastLaunch: last, now: now)) == "2026-11-01T00:00:00Z")
        // Once launched for it, nothing more until December.
        #expect(monthly.launchSlot(lastLaunch: Self.utc("2026-11-20T10:00:01Z"), now: now) == nil)
        #expect(monthly.launchSlot(lastLaunch: Self.utc("2026-11-01T00:00:00Z"), now: now) == nil)
        #expect(Self.text(monthly.launchSlot(lastLaunch: nil, now: now)) == "2026-11-01T00:00:00Z")
    }

    /// nextSlot and latestSlot against a walk over days and minutes with Foundation's calendar,
    /// for random lines. Replay with STEWARD_TEST_SEED.
    @Test func agreesWithAWalkThroughTheCalendar() throws {
        let seed = ProcessInfo.processInfo.environment["STEWARD_TEST_SEED"].flatMap(UInt64.init) ?? UInt64.random(in: 1...UInt64.max)
        print("CampaignCalendarTests seed: \(seed) (STEWARD_TEST_SEED=\(seed) to replay)")
        var rng = SplitMix(seed: seed)
        // Each option with the values it stands for, written out by hand.
        let minuteOptions: [(String, Set<Int>)] = [("*", Set(0...59)), ("0", [0]), ("*/7", Set(stride(from: 0, through: 59, by: 7))), ("5,35", [5, 35]), ("10-20/5", [10, 15, 20])]
        let hourOptions: [(String, Set<Int>)] = [("*", Set(0...23)), ("3", [3]), ("*/5", [0, 5, 10, 15, 20]), ("1-2", [1, 2])]
        let domOptions: [(String, Set<Int>)] = [("*", Set(1...31)), ("1", [1]), ("*/10", [1, 11, 21, 31]), ("13-15", [13, 14, 15])]
        let monthOptions: [(String, Set<Int>)] = [("*", Set(1...12)), ("2", [2]), ("*/4", [1, 5, 9]), ("JUN-AUG", [6, 7, 8])]
        let dowOptions: [(String, Set<Int>)] = [("*", Set(0...6)), ("1", [1]), ("SAT,SUN", [6, 0]), ("2-4", [2, 3, 4])]
        func pick(_ options: [(String, Set<Int>)]) -> (String, Set<Int>) { options[Int(rng.next() % UInt64(options.count))] }
        var utc = Calendar(identifier: .gregorian)
        utc.timeZone = try #require(TimeZone(identifier: "UTC"))
        for _ in 0..<60 {
            let (m, h, dom, mon, dow) = (pick(minuteOptions), pick(hourOptions), pick(domOptions), pick(monthOptions), pick(dowOptions))
            let line = [m.0, h.0, dom.0, mon.0, dow.0].joined(separator: " ")
            let calendar = try CampaignCalendar(line)
            let start = Self.utc("2026-01-01T00:00:00Z").addingTimeInterval(Double(rng.next() % (365 * 1440)) * 60 + 17)
            let startMinute = floor(start.timeIntervalSince1970 / 60) * 60
            var walked: Date?
            var day = utc.startOfDay(for: start)
            search: for _ in 0..<400 {
                let c = utc.dateComponents([.day, .month, .weekday], from: day)
                let domOK = dom.1.contains(c.day ?? 0), dowOK = dow.1.contains((c.weekday ?? 1) - 1)
                let dayOK: Bool
                switch (dom.0 != "*" && !dom.0.hasPrefix("*/"), dow.0 != "*") {
                case (true, true): dayOK = domOK || dowOK
                case (true, false): dayOK = domOK
                case (false, true): dayOK = dowOK
                case (false, false): dayOK = true
                }
                if dayOK, mon.1.contains(c.month ?? 0) {
                    for minute in 0..<1440 where h.1.contains(minute / 60) && m.1.contains(minute % 60) {
                        let at = day.addingTimeInterval(Double(minute) * 60)
                        if at.timeIntervalSince1970 > startMinute { walked = at; break search }
                    }
                }
                day = day.addingTimeInterval(86_400)
            }
            let next = calendar.nextSlot(after: start)
            if let walked {
                #expect(next == walked, "\(line) after \(start): \(String(describing: next)) vs \(walked) (seed \(seed))")
                #expect(calendar.latestSlot(atOrBefore: walked) == walked, "\(line)")
                #expect(calendar.latestSlot(atOrBefore: walked.addingTimeInterval(-1)).map { $0 < walked } ?? true, "\(line)")
            } else {
                #expect(next.map { $0 > day } ?? true, "\(line): \(String(describing: next)) but nothing within 400 days (seed \(seed))")
            }
        }
    }
}

/// A small deterministic generator for seeded tests.
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
