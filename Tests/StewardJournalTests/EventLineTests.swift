import Foundation
import StewardJSON
import Testing
@testable import StewardJournal

@Suite struct EventLineTests {
    @Test func timestampsFormatAndParse() {
        let t = Timestamp(millisecondsSince1970: 1_795_773_600_123)
        #expect(t.rfc3339 == "2026-11-27T10:00:00.123Z")
        #expect(Timestamp(rfc3339: "2026-11-27T10:00:00.123Z") == t)
        #expect(Timestamp(rfc3339: "2026-11-27T11:00:00.123+01:00") == t)
        #expect(Timestamp(rfc3339: "2026-11-27")?.rfc3339 == "2026-11-27T00:00:00.000Z")
        #expect(Timestamp(rfc3339: "1969-12-31T23:59:59.999Z")?.millisecondsSince1970 == -1)
        #expect(Timestamp(millisecondsSince1970: -1).rfc3339 == "1969-12-31T23:59:59.999Z")
        #expect(Timestamp(rfc3339: "2024-02-29T00:00:00Z") != nil)
        for bad in ["2026-02-29", "2026-13-01", "2026-11-27T24:00:00Z", "2026-11-27T10:00:00", "yesterday", "2026-11-27T10:00:00.Z"] {
            #expect(Timestamp(rfc3339: bad) == nil, "\(bad)")
        }
        // Round trip over a spread of instants, leap years included.
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<2000 {
            let t = Timestamp(millisecondsSince1970: Int64.random(in: -62_000_000_000_000...250_000_000_000_000, using: &generator))
            #expect(Timestamp(rfc3339: t.rfc3339) == t)
        }
    }

    @Test func theFastCheckAgreesWithTheFullParser() throws {
        var generator = SystemRandomNumberGenerator()
        let values: [JSONValue] = [
            1, -5, 0, 123_456_789_012_345_678, 2.5, 1e-7, -0.0, 1e300, "plain", "Zoë", "emoji 🎉", "tab\there", "quote \" back \\ slash",
            "\u{01}\u{1f}", true, false, nil, [], [:], [1, [2, [3]]], ["b": 1, "a": 2, "é": 3, "A": 4],
        ]
        var lines: [[UInt8]] = []
        for seq in 1...300 {
            var data: [String: JSONValue] = [:]
            for _ in 0..<Int.random(in: 0...4, using: &generator) {
                data["k\(Int.random(in: 0...9, using: &generator))"] = values.randomElement(using: &generator) ?? nil
            }
            let draft = EventDraft(type: "t.\(seq)", actor: "actor \(seq % 3)", subjects: seq % 2 == 0 ? ["person": "P\(seq)", "app": "x"] : [:],
                                   data: Bool.random(using: &generator) ? .object(data) : (values.randomElement(using: &generator) ?? nil))
            var line: [UInt8] = []
            EventLine.appendLine(seq: seq, time: Timestamp(millisecondsSince1970: Int64(seq) * 1000), body: try EventLine.body(of: draft), into: &line)
            line.removeLast()
            lines.append(line)
        }
        for line in lines {
            let check = line.withUnsafeBytes { EventLineCheck.check($0) }
            #expect((try? check.get()) != nil, "\(String(decoding: line, as: UTF8.self))")
        }
        // Mutations: whatever the full parser (with its canonical re-encoding) says, so does the check.
        var disagreements: [String] = []
        for _ in 0..<5000 {
            var line = try #require(lines.randomElement(using: &generator))
            switch Int.random(in: 0..<3, using: &generator) {
            case 0: line[Int.random(in: 0..<line.count, using: &generator)] = UInt8.random(in: 0...255, using: &generator)
            case 1: line.insert(UInt8.random(in: 0x20...0x7e, using: &generator), at: Int.random(in: 0...line.count, using: &generator))
            default: line.remove(at: Int.random(in: 0..<line.count, using: &generator))
            }
            let fast = line.withUnsafeBytes { EventLineCheck.check($0) }
            let full = line.withUnsafeBytes { raw in Result { () throws(EventLineError) in try EventLine.parse(raw).seq } }
            if (try? fast.get()) != (try? full.get()) { disagreements.append(String(decoding: line, as: UTF8.self)) }
        }
        #expect(disagreements.isEmpty, "\(disagreements.prefix(3))")
    }

    @Test func nonCanonicalLinesAreRefused() {
        let canonical = #"{"seq":1,"time":"2026-11-27T10:00:00.123Z","type":"t","actor":"a","subjects":{},"data":{"a":1,"b":2}}"#
        #expect((try? StoredEvent(line: Array(canonical.utf8))) != nil)
        for variant in [
            canonical.replacingOccurrences(of: #"{"a":1,"b":2}"#, with: #"{"b":2,"a":1}"#),
            canonical.replacingOccurrences(of: #""a":1"#, with: #""a": 1"#),
            canonical.replacingOccurrences(of: #""type":"t""#, with: #""type":"\u0074""#),
            canonical.replacingOccurrences(of: ".123Z", with: "Z"),
            canonical.replacingOccurrences(of: #""seq":1"#, with: #""seq":01"#),
            canonical.replacingOccurrences(of: #","data""#, with: #","extra":1,"data""#),
        ] {
            #expect(throws: EventLineError.self, "\(variant)") { try StoredEvent(line: Array(variant.utf8)) }
            #expect((try? Array(variant.utf8).withUnsafeBytes { EventLineCheck.check($0) }.get()) == nil, "\(variant)")
        }
    }
}
