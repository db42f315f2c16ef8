import Foundation

/// When a campaign is due, from its `every`: `day`, `week` (Mondays), `month` (the 1st),
/// `quarter` (1 January, April, July, October), `half-year`, `year`, all at 00:00 UTC, or a
/// five-field cron line (`minute hour day-of-month month day-of-week`, UTC).
///
/// Cron follows the usual rules: `*`, numbers, `a-b`, lists, steps (`*/15`, `1-31/2`), month
/// and weekday names, 0 and 7 both Sunday, and when both day fields are restricted a day
/// matches if either does. Times are UTC so a campaign's slot does not move with the server.
public struct CampaignCalendar: Sendable, Hashable {
    private let minutes: Set<Int>
    private let hours: Set<Int>
    private let daysOfMonth: Set<Int>
    private let months: Set<Int>
    private let weekdays: Set<Int>
    private let domRestricted: Bool
    private let dowRestricted: Bool

    /// How far a search for a slot looks: an expression with no slot in five years (the
    /// 31st of February) has none.
    static let searchDays = 5 * 366 + 1

    public struct ParseError: Error, CustomStringConvertible, Equatable {
        public var description: String
    }

    static let keywords: [String: String] = [
        "day": "0 0 * * *", "week": "0 0 * * 1", "month": "0 0 1 * *", "quarter": "0 0 1 1,4,7,10 *",
        "half-year": "0 0 1 1,7 *", "year": "0 0 1 1 *",
    ]

    public init(_ every: String) throws(ParseError) {
        let text = Self.keywords[every.lowercased()] ?? every
        let fields = text.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
        guard fields.count == 5 else {
            throw ParseError(description: "expected day, week, month, quarter, half-year, year or a five-field cron line (minute hour day-of-month month day-of-week), got \"\(every)\"")
        }
        minutes = try Self.field(fields[0], "minute", 0...59)
        hours = try Self.field(fields[1], "hour", 0...23)
        daysOfMonth = try Self.field(fields[2], "day-of-month", 1...31)
        months = try Self.field(fields[3], "month", 1...12, names: ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"], firstName: 1)
        weekdays = Set(try Self.field(fields[4], "day-of-week", 0...7, names: ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"], firstName: 0).map { $0 % 7 })
        domRestricted = !fields[2].hasPrefix("*")
        dowRestricted = !fields[4].hasPrefix("*")
    }

    /// The latest slot at or before `now`.
    public func latestSlot(atOrBefore now: Date) -> Date? {
        let t = Int(floor(now.timeIntervalSince1970 / 60))
        var day = Self.floorDiv(t, 1440)
        let minuteOfDay = t - day * 1440
        for step in 0..<Self.searchDays {
            if matches(day: day) {
                let limit = step == 0 ? minuteOfDay : 1439
                if let m = hours.sorted(by: >).lazy.compactMap({ h in self.minutes.sorted(by: >).first { h * 60 + $0 <= limit }.map { h * 60 + $0 } }).first {
                    return Date(timeIntervalSince1970: TimeInterval((day * 1440 + m) * 60))
                }
            }
            day -= 1
        }
        return nil
    }

    /// The first slot strictly after `date`.
    public func nextSlot(after date: Date) -> Date? {
        let t = Int(floor(date.timeIntervalSince1970 / 60))
        var day = Self.floorDiv(t, 1440)
        let minuteOfDay = t - day * 1440
        for step in 0..<Self.searchDays {
            if matches(day: day) {
                let floorMinute = step == 0 ? minuteOfDay + 1 : 0
                if let m = hours.sorted().lazy.compactMap({ h in self.minutes.sorted().first { h * 60 + $0 >= floorMinute }.map { h * 60 + $0 } }).first {
                    return Date(timeIntervalSince1970: TimeInterval((day * 1440 + m) * 60))
                }
            }
            day += 1
        }
        return nil
    }

    /// The slot to launch at now, if any: the latest slot at or before `now` when it is later
    /// than the last launch. After downtime that is one launch for the latest missed slot, not
    /// one per slot missed; a campaign never launched gets its current slot's campaign at once
    /// (a fresh install with `every: "quarter"` reviews this quarter now, not next quarter).
    public func launchSlot(lastLaunch: Date?, now: Date) -> Date? {
        guard let slot = latestSlot(atOrBefore: now) else { return nil }
        if let lastLaunch, slot <= lastLaunch { return nil }
        return slot
    }

    // MARK: Days

    private func matches(day: Int) -> Bool {
        let (_, month, dom) = CalendarDay.civilFromDays(day)
        guard months.contains(month) else { return false }
        let dow = Self.floorMod(day + 4, 7)  // 1970-01-01 was a Thursday
        switch (domRestricted, dowRestricted) {
        case (true, true): return daysOfMonth.contains(dom) || weekdays.contains(dow)
        case (true, false): return daysOfMonth.contains(dom)
        case (false, true): return weekdays.contains(dow)
        case (false, false): return true
        }
    }

    private static func floorDiv(_ a: Int, _ b: Int) -> Int { a >= 0 ? a / b : -((-a + b - 1) / b) }
    private static func floorMod(_ a: Int, _ b: Int) -> Int { a - floorDiv(a, b) * b }

    // MARK: Parsing

    private static func field(_ text: String, _ name: String, _ range: ClosedRange<Int>, names: [String] = [], firstName: Int = 0) throws(ParseError) -> Set<Int> {
        var values = Set<Int>()
        for part in text.split(separator: ",", omittingEmptySubsequences: false) {
            guard !part.isEmpty else { throw ParseError(description: "\(name): an empty item in \"\(text)\"") }
            let pieces = part.split(separator: "/", omittingEmptySubsequences: false)
            guard pieces.count <= 2 else { throw ParseError(description: "\(name): \"\(part)\" has more than one /") }
            var step = 1
            if pieces.count == 2 {
                guard let n = Int(pieces[1]), n >= 1 else { throw ParseError(description: "\(name): the step in \"\(part)\" must be a whole number of at least 1") }
                step = n
            }
            let base = pieces[0]
            let bounds: ClosedRange<Int>
            if base == "*" {
                bounds = range
            } else if let dash = base.firstIndex(of: "-") {
                let low = try value(base[..<dash], name, range, names, firstName)
                let high = try value(base[base.index(after: dash)...], name, range, names, firstName)
                guard low <= high else { throw ParseError(description: "\(name): the range \"\(base)\" runs backwards") }
                bounds = low...high
            } else {
                let single = try value(base, name, range, names, firstName)
                bounds = single...(pieces.count == 2 ? range.upperBound : single)
            }
            values.formUnion(stride(from: bounds.lowerBound, through: bounds.upperBound, by: step))
        }
        return values
    }

    private static func value(_ text: Substring, _ name: String, _ range: ClosedRange<Int>, _ names: [String], _ firstName: Int) throws(ParseError) -> Int {
        if let i = names.firstIndex(of: text.uppercased()) { return i + firstName }
        guard let n = Int(text) else {
            throw ParseError(description: "\(name): \"\(text)\" is not a number\(names.isEmpty ? "" : " or a name (\(names.joined(separator: ", ")))")")
        }
        guard range.contains(n) else { throw ParseError(description: "\(name): \(n) is outside \(range.lowerBound)-\(range.upperBound)") }
        return n
    }
}
