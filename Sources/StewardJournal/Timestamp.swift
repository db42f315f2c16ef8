import Foundation

/// A UTC instant with millisecond precision, written as `2026-11-27T10:00:00.123Z`.
///
/// Events carry time in exactly this 24-byte form so lines are canonical and sort as text;
/// formatting and parsing are done by hand because they sit on the append path.
public struct Timestamp: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var millisecondsSince1970: Int64

    public init(millisecondsSince1970: Int64) {
        self.millisecondsSince1970 = millisecondsSince1970
    }

    public init(_ date: Date) {
        self.init(millisecondsSince1970: Int64((date.timeIntervalSince1970 * 1000).rounded(.down)))
    }

    public static func now() -> Timestamp { Timestamp(Date()) }

    public var date: Date { Date(timeIntervalSince1970: Double(millisecondsSince1970) / 1000) }

    /// The canonical form, as stored in event lines.
    public var rfc3339: String {
        var out: [UInt8] = []
        write(into: &out)
        return String(decoding: out, as: UTF8.self)
    }

    public var description: String { rfc3339 }

    public static func < (lhs: Timestamp, rhs: Timestamp) -> Bool {
        lhs.millisecondsSince1970 < rhs.millisecondsSince1970
    }

    /// Parses RFC 3339 text: `2026-11-27`, `2026-11-27T10:00:00Z`, with an optional fraction
    /// and a `Z` or `±HH:MM` offset. Nil for anything else.
    public init?(rfc3339 text: String) {
        let bytes = Array(text.utf8)
        guard let millis = bytes.withUnsafeBytes({ parseRFC3339($0, canonical: false) }) else { return nil }
        self.init(millisecondsSince1970: millis)
    }

    /// Parses exactly the canonical 24-byte form; the strict reader for stored lines.
    init?(canonical bytes: UnsafeRawBufferPointer) {
        guard bytes.count == Self.canonicalLength, bytes[10] == UInt8(ascii: "T"), bytes[19] == UInt8(ascii: "."),
              bytes[23] == UInt8(ascii: "Z"), let millis = parseRFC3339(bytes, canonical: true) else { return nil }
        self.init(millisecondsSince1970: millis)
    }

    static let canonicalLength = 24

    /// Appends the canonical 24 bytes.
    func write(into out: inout [UInt8]) {
        let millis = millisecondsSince1970
        var days = millis / 86_400_000
        var rest = millis % 86_400_000
        if rest < 0 {
            rest += 86_400_000
            days -= 1
        }
        let (year, month, day) = civilDate(fromDays: days)
        let clampedYear = min(max(year, 0), 9999)
        appendDigits(clampedYear, count: 4, into: &out)
        out.append(UInt8(ascii: "-"))
        appendDigits(month, count: 2, into: &out)
        out.append(UInt8(ascii: "-"))
        appendDigits(day, count: 2, into: &out)
        out.append(UInt8(ascii: "T"))
        appendDigits(rest / 3_600_000, count: 2, into: &out)
        out.append(UInt8(ascii: ":"))
        appendDigits(rest / 60_000 % 60, count: 2, into: &out)
        out.append(UInt8(ascii: ":"))
        appendDigits(rest / 1000 % 60, count: 2, into: &out)
        out.append(UInt8(ascii: "."))
        appendDigits(rest % 1000, count: 3, into: &out)
        out.append(UInt8(ascii: "Z"))
    }
}

// MARK: - Calendar arithmetic (proleptic Gregorian, days since 1970-01-01)

private func civilDate(fromDays days: Int64) -> (year: Int64, month: Int64, day: Int64) {
    let shifted = days + 719_468
    let era = (shifted >= 0 ? shifted : shifted - 146_096) / 146_097
    let dayOfEra = shifted - era * 146_097
    let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36524 - dayOfEra / 146_096) / 365
    let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
    let monthIndex = (5 * dayOfYear + 2) / 153
    let day = dayOfYear - (153 * monthIndex + 2) / 5 + 1
    let month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9
    let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
    return (year, month, day)
}

private func days(year: Int64, month: Int64, day: Int64) -> Int64 {
    let y = month <= 2 ? year - 1 : year
    let era = (y >= 0 ? y : y - 399) / 400
    let yearOfEra = y - era * 400
    let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
    let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
    return era * 146_097 + dayOfEra - 719_468
}

private func daysInMonth(year: Int64, month: Int64) -> Int64 {
    switch month {
    case 2: return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
    case 4, 6, 9, 11: return 30
    default: return 31
    }
}

private func appendDigits(_ value: Int64, count: Int, into out: inout [UInt8]) {
    var divisor: Int64 = 1
    for _ in 1..<count { divisor *= 10 }
    var rest = value
    while divisor > 0 {
        out.append(UInt8(ascii: "0") + UInt8(rest / divisor))
        rest %= divisor
        divisor /= 10
    }
}

/// RFC 3339 to milliseconds. `canonical` refuses what the canonical form never contains
/// (leap seconds, digits beyond milliseconds), so canonical text and instants match one to one.
private func parseRFC3339(_ bytes: UnsafeRawBufferPointer, canonical: Bool) -> Int64? {
    var cursor = DigitCursor(bytes: bytes)
    guard let year = cursor.number(4), cursor.expect(UInt8(ascii: "-")), let month = cursor.number(2),
          cursor.expect(UInt8(ascii: "-")), let day = cursor.number(2),
          (1...12).contains(month), day >= 1, day <= daysInMonth(year: year, month: month) else { return nil }
    var millis = days(year: year, month: month, day: day) * 86_400_000
    if cursor.atEnd { return millis }

    guard cursor.expect(UInt8(ascii: "T")) || cursor.expect(UInt8(ascii: "t")) || cursor.expect(UInt8(ascii: " ")),
          let hour = cursor.number(2), cursor.expect(UInt8(ascii: ":")), let minute = cursor.number(2),
          cursor.expect(UInt8(ascii: ":")), let second = cursor.number(2),
          hour < 24, minute < 60, second < (canonical ? 60 : 61) else { return nil }
    millis += hour * 3_600_000 + minute * 60_000 + min(second, 59) * 1000
    if cursor.expect(UInt8(ascii: ".")) {
        var scale: Int64 = 100
        var digits = 0
        while let digit = cursor.digit() {
            millis += digit * scale
            scale /= 10
            digits += 1
        }
        guard digits > 0, !canonical || digits == 3 else { return nil }
    }
    if cursor.expect(UInt8(ascii: "Z")) || cursor.expect(UInt8(ascii: "z")) { return cursor.atEnd ? millis : nil }
    let sign: Int64
    if cursor.expect(UInt8(ascii: "+")) {
        sign = 1
    } else if cursor.expect(UInt8(ascii: "-")) {
        sign = -1
    } else {
        return nil
    }
    guard let offsetHours = cursor.number(2), cursor.expect(UInt8(ascii: ":")), let offsetMinutes = cursor.number(2),
          cursor.atEnd, offsetHours < 24, offsetMinutes < 60 else { return nil }
    return millis - sign * (offsetHours * 3_600_000 + offsetMinutes * 60_000)
}

/// Reads fixed-width decimal fields and separators.
private struct DigitCursor {
    let bytes: UnsafeRawBufferPointer
    var index = 0

    var atEnd: Bool { index == bytes.count }

    mutating func digit() -> Int64? {
        guard index < bytes.count, bytes[index] >= UInt8(ascii: "0"), bytes[index] <= UInt8(ascii: "9") else { return nil }
        defer { index += 1 }
        return Int64(bytes[index] - UInt8(ascii: "0"))
    }

    mutating func number(_ count: Int) -> Int64? {
        guard index + count <= bytes.count else { return nil }
        var value: Int64 = 0
        for _ in 0..<count {
            guard let d = digit() else { return nil }
            value = value * 10 + d
        }
        return value
    }

    mutating func expect(_ c: UInt8) -> Bool {
        guard index < bytes.count, bytes[index] == c else { return false }
        index += 1
        return true
    }
}
