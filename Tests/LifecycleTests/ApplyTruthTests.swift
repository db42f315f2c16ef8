import Foundation
import StewardHost
import StewardProtocol
import StewardTestSupport
import Testing

/// `applied` in the journal means the app shows it: lost answers are settled by reading, what
/// the app does not show is `unverified`, and a broken rule stops the whole plan. The app here
/// is a real connector process (`steward-test-connector stateful MODE`) whose state lives in a
/// file, so what a write did survives the connector breaking the protocol right after it.
@Suite("Apply tells the truth", .serialized)
struct ApplyTruthTests {
    /// A folder with an HR file of three people and one app served by the stateful connector.
    final class StatefulFolder: StewardFolder, @unchecked Sendable {  // set in init, then only read
        let stateFile: URL

        init(mode: String, concurrency: Int = 1, verifyFlags: String = "") throws {
            stateFile = FileManager.default.temporaryDirectory.appendingPathComponent("stateful-\(UUID().uuidString).json")
            try super.init()
            let connector = Products.path("steward-test-connector")
            try write("plugins/stateful/plugin.json", """
                {"name": "stateful", "version": "0.0.1", "command": ["\(connector)", "stateful", "\(mode)"]}
                """)
            try write("checkpoint.key", "lab-checkpoint-key-0123456789abcdef")
            try write("steward.json", """
                {
                  checkpointKey: "file:checkpoint.key",
                  source: { plugin: "file", settings: { path: "hr.csv" }, maxShrinkPercent: 100 },
                  apps: [ { id: "app", plugin: "stateful", limits: { concurrency: \(concurrency) },
                            settings: { stateFile: "\(stateFile.path)", seed: [
                              { id: "a1", userName: "ann@example.com", email: "ann@example.com", groups: ["eng"] },
                              { id: "a2", userName: "bo@example.com", email: "bo@example.com", groups: ["eng"] },
                              { id: "a3", userName: "cy@example.com", email: "cy@example.com", groups: ["eng", "ops"] } ] },
                            correlate: ["email"], deprovision: { action: "disable", maxPercent: 100 } } ],
                  policies: [ { id: "engineering", when: { department: ["Engineering"] }, grant: [ { app: "app", entitlements: ["group:eng"] } ] } ],
                }
                """)
            try hr([("E1", "ann@example.com", "Engineering", "Engineer", "active"),
                    ("E2", "bo@example.com", "Engineering", "Engineer", "active"),
                    ("E3", "cy@example.com", "Engineering", "Engineer", "active")])
        }

        /// The app's own state, read from its file (not through Steward).
        func appState() throws -> JSONValue { try JSONParser.parse(try Data(contentsOf: stateFile)) }

        func status(of account: String) throws -> String? {
            try appState()["accounts"].arrayValue?.first { $0["id"].stringValue == account }?["status"].stringValue ?? "active"
        }

        func groups(of account: String) throws -> [String] {
            (try appState()["grants"].arrayValue ?? []).filter { $0["accountId"].stringValue == account }.compactMap { $0["entitlementId"].stringValue }.sorted()
        }

        override func remove() {
            super.remove()
            try? FileManager.default.removeItem(at: stateFile)
        }
    }

    /// Two leavers; the connector performs each disable, then writes garbage instead of the
    /// answer (or exits). The host must read the target and journal `applied`, never `failed`.
    @Test(arguments: ["garbage-after-write", "exit-after-write"])
    func aLostAnswerIsSettledByReadingTheTarget(mode: String) throws {
        let folder = try StatefulFolder(mode: mode)
        defer { folder.remove() }
        #expect(try folder.steward(["sync"]).code == 0)
        try folder.hr([("E1", "ann@example.com", "Engineering", "Engineer", "active"),
                       ("E2", "bo@example.com", "Engineering", "Engineer", "terminated"),
                       ("E3", "cy@example.com", "Engineering", "Engineer", "terminated")])
        #expect(try folder.steward(["sync"]).code == 0)
        let apply = try folder.steward(["apply", "--yes"])
        #expect(apply.code == 0, "\(apply.out)\n\(apply.err)")
        #expect(try folder.status(of: "a2") == "disabled")
        #expect(try folder.status(of: "a3") == "disabled")

        let outcomes = try folder.events("action.outcome").filter { $0["data"]["operation"] == "disableAccount" }
        #expect(outcomes.count == 2)
        for o in outcomes {
            #expect(o["data"]["result"] == "applied", "\(o)")
            #expect(o["data"]["note"].stringValue?.contains("settled by reading the target") == true, "\(o)")
        }
        #expect(try folder.events("action.outcome").allSatisfy { $0["data"]["result"] != "failed" })
        let verified = try folder.events("action.verified").filter { $0["data"]["operation"] == "disableAccount" }
        #expect(verified.count == 2 && verified.allSatisfy { $0["data"]["result"] == "verified" })
        // Nothing is left to do: the state the journal folds equals the app.
        #expect(try folder.steward(["sync"]).code == 0)
        let plan = try JSONParser.parse(try folder.steward(["plan", "--json"]).out)
        #expect(plan["actions"].arrayValue?.isEmpty == true, "\(plan)")
        #expect(try folder.journalIntact())
    }

    /// The app says "already so" to a revoke it never performs: the read-back catches it, the
    /// action is journaled unverified with what was seen, apply exits 1, status shows it, and the
    /// next plan does the revoke again.
    @Test func anEffectTheAppDoesNotShowIsUnverified() throws {
        let folder = try StatefulFolder(mode: "lie-about-revokes")
        defer { folder.remove() }
        #expect(try folder.steward(["sync"]).code == 0)
        let apply = try folder.steward(["apply", "--yes"])
        #expect(apply.code == 1, "\(apply.out)\n\(apply.err)")
        #expect(apply.out.contains("UNVERIFIED"))
        #expect(apply.out.contains("1 unverified"))
        #expect(try folder.groups(of: "a3") == ["eng", "ops"], "the app really kept the group")

        let verdicts = try folder.events("action.verified")
        let revoke = try #require(verdicts.first { $0["data"]["operation"] == "revoke" })
        #expect(revoke["data"]["result"] == "unverified")
        #expect(revoke["data"]["seen"].stringValue?.contains("still holds group ops") == true, "\(revoke)")
        #expect(try folder.events("apply.finished").last?["data"]["unverified"] == 1)

        let status = try folder.steward(["status"])
        #expect(status.out.contains("1 UNVERIFIED"), "\(status.out)")
        let again = try JSONParser.parse(try folder.steward(["plan", "--json"]).out)
        let planned = (again["actions"].arrayValue ?? []).compactMap { $0["operation"]["op"].stringValue ?? $0["operation"].stringValue }
        #expect(again["actions"].arrayValue?.count == 1, "the revoke is planned again: \(planned)")
    }

    @Test func noVerifyIsJournaledAndReadsNothingBack() throws {
        let folder = try StatefulFolder(mode: "lie-about-revokes")
        defer { folder.remove() }
        #expect(try folder.steward(["sync"]).code == 0)
        let apply = try folder.steward(["apply", "--yes", "--no-verify"])
        #expect(apply.code == 0, "\(apply.out)\n\(apply.err)")
        #expect(apply.out.contains("Not read back"))
        #expect(try folder.events("apply.started").last?["data"]["verify"] == false)
        #expect(try folder.events("action.verified").isEmpty)
        #expect(try folder.steward(["status"]).out.contains("not read back"))
    }

    /// An end date passing on a row that did not change is a departure: sync journals
    /// `person.left` (end date passed), and status, person show and plan agree.
    @Test func aPassedEndDateIsALeaverInSyncStatusAndPlan() throws {
        let folder = try StatefulFolder(mode: "honest")
        defer { folder.remove() }
        let today = Date()
        func day(_ offset: Int) -> String { String(ISO8601DateFormatter().string(from: today.addingTimeInterval(Double(offset) * 86_400)).prefix(10)) }
        try folder.write("hr.csv", """
            employee_id,email,first_name,last_name,department,title,status,start_date,end_date
            E1,ann@example.com,Ann,A,Engineering,Engineer,active,2020-01-01,
            E2,bo@example.com,Bo,B,Engineering,Engineer,active,2020-01-01,\(day(3))
            E3,cy@example.com,Cy,C,Engineering,Engineer,active,2020-01-01,
            E4,dee@example.com,Dee,D,Engineering,Engineer,pending,\(day(2)),

            """)
        try folder.converge()
        #expect(try folder.events("person.left").isEmpty)

        // Five days later nothing in the file changed, but Bo's end date passed and Dee started.
        let later = ISO8601DateFormatter().string(from: today.addingTimeInterval(5 * 86_400))
        let env = ["STEWARD_NOW": later]
        #expect(try folder.steward(["sync"], environment: env).code == 0)
        let left = try folder.events("person.left")
        #expect(left.count == 1)
        #expect(left.first?["subjects"]["person"] == "E2")
        #expect(left.first?["data"]["reason"] == "endDatePassed")
        #expect(left.first?["data"]["because"] == "end date passed")
        let started = try folder.events("person.joined").filter { $0["data"]["reason"] == "start date arrived" }
        #expect(started.map { $0["subjects"]["person"].stringValue } == ["E4"])

        let status = try JSONParser.parse(try folder.steward(["status", "--json"], environment: env).out)
        #expect(status["people"]["left"] == 1)
        let show = try folder.steward(["person", "show", "E2"], environment: env)
        #expect(show.out.contains("left (end date passed)"), "\(show.out)")
        let plan = try JSONParser.parse(try folder.steward(["plan", "--json"], environment: env).out)
        let bo = (plan["actions"].arrayValue ?? []).filter { $0["person"] == "E2" }
        #expect(!bo.isEmpty && bo.allSatisfy { $0["cause"] == "leaver" }, "\(bo)")
    }

    /// A truncated or broken export that gives everyone an end date trips the source rail like
    /// missing people do.
    @Test func endDatesPassingCountTowardTheSourceShrinkRail() throws {
        let folder = try StatefulFolder(mode: "honest")
        defer { folder.remove() }
        try folder.write("steward.json", try String(contentsOf: folder.dir.appendingPathComponent("steward.json"), encoding: .utf8)
            .replacingOccurrences(of: "maxShrinkPercent: 100", with: "maxShrinkPercent: 50"))
        try folder.converge()
        let yesterday = String(ISO8601DateFormatter().string(from: Date().addingTimeInterval(-86_400)).prefix(10))
        try folder.write("hr.csv", """
            employee_id,email,first_name,last_name,department,title,status,end_date
            E1,ann@example.com,Ann,A,Engineering,Engineer,active,\(yesterday)
            E2,bo@example.com,Bo,B,Engineering,Engineer,active,\(yesterday)
            E3,cy@example.com,Cy,C,Engineering,Engineer,active,

            """)
        #expect(try folder.steward(["sync"]).code == 0)
        let apply = try folder.steward(["apply", "--yes"])
        #expect(apply.code == 3, "\(apply.out)\n\(apply.err)")
        #expect(try folder.status(of: "a1") == "active")
    }

    /// A typo in a policy (`role:Superuser` in an app that has no such role) must not revoke the
    /// role it meant: plan and apply exit 2 naming the file, line, key and the likely fix, and
    /// nothing is sent to the app.
    @Test func aPolicyNamingAnUnknownRoleStopsPlanAndApply() async throws {
        let lab = try await Lab()
        defer { lab.cleanup() }
        try lab.hr(LifecycleTests.base)
        try lab.converge()
        let before = try #require(try await lab.user(email: "bo@example.com"))
        #expect(lab.roles(of: before) == ["Admin"])
        let intentsBefore = try lab.events("action.intent").count

        let config = try String(contentsOf: lab.dir.appendingPathComponent("steward.json"), encoding: .utf8)
        let typo = config.replacingOccurrences(of: #"title: { prefix: "Lead" } }, grant: [ { app: "crm", entitlements: ["role:Admin"] } ]"#,
                                               with: #"title: { prefix: "Lead" } }, grant: [ { app: "crm", entitlements: ["role:Superuser"] } ]"#)
        #expect(typo != config)
        try lab.write("steward.json", typo)
        let line = (typo.components(separatedBy: "\n").firstIndex { $0.contains("role:Superuser") } ?? -1) + 1

        let plan = try lab.steward(["plan"])
        #expect(plan.code == 2, "\(plan.out)\n\(plan.err)")
        #expect(plan.err.contains("steward.json:\(line): policies[3].grant[0].entitlements[0]:"), "\(plan.err)")
        #expect(plan.err.contains("crm has no role:Superuser (named by policy eng-leads)"), "\(plan.err)")
        #expect(plan.err.contains("did you mean role:Admin? known: Admin, User, Viewer"), "\(plan.err)")
        #expect(try lab.steward(["plan", "--json"]).code == 2)

        let apply = try lab.steward(["apply", "--yes"])
        #expect(apply.code == 2, "\(apply.out)\n\(apply.err)")
        #expect(apply.err.contains("nothing was applied"))
        #expect(try lab.events("action.intent").count == intentsBefore, "nothing is sent")
        let blocked = try #require(try lab.events("apply.blocked").last)
        #expect(blocked["data"]["errors"].arrayValue?.first?["kind"] == "unknownEntitlement")
        let after = try #require(try await lab.user(email: "bo@example.com"))
        #expect(lab.roles(of: after) == ["Admin"], "nobody loses what the broken rule meant to grant")

        // A saved plan with errors is refused the same way.
        _ = try lab.steward(["plan", "--out", "plan.json"])
        #expect(try lab.steward(["apply", "plan.json", "--yes"]).code == 2)
    }
}
