import Foundation
import StewardHost
import StewardProtocol
import StewardTestSupport
import Synchronization
import Testing

/// Joiner, mover, leaver end to end: the `steward` binary, the file and SCIM connectors, and the
/// sandbox, all as real processes; effects are checked by reading the sandbox's SCIM API.
@Suite("Joiner, mover, leaver end to end", .serialized)
struct LifecycleTests {
    static let base: [(String, String, String, String, String)] = [
        ("E1", "ann@example.com", "Sales", "Account Executive", "active"),
        ("E2", "bo@example.com", "Engineering", "Lead Engineer", "active"),
        ("E3", "cy@example.com", "Engineering", "Software Engineer", "active"),
        ("E4", "di@example.com", "Support", "Support Agent", "active"),
    ]

    @Test func joinerMoverAndTitleChange() async throws {
        let lab = try await Lab()
        defer { lab.cleanup() }
        try lab.hr(Self.base)
        try lab.converge()

        // Joiners get the right tier and groups.
        let ann = try #require(try await lab.user(email: "ann@example.com"))
        #expect(lab.roles(of: ann) == ["User"])
        #expect(try await lab.groups(of: ann) == ["sales"])
        let bo = try #require(try await lab.user(email: "bo@example.com"))
        #expect(lab.roles(of: bo) == ["Admin"])
        #expect(try await lab.groups(of: bo) == ["engineering"])
        let cy = try #require(try await lab.user(email: "cy@example.com"))
        #expect(lab.roles(of: cy) == ["Viewer"])

        // Cy moves Engineering → Sales; Bo stops being a lead.
        var rows = Self.base
        rows[2] = ("E3", "cy@example.com", "Sales", "Account Executive", "active")
        rows[1] = ("E2", "bo@example.com", "Engineering", "Senior Software Engineer", "active")
        try lab.hr(rows)
        #expect(try lab.steward(["sync"]).code == 0)
        let plan = try lab.steward(["plan", "--json"])
        let actions = try JSONParser.parse(plan.out)["actions"].arrayValue ?? []
        let cyActions = actions.filter { $0["person"] == "E3" }
        #expect(Set(cyActions.compactMap { $0["changeSet"].stringValue }).count == 1, "a mover's revokes and grants are one change set")
        #expect(cyActions.contains { $0["cause"] == "mover" })
        #expect(try lab.steward(["apply", "--yes"]).code == 0)

        let cy2 = try #require(try await lab.user(email: "cy@example.com"))
        #expect(try await lab.groups(of: cy2) == ["sales"])
        #expect(lab.roles(of: cy2) == ["User"])
        let bo2 = try #require(try await lab.user(email: "bo@example.com"))
        #expect(lab.roles(of: bo2) == ["Viewer"])
        #expect(try await lab.groups(of: bo2) == ["engineering"])
        #expect(try lab.journalIntact())
    }

    /// Joiner, mover and leaver against each SCIM profile of the sandbox. `minimal` serves SCIM
    /// as many real providers do: User.groups declared but never filled, no filter on members,
    /// no value-filter PATCH paths, no ETags. After each step a fresh sync must find the app
    /// as the plan left it: nothing more to do.
    @Test(arguments: ["full", "minimal"])
    func joinerMoverLeaverConvergeOnEachSCIMProfile(profile: String) async throws {
        let lab = try await Lab(sandboxArguments: ["--scim-profile", profile])
        defer { lab.cleanup() }
        try lab.hr(Self.base)
        try lab.converge()
        let cy = try #require(try await lab.user(email: "cy@example.com"))
        #expect(try await lab.groups(of: cy) == ["engineering"])
        #expect(lab.roles(of: cy) == ["Viewer"])
        let ann = try #require(try await lab.user(email: "ann@example.com"))
        #expect(try await lab.groups(of: ann) == ["sales"])
        #expect(lab.roles(of: ann) == ["User"])
        try Self.expectNothingLeftToDo(lab, after: "joiners", profile)

        // Cy moves Engineering → Sales: the old group goes, the new one comes, read from the groups.
        var rows = Self.base
        rows[2] = ("E3", "cy@example.com", "Sales", "Account Executive", "active")
        try lab.hr(rows)
        try lab.converge()
        let moved = try #require(try await lab.user(email: "cy@example.com"))
        #expect(try await lab.groups(of: moved) == ["sales"])
        #expect(lab.roles(of: moved) == ["User"])
        try Self.expectNothingLeftToDo(lab, after: "the mover", profile)

        // Cy leaves: disabled, keeping the grants as evidence until deletion.
        rows[2] = ("E3", "cy@example.com", "Sales", "Account Executive", "terminated")
        try lab.hr(rows)
        try lab.converge()
        let left = try #require(try await lab.user(email: "cy@example.com"))
        #expect(left["active"] == false)
        try Self.expectNothingLeftToDo(lab, after: "the leaver", profile)
        #expect(try lab.journalIntact())
    }

    /// A fresh `steward sync`, then `steward plan --json` must plan no actions.
    static func expectNothingLeftToDo(_ lab: Lab, after step: String, _ profile: String,
                                      sourceLocation: SourceLocation = #_sourceLocation) throws {
        let sync = try lab.steward(["sync"])
        #expect(sync.code == 0, "\(profile), after \(step): sync failed: \(sync.err)", sourceLocation: sourceLocation)
        let plan = try lab.steward(["plan", "--json"])
        #expect(plan.code == 0, "\(profile), after \(step): plan failed: \(plan.err)", sourceLocation: sourceLocation)
        let actions = try JSONParser.parse(plan.out)["actions"].arrayValue ?? []
        #expect(actions.isEmpty, "\(profile), after \(step): \(actions.count) actions left: \(plan.out.prefix(800))", sourceLocation: sourceLocation)
    }

    @Test func leaverIsDisabledIncludingAnUnprovisionedAccountThenDeletedAfterGrace() async throws {
        let lab = try await Lab()
        defer { lab.cleanup() }
        // IT never provisioned this account, but it correlates by email to E4.
        _ = try await lab.request("POST", "/Users", body: [
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "di.shadow",
            "emails": [["value": "di@example.com", "type": "work", "primary": true]], "active": true,
        ])
        try lab.hr(Self.base)
        try lab.converge()
        let before = try await lab.users()
        #expect(before.filter { $0["userName"] == "di.shadow" }.count == 1)
        #expect(!before.contains { $0["userName"] == "di@example.com" }, "the existing account was linked, not duplicated")

        var rows = Self.base
        rows[3] = ("E4", "di@example.com", "Support", "Support Agent", "terminated")
        try lab.hr(rows)
        try lab.converge()
        let shadow = try #require(try await lab.users().first { $0["userName"] == "di.shadow" })
        #expect(shadow["active"] == false)

        // 31 days later the grace period has passed: the account is deleted.
        let later = ISO8601DateFormatter().string(from: Date().addingTimeInterval(31 * 86_400))
        let plan = try lab.steward(["plan"], environment: ["STEWARD_NOW": later])
        #expect(plan.out.contains("delete account"))
        #expect(try lab.steward(["apply", "--yes"], environment: ["STEWARD_NOW": later]).code == 0)
        #expect(try await lab.users().first { $0["userName"] == "di.shadow" } == nil)
        #expect(try lab.journalIntact())
    }

    @Test func observeModeNeverWrites() async throws {
        let lab = try await Lab(appJSON: { url in Lab.crmApp(url).replacingOccurrences(of: "{ id: \"crm\",", with: "{ id: \"crm\", mode: \"observe\",") })
        defer { lab.cleanup() }
        try lab.hr(Self.base)
        #expect(try lab.steward(["sync"]).code == 0)
        let plan = try lab.steward(["plan"])
        #expect(plan.out.contains("create account"))
        #expect(plan.out.contains("observe"))
        #expect(try lab.steward(["apply", "--yes"]).code == 0)
        #expect(try await lab.users().isEmpty)
    }

    @Test func aTruncatedHRFileIsBlockedAndChangesNothing() async throws {
        let lab = try await Lab()
        defer { lab.cleanup() }
        var rows: [(String, String, String, String, String)] = []
        for i in 0..<40 { rows.append(("E\(100 + i)", "p\(i)@example.com", "Support", "Support Agent", "active")) }
        try lab.hr(rows)
        try lab.converge()
        let before = try await lab.users()
        #expect(before.count == 40)

        try lab.hr(Array(rows.prefix(4)))  // 90% of people missing
        #expect(try lab.steward(["sync"]).code == 0)
        let plan = try lab.steward(["plan"])
        #expect(plan.out.lowercased().contains("blocked"))
        let apply = try lab.steward(["apply", "--yes"])
        #expect(apply.code == 3)
        let after = try await lab.users()
        #expect(after.filter { $0["active"] == false }.isEmpty)
        #expect(after.count == 40)
    }

    @Test func badConfigNamesTheFileLineAndKey() async throws {
        let lab = try await Lab(policies: """
            { id: "everyone", when: {}, grant: [ { app: "crm", entitlements: ["role:Viewer"] } ] },
            { id: "typo", when: { department: ["Sales"] }, roles: ["no-such-role"] }
            """)
        defer { lab.cleanup() }
        try lab.hr(Self.base)
        let r = try lab.steward(["sync"])
        #expect(r.code == 2)
        #expect(r.err.contains("steward.json:"))
        #expect(r.err.contains("policies[1].roles"))
    }

    @Test func staleSavedPlanIsRefused() async throws {
        let lab = try await Lab()
        defer { lab.cleanup() }
        try lab.hr(Self.base)
        #expect(try lab.steward(["sync"]).code == 0)
        #expect(try lab.steward(["plan", "--out", "plan.json"]).code == 0)
        #expect(try lab.steward(["sync"]).code == 0)  // nothing changed: still current
        let applied = try lab.steward(["apply", "plan.json", "--yes"])
        #expect(applied.code == 0, "\(applied.err)")
        #expect(try await lab.users().count == 4)
        let again = try lab.steward(["apply", "plan.json", "--yes"])
        #expect(again.code == 1)
        #expect(again.err.contains("stale"))
    }

    /// SIGKILL `steward apply` at random moments; each rerun converges with no duplicate account
    /// and an intact journal.
    @Test func applySurvivesSIGKILLAtRandomMoments() async throws {
        let lab = try await Lab()
        defer { lab.cleanup() }
        var rows: [(String, String, String, String, String)] = []
        var rng = SystemRandomNumberGenerator()
        for trial in 0..<20 {
            // Each trial brings new joiners and a mover, so there is always work to interrupt.
            for j in 0..<4 {
                let n = trial * 10 + j
                rows.append(("E\(1000 + n)", "u\(n)@example.com", ["Sales", "Engineering", "Support"][n % 3], n % 5 == 0 ? "Lead Engineer" : "Staff", "active"))
            }
            if rows.count > 3 { rows[trial % rows.count].2 = ["Sales", "Engineering", "Support"][(trial + 1) % 3] }
            try lab.hr(rows)
            #expect(try lab.steward(["sync"]).code == 0)

            let p = Process()
            p.executableURL = URL(fileURLWithPath: Lab.stewardPath)
            p.arguments = ["apply", "--yes"]
            p.currentDirectoryURL = lab.dir
            p.standardOutput = FileHandle.nullDevice
            p.standardError = FileHandle.nullDevice
            p.standardInput = FileHandle.nullDevice
            try p.run()
            try await Task.sleep(nanoseconds: UInt64.random(in: 5_000_000...250_000_000, using: &rng))
            kill(p.processIdentifier, SIGKILL)
            p.waitUntilExit()

            let rerun = try lab.steward(["apply", "--yes"])
            #expect(rerun.code == 0, "trial \(trial): \(rerun.out) \(rerun.err)")
            // The state the rerun left is what the rules say, verified against the app itself.
            #expect(try lab.steward(["sync"]).code == 0)
            let plan = try lab.steward(["plan", "--json"])
            let remaining = try JSONParser.parse(plan.out)["actions"].arrayValue ?? []
            #expect(remaining.isEmpty, "trial \(trial): \(remaining.count) actions left: \(plan.out.prefix(600))")
            let users = try await lab.users()
            let names = users.compactMap { $0["userName"].stringValue }
            #expect(Set(names).count == names.count, "trial \(trial): duplicate accounts")
            #expect(names.count == rows.count)
            #expect(try lab.journalIntact(), "trial \(trial): journal not intact")
        }
    }

    @Test func demoRunsAndLeavesAWorkingFolder() async throws {
        let demo = try await SharedDemo.run.value
        #expect(demo.code == 0, "\(demo.output.suffix(2000))")
        #expect(demo.output.contains("verified intact"))
        let status = try Lab.steward(["status", "--json"], in: demo.dir)
        let doc = try JSONParser.parse(status.out)
        #expect(status.code == 0)
        #expect((doc["people"]["active"].intValue ?? 0) > 190)
    }

    /// The demo leaves a finding of every kind open for `steward discover`: the leaver still
    /// active in an app nobody connected first, the orphan with its likely owner, the dormant paid
    /// seat, the ownerless service account with Admin, and shadow apps from both exports.
    @Test func demoLeavesAFindingOfEveryKindOpen() async throws {
        let demo = try await SharedDemo.run.value
        #expect(demo.code == 0, "\(demo.output.suffix(2000))")
        #expect(demo.output.contains("== Discovery"))
        let run = try Lab.steward(["discover", "--json"], in: demo.dir)
        #expect(run.code == 0, "\(run.err)")
        let doc = try JSONParser.parse(run.out)
        for kind in ["leftover", "orphan", "dormant", "privileged", "service", "shadow"] {
            #expect((doc["counts"][kind].intValue ?? 0) >= 1, "no open \(kind) finding: \(doc["counts"])")
        }
        let findings = doc["findings"].arrayValue ?? []
        #expect(findings.first?["urgent"] == true && findings.first?["app"] == "Notion", "\(findings.first ?? .null)")
        #expect(findings.contains { $0["kind"] == "orphan" && $0["accountName"].stringValue?.hasSuffix("@acme-old.example") == true && !($0["candidates"].arrayValue ?? []).isEmpty })
        #expect(findings.contains { $0["kind"] == "dormant" && $0["monthlyCost"] == 35 })
        #expect(!findings.contains { $0["kind"] == "shadow" && $0["app"] == "GitHub" }, "GitHub is connected")
        // The leaver's accounts were found and closed: finding.resolved, disabled.
        let resolved = try StewardFolder(existing: demo.dir).events("finding.resolved")
        #expect(resolved.contains { $0["data"]["kind"] == "leftover" && $0["data"]["resolution"] == "disabled" })
    }

    /// The demo's two-stage review: scripted decisions of every kind, revokes read back from the
    /// sandbox, and the report in all four formats under `reports/`.
    @Test func demoRunsAReviewCampaignAndWritesItsReport() async throws {
        let demo = try await SharedDemo.run.value
        #expect(demo.code == 0, "\(demo.output.suffix(2000))")
        let reports = demo.dir.appendingPathComponent("reports")
        #expect(demo.output.contains(reports.path))
        let json = try JSONParser.parse(try String(contentsOf: reports.appendingPathComponent("quarterly-crm-1.json"), encoding: .utf8))
        #expect(json["format"] == "steward-review-report/1")
        let summary = json["summary"]
        #expect(summary["open"] == 0)
        #expect(summary["revokedVerified"].intValue ?? 0 >= 3, "\(summary)")
        #expect(summary["revokeFailed"] == 0)
        #expect(summary["expired"] == 1)
        #expect(summary["delegations"] == 1)
        #expect(summary["selfReviewsBlocked"].intValue ?? 0 >= 1)
        #expect(summary["kept"].intValue ?? 0 > 200)
        let html = try String(contentsOf: reports.appendingPathComponent("quarterly-crm-1.html"), encoding: .utf8)
        #expect(html.contains("quarterly-crm-1"))
        let csv = try String(contentsOf: reports.appendingPathComponent("quarterly-crm-1.csv"), encoding: .utf8)
        #expect(csv.utf8.filter { $0 == 0x0A }.count > 329)  // RFC 4180 lines end in CRLF
        if ProcessInfo.processInfo.environment["STEWARD_REQUIRE_CHROMIUM"] == "1" || FileManager.default.fileExists(atPath: "/usr/lib/chromium/chromium") {
            let pdf = try Data(contentsOf: reports.appendingPathComponent("quarterly-crm-1.pdf"))
            #expect(pdf.starts(with: Array("%PDF".utf8)))
        }
        let show = try Lab.steward(["review", "show", "quarterly-crm-1", "--json"], in: demo.dir)
        #expect(try JSONParser.parse(show.out)["closed"] == true)
        #expect(try Lab.steward(["audit", "verify"], in: demo.dir).code == 0)
    }
}

/// One `steward demo` run, shared by the tests that read what it leaves behind (it takes a
/// minute). Its folder is removed when the test process exits.
enum SharedDemo {
    struct Result: Sendable {
        var dir: URL
        var code: Int32
        var output: String
    }

    static let run = Task<Result, Error> {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("steward-demo-\(UUID().uuidString)")
        atexit { SharedDemo.removeFolders() }
        folders.withLock { $0.append(dir) }
        let demo = try await ProgramRun.run(Lab.stewardPath, ["demo", "--dir", dir.path])
        FileHandle.standardError.write(Data(demo.err.utf8))
        return Result(dir: dir, code: demo.code, output: demo.out)
    }

    private static let folders = Mutex<[URL]>([])

    static func removeFolders() {
        for dir in folders.withLock({ $0 }) { try? FileManager.default.removeItem(at: dir) }
    }
}
