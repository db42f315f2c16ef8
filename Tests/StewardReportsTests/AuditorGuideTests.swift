import Foundation
import StewardJournal
import StewardJSON
import StewardReports
import StewardTestSupport
import Testing

/// The commands docs/auditor-guide.md gives auditors, run against a report: each test checks
/// the guide has the command word for word, then that it does what the guide says.
@Suite("Auditor guide", .enabled(if: Tools.jqTestsEnabled, "jq is not installed and CI is unset"))
struct AuditorGuideTests {
    let guide: String
    let report = SampleReport(extraItems: 5).json

    init() throws { guide = try Repository.text("docs/auditor-guide.md") }

    /// Runs `command` with /bin/sh in a directory holding report.json as `steward report --format json` writes it.
    private func shell(_ command: String) throws -> (output: String, directory: TemporaryDirectory) {
        #expect(guide.contains(command), "the guide does not say: \(command)")
        let directory = try TemporaryDirectory()
        try Data(JSONWriter.prettyBytes(report)).write(to: directory.file("report.json"))
        let result = try run("/bin/sh", ["-c", command], in: directory.url)
        #expect(result.status == 0, "\(command) failed")
        return (String(decoding: result.output, as: UTF8.self), directory)
    }

    static let appRecord = """
    '.items[] | select(.app == $app)
      | {id, app, account, accountName, entitlement, context, recommendation} + (if .person == null then {} else {person} end)' \\
      report.json | sha256sum
    """

    @Test("an app's population hash recomputes from the report")
    func appHash() throws {
        let command = "jq -c -S --arg app crm " + Self.appRecord
        let (output, directory) = try shell(command)
        defer { directory.remove() }
        let crm = report["population"]["apps"].arrayValue?.first { $0["app"] == "crm" }?["sha256"].stringValue
        #expect(output == "\(crm ?? "?")  -\n")
    }

    @Test("the whole population's hash recomputes from the report")
    func populationHash() throws {
        let command = """
        jq -c -S '.population.apps[].app as $app | .items[] | select(.app == $app)
          | {id, app, account, accountName, entitlement, context, recommendation} + (if .person == null then {} else {person} end)' \\
          report.json | sha256sum
        """
        let (output, directory) = try shell(command)
        defer { directory.remove() }
        #expect(output == "\(report["population"]["sha256"].stringValue ?? "?")  -\n")
    }

    @Test("the checkpoint saves byte for byte, as a checkpoint file steward reads")
    func checkpoint() throws {
        let (_, directory) = try shell("jq -j .journal.checkpoint report.json > checkpoint.txt")
        defer { directory.remove() }
        let saved = try String(contentsOf: directory.file("checkpoint.txt"), encoding: .utf8)
        #expect(saved == SampleReport.checkpoint)
        let parsed = try SignedCheckpoint.parse(saved, source: "checkpoint.txt")
        #expect(parsed.size == SampleReport.treeSize && parsed.root.base64 == SampleReport.root)
    }

    @Test("one proof saves as a file verify-proof reads, and its event is the decision")
    func proof() throws {
        let (_, directory) = try shell("jq '.proofs[] | select(.seq == 4801)' report.json > proof-4801.json")
        defer { directory.remove() }
        let saved = try JSONParser.parse(Data(contentsOf: directory.file("proof-4801.json")))
        let proof = try AuditProof(json: saved, source: "proof-4801.json")
        #expect(proof.leafIndex == 4800)
        #expect(report["items"].arrayValue?.first?["stages"].arrayValue?.first?["decision"]["seq"] == 4801)

        let (event, other) = try shell("jq -r '.proofs[] | select(.seq == 4801) | .event' report.json | jq .")
        defer { other.remove() }
        #expect(try JSONParser.parse(event)["type"] == "review.decided")
    }
}
