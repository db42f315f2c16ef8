import Foundation
import StewardJournal
import StewardJSON
import Testing

@Suite("Review report schema")
struct ReportSchemaTests {
    let schema: JSONSchema

    init() throws { schema = try Repository.schema() }

    @Test("a realistic report is valid")
    func sampleIsValid() {
        let problems = schema.problems(SampleReport().json)
        #expect(problems == [], "\(problems.map(\.description).joined(separator: "\n"))")
        #expect(schema.problems(SampleReport(extraItems: 20).json) == [])
    }

    @Test("the sample has what the schema must cover: every status, action type and a null in each nullable member")
    func sampleCoversTheShape() {
        let report = SampleReport().json
        let items = report["items"].arrayValue ?? []
        #expect(Set(items.compactMap { $0["status"].stringValue }) == ["open", "kept", "revoke-pending", "revoked-verified", "revoke-failed", "expired"])
        #expect(Set((report["reviewerActions"].arrayValue ?? []).compactMap { $0["type"].stringValue })
            == ["decision", "delegation", "reassignment", "escalation", "sign-off", "reminder"])
        #expect(items.contains { $0["person"].isNull } && items.contains { $0["entitlement"].isNull } && items.contains { $0["remediation"].isNull })
        #expect(items.contains { $0["context"]["lastLoginAt"].isNull })
        #expect(Set((report["quality"]["reviewers"].arrayValue ?? []).compactMap { $0["reviewer"].stringValue }).count == 5)
    }

    @Test("a missing required member fails, naming its path")
    func missingMember() {
        var report = SampleReport().json
        report = edit(report, ["items", 3]) { item in
            guard case .object(var o) = item else { return item }
            o["status"] = nil
            return .object(o)
        }
        let problems = schema.problems(report)
        #expect(problems.map(\.path) == ["items[3].status"])
        #expect(problems.first?.keyword == "required")
    }

    @Test("a value outside an enum fails, naming its path, also inside a nullable object")
    func wrongEnum() {
        let report = edit(SampleReport().json, ["items", 0, "stages", 1, "decision", "decision"]) { _ in "maybe" }
        let problems = schema.problems(report)
        #expect(problems.map(\.path) == ["items[0].stages[1].decision.decision"])
        #expect(problems.first?.keyword == "enum")
        #expect(problems.first?.message.contains("maybe") == true)

        let status = schema.problems(edit(SampleReport().json, ["campaign", "status"]) { _ in "paused" })
        #expect(status.map(\.path) == ["campaign.status"])
    }

    @Test("objects are closed: an unknown member is refused wherever it is")
    func closedObjects() {
        let report = edit(SampleReport().json, ["items", 1, "remediation"]) { remediation in
            guard case .object(var o) = remediation else { return remediation }
            o["verifiedBy"] = "someone"
            return .object(o)
        }
        let problems = schema.problems(report)
        #expect(problems.map(\.path) == ["items[1].remediation.verifiedBy"])
        #expect(problems.first?.isUnexpectedMember == true)
    }

    @Test("a proof as `steward audit proof` writes it is a valid proofs entry, and a proofs entry reads as a proof")
    func proofFormatIsTheJournals() throws {
        let proof = AuditProof(event: #"{"seq":7,"time":"2026-11-30T10:00:00.000Z","type":"review.decided","actor":"bo@example.com","subjects":{},"data":{}}"#,
                               leafIndex: 6, treeSize: 9, leafHash: Array(repeating: 1, count: 32), root: Array(repeating: 2, count: 32),
                               path: [Array(repeating: 3, count: 32)], checkpoint: SampleReport.checkpoint)
        let report = edit(SampleReport().json, ["proofs"]) { _ in [proof.json] }
        #expect(schema.problems(report) == [])
        for entry in SampleReport().json["proofs"].arrayValue ?? [] {
            let read = try AuditProof(json: entry, source: "report")
            #expect(read.json == entry)
        }
    }

    /// `value` with the member at `path` replaced by `change(member)`.
    private func edit(_ value: JSONValue, _ path: [any Sendable], _ change: (JSONValue) -> JSONValue) -> JSONValue {
        guard let first = path.first else { return change(value) }
        let rest = Array(path.dropFirst())
        switch (value, first) {
        case (.object(var o), let key as String):
            o[key] = edit(o[key] ?? .null, rest, change)
            return .object(o)
        case (.array(var a), let index as Int):
            a[index] = edit(a[index], rest, change)
            return .array(a)
        default:
            return value
        }
    }
}
