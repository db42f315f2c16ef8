import Foundation
import StewardCore
import StewardJournal
import StewardProtocol

/// The work `steward serve` does on the Steward folder, one job at a time: scheduled syncs,
/// the syncs HR webhooks ask for, and (with `apply: "auto"`) the plan and apply after each.
///
/// Each job opens the folder for itself and closes it after, so the journal's writer lock is
/// held only while a job runs and `steward apply` or `steward sync` from a terminal still work
/// between jobs (a job that finds the lock taken waits for it).
public actor ServiceWork {
    public let configPath: String
    private let autoApply: Bool
    private let log: @Sendable (String) -> Void
    public private(set) var metrics = ServiceMetrics()
    /// Connector restarts by app, counted from the connectors' own threads.
    private let restarts = LockedValue<[String: Int]>([:])
    /// Set by `stop()`: queued jobs are dropped and an apply in progress starts nothing new.
    private let stopping = LockedValue(false)

    /// Stops taking work: jobs not yet started are dropped, and an apply in progress lets its
    /// actions in flight finish and starts no others (they are journaled as skipped).
    public nonisolated func stop() {
        stopping.withLock { $0 = true }
    }

    /// What `/metrics` shows: the counters, with the restarts so far.
    public var snapshot: ServiceMetrics {
        var m = metrics
        m.connectorRestarts = restarts.withLock { $0 }
        return m
    }

    public init(configPath: String, autoApply: Bool, log: @escaping @Sendable (String) -> Void) {
        self.configPath = configPath
        self.autoApply = autoApply
        self.log = log
    }

    public enum Job: Sendable {
        /// The source and every app.
        case scheduledSync
        /// The source only, then the plan for `people` (nil: everyone), as an HR webhook asks.
        case hook(people: [String]?)
        /// Campaigns whose calendar slot has come are launched; open ones get what is due now
        /// (reminders, escalations, the deadline's default decision).
        case reviews
    }

    /// The last job queued: each new one waits for it, so jobs run one at a time in order
    /// (an actor alone would interleave them at every `await`).
    private var tail: Task<Void, Never>?

    /// Queues `job` after the others and waits until it has run. Failures are logged and
    /// counted, never thrown, so the service keeps running.
    public func run(_ job: Job) async {
        await enqueue(job).value
    }

    /// Queues `job` after the others and returns at once.
    @discardableResult
    public func enqueue(_ job: Job) -> Task<Void, Never> {
        let previous = tail
        let task = Task {
            await previous?.value
            await self.execute(job)
        }
        tail = task
        return task
    }

    /// Runs `body` on the folder opened for writing, queued after the jobs before it (a
    /// reviewer's decision from a link, say), and returns what it returns or throws.
    public func perform<T: Sendable>(_ body: @escaping @Sendable (Workspace) async throws -> T) async throws -> T {
        let previous = tail
        let task = Task<T, Error> {
            await previous?.value
            let ws = try await self.openWaitingForTheLock()
            do {
                let result = try await body(ws)
                await ws.close()
                return result
            } catch {
                await ws.close()
                throw error
            }
        }
        tail = Task { _ = try? await task.value }
        return try await task.value
    }

    /// Returns when every job queued so far has run.
    public func drain() async {
        await tail?.value
    }

    private func execute(_ job: Job) async {
        if stopping.withLock({ $0 }) {
            log("\(job.name): not started, the service is stopping")
            return
        }
        let started = Date()
        do {
            let ws = try await openWaitingForTheLock()
            do {
                try await run(job, in: ws)
                await ws.close()
            } catch {
                await ws.close()
                throw error
            }
        } catch {
            metrics.jobFailures += 1
            log("\(job.name) failed: \(error)")
        }
        metrics.lastJobSeconds = Date().timeIntervalSince(started)
    }

    /// Journals a webhook request that was refused, with why.
    public func recordRefusedHook(_ reason: String) async {
        count(hook: "source", result: "refused")
        await journal(EventType.webhookReceived, data: ["hook": "source", "result": "refused", "reason": .string(reason)])
    }

    /// Counts a webhook request for `/metrics`.
    public func count(hook: String, result: String) {
        metrics.webhooks[ServiceMetrics.HookResult(hook: hook, result: result), default: 0] += 1
    }

    /// Journals one event, queued after the jobs before it (it needs the writer lock).
    public func journal(_ type: String, data: JSONValue) async {
        let previous = tail
        let task = Task {
            await previous?.value
            do {
                let ws = try await self.openWaitingForTheLock()
                _ = try? await ws.record([ws.event(type, data: data)])
                await ws.close()
            } catch {
                self.log("could not journal \(type): \(error)")
            }
        }
        tail = task
        await task.value
    }

    private func run(_ job: Job, in ws: Workspace) async throws {
        if case .reviews = job {
            try await runReviews(in: ws)
            return
        }
        var engine = SyncEngine(workspace: ws)
        engine.now = { Date() }
        let syncStarted = Date()
        let summary: SyncEngine.Summary
        switch job {
        case .scheduledSync, .reviews:
            summary = try await engine.run()
        case .hook(let people):
            count(hook: "source", result: "accepted")
            _ = try await ws.record([ws.event(EventType.webhookReceived, data: [
                "hook": "source", "result": "accepted",
                "people": people.map { .array($0.map(JSONValue.string)) } ?? .null,
            ])])
            summary = try await engine.run(apps: [], includingSource: true)
        }
        metrics.lastSync = Date()
        metrics.syncSeconds = Date().timeIntervalSince(syncStarted)
        metrics.syncFailures += summary.failed ? 1 : 0
        for app in summary.apps {
            metrics.apps[app.id] = ServiceMetrics.AppSync(seconds: app.seconds, ok: app.error == nil,
                                                         failures: (metrics.apps[app.id]?.failures ?? 0) + (app.error == nil ? 0 : 1))
        }
        log("\(job.name): HR \(summary.people) people (\(summary.joined) joined, \(summary.moved) moved, \(summary.left) left)"
            + summary.apps.map { "; \($0.id) \($0.accounts) accounts\($0.error.map { " FAILED: \($0)" } ?? "")" }.joined())
        guard autoApply else { return }
        if summary.sourceError != nil {
            log("not applying: the HR source failed (\(summary.sourceError ?? ""))")
            return
        }
        try await apply(in: ws, people: { if case .hook(let people) = job { return people } else { return nil } }())
    }

    /// Launches each calendar campaign whose slot has come (after downtime, one launch for the
    /// latest missed slot), then does what each open campaign owes now.
    private func runReviews(in ws: Workspace) async throws {
        let now = Date()
        let engine = ReviewEngine(workspace: ws, now: now)
        let book = try engine.book()
        for definition in ws.config.governance.reviews where definition.trigger == nil {
            guard let every = definition.every, let calendar = try? CampaignCalendar(every) else { continue }
            let last = book.order.compactMap { book.campaigns[$0] }.filter { $0.definition.id == definition.id }.map(\.launchedAt).max()
            guard let slot = calendar.launchSlot(lastLaunch: last, now: now) else { continue }
            do {
                let campaign = try await engine.launch(definition)
                log("launched \(campaign.id) for its \(every) slot \(Timestamp(slot).rfc3339): \(campaign.items.count) items")
            } catch {
                log("could not launch \(definition.id) for its \(every) slot: \(error)")
            }
        }
        for id in try engine.book().order {
            guard let campaign = try? engine.campaign(id), !campaign.isClosed else { continue }
            let due = try await engine.remind(id)
            if !due.reminders.isEmpty || !due.escalations.isEmpty || due.closeStage {
                log("\(id): \(due.reminders.count) reminders, \(due.escalations.count) escalations\(due.closeStage ? ", stage closed at its deadline" : "")")
            }
        }
    }

    /// Settles what an earlier run left in doubt, then plans and applies (only the actions for
    /// `people`, when given), the way `steward apply --yes` does.
    private func apply(in ws: Workspace, people: [String]?) async throws {
        var executor = Executor(workspace: ws)
        executor.isStopping = { [stopping] in stopping.withLock { $0 } }
        _ = try await executor.resolveInDoubt()
        let full = try await PlanEngine(workspace: ws).plan().plan
        var plan = full
        if let people {
            let named = Set(people)
            plan.actions = full.actions.filter { $0.personId.map(named.contains) ?? false }
        }
        if let refusal = try await executor.refusal(for: plan) {
            log("not applying: \(refusal)")
            return
        }
        guard !plan.executableActions.isEmpty else { return }
        let tally = LockedValue<[ServiceMetrics.ActionResult: Int]>([:])
        executor.onUnverified = { action, _ in
            tally.withLock { $0[ServiceMetrics.ActionResult(app: action.app, operation: action.operation.name, result: "unverified"), default: 0] += 1 }
        }
        executor.onOutcome = { [log] action, outcome in
            tally.withLock { $0[ServiceMetrics.ActionResult(app: action.app, operation: action.operation.name, result: outcome.name), default: 0] += 1 }
            log("  \(action.app) \(action.accountName ?? action.personId ?? ""): \(PlanRenderer.describe(action.operation)) — \(outcome.name)")
        }
        let result: Executor.Summary
        do {
            result = try await executor.apply(plan)
        } catch {
            metrics.actions.merge(tally.withLock { $0 }, uniquingKeysWith: +)
            throw error
        }
        metrics.actions.merge(tally.withLock { $0 }, uniquingKeysWith: +)
        metrics.lastApply = Date()
        metrics.applied += result.applied
        metrics.failed += result.failed
        metrics.unverified += result.unverified
        log("apply: \(result.applied) applied, \(result.alreadyApplied) already so, \(result.failed) failed; \(result.verified) verified, \(result.unverified) unverified")
    }

    /// Opens the folder, waiting (up to a minute) while a command in a terminal holds the
    /// journal's writer lock.
    private func openWaitingForTheLock() async throws -> Workspace {
        let deadline = Date().addingTimeInterval(60)
        while true {
            do {
                var events = ConnectorEvents()
                events.crashed = { [restarts] app in restarts.withLock { $0[app, default: 0] += 1 } }
                return try Workspace.open(configPath: configPath, actor: "steward serve", events: events)
            } catch JournalError.locked where Date() < deadline {
                try await Task.sleep(for: .milliseconds(200))
            }
        }
    }
}

/// What `/metrics` and `/healthz` report.
public struct ServiceMetrics: Sendable {
    public var lastSync: Date?
    public var lastApply: Date?
    public var syncSeconds: Double = 0
    public var lastJobSeconds: Double = 0
    public var syncFailures = 0
    public var jobFailures = 0
    public var applied = 0, failed = 0, unverified = 0
    /// Requests per hook (`source`, `slack`) and result (`accepted`, `refused`).
    public var webhooks: [HookResult: Int] = [:]

    public struct HookResult: Hashable, Sendable {
        public var hook: String
        public var result: String
    }

    /// The last sync of each app.
    public var apps: [String: AppSync] = [:]

    public struct AppSync: Sendable {
        public var seconds: Double
        public var ok: Bool
        public var failures: Int
    }

    /// Actions by app, operation and result (`applied`, `alreadyApplied`, `failed`, `skipped`,
    /// `unverified`).
    public var actions: [ActionResult: Int] = [:]

    public struct ActionResult: Hashable, Sendable {
        public var app: String
        public var operation: String
        public var result: String
    }

    public var connectorRestarts: [String: Int] = [:]
}

extension ServiceWork.Job {
    var name: String {
        switch self {
        case .scheduledSync: return "scheduled sync"
        case .hook(let people): return "webhook sync" + (people.map { " for \($0.joined(separator: ", "))" } ?? "")
        case .reviews: return "review calendar"
        }
    }
}
