import Foundation
import StewardCore
import StewardHost
import StewardJSON
import StewardProtocol
import StewardTestSupport
import Testing

/// The whole loop (HR file → sync → plan → apply) with the GitHub definition against the
/// sandbox: joiners invited and put in teams, a mover changing teams, an owner downgraded to
/// member, a leaver removed. Every phase is checked by reading the sandbox directly.
@Suite("GitHub through sync, plan and apply", .serialized)
struct GitHubLifecycleTests {
    @Test func joinerMoverDowngradeLeaver() async throws {
        try await runScenario(sandboxArguments: [], phases: .all)
    }

    /// The demo's way: accounts named by email, so people are invited by email, and matched
    /// by email while invited and by login (the email's local part) once they have joined.
    @Test func invitationsByEmailConverge() async throws {
        try await runScenario(sandboxArguments: [], phases: [.join, .leave], userNames: .email)
    }

    /// Under secondary rate limits every apply still succeeds, and no request to the app
    /// comes before the `Retry-After` it was given has passed.
    @Test func convergesUnderRateLimits() async throws {
        let stats = try await runScenario(sandboxArguments: ["--rate-limit", "12/s"], phases: [.join, .leave])
        #expect((stats["rateLimited"].intValue ?? 0) > 0, "the sandbox never rate-limited: \(stats)")
        #expect(stats["earlyRetries"].intValue == 0, "requests came before Retry-After had passed: \(stats)")
    }
}

private struct Phases: OptionSet {
    let rawValue: Int
    static let join = Phases(rawValue: 1)
    static let move = Phases(rawValue: 2)
    static let downgrade = Phases(rawValue: 4)
    static let leave = Phases(rawValue: 8)
    static let all: Phases = [.join, .move, .downgrade, .leave]
}

/// Runs the phases and returns the sandbox's request statistics.
private enum UserNames {
    /// Logins: the email's local part, invited by user id.
    case login
    /// Email addresses, invited by email.
    case email
}

@discardableResult
private func runScenario(sandboxArguments: [String], phases: Phases, userNames: UserNames = .login) async throws -> JSONValue {
    let sandbox = try GitHubSandbox(sandboxArguments)
    defer { sandbox.stop() }
    let dir = try TemporaryDirectory()
    defer { dir.remove() }
    try dir.write("github-token", sandbox.token + "\n")
    try dir.write("steward.json", """
        {
          state: ".steward",
          source: { plugin: "file", settings: { path: "hr.csv" } },
          apps: [{
            id: "github", plugin: "rest",
            settings: { definition: "\(Products.appDefinition("github"))", baseURL: "\(sandbox.baseURL)", org: "acme" },
            secrets: { token: "file:github-token" },
            limits: { concurrency: 1 },
            \(userNames == .login ? #"userName: "emailLocalPart", correlate: ["userName"],"# : #"correlate: ["email", "userName"],"#)
            deprovision: { action: "delete", maxPercent: 100 },
          }],
          policies: [
            { id: "engineering", when: { department: ["Engineering"] }, grant: [{ app: "github", entitlements: ["team:engineering", "role:member"] }] },
            { id: "security", when: { department: ["Security"] }, grant: [{ app: "github", entitlements: ["team:security", "role:member"] }] },
            { id: "managers", when: { title: ["Engineering Manager"] }, grant: [{ app: "github", entitlements: ["role:admin"] }] },
          ],
        }
        """)
    func hr(_ rows: [String]) throws {
        try dir.write("hr.csv", (["employee_id,email,first_name,last_name,department,title,status"] + rows).joined(separator: "\n") + "\n")
    }
    let configPath = dir.url.appendingPathComponent("steward.json").path

    /// Sync, plan and apply until a plan has nothing left to do.
    func converge(_ phase: String) async throws {
        let ws = try Workspace.open(configPath: configPath, actor: "test", events: ConnectorEvents(log: { _ in }))
        do {
            let converged = try await rounds(ws, phase)
            #expect(converged, "\(phase): no converged plan after 5 rounds")
        } catch {
            await ws.close()
            throw error
        }
        await ws.close()
    }
    func rounds(_ ws: Workspace, _ phase: String) async throws -> Bool {
        for round in 1...5 {
            let sync = try await SyncEngine(workspace: ws).run()
            #expect(!sync.failed, "\(phase), round \(round): sync failed: \(JSONWriter.string(sync.json))")
            let plan = try await PlanEngine(workspace: ws).plan().plan
            #expect(!plan.isBlocked, "\(phase): plan blocked")
            if plan.executableActions.isEmpty { return true }
            let summary = try await Executor(workspace: ws).apply(plan)
            #expect(summary.failed == 0, "\(phase), round \(round): \(summary.failures)")
        }
        return false
    }

    // Joiners: invited, given their teams and tier; they join when they accept.
    try hr(["E1,ann@example.com,Ann,Lee,Engineering,Engineer,active",
            "E2,bo@example.com,Bo,Ek,Engineering,Engineering Manager,active"])
    try await converge("join (invitations)")
    var org = try await sandbox.state()
    #expect(org.isInvited("ann") && org.isInvited("bo"))
    #expect(org.pendingTeams(of: "ann") == ["engineering"])
    #expect(org.invitationRole("bo") == "admin")
    try await sandbox.call("POST", "/_sandbox/invitations/accept")
    try await converge("join (accepted)")
    org = try await sandbox.state()
    #expect(org.role(of: "ann") == "member")
    #expect(org.role(of: "bo") == "admin")
    #expect(org.teams(of: "ann") == ["engineering"])
    #expect(org.teams(of: "bo") == ["engineering"])

    if phases.contains(.move) {
        try hr(["E1,ann@example.com,Ann,Lee,Security,Engineer,active",
                "E2,bo@example.com,Bo,Ek,Engineering,Engineering Manager,active"])
        try await converge("move")
        org = try await sandbox.state()
        #expect(org.teams(of: "ann") == ["security"])
        #expect(org.role(of: "ann") == "member")
    }
    if phases.contains(.downgrade) {
        try hr(["E1,ann@example.com,Ann,Lee,Security,Engineer,active",
                "E2,bo@example.com,Bo,Ek,Engineering,Engineer,active"])
        try await converge("downgrade")
        org = try await sandbox.state()
        #expect(org.role(of: "bo") == "member")
        #expect(org.teams(of: "bo") == ["engineering"])
    }
    if phases.contains(.leave) {
        try hr(["E1,ann@example.com,Ann,Lee,\(phases.contains(.move) ? "Security" : "Engineering"),Engineer,active",
                "E2,bo@example.com,Bo,Ek,Engineering,Engineer,terminated"])
        try await converge("leave")
        org = try await sandbox.state()
        #expect(org.role(of: "bo") == nil)
        #expect(!org.isInvited("bo"))
        #expect(org.teams(of: "bo").isEmpty)
        #expect(org.role(of: "ann") == "member")
    }
    // The owner nobody in HR matches is an orphan: reported, never touched.
    #expect(org.role(of: "sandbox-admin") == "admin")
    return try await sandbox.call("GET", "/_sandbox/stats")
}
