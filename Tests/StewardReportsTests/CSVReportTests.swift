import Foundation
import StewardJSON
@testable import StewardReports
import Testing

@Suite("CSV report")
struct CSVReportTests {
    /// The file's rows as records by column name, after checking it is strict RFC 4180.
    static func records(_ sample: SampleReport = SampleReport()) throws -> [[String: String]] {
        let bytes = try CSVReport.render(sample.json)
        #expect(Array(bytes.prefix(3)) == [0xEF, 0xBB, 0xBF], "UTF-8 byte order mark")
        let rows = try RFC4180.parse(String(decoding: bytes.dropFirst(3), as: UTF8.self))
        let header = try #require(rows.first)
        #expect(header == CSVReport.Column.allCases.map(\.name))
        for (i, row) in rows.enumerated() { #expect(row.count == header.count, "row \(i) has \(row.count) fields") }
        return rows.dropFirst().map { Dictionary(uniqueKeysWithValues: zip(header, $0)) }
    }

    @Test("one file, one header, every row the same columns, CRLF line ends")
    func layout() throws {
        let bytes = try CSVReport.render(SampleReport().json)
        let text = String(decoding: bytes.dropFirst(3), as: UTF8.self)
        #expect(text.hasPrefix("part,item,app,account,account_name,person,access,entitlement_id,kind,person_name,"))
        #expect(text.hasSuffix("\r\n"))
        let records = try Self.records()
        let parts = Set(records.compactMap { $0["part"] })
        #expect(parts == ["report", "summary", "check", "campaign", "population", "access", "decision", "action", "quality", "remediation", "journal", "proof"])
    }

    @Test("each part has its rows: items, decisions per stage, actions, remediation, proofs")
    func parts() throws {
        let report = SampleReport().json
        let records = try Self.records()
        func rows(_ part: String) -> [[String: String]] { records.filter { $0["part"] == part } }
        let items = report["items"].arrayValue ?? []
        #expect(rows("access").count == items.count)
        #expect(rows("decision").count == items.reduce(0) { $0 + ($1["stages"].arrayValue?.count ?? 0) })
        #expect(rows("action").count == report["reviewerActions"].arrayValue?.count)
        #expect(rows("proof").count == report["proofs"].arrayValue?.count)
        #expect(rows("remediation").map { $0["item"] ?? "" } == ["2", "3", "4", "5", "6", "7", "8", "10", "12"])
        #expect(rows("check").allSatisfy { $0["value"] == "consistent" })

        let orphan = try #require(rows("access").first { $0["item"] == "5" })
        #expect(orphan["person"] == "" && orphan["kind"] == "orphan" && orphan["access"] == "account")
        let failed = try #require(rows("remediation").first { $0["item"] == "4" })
        #expect(failed["status"] == "revoke-failed" && failed["verified"] == "false" && failed["action_key"] == "stw-0c5d2b8e77a1")
        #expect(failed["error"] == "erp is in observe mode: Steward never changes it")
        let stamp = rows("quality").first { $0["reviewer"] == "dana@example.com" && $0["figure"] == "rubberStamp" }
        #expect(stamp?["value"] == "true")
        #expect(rows("population").contains { $0["app"] == "crm" && $0["figure"] == "lastSync" && $0["value"] == "2026-11-18T08:30:00.000Z" })
        #expect(rows("campaign").contains { $0["figure"] == "definition.stages.1.fallback" && $0["value"] == "sec@example.com" })
        #expect(rows("campaign").contains { $0["figure"] == "definition.stages.2.days" && $0["value"] == "null" })
        #expect(rows("access").first { $0["item"] == "1" }?["justifications"] == "policy eng-admins")
    }

    @Test("a proof row holds the proof, ready to save as a file for verify-proof")
    func proofRows() throws {
        let proofs = SampleReport().json["proofs"].arrayValue ?? []
        let rows = try Self.records().filter { $0["part"] == "proof" }
        for (row, proof) in zip(rows, proofs) {
            #expect(try JSONParser.parse(row["value"] ?? "") == proof)
            #expect(row["seq"] == proof["seq"].intValue.map(String.init))
        }
    }

    @Test("fields with commas, quotes and line breaks are quoted and read back exactly")
    func quoting() throws {
        var sample = SampleReport()
        sample.comment = "keep, \"for now\"\r\nsee CHG-9"
        sample.personName = "Archer, Ann"
        let records = try Self.records(sample)
        #expect(records.first { $0["part"] == "decision" && $0["item"] == "2" }?["comment"] == "keep, \"for now\"\r\nsee CHG-9")
        #expect(records.first { $0["part"] == "access" && $0["item"] == "1" }?["person_name"] == "Archer, Ann")
        let text = String(decoding: try CSVReport.render(sample.json), as: UTF8.self)
        #expect(text.contains(",\"keep, \"\"for now\"\"\r\nsee CHG-9\","))
    }

    @Test("a text cell a spreadsheet would run as a formula gets a leading apostrophe; numbers do not")
    func formulaInjection() throws {
        for (evil, safe) in [("=HYPERLINK(\"x\",\"y\")", "'=HYPERLINK(\"x\",\"y\")"), ("+1 555 0100", "'+1 555 0100"),
                             ("-2+3", "'-2+3"), ("@SUM(A1)", "'@SUM(A1)"), ("\tcmd", "'\tcmd"), ("a=b", "a=b")] {
            var sample = SampleReport()
            sample.comment = evil
            sample.personName = evil
            let records = try Self.records(sample)
            #expect(records.first { $0["part"] == "decision" && $0["item"] == "2" }?["comment"] == safe)
            #expect(records.first { $0["part"] == "access" && $0["item"] == "1" }?["person_name"] == safe)
        }
        let records = try Self.records()
        #expect(records.first { $0["part"] == "summary" && $0["figure"] == "items" }?["value"] == "12")
        #expect(records.first { $0["part"] == "quality" && $0["figure"] == "medianSeconds" && $0["reviewer"] == "cy@example.com" }?["value"] == "1.5")
    }

    @Test("the writer on its own: neutralises, quotes, and leaves plain text alone")
    func writer() {
        var csv = CSVWriter(capacity: 64)
        csv.field("plain")
        csv.field("=1+1")
        csv.field("=a,b")
        csv.field(.int(-3))
        csv.field(.null)
        csv.field(["a", "b"])
        csv.endRow()
        #expect(String(decoding: csv.bytes.dropFirst(3), as: UTF8.self) == "plain,'=1+1,\"'=a,b\",-3,,a; b\r\n")
    }
}

/// A strict RFC 4180 reader for the tests: a quote inside a quoted field must be doubled, and a
/// quote may not appear in an unquoted field.
enum RFC4180 {
    struct Malformed: Error, CustomStringConvertible {
        let description: String
    }

    static func parse(_ text: String) throws -> [[String]] {
        var rows: [[String]] = []
        var row: [String] = []
        var field = ""
        var chars = Array(text.unicodeScalars)[...]
        var atFieldStart = true
        while let c = chars.popFirst() {
            if atFieldStart && c == "\"" {
                while true {
                    guard let q = chars.popFirst() else { throw Malformed(description: "unterminated quoted field") }
                    if q == "\"" {
                        if chars.first == "\"" { chars.removeFirst(); field.unicodeScalars.append("\"") } else { break }
                    } else {
                        field.unicodeScalars.append(q)
                    }
                }
                atFieldStart = false
                guard let next = chars.first, next == "," || next == "\r" else { throw Malformed(description: "text after a closing quote") }
                continue
            }
            atFieldStart = false
            switch c {
            case ",":
                row.append(field)
                field = ""
                atFieldStart = true
            case "\r":
                guard chars.popFirst() == "\n" else { throw Malformed(description: "CR without LF") }
                row.append(field)
                rows.append(row)
                row = []
                field = ""
                atFieldStart = true
            case "\"", "\n":
                throw Malformed(description: "\(c == "\n" ? "bare LF" : "quote") in an unquoted field")
            default:
                field.unicodeScalars.append(c)
            }
        }
        guard row.isEmpty && field.isEmpty else { throw Malformed(description: "the last row does not end with CRLF") }
        return rows
    }
}
