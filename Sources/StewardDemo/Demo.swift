import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import StewardCore
import StewardHost
import StewardJournal
import StewardProtocol

/// `steward demo`: the whole loop on this machine against the sandbox's stand-in apps.
///
/// It writes a working Steward folder (config, HR export, checkpoint key beside the config),
/// runs sync → plan → apply, changes HR (joiners, movers, leavers), runs the loop again, and
/// verifies the journal. Every step goes through the real connectors and the journal.
public struct Demo: Sendable {
    public var directory: URL
    /// Multiplies the company's size (1: about 200 people); benchmarks use larger ones.
    public var scale: Int
    /// Where the demo's narrative goes (stdout in the CLI).
    public var say: @Sendable (String) -> Void
    /// Read every touched account back after each apply (benchmarks compare without).
    public var verifies = true

    public init(directory: URL, scale: Int = 1, say: @escaping @Sendable (String) -> Void) {
        self.directory = directory
        self.scale = scale
        self.say = say
    }

    public struct Result: Sendable {
        public var firstPlan: Plan
        public var secondPlan: Plan
        public var firstApply: Executor.Summary
        public var secondApply: Executor.Summary
        public var changes: DemoWorld.Changes
        public var journalEvents: Int
        public var verified: Bool
        public var apps: [String]
        /// Wall time of each step, in seconds, by name (`round1.sync`, `round2.apply`, ...).
        public var timings: [(String, Double)]
    }

    /// Runs the demo. The sandbox runs until `keepSandbox` returns (the CLI's `--keep` waits
    /// for Ctrl-C there).
    public func run(keepSandbox: @Sendable (SandboxProcess) async -> Void = { _ in }) async throws -> Result {
        // Every plugin the demo uses must be found before anything is written or started.
        try DemoConfig.requirePlugins(PluginRegistry(configDirectory: directory))
        try prepareDirectory()
        let sandbox = try SandboxProcess.start(arguments: ["--seed", "42", "--state", directory.appendingPathComponent("sandbox-state.json").path])
        defer { sandbox.stop() }
        say("Sandbox apps: " + sandbox.apps.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))

        // The folder: token and checkpoint key as files beside the config, HR export, config.
        try write("sandbox.token", sandbox.token + "\n", mode: 0o600)
        var keyBytes = [UInt8](repeating: 0, count: 32)
        for i in keyBytes.indices { keyBytes[i] = UInt8.random(in: 0...255) }
        try write("checkpoint.key", Data(keyBytes).base64EncodedString() + "\n", mode: 0o600)
        let today = String(ISO8601DateFormatter().string(from: Date()).prefix(10))
        let world = DemoWorld.initial(scale: scale)
        try write("hr.csv", world.csv)
        let registry = PluginRegistry(configDirectory: directory)
        let apps = DemoConfig.apps(sandbox: sandbox, registry: registry)
        try write("steward.json", DemoConfig.text(apps: apps))
        say("Wrote \(directory.path)/steward.json with apps \(apps.map(\.id).joined(separator: ", ")) and \(world.people.count) people in hr.csv")

        // Things IT never provisioned: an account for someone who will leave, and a stranger's.
        let (_, changesPreview) = world.secondRound(today: today)
        if let scim = sandbox.apps["scim"] {
            try await DemoConfig.seedSCIM(baseURL: scim, token: sandbox.token, world: world, futureLeaver: changesPreview.leavers.first)
        }

        let configPath = directory.appendingPathComponent("steward.json").path
        say("\n== Round 1: first sync, plan and apply")
        var timings: [(String, Double)] = []
        let (plan1, apply1) = try await round(configPath: configPath, name: "round1", timings: &timings)

        say("\n== HR changes: joiners \(changesPreview.joiners.joined(separator: ", ")); movers \(changesPreview.movers.joined(separator: ", ")); leavers \(changesPreview.leavers.joined(separator: ", "))")
        let (world2, changes) = world.secondRound(today: today)
        try write("hr.csv", world2.csv)
        say("\n== Round 2: sync, plan and apply after the HR changes")
        let (plan2, apply2) = try await round(configPath: configPath, name: "round2", timings: &timings)

        // Verify the journal the way an auditor would.
        let ws = try Workspace.open(configPath: configPath, actor: "steward demo")
        let events = ws.journal.size
        _ = try? ws.journal.checkpoint()
        await ws.close()
        // The key the workspace opened the journal with: the config's `file:checkpoint.key`.
        let key = ws.journal.options.checkpointKey
        let report = JournalVerifier.verify(directory: ws.config.stateDirectory.appendingPathComponent("journal"), key: key)
        say("\n== Journal: \(events) events, \(report.checkpointsChecked) signed checkpoints; verify: \(report.intact ? "intact" : "NOT INTACT at seq \(report.divergence?.seq ?? 0): \(report.divergence.map { "\($0.kind.rawValue)" } ?? "")")")
        await keepSandbox(sandbox)
        return Result(firstPlan: plan1, secondPlan: plan2, firstApply: apply1, secondApply: apply2, changes: changes,
                      journalEvents: events, verified: report.intact, apps: apps.map(\.id), timings: timings)
    }

    /// One sync → plan → apply round, in a fresh workspace like separate commands would be.
    private func round(configPath: String, name: String, timings: inout [(String, Double)]) async throws -> (Plan, Executor.Summary) {
        var clock = Date()
        func lap(_ step: String) {
            timings.append(("\(name).\(step)", Date().timeIntervalSince(clock)))
            clock = Date()
        }
        let ws = try Workspace.open(configPath: configPath, actor: "steward demo")
        do {
            let sync = try await SyncEngine(workspace: ws).run()
            lap("sync")
            say("sync: HR \(sync.people) people (\(sync.joined) joined, \(sync.moved) moved, \(sync.left) left); "
                + sync.apps.map { "\($0.id) \($0.accounts) accounts\($0.error.map { " FAILED: \($0)" } ?? "")" }.joined(separator: ", "))
            if sync.failed { throw WorkspaceError(message: "sync failed: \(sync.sourceError ?? sync.apps.compactMap(\.error).joined(separator: "; "))") }
            let plan = try await PlanEngine(workspace: ws).plan().plan
            lap("plan")
            say(PlanRenderer.text(plan))
            clock = Date()
            var executor = Executor(workspace: ws)
            executor.verifies = verifies
            let summary = try await executor.apply(plan)
            lap("apply")
            say("apply: \(summary.applied) applied, \(summary.alreadyApplied) already so, \(summary.failed) failed, \(summary.skipped) skipped; read back: \(summary.verified) verified, \(summary.unverified) unverified")
            for f in summary.failures.prefix(10) { say("  failed: \(f)") }
            for u in summary.unverifiedActions.prefix(10) { say("  unverified: \(u)") }
            await ws.close()
            return (plan, summary)
        } catch {
            await ws.close()
            throw error
        }
    }

    private func prepareDirectory() throws {
        let fm = FileManager.default
        let marker = directory.appendingPathComponent(".steward-demo")
        if fm.fileExists(atPath: directory.path) {
            let contents = (try? fm.contentsOfDirectory(atPath: directory.path)) ?? []
            guard contents.isEmpty || fm.fileExists(atPath: marker.path) else {
                throw WorkspaceError(message: "\(directory.path) exists and is not a demo folder; give an empty or new --dir")
            }
            for item in contents { try fm.removeItem(at: directory.appendingPathComponent(item)) }
        }
        try fm.createDirectory(at: directory, withIntermediateDirectories: true)
        try Data("made by steward demo; safe to delete\n".utf8).write(to: marker)
    }

    private func write(_ name: String, _ text: String, mode: Int? = nil) throws {
        let url = directory.appendingPathComponent(name)
        try Data(text.utf8).write(to: url, options: .atomic)
        if let mode { chmod(url.path, mode_t(mode)) }
    }
}

/// The demo's config and app seeding.
enum DemoConfig {
    /// The GitHub-shaped app joins the demo once its people can be invited by email.
    static let demoIncludesGitHub = true

    struct App {
        var id: String
        var json: String
    }

    /// The plugins the demo's config names.
    static let plugins = ["file", "scim", "rest", "browser"]

    /// Fails, naming what is missing, where it looked and how to fix it, unless every plugin the
    /// demo uses is installed.
    static func requirePlugins(_ registry: PluginRegistry) throws {
        let missing = plugins.filter { registry.manifest(named: $0) == nil }
        guard missing.isEmpty else {
            throw WorkspaceError(message: "the demo needs the \(missing.joined(separator: ", ")) plugin\(missing.count == 1 ? "" : "s"), not found in \(registry.searchPath.map(\.path).joined(separator: ", ")). Install Steward with `steward install --prefix DIR` (from a build: `swift build -c release && .build/release/steward install --prefix DIR`) and run DIR/bin/steward, or set STEWARD_PLUGIN_PATH to the folder holding the plugins")
        }
        for name in plugins {
            guard let manifest = registry.manifest(named: name), manifest.resolvedCommand() != nil else {
                throw WorkspaceError(message: "the \(name) plugin's program \(registry.manifest(named: name)?.command.first ?? "") is not beside steward nor on PATH; build it (`swift build`) or install Steward with `steward install`")
            }
        }
    }

    /// The apps the sandbox offers and this build has a connector for.
    static func apps(sandbox: SandboxProcess, registry: PluginRegistry) -> [App] {
        var apps: [App] = []
        if let scim = sandbox.apps["scim"], registry.manifest(named: "scim") != nil {
            apps.append(App(id: "crm", json: """
                    { id: "crm", plugin: "scim", mode: "enforce",
                      settings: { baseURL: "\(scim)", roleTiers: ["Admin", "User", "Viewer"] },
                      secrets: { token: "file:sandbox.token" },
                      correlate: ["employeeNumber", "email", "userName"],
                      deprovision: { action: "disable", deleteAfterDays: 30, maxPercent: 10 } }
                """))
        }
        if let github = sandbox.apps["github"], registry.manifest(named: "rest") != nil, demoIncludesGitHub {
            apps.append(App(id: "github", json: """
                    { id: "github", plugin: "rest", mode: "enforce",
                      settings: { definition: "github", baseURL: "\(github)", org: "acme" },
                      secrets: { token: "file:sandbox.token" },
                      correlate: ["email", "userName"],
                      deprovision: { action: "delete", maxPercent: 10 } }
                """))
        }
        if let legacy = sandbox.apps["legacy"], registry.manifest(named: "browser") != nil {
            apps.append(App(id: "legacy", json: """
                    { id: "legacy", plugin: "browser", mode: "enforce",
                      settings: { recipe: "legacy", baseURL: "\(legacy)", username: "admin" },
                      secrets: { password: "file:sandbox.token" },
                      correlate: ["email", "userName"],
                      deprovision: { action: "disable", maxPercent: 10 } }
                """))
        }
        return apps
    }

    static func text(apps: [App]) -> String {
        let ids = Set(apps.map(\.id))
        var everyone: [String] = []
        if ids.contains("crm") { everyone.append(#"{ app: "crm", entitlements: ["role:Viewer"] }"#) }
        var engineering: [String] = []
        if ids.contains("crm") { engineering.append(#"{ app: "crm", entitlements: ["group:engineering"] }"#) }
        if ids.contains("github") { engineering.append(#"{ app: "github", entitlements: ["role:member", "team:engineering"] }"#) }
        var leads: [String] = []
        if ids.contains("crm") { leads.append(#"{ app: "crm", entitlements: ["role:Admin"] }"#) }
        if ids.contains("github") { leads.append(#"{ app: "github", entitlements: ["role:admin"] }"#) }
        var salesRole: [String] = []
        if ids.contains("crm") { salesRole.append(#"{ app: "crm", entitlements: ["role:User", "group:sales"] }"#) }
        if ids.contains("github") { salesRole.append(#"{ app: "github", entitlements: ["role:member", "team:sales-engineering"] }"#) }
        var support: [String] = []
        if ids.contains("crm") { support.append(#"{ app: "crm", entitlements: ["group:support"] }"#) }
        // The browser-driven app is slow to drive, so only a few people use it: finance, and the
        // senior engineers who approve its changes (one of them leaves in round 2).
        var seniorEngineers: [String] = []
        if ids.contains("legacy") { seniorEngineers.append(#"{ app: "legacy", entitlements: ["role:Viewer", "group:Engineering"] }"#) }
        var finance: [String] = []
        if ids.contains("legacy") { finance.append(#"{ app: "legacy", entitlements: ["role:Editor", "group:Finance"] }"#) }

        var policies: [String] = []
        if !everyone.isEmpty { policies.append(#"{ id: "everyone", when: {}, grant: [\#(everyone.joined(separator: ", "))] }"#) }
        if !salesRole.isEmpty { policies.append(#"{ id: "sales", when: { department: ["Sales"] }, roles: ["sales-rep"] }"#) }
        if !engineering.isEmpty { policies.append(#"{ id: "engineering", when: { department: ["Engineering"] }, grant: [\#(engineering.joined(separator: ", "))] }"#) }
        if !leads.isEmpty { policies.append(#"{ id: "eng-leads", when: { department: ["Engineering"], title: { prefix: "Lead" } }, grant: [\#(leads.joined(separator: ", "))] }"#) }
        if !support.isEmpty { policies.append(#"{ id: "support", when: { department: ["Support"] }, grant: [\#(support.joined(separator: ", "))] }"#) }
        if !seniorEngineers.isEmpty { policies.append(#"{ id: "senior-engineers", when: { department: ["Engineering"], title: { prefix: "Senior" } }, grant: [\#(seniorEngineers.joined(separator: ", "))] }"#) }
        if !finance.isEmpty { policies.append(#"{ id: "finance", when: { department: ["Finance"] }, grant: [\#(finance.joined(separator: ", "))] }"#) }
        return """
            // Written by `steward demo`. Paths are relative to this file.
            {
              state: ".steward",
              checkpointKey: "file:checkpoint.key",
              source: { plugin: "file", settings: { path: "hr.csv" }, maxShrinkPercent: 20 },
              apps: [
            \(apps.map(\.json).joined(separator: ",\n"))
              ],
              roles: { "sales-rep": [\(salesRole.joined(separator: ", "))] },
              policies: [
                \(policies.joined(separator: ",\n    "))
              ],
            }

            """
    }

    /// Creates the SCIM app's groups, an account nobody provisioned for a future leaver, and an
    /// orphan.
    static func seedSCIM(baseURL: String, token: String, world: DemoWorld, futureLeaver: String?) async throws {
        for group in ["engineering", "sales", "support"] {
            try await post(baseURL + "/Groups", token: token, body: [
                "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": .string(group),
            ])
        }
        var users: [(String, String)] = [("contractor.zed@example.com", "Zed Contractor")]
        if let id = futureLeaver, let p = world.person(id) { users.append((p.email, p.fullName ?? p.email)) }
        for (email, name) in users {
            try await post(baseURL + "/Users", token: token, body: [
                "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": .string(email), "displayName": .string(name),
                "emails": [["value": .string(email), "type": "work", "primary": true]], "active": true,
            ])
        }
    }

    static func post(_ url: String, token: String, body: JSONValue) async throws {
        guard let u = URL(string: url) else { throw WorkspaceError(message: "bad URL \(url)") }
        var request = URLRequest(url: u)
        request.httpMethod = "POST"
        request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization")
        request.setValue("application/scim+json", forHTTPHeaderField: "Content-Type")
        request.httpBody = Data(JSONWriter.bytes(body))
        let (_, response) = try await URLSession.shared.data(for: request)
        let status = (response as? HTTPURLResponse)?.statusCode ?? 0
        guard (200..<300).contains(status) || status == 409 else {
            throw WorkspaceError(message: "seeding the sandbox: POST \(url) answered \(status)")
        }
    }
}
