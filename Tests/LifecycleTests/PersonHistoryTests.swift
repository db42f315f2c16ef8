import Foundation
import StewardProtocol
import StewardTestSupport
import Testing

/// `steward person history` on a demo journal: an auditor answers "when did this person get
/// this access, on what grounds, and when was it removed" with one command.
@Suite("Person history on a demo journal")
struct PersonHistoryTests {
    func history(_ args: [String]) async throws -> (text: String, json: [JSONValue], dir: URL) {
        let demo = try await SharedDemo.run.value
        try #require(demo.code == 0, "the demo failed: \(demo.output.suffix(1500))")
        let folder = try StewardFolder(existing: demo.dir)
        let text = try folder.steward(["person", "history"] + args)
        #expect(text.code == 0, "\(text.err)")
        let json = try folder.steward(["person", "history"] + args + ["--json"])
        #expect(json.code == 0, "\(json.err)")
        return (text.out, json.out.split(separator: "\n").compactMap { try? JSONParser.parse(String($0)) }, demo.dir)
    }

    /// A line without its time (the demo runs today) and actor.
    func lines(_ text: String) -> [String] {
        text.split(separator: "\n").map { line in
            let body = line.dropFirst(18)  // "2026-12-02 00:59  "
            return String(body.prefix { $0 != "[" }).trimmingCharacters(in: .whitespaces)
        }
    }

    @Test func aJoinerReadsWhatTheyGotWhyAndThatTheAppShowsIt() async throws {
        let (text, json, _) = try await history(["E2002"])
        let lines = lines(text)
        #expect(lines.first == "hr  joined: Engineering, Software Engineer", "\(lines)")
        #expect(lines.contains("crm  created account ole.berg.2002@example.com (joiner; policy everyone; policy engineering)  applied, verified"), "\(lines)")
        #expect(lines.contains("crm  granted group engineering (joiner; policy engineering)  applied, verified"))
        #expect(lines.contains("github  granted team engineering (joiner; policy engineering)  applied, verified"))
        #expect(text.contains("[steward demo]"), "the actor is named")

        let create = try #require(json.first { $0["app"] == "crm" && $0["operation"] == "createAccount" })
        #expect(create["kind"] == "action" && create["cause"] == "joiner")
        #expect(create["justifications"].arrayValue?.compactMap(\.stringValue) == ["policy everyone", "policy engineering"])
        #expect(create["result"] == "applied" && create["verified"] == true)
        for role in ["intent", "outcome", "verified"] { #expect(create["seqs"][role].intValue != nil, "\(role)") }
    }

    @Test func aMoverLosesTheOldAccessAndGainsTheNewInOneRead() async throws {
        let (text, _, _) = try await history(["E1002", "--app", "crm"])
        let lines = lines(text)
        #expect(!lines.contains { $0.hasPrefix("github") }, "--app keeps one app")
        #expect(lines.contains("crm  revoked group engineering (mover; nothing grants it)  applied, verified"), "\(lines)")
        #expect(lines.contains("crm  changed role Viewer → User (mover; role sales-rep (policy sales))  applied, verified"))
        #expect(lines.contains("crm  granted group sales (mover; role sales-rep (policy sales))  applied, verified"))
        let all = try await history(["E1002"])
        #expect(self.lines(all.text).contains("hr  moved: department Engineering → Sales, title Software Engineer → Account Executive, managerId E1000 → E1050"))
    }

    @Test func aLeaverReadsWhenEachAccountWentAndEachLineCanBeProved() async throws {
        let (text, json, dir) = try await history(["E1003"])
        let lines = lines(text)
        #expect(lines.contains("hr  left: terminated in HR"), "\(lines)")
        #expect(lines.contains("crm  disabled account ben.lopez.1003@example.com (leaver; left (terminated))  applied, verified"))
        #expect(lines.contains("legacy  disabled account ben.lopez.1003@example.com (leaver; left (terminated))  applied, verified"))
        #expect(lines.contains { $0.hasPrefix("github  deleted account") && $0.hasSuffix("(leaver; left (terminated))  applied, verified") })
        #expect(lines.contains("crm  account ben.lopez.1003@example.com found (active), seen in sync"), "the account IT never provisioned")

        // The JSON names the events; each can be proved on its own.
        let disable = try #require(json.first { $0["app"] == "crm" && $0["operation"] == "disableAccount" })
        let seq = try #require(disable["seqs"]["verified"].intValue)
        let folder = try StewardFolder(existing: dir)
        let proof = try folder.steward(["audit", "proof", "--seq", "\(seq)", "--out", "proof-\(seq).json"])
        #expect(proof.code == 0, "\(proof.err)")
        let checked = try folder.steward(["audit", "verify-proof", "proof-\(seq).json"])
        #expect(checked.code == 0, "\(checked.out)\n\(checked.err)")

        let since = try await history(["E1003", "--since", "2999-01-01"])
        #expect(since.text.isEmpty && since.json.isEmpty)
    }
}
