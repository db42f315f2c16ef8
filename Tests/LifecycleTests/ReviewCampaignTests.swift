import Foundation
import StewardJSON
import StewardJournal
import StewardProtocol
import StewardTestSupport
import Testing

/// Access review campaigns through the real `steward` binary: launch, decisions, routing, the
/// clock (STEWARD_NOW, never a sleep), remediation read back from the app, and the report with
/// its proofs.
@Suite("Access review campaigns end to end", .serialized)
struct ReviewCampaignTests {
    /// HR with managers: Mia manages Ann and Bo, Ann manages Cy; the stateful app holds their
    /// accounts (Cy also holds `ops`, which no rule grants).
    static func folder(mode: String = "honest", review: String = "") throws -> ApplyTruthTests.StatefulFolder {
        let folder = try ApplyTruthTests.StatefulFolder(mode: mode)
        try folder.write("hr.csv", """
            employee_id,email,first_name,last_name,department,title,manager_id,status
            E1,ann@example.com,Ann,A,Engineering,Engineer,E9,active
            E2,bo@example.com,Bo,B,Engineering,Engineer,E9,active
            E3,cy@example.com,Cy,C,Engineering,Engineer,E1,active
            E9,mia@example.com,Mia,M,Engineering,Head,,active

            """)
        let config = try String(contentsOf: folder.dir.appendingPathComponent("steward.json"), encoding: .utf8)
            .replacingOccurrences(of: "  policies: [", with: """
                  reviews: [ { id: "eng", scope: { apps: ["app"] }, stages: [ { reviewer: "manager" } ], fallback: "sec@example.com", days: 14,
                               reminders: { before: [7, 1], overdueEvery: 1 }, escalateAfterDaysOverdue: 2 \(review) } ],
                  policies: [
                """)
        try folder.write("steward.json", config)
        #expect(try folder.steward(["sync"]).code == 0)
        return folder
    }

    func json(_ run: ProgramRun) throws -> JSONValue { try JSONParser.parse(run.out) }

    func items(_ folder: StewardFolder, _ campaign: String) throws -> [JSONValue] {
        try folder.steward(["review", "items", campaign, "--json"]).out.split(separator: "\n").compactMap { try? JSONParser.parse(String($0)) }
    }

    @Test func thePopulationIsEveryGrantInScopeAndNobodyGetsTheirOwn() throws {
        let folder = try Self.folder()
        defer { folder.remove() }
        let start = try folder.steward(["review", "start", "eng", "--json"])
        #expect(start.code == 0, "\(start.err)")
        let campaign = try #require(try json(start)["id"].stringValue)
        #expect(campaign == "eng-1")
        let items = try items(folder, campaign)
        // a1, a2 hold eng; a3 holds eng and ops: 4 grants in the app, all of them items.
        #expect(items.count == 4)
        #expect(try folder.appState()["grants"].arrayValue?.count == items.count)
        let launched = try #require(try folder.events("review.launched").first)
        #expect(launched["data"]["population"]["items"] == 4)
        #expect(launched["data"]["population"]["apps"].arrayValue?.first?["items"] == 4)
        #expect(launched["data"]["population"]["sha256"].stringValue?.count == 64)
        // Ann's and Bo's items go to Mia, Cy's to Ann; nobody reviews their own.
        for item in items {
            let reviewer = item["reviewer"].stringValue
            #expect(reviewer == (item["person"] == "E3" ? "ann@example.com" : "mia@example.com"), "\(item)")
        }
        let ops = try #require(items.first { $0["access"] == "group:ops" })
        #expect(ops["recommendation"]["verdict"] == "revoke" && ops["justifications"].arrayValue?.isEmpty == true)
    }

    @Test func aReviewerWhoIsNotTheItemsIsRefusedWithNothingRecorded() throws {
        let folder = try Self.folder()
        defer { folder.remove() }
        #expect(try folder.steward(["review", "start", "eng"]).code == 0)
        let before = try JSONParser.parse(try folder.steward(["status", "--json"]).out)["journal"]["events"]
        for (item, who) in [("1", "bo@example.com"), ("1", "ann@example.com"), ("9", "mia@example.com")] {
            let r = try folder.steward(["review", "decide", "eng-1", item, "keep", "--comment", "x", "--as", who])
            #expect(r.code == 2, "\(who) on \(item): \(r.out)\(r.err)")
        }
        #expect(try folder.steward(["review", "decide", "eng-1", "1", "keep", "--comment", "x"]).code == 2, "--as is required")
        #expect(try JSONParser.parse(try folder.steward(["status", "--json"]).out)["journal"]["events"] == before, "nothing was journaled")
        #expect(try folder.events("review.decided").isEmpty)
    }

    @Test func aSignedOffReviewersItemsAreLocked() throws {
        let folder = try Self.folder()
        defer { folder.remove() }
        #expect(try folder.steward(["review", "start", "eng"]).code == 0)
        let mine = try folder.steward(["review", "items", "eng-1", "--reviewer", "mia@example.com", "--json"]).out
            .split(separator: "\n").compactMap { try? JSONParser.parse(String($0))["id"].stringValue }
        try #require(!mine.isEmpty)
        let keep = try folder.steward(["review", "decide", "eng-1"] + mine + ["keep", "--comment", "checked with the team", "--as", "mia@example.com"])
        #expect(keep.code == 0, "\(keep.out)\(keep.err)")
        #expect(try folder.steward(["review", "signoff", "eng-1", "--as", "mia@example.com"]).code == 0)
        let before = try JSONParser.parse(try folder.steward(["status", "--json"]).out)["journal"]["events"]
        let change = try folder.steward(["review", "decide", "eng-1", mine[0], "revoke", "--as", "mia@example.com"])
        #expect(change.code == 2)
        #expect(change.err.contains("signed off"), "\(change.err)")
        #expect(try JSONParser.parse(try folder.steward(["status", "--json"]).out)["journal"]["events"] == before, "nothing was journaled")
        #expect(try folder.events("review.decided").count == mine.count)
    }

    @Test func aRevokeIsVerifiedOnlyWhenTheAppShowsItGoneAndFailsWhenItDoesNot() throws {
        for (mode, expected) in [("honest", "revoked-verified"), ("lie-about-revokes", "revoke-failed")] {
            let folder = try Self.folder(mode: mode)
            defer { folder.remove() }
            #expect(try folder.steward(["review", "start", "eng"]).code == 0)
            let ops = try #require(try items(folder, "eng-1").first { $0["access"] == "group:ops" }?["id"].stringValue)
            let decide = try folder.steward(["review", "decide", "eng-1", ops, "revoke", "--as", "ann@example.com"])
            #expect(decide.code == 0, "\(decide.err)")
            #expect(try folder.steward(["review", "accept-recommendations", "eng-1", "--as", "mia@example.com"]).code == 0)
            let close = try folder.steward(["review", "close", "eng-1", "--json"])
            #expect(close.code == (mode == "honest" ? 0 : 1), "\(mode): \(close.out)\(close.err)")
            let outcome = try #require(try folder.events("review.outcome").first { $0["data"]["item"].stringValue == ops })
            #expect(outcome["data"]["status"].stringValue == expected, "\(mode): \(outcome)")
            if mode == "honest" {
                #expect(try folder.groups(of: "a3") == ["eng"], "the app no longer shows ops")
                #expect(try folder.events("review.closed").count == 1)
            } else {
                #expect(try folder.groups(of: "a3") == ["eng", "ops"])
                #expect(outcome["data"]["error"].stringValue?.contains("still holds group ops") == true, "\(outcome)")
            }
            // The remediation ran as an ordinary, journaled and verified action with cause review.
            let intent = try #require(try folder.events("action.intent").last)
            #expect(intent["data"]["action"]["cause"] == "review")
        }
    }

    @Test func anAppNotSyncedRecentlyBlocksTheLaunch() throws {
        let folder = try Self.folder()
        defer { folder.remove() }
        let later = ISO8601DateFormatter().string(from: Date().addingTimeInterval(30 * 3600))
        let start = try folder.steward(["review", "start", "eng"], environment: ["STEWARD_NOW": later])
        #expect(start.code == 1)
        #expect(start.err.contains("app was last synced") && start.err.contains("maxSyncAgeHours (24)"), "\(start.err)")
        #expect(try folder.events("review.launched").isEmpty)
    }

    /// Reminders by the ladder, escalation to the reviewer's manager, and at the deadline the
    /// default decision, all by moving STEWARD_NOW.
    @Test func theClockDrivesRemindersEscalationAndTheDefault() throws {
        let folder = try Self.folder(review: #", defaultDecision: "none""#)
        defer { folder.remove() }
        let now = Date()
        func at(_ days: Double) -> [String: String] { ["STEWARD_NOW": ISO8601DateFormatter().string(from: now.addingTimeInterval(days * 86_400))] }
        #expect(try folder.steward(["review", "start", "eng"]).code == 0)
        #expect(try folder.steward(["review", "remind", "eng-1"], environment: at(3)).out.contains("Nothing is due now"))
        let seven = try folder.steward(["review", "remind", "eng-1"], environment: at(7.1))
        #expect(seven.out.contains("remind ann@example.com: 2 open items (7d-before)") && seven.out.contains("remind mia@example.com: 2 open items (7d-before)"), "\(seven.out)")
        #expect(try folder.steward(["review", "remind", "eng-1"], environment: at(7.2)).out.contains("Nothing is due now"), "sent once")
        // Two days overdue: Ann's item goes to her manager, Mia; Mia has no manager to go to.
        let late = try folder.steward(["review", "remind", "eng-1"], environment: at(16.5))
        #expect(late.out.contains("escalated 2 overdue items of ann@example.com to mia@example.com"), "\(late.out)")
        #expect(late.out.contains("of mia@example.com to nobody: no manager in HR"))
        let reassigned = try folder.events("review.reassigned")
        #expect(reassigned.count == 2 && reassigned.allSatisfy { $0["data"]["to"] == "mia@example.com" && $0["data"]["escalation"] == true })
        // With no default decision, closing expires what nobody decided.
        #expect(try folder.steward(["review", "close", "eng-1"], environment: at(17)).code == 0)
        let outcomes = try folder.events("review.outcome").compactMap { $0["data"]["status"].stringValue }
        #expect(outcomes == ["expired", "expired", "expired", "expired"])
    }

    @Test func theDefaultDecisionSettlesUndecidedItemsAtTheDeadline() throws {
        let folder = try Self.folder(review: #", defaultDecision: "recommendation""#)
        defer { folder.remove() }
        #expect(try folder.steward(["review", "start", "eng"]).code == 0)
        let deadline = ISO8601DateFormatter().string(from: Date().addingTimeInterval(14 * 86_400 + 60))
        let remind = try folder.steward(["review", "remind", "eng-1"], environment: ["STEWARD_NOW": deadline])
        #expect(remind.out.contains("default decision settled"), "\(remind.out)\(remind.err)")
        let closed = try #require(try folder.events("review.stage-closed").first)
        #expect(closed["data"]["defaulted"].arrayValue?.count == 4)
        #expect(try folder.groups(of: "a3") == ["eng"], "the recommended revoke of ops was applied")
        let statuses = Set(try folder.events("review.outcome").compactMap { $0["data"]["status"].stringValue })
        #expect(statuses == ["kept", "revoked-verified"])
    }

    @Test func aReviewerWhoLeavesMidCampaignHasTheirItemsMovedOnTheNextSync() throws {
        let folder = try Self.folder()
        defer { folder.remove() }
        #expect(try folder.steward(["review", "start", "eng"]).code == 0)
        // Mia leaves; Ann now manages Bo.
        try folder.write("hr.csv", """
            employee_id,email,first_name,last_name,department,title,manager_id,status
            E1,ann@example.com,Ann,A,Engineering,Engineer,E9,active
            E2,bo@example.com,Bo,B,Engineering,Engineer,E1,active
            E3,cy@example.com,Cy,C,Engineering,Engineer,E1,active
            E9,mia@example.com,Mia,M,Engineering,Head,,terminated

            """)
        #expect(try folder.steward(["sync"]).code == 0)
        let moves = try folder.events("review.reassigned")
        #expect(moves.count == 2, "\(moves)")
        for move in moves {
            #expect(move["data"]["from"] == "mia@example.com")
            #expect(move["data"]["reason"].stringValue?.hasPrefix("the reviewer mia@example.com left") == true)
            // Bo's new manager is Ann; Ann's own manager left, so hers go to the fallback.
            let to = move["subjects"]["person"] == "E2" ? "ann@example.com" : "sec@example.com"
            #expect(move["data"]["to"].stringValue == to, "\(move)")
        }
        let now = try items(folder, "eng-1")
        #expect(now.allSatisfy { $0["reviewer"] != "mia@example.com" })
    }

    /// The JSON report carries a proof per decision; each verifies alone. Altering a decision in
    /// the journal makes `audit verify` fail, and that decision can no longer be proved.
    @Test func theReportProvesEachDecisionAndTamperingShows() throws {
        let folder = try Self.folder()
        defer { folder.remove() }
        #expect(try folder.steward(["review", "start", "eng"]).code == 0)
        #expect(try folder.steward(["review", "accept-recommendations", "eng-1", "--as", "mia@example.com"]).code == 0)
        #expect(try folder.steward(["review", "decide", "eng-1", "3", "4", "keep", "--comment", "needed for on-call", "--as", "ann@example.com"]).code == 0)
        let report = try folder.steward(["report", "review", "eng-1", "--format", "json", "--out", "report.json"])
        #expect(report.code == 0, "\(report.err)")
        let doc = try JSONParser.parse(try Data(contentsOf: folder.dir.appendingPathComponent("report.json")))
        #expect(doc["format"] == "steward-review-report/1")
        let schemaFile = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../schemas/review-report.schema.json")
        let schema = try JSONSchema(try JSONParser.parse(try Data(contentsOf: schemaFile)))
        let problems = schema.problems(doc)
        #expect(problems.isEmpty, "the report does not follow its schema: \(problems.prefix(5).map { "\($0.path): \($0.message)" })")
        // Every format renders from the same report.
        for format in ["html", "csv"] {
            let r = try folder.steward(["report", "review", "eng-1", "--format", format, "--out", "report.\(format)"])
            #expect(r.code == 0, "\(format): \(r.err)")
        }
        let html = try String(contentsOf: folder.dir.appendingPathComponent("report.html"), encoding: .utf8)
        #expect(html.contains("needed for on-call") && !html.contains("<script src"))
        #expect(doc["summary"]["items"] == 4 && doc["summary"]["decided"] == 4)
        let proofs = doc["proofs"].arrayValue ?? []
        #expect(proofs.count == 4)
        for (i, proof) in proofs.enumerated() {
            try folder.write("proof-\(i).json", JSONWriter.string(proof))
            let check = try folder.steward(["audit", "verify-proof", "proof-\(i).json"])
            #expect(check.code == 0, "\(check.out)\(check.err)")
        }
        // Tamper: turn one keep into a revoke in the journal itself.
        let seq = try #require(proofs.first?["seq"].intValue)
        let segments = folder.dir.appendingPathComponent(".steward/journal/segments")
        let segment = try #require(try FileManager.default.contentsOfDirectory(atPath: segments.path).sorted().first)
        let path = segments.appendingPathComponent(segment)
        var text = try String(contentsOf: path, encoding: .utf8)
        let line = try #require(text.split(separator: "\n").first { $0.contains("\"seq\":\(seq),") })
        let altered = line.replacingOccurrences(of: "\"decision\":\"keep\"", with: "\"decision\":\"revo\"")
        #expect(altered != line)
        text = text.replacingOccurrences(of: String(line), with: altered)
        try text.write(to: path, atomically: false, encoding: .utf8)
        #expect(try folder.steward(["audit", "verify"]).code == 4)
        #expect(try folder.steward(["audit", "proof", "--seq", "\(seq)"]).code != 0, "the altered decision cannot be proved")
        // A proof carrying the altered line fails too.
        var forged = proofs[0].objectValue ?? [:]
        forged["event"] = .string(altered)
        try folder.write("forged.json", JSONWriter.string(.object(forged)))
        #expect(try folder.steward(["audit", "verify-proof", "forged.json"]).code != 0)
    }

    /// Micro-certifications: a privileged grant made outside Steward, and a new orphan, each
    /// open a one-item review at the next sync, once.
    @Test func aNewPrivilegedGrantOrOrphanOpensAOneItemReview() throws {
        let folder = try ApplyTruthTests.StatefulFolder(mode: "honest")
        defer { folder.remove() }
        let config = try String(contentsOf: folder.dir.appendingPathComponent("steward.json"), encoding: .utf8)
            .replacingOccurrences(of: "correlate: [\"email\"],", with: "correlate: [\"email\"], owner: \"owner@example.com\", privileged: [\"group:ops\"],")
            .replacingOccurrences(of: "  policies: [", with: """
                  reviews: [ { id: "new-privileged", trigger: { event: "privilegedGrant" }, stages: [ { reviewer: "appOwner" } ], days: 5 },
                             { id: "new-orphan", trigger: { event: "orphan" }, stages: [ { reviewer: "appOwner" } ], days: 5 } ],
                  policies: [
                """)
        try folder.write("steward.json", config)
        // The first sync finds Cy's ops as it is: not news.
        let first = try folder.steward(["sync", "--json"])
        #expect(first.code == 0, "\(first.err)")
        #expect(try JSONParser.parse(first.out)["microCertifications"].arrayValue?.isEmpty == true)
        #expect(try folder.steward(["review", "start", "new-privileged"]).code == 2, "a triggered review is not started by hand")

        // Someone adds Ann to ops in the app, and an account nobody knows appears.
        var state = try folder.appState().objectValue ?? [:]
        state["grants"] = .array((state["grants"]?.arrayValue ?? []) + [["accountId": "a1", "type": "group", "entitlementId": "ops"]])
        state["accounts"] = .array((state["accounts"]?.arrayValue ?? []) + [["id": "a9", "userName": "temp-admin", "status": "active"]])
        try JSONWriter.string(.object(state)).write(to: folder.stateFile, atomically: true, encoding: .utf8)
        let second = try JSONParser.parse(try folder.steward(["sync", "--json"]).out)
        #expect(second["microCertifications"].arrayValue?.compactMap(\.stringValue).sorted() == ["new-orphan-1", "new-privileged-1"], "\(second)")
        let privileged = try items(folder, "new-privileged-1")
        #expect(privileged.count == 1 && privileged.first?["access"] == "group:ops" && privileged.first?["person"] == "E1")
        #expect(privileged.first?["reviewer"] == "owner@example.com")
        let orphan = try items(folder, "new-orphan-1")
        #expect(orphan.count == 1 && orphan.first?["account"] == "a9" && orphan.first?["access"] == "account")
        // Nothing new: nothing opened again.
        #expect(try JSONParser.parse(try folder.steward(["sync", "--json"]).out)["microCertifications"].arrayValue?.isEmpty == true)
    }

    /// A review's decisions stand until the next review: kept access no rule grants is no
    /// longer revoked by plans, and revoked access a policy grants is not given back.
    @Test func plansFollowReviewDecisions() throws {
        let folder = try Self.folder()
        defer { folder.remove() }
        // Before the review the plan would revoke Cy's ops (no rule grants it).
        let before = try JSONParser.parse(try folder.steward(["plan", "--json"]).out)["actions"].arrayValue ?? []
        #expect(before.contains { $0["op"] == "revoke" && $0["entitlement"]["id"] == "ops" && $0["person"] == "E3" }, "\(before)")
        #expect(try folder.steward(["review", "start", "eng"]).code == 0)
        let all = try items(folder, "eng-1")
        let ops = try #require(all.first { $0["access"] == "group:ops" }?["id"].stringValue)
        let annEng = try #require(all.first { $0["person"] == "E1" }?["id"].stringValue)
        #expect(try folder.steward(["review", "decide", "eng-1", ops, "keep", "--comment", "Cy runs the ops rota", "--as", "ann@example.com"]).code == 0)
        #expect(try folder.steward(["review", "decide", "eng-1", annEng, "revoke", "--as", "mia@example.com"]).code == 0)
        let close = try folder.steward(["review", "close", "eng-1"])
        #expect(close.code == 0, "\(close.out)\(close.err)")
        #expect(try folder.groups(of: "a1") == [], "Ann's eng was revoked")
        #expect(try folder.steward(["sync"]).code == 0)
        let after = try JSONParser.parse(try folder.steward(["plan", "--json"]).out)["actions"].arrayValue ?? []
        #expect(after.isEmpty, "the plan neither revokes the kept ops nor gives Ann's eng back: \(after)")
        let cy = try folder.steward(["person", "show", "E3"])
        #expect(cy.out.contains("group:ops  ← review eng-1"), "\(cy.out)")
    }
}
