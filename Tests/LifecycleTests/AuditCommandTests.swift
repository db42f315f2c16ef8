import Foundation
import StewardProtocol
import StewardTestSupport
import Testing

/// `steward audit` as auditors run it: verify (exit 0 / 4 with the position), proofs checked with
/// nothing but the proof file, and the event log query.
@Suite("steward audit on a real journal", .serialized)
struct AuditCommandTests {
    @Test func verifyProofAndTamperDetectionThroughTheCLI() async throws {
        let lab = try await Lab()
        defer { lab.cleanup() }
        try lab.hr(LifecycleTests.base)
        try lab.converge()

        let verify = try lab.steward(["audit", "verify", "--json"])
        #expect(verify.code == 0, "\(verify.out) \(verify.err)")
        #expect(try JSONParser.parse(verify.out)["intact"] == true)

        #expect(try lab.steward(["audit", "checkpoint", "--out", "witness.checkpoint"]).code == 0)
        let proof = try lab.steward(["audit", "proof", "--seq", "3", "--out", "proof.json"])
        #expect(proof.code == 0, "\(proof.err)")
        // The proof stands on its own: checked from another directory, without the journal.
        let elsewhere = try TemporaryDirectory(prefix: "steward-proof")
        defer { elsewhere.remove() }
        try FileManager.default.copyItem(at: lab.dir.appendingPathComponent("proof.json"), to: elsewhere.file("proof.json"))
        let verified = try Lab.steward(["audit", "verify-proof", "proof.json"], in: elsewhere.url)
        #expect(verified.code == 0, "\(verified.err)")

        let log = try lab.steward(["audit", "log", "--person", "E1", "--json"])
        let lines = log.out.split(separator: "\n")
        #expect(!lines.isEmpty)
        #expect(try lines.allSatisfy { try JSONParser.parse(String($0))["subjects"]["person"] == "E1" })

        // Flip one byte in the middle of the log: verify fails with exit 4 and names the place.
        let segments = lab.dir.appendingPathComponent(".steward/journal/segments")
        let file = try #require(try FileManager.default.contentsOfDirectory(atPath: segments.path).sorted().first)
        let url = segments.appendingPathComponent(file)
        var bytes = try Data(contentsOf: url)
        let target = try #require(bytes.firstRange(of: Data("\"E3\"".utf8)))
        bytes[target.lowerBound + 2] = UInt8(ascii: "9")
        try bytes.write(to: url)
        let broken = try lab.steward(["audit", "verify", "--json"])
        #expect(broken.code == 4)
        let report = try JSONParser.parse(broken.out)
        #expect(report["intact"] == false)
        #expect(report["divergence"]["seq"].intValue != nil)
    }
}
