import Foundation
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
    /// Run the access review campaign after the second round (benchmarks of the loop skip it).
    public var reviews = true
    /// Tabs the browser-driven app works with at once (its `pages` and `limits.concurrency`);
    /// nil leaves the connector's default. LifecycleBench compares 1 and 4.
    public var browserPages: Int?

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
        /// The access review campaign, when it ran.
        public var review: DemoReviewResult?
        /// Open discovery findings per kind after the second round.
        public var findings: [String: Int] = [:]
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
        try write("link.key", Self.randomHex() + "\n", mode: 0o600)
        try write("webhook.secret", Self.randomHex() + "\n", mode: 0o600)
        let today = String(ISO8601DateFormatter().string(from: Date()).prefix(10))
        let world = DemoWorld.initial(scale: scale)
        try write("hr.csv", world.csv)
        let registry = PluginRegistry(configDirectory: directory)
        let crmOwner = world.people.first { $0.department == "Engineering" && $0.managerId == nil }?.email ?? DemoReview.security
        let apps = DemoConfig.apps(sandbox: sandbox, registry: registry, crmOwner: crmOwner.lowercased(), browserPages: browserPages)
        try write("steward.json", DemoConfig.text(apps: apps))
        say("Wrote \(directory.path)/steward.json with apps \(apps.map(\.id).joined(separator: ", ")) and \(world.people.count) people in hr.csv")

        // Things IT never provisioned: an account for someone who will leave, a stranger's, an
        // old one under a former domain, a job's; and the exports that show apps in use.
        let (_, changesPreview) = world.secondRound(today: today)
        let discovery = DemoDiscovery(world: world, directory: directory, say: say)
        if let scim = sandbox.apps["scim"] {
            try await DemoConfig.seedSCIM(baseURL: scim, token: sandbox.token, world: world, futureLeaver: changesPreview.leavers.first)
            try await discovery.seedCRM(baseURL: scim, token: sandbox.token)
        }
        try discovery.writeExports(leaver: changesPreview.leavers.first.flatMap(world.person), now: Date())

        let configPath = directory.appendingPathComponent("steward.json").path
        say("\n== Round 1: first sync, plan and apply")
        var timings: [(String, Double)] = []
        let (plan1, apply1) = try await round(configPath: configPath, name: "round1", timings: &timings)

        say("\n== HR changes: joiners \(changesPreview.joiners.joined(separator: ", ")); movers \(changesPreview.movers.joined(separator: ", ")); leavers \(changesPreview.leavers.joined(separator: ", "))")
        if let scim = sandbox.apps["scim"] { try await discovery.recordSignIns(baseURL: scim, token: sandbox.token, now: Date()) }
        let (world2, changes) = world.secondRound(today: today)
        try write("hr.csv", world2.csv)
        say("\n== Round 2: sync, plan and apply after the HR changes")
        let (plan2, apply2) = try await round(configPath: configPath, name: "round2", timings: &timings)

        say("\n== Discovery: accounts nobody answers for, and apps in use nobody connected")
        let discoveryStarted = Date()
        let findings = try await discovery.report(configPath: configPath)
        timings.append(("discovery", Date().timeIntervalSince(discoveryStarted)))

        var review: DemoReviewResult?
        if reviews, sandbox.apps["scim"] != nil {
            say("\n== Access review: a two-stage campaign over the CRM")
            let started = Date()
            review = try await DemoReview(configPath: configPath, world: world2, sandbox: sandbox, directory: directory, say: say).run()
            timings.append(("review", Date().timeIntervalSince(started)))
        }

        // Verify the journal the way an auditor would.
        let ws = try Workspace.open(configPath: configPath, actor: "steward demo")
        let events = ws.journal.size
        _ = try? ws.journal.checkpoint()
        await ws.close()
        let key = try? ws.config.resolvedCheckpointKey()
        let report = JournalVerifier.verify(directory: ws.config.stateDirectory.appendingPathComponent("journal"), key: key)
        say("\n== Journal: \(events) events, \(report.checkpointsChecked) signed checkpoints; verify: \(report.intact ? "intact" : "NOT INTACT at seq \(report.divergence?.seq ?? 0): \(report.divergence.map { "\($0.kind.rawValue)" } ?? "")")")
        await keepSandbox(sandbox)
        return Result(firstPlan: plan1, secondPlan: plan2, firstApply: apply1, secondApply: apply2, changes: changes,
                      journalEvents: events, verified: report.intact, apps: apps.map(\.id), timings: timings, review: review,
                      findings: findings)
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

    private static func randomHex() -> String {
        (0..<32).map { _ in String(format: "%02x", UInt8.random(in: 0...255)) }.joined()
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
