import Foundation
import StewardProtocol
import StewardTestSupport
import Testing

/// A journal written by an earlier version must still open, verify and answer: its events are
/// read through the same codec as today's (Fixtures/demo-journal-0.1.0 is a demo folder that
/// Steward 0.1.0 wrote, before typed effects and read-back).
@Suite("A journal from Steward 0.1.0")
struct EarlierJournalTests {
    func folder() throws -> StewardFolder {
        let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/demo-journal-0.1.0")
        let copy = try StewardFolder()
        for item in try FileManager.default.contentsOfDirectory(atPath: fixture.path) {
            try FileManager.default.copyItem(at: fixture.appendingPathComponent(item), to: copy.dir.appendingPathComponent(item))
        }
        return copy
    }

    @Test func itVerifiesAndAnswersStatusPlanAndHistory() throws {
        let folder = try folder()
        defer { folder.remove() }
        let verify = try folder.steward(["audit", "verify"])
        #expect(verify.code == 0, "\(verify.out)\n\(verify.err)")
        #expect(verify.out.contains("intact: 2247 events"))

        let status = try JSONParser.parse(try folder.steward(["status", "--json"]).out)
        #expect(status["people"]["active"] == 201 && status["people"]["left"] == 2)
        #expect(status["apps"].arrayValue?.map { $0["accounts"].intValue ?? 0 } == [204, 92, 71])
        #expect(status["pendingActions"] == 0, "the old effects fold into the same state: nothing left to do")
        #expect(status["lastApply"]["verify"] == .null, "0.1.0 did not read back, and status does not pretend it did")

        let history = try folder.steward(["person", "history", "E1003"])
        #expect(history.code == 0, "\(history.err)")
        #expect(history.out.contains("crm  disabled account ben.lopez.1003@example.com (leaver; left (terminated))  applied  [steward demo]"), "\(history.out)")
        #expect(history.out.contains("hr  left: terminated in HR"))

        // The old journal keeps growing under the new version and still verifies.
        #expect(try folder.steward(["plan"]).code == 0)
        #expect(try folder.steward(["audit", "verify"]).code == 0)
    }
}
