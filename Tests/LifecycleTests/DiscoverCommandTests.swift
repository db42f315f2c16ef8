import Foundation
import StewardProtocol
import StewardTestSupport
import Testing

/// `steward discover` through the binary, on the sandbox's SCIM app: an orphan with its likely
/// owner, a leaver's leftover found before anything is applied, an ownerless service account.
@Suite("steward discover", .serialized)
struct DiscoverCommandTests {
    @Test func findsTheOrphansOwnerTheLeaversLeftoverAndTheServiceAccount() async throws {
        let lab = try await Lab()
        defer { lab.cleanup() }
        try lab.hr([("E1", "ann@example.com", "Engineering", "Engineer", "active"),
                    ("E2", "bo@example.com", "Sales", "Account Executive", "active")])
        try lab.converge()
        for userName in ["ann+old@example.com", "svc-backup"] {
            let (status, _) = try await lab.request("POST", "/Users", body: [
                "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": .string(userName), "active": true])
            #expect(status == 201)
        }
        try lab.hr([("E1", "ann@example.com", "Engineering", "Engineer", "active"),
                    ("E2", "bo@example.com", "Sales", "Account Executive", "terminated")])
        #expect(try lab.steward(["sync"]).code == 0)

        let journaled = try lab.events("plan.computed").count
        let run = try lab.steward(["discover", "--json"])
        #expect(run.code == 0, "\(run.err)")
        let findings = try JSONParser.parse(run.out)["findings"].arrayValue ?? []
        let orphan = try #require(findings.first { $0["kind"] == "orphan" && $0["accountName"] == "ann+old@example.com" }, "\(run.out)")
        #expect(orphan["candidates"].arrayValue?.first?["person"] == "E1", "\(orphan)")
        // Ann already has a CRM account: this one is likely her second, not one to link.
        #expect(orphan["suggestion"].stringValue?.hasPrefix("likely a second account of E1") == true, "\(orphan)")
        #expect(findings.contains { $0["kind"] == "leftover" && $0["person"] == "E2" && $0["app"] == "crm" })
        #expect(findings.contains { $0["kind"] == "service" && $0["accountName"] == "svc-backup" })
        #expect(!findings.contains { $0["kind"] == "orphan" && $0["accountName"] == "svc-backup" })

        let text = try lab.steward(["discover", "--kind", "orphan"])
        #expect(text.code == 0)
        #expect(text.out.contains("Accounts linked to nobody") && text.out.contains("likely E1") && !text.out.contains("Leavers"), "\(text.out)")
        let bad = try lab.steward(["discover", "--kind", "orphans"])
        #expect(bad.code == 2 && bad.err.contains("expected one of orphan, leftover"), "\(bad.err)")
        let shadow = try lab.steward(["discover", "--kind", "shadow"])
        #expect(shadow.code == 0 && shadow.out == "No findings.\n", "no discovery sources, no shadow apps: \(shadow.out)")
        #expect(try lab.events("plan.computed").count == journaled, "discovery journals nothing")

        // `status` counts them.
        let status = try lab.steward(["status"])
        #expect(status.out.contains("Findings: 1 leftover, 1 orphan, 1 service (steward discover)"), "\(status.out)")
        let statusJSON = try JSONParser.parse(try lab.steward(["status", "--json"]).out)
        #expect(statusJSON["findings"]["orphan"] == 1 && statusJSON["findings"]["leftover"] == 1)

        // The sync journaled each finding when it was first seen; settling them journals how.
        let opened = try lab.events("finding.opened")
        #expect(Set(opened.compactMap { $0["data"]["kind"].stringValue }) == ["orphan", "leftover", "service"], "\(opened)")
        #expect(try lab.steward(["sync"]).code == 0)
        #expect(try lab.events("finding.opened").count == opened.count, "a finding is opened once")
        let orphanId = try #require(orphan["account"].stringValue)
        #expect(try lab.steward(["link", "crm:\(orphanId)", "E1"]).code == 0)
        let service = try #require(findings.first { $0["kind"] == "service" }?["account"].stringValue)
        #expect(try lab.steward(["ignore", "crm:\(service)", "--reason", "the backup job's account"]).code == 0)
        #expect(try lab.steward(["apply", "--yes"]).code == 0)
        let resolved = try lab.events("finding.resolved")
        func resolution(_ kind: String) -> String? { resolved.first { $0["data"]["kind"].stringValue == kind }?["data"]["resolution"].stringValue }
        #expect(resolution("orphan") == "linked" && resolution("service") == "ignored" && resolution("leftover") == "disabled", "\(resolved)")
        let after = try lab.steward(["status"]).out, remaining = try lab.steward(["discover"]).out
        // (Linking Ann's old account to her leaves her current one linked to nobody: one orphan.)
        #expect(!after.contains("leftover") && !after.contains("service"), "\(after)\n\(remaining)")

        // The discovery report carries the history: when each was found and how it was settled.
        let report = try lab.steward(["report", "discovery", "--format", "json", "--out", "discovery.json"])
        #expect(report.code == 0, "\(report.err)")
        let doc = try JSONParser.parse(Data(contentsOf: lab.dir.appendingPathComponent("discovery.json")))
        let history = doc["resolved"].arrayValue ?? []
        #expect(history.contains { $0["kind"] == "orphan" && $0["resolution"] == "linked" && $0["resolvedBy"] == "steward link" && !$0["openedAt"].isNull }, "\(history)")
        #expect(history.contains { $0["kind"] == "leftover" && $0["resolution"] == "disabled" })
    }
}
