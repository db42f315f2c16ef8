import Foundation
import StewardCore
import StewardJournal
import StewardProtocol

/// Runs a plan's actions through the connectors, journals each one, and then reads every
/// touched account back so that `applied` means the app shows it.
///
/// Each action is journaled as an intent (on disk before the connector is asked) and an
/// outcome after. Apps run concurrently, change sets within an app up to the app's concurrency
/// limit, and the actions of one change set in order, stopping at the first failure. Retryable
/// errors are retried with backoff (honouring `retryAfterMs`). A write whose answer was lost
/// (timeout, crash, garbage on stdout) is settled by reading the target, never by blind replay;
/// after a crash of the host, `resolveInDoubt()` does the same for intents without an outcome.
/// Finally each touched account is read once (`accounts/get`, and `grants/list` for it when
/// grants changed) and every action's effect is checked against that read: what the app does
/// not show ends `unverified`, and the folded state follows the app.
public struct Executor: Sendable {
    public let workspace: Workspace
    public var maxAttempts = 5
    /// Read each touched account back after the actions (`--no-verify` turns it off for
    /// emergencies; `apply.started` records that).
    public var verifies = true
    /// Called after each action with its outcome, for progress output.
    public var onOutcome: @Sendable (PlanAction, Outcome) -> Void = { _, _ in }
    /// The time the apply acts at (`STEWARD_NOW` when rehearsing): the day the next plan judges
    /// this apply's HR baseline on.
    public var now: Date = Date()
    /// Called for each action whose effect a read-back did not show.
    public var onUnverified: @Sendable (PlanAction, String) -> Void = { _, _ in }
    /// Asked before each action, retry and the read-back: once true (`steward serve` got
    /// SIGTERM), actions in flight finish, nothing new starts, and the rest are journaled as
    /// skipped for the next plan to bring back.
    public var isStopping: @Sendable () -> Bool = { false }

    public init(workspace: Workspace) {
        self.workspace = workspace
    }

    public enum Outcome: Sendable, Equatable {
        case applied
        case alreadyApplied
        case failed(String)
        /// Not tried because an earlier action of its change set failed.
        case skipped

        public var name: String {
            switch self {
            case .applied: return "applied"
            case .alreadyApplied: return "alreadyApplied"
            case .failed: return "failed"
            case .skipped: return "skipped"
            }
        }

        var succeeded: Bool { self == .applied || self == .alreadyApplied }
    }

    public struct Summary: Sendable {
        public var applied = 0, alreadyApplied = 0, failed = 0, skipped = 0, resolved = 0
        /// Actions whose effect the read-back showed, and those it did not.
        public var verified = 0, unverified = 0
        public var failures: [String] = []
        /// One line per unverified action: what was done and what the app showed instead.
        public var unverifiedActions: [String] = []
        /// Whether accounts were read back at all.
        public var verifies = true
        /// Per app, wall seconds spent running the actions and reading the accounts back.
        public var seconds: [String: AppSeconds] = [:]
        /// Every action as it went, in no particular order across apps.
        public var results: [Step] = []

        public struct AppSeconds: Sendable {
            public var acting = 0.0, verifying = 0.0
        }

        /// Every action did what it should, and the app shows it.
        public var succeeded: Bool { failed == 0 && unverified == 0 }
        /// The apply stopped early (`isStopping`): later actions skipped, nothing read back.
        public var stopped = false

        public var json: JSONValue {
            ["applied": .int(applied), "alreadyApplied": .int(alreadyApplied), "failed": .int(failed), "skipped": .int(skipped),
             "resolvedInDoubt": .int(resolved), "failures": .array(failures.map(JSONValue.string)),
             "verified": .int(verified), "unverified": .int(unverified), "verify": .bool(verifies),
             "unverifiedActions": .array(unverifiedActions.map(JSONValue.string))]
        }
    }

    /// Why a plan was not applied at all.
    public enum Refusal: Error, Sendable, CustomStringConvertible {
        /// The rules name things the apps do not have; nothing may run.
        case ruleErrors([PlanFinding])
        /// A safety rail tripped and was not overridden.
        case blocked([RailViolation])

        public var description: String {
            switch self {
            case .ruleErrors(let e): return "the plan has \(e.count) error\(e.count == 1 ? "" : "s") in the rules; nothing was applied"
            case .blocked: return "the plan is blocked by a safety rail; nothing was applied"
            }
        }
    }

    // MARK: Apply

    /// Whether `plan` may not be applied; when so, journals `apply.blocked` with the reason.
    public func refusal(for plan: Plan) async throws -> Refusal? {
        let refusal: Refusal
        var data: [String: JSONValue] = ["journalHead": .string(plan.journalHead ?? "")]
        if plan.hasErrors {
            refusal = .ruleErrors(plan.errors)
            data["errors"] = .array(plan.errors.map(\.json))
        } else if plan.isBlocked {
            refusal = .blocked(plan.rails)
        } else {
            return nil
        }
        data["rails"] = .array(plan.rails.map(\.json))
        try await workspace.record([workspace.event(EventType.applyBlocked, data: .object(data))])
        return refusal
    }

    /// Applies the plan's executable actions and verifies them. Throws `Refusal` (after
    /// journaling it) when the plan may not be applied.
    public func apply(_ plan: Plan) async throws -> Summary {
        if let refusal = try await refusal(for: plan) { throw refusal }
        let state = try workspace.state()
        let actions = plan.executableActions
        let planId = String((plan.journalHead ?? "").prefix(24))
        try await workspace.record([workspace.event(EventType.applyStarted, data: [
            "journalHead": .string(plan.journalHead ?? ""), "actions": .int(actions.count), "verify": .bool(verifies),
        ])])
        // App → change sets, in plan order.
        var byApp: [String: [[PlanAction]]] = [:]
        var setIndex: [String: (String, Int)] = [:]
        for action in actions {
            if let (app, i) = setIndex[action.changeSet] {
                byApp[app, default: []][i].append(action)
            } else {
                setIndex[action.changeSet] = (action.app, byApp[action.app, default: []].count)
                byApp[action.app, default: []].append([action])
            }
        }
        var summary = Summary(verifies: verifies)
        let steps = await withTaskGroup(of: ([Step], String, Summary.AppSeconds).self) { group in
            for (app, sets) in byApp {
                let limit = workspace.config.app(app)?.concurrency ?? ConnectorConfig.defaultConcurrency
                group.addTask {
                    var seconds = Summary.AppSeconds()
                    var clock = Date()
                    var steps = await runLimited(sets, limit: limit) { set in
                        await self.runChangeSet(set, planId: planId, state: state)
                    }.flatMap { $0 }
                    seconds.acting = Date().timeIntervalSince(clock)
                    if self.verifies, !self.isStopping() {
                        clock = Date()
                        steps = await self.verify(steps, app: app, limit: limit)
                        seconds.verifying = Date().timeIntervalSince(clock)
                    }
                    return (steps, app, seconds)
                }
            }
            var all: [Step] = []
            for await (r, app, seconds) in group {
                all += r
                summary.seconds[app] = seconds
            }
            return all
        }
        for step in steps {
            switch step.outcome {
            case .applied: summary.applied += 1
            case .alreadyApplied: summary.alreadyApplied += 1
            case .failed(let m):
                summary.failed += 1
                summary.failures.append(m)
            case .skipped: summary.skipped += 1
            }
            switch step.verdict {
            case .visible?: summary.verified += 1
            case .notVisible(let seen)?:
                summary.unverified += 1
                summary.unverifiedActions.append("\(step.action.app) \(step.action.accountName ?? step.action.accountId ?? ""): \(PlanRenderer.describe(step.action.operation)): \(seen)")
            case nil: break
            }
        }
        summary.results = steps
        summary.stopped = isStopping()
        var finished: [String: JSONValue] = [
            "applied": .int(summary.applied), "alreadyApplied": .int(summary.alreadyApplied), "failed": .int(summary.failed),
            "skipped": .int(summary.skipped), "verified": .int(summary.verified), "unverified": .int(summary.unverified),
            "verify": .bool(verifies), "config": GovernanceConfig.rulesDocument(workspace.config.document),
            "asOf": .string(Timestamp(now).rfc3339),
        ]
        if summary.stopped { finished["stopped"] = true }
        try await workspace.record([workspace.event(EventType.applyFinished, data: .object(finished))])
        try await workspace.recordDrift()
        try? await FindingsLedger(workspace: workspace).update(now: now)
        return summary
    }

    /// One action as it went: the action (with the account id a create in its change set
    /// produced), its journal key, outcome and, after verification, what a read showed.
    public struct Step: Sendable {
        public var action: PlanAction
        public var key: String
        public var outcome: Outcome
        public var verdict: Verdict?

        init(action: PlanAction, key: String, outcome: Outcome, verdict: Verdict? = nil) {
            self.action = action
            self.key = key
            self.outcome = outcome
            self.verdict = verdict
        }
    }

    private func runChangeSet(_ actions: [PlanAction], planId: String, state: GovernanceState) async -> [Step] {
        var steps: [Step] = []
        var createdAccountId: String?
        for (position, var action) in actions.enumerated() {
            let key = idempotencyKey(action, planId)
            if isStopping() {
                await record(action, key: key, outcome: .skipped, effect: nil, attempts: 0,
                             note: "not started: the service is stopping; the next plan brings it back")
                steps.append(Step(action: action, key: key, outcome: .skipped))
                onOutcome(action, .skipped)
                continue
            }
            if steps.contains(where: { if case .failed = $0.outcome { return true } else { return false } }) {
                await record(action, key: key, outcome: .skipped, effect: nil, attempts: 0)
                steps.append(Step(action: action, key: key, outcome: .skipped))
                onOutcome(action, .skipped)
                continue
            }
            if action.accountId == nil { action.accountId = createdAccountId }
            let (outcome, effect) = await run(action, key: key, state: state)
            if case .createAccount = action.operation {
                if case .account(let a)? = effect {
                    createdAccountId = a.id
                    action.accountId = a.id
                } else if outcome.succeeded, position + 1 < actions.count {
                    // Created asynchronously (an invitation): later grants wait for the next sync.
                    steps.append(Step(action: action, key: key, outcome: outcome))
                    onOutcome(action, outcome)
                    for rest in actions.dropFirst(position + 1) {
                        let restKey = idempotencyKey(rest, planId)
                        await record(rest, key: restKey, outcome: .skipped, effect: nil, attempts: 0,
                                     note: "the account is not usable yet (invitation pending)")
                        steps.append(Step(action: rest, key: restKey, outcome: .skipped))
                        onOutcome(rest, .skipped)
                    }
                    return steps
                }
            }
            steps.append(Step(action: action, key: key, outcome: outcome))
            onOutcome(action, outcome)
        }
        return steps
    }

    /// Runs one action with its journal records and retries.
    private func run(_ action: PlanAction, key: String, state: GovernanceState) async -> (Outcome, ActionEffect?) {
        do {
            try await workspace.record([workspace.event(EventType.actionIntent, subjects: subjects(action),
                                                        data: ["key": .string(key), "action": action.json])])
        } catch {
            return (.failed("\(action.app): cannot journal the intent: \(error)"), nil)
        }
        var attempt = 0
        while true {
            attempt += 1
            do {
                let connector = try workspace.connector(action.app)
                let (outcome, effect) = try await perform(action, key: key, connector: connector, state: state)
                await record(action, key: key, outcome: outcome, effect: effect, attempts: attempt)
                return (outcome, effect)
            } catch let failure as ConnectorFailure {
                var message = "\(failure)"
                if failure.outcome == .unknown {
                    // The answer was lost: read the target before anything else, never repeat blindly.
                    switch await settle(action, state: state) {
                    case .applied(let effect):
                        await record(action, key: key, outcome: .applied, effect: effect, attempts: attempt,
                                     note: "settled by reading the target after: \(failure)")
                        return (.applied, effect)
                    case .notApplied:
                        message += " (read back: not applied)"
                    case .unreadable(let why):
                        message += " (outcome unknown and the target cannot be read now: \(why); the next sync will show whether it took effect)"
                        await record(action, key: key, outcome: .failed(message), effect: nil, attempts: attempt)
                        return (.failed(message), nil)
                    }
                }
                if failure.retryable && attempt < maxAttempts && !isStopping() {
                    try? await Task.sleep(nanoseconds: UInt64(backoff(attempt: attempt, hintMs: failure.connectorError?.retryAfterMs) * 1e9))
                    continue
                }
                await record(action, key: key, outcome: .failed(message), effect: nil, attempts: attempt)
                return (.failed(message), nil)
            } catch {
                let message = "\(action.app): \(error)"
                await record(action, key: key, outcome: .failed(message), effect: nil, attempts: attempt)
                return (.failed(message), nil)
            }
        }
    }

    /// The connector call for an operation, and its effect as the connector reported it.
    private func perform(_ action: PlanAction, key: String, connector: SupervisedConnector,
                         state: GovernanceState) async throws -> (Outcome, ActionEffect) {
        let accountId = action.accountId ?? ""
        let known = state.apps[action.app]?.accounts[accountId]
        func mutation(_ method: String, _ params: JSONValue) async throws -> (Outcome, ActionEffect) {
            let r = try await connector.call(method, params: params, as: MutationResult.self)
            return (r.alreadyApplied ? .alreadyApplied : .applied, action.operation.effect(accountId: accountId, answered: r.account, known: known))
        }
        func grant(_ type: String, _ id: String) -> JSONValue {
            GrantChangeParams(idempotencyKey: key, accountId: accountId, type: type, entitlementId: id).json
        }
        switch action.operation {
        case .createAccount(let spec):
            let r = try await connector.call(Method.accountsCreate, params: AccountCreateParams(idempotencyKey: key, account: spec).json,
                                             as: AccountCreateResult.self)
            return (r.alreadyApplied ? .alreadyApplied : .applied, r.account.map(ActionEffect.account) ?? .accountPending(r.status))
        case .enableAccount:
            return try await mutation(Method.accountsEnable, AccountRefParams(idempotencyKey: key, id: accountId).json)
        case .disableAccount:
            return try await mutation(Method.accountsDisable, AccountRefParams(idempotencyKey: key, id: accountId).json)
        case .deleteAccount:
            return try await mutation(Method.accountsDelete, AccountRefParams(idempotencyKey: key, id: accountId).json)
        case .updateAccount(let changes):
            var values: [String: JSONValue] = [:]
            for c in changes { values[c.attribute] = c.after.map(JSONValue.string) ?? .null }
            return try await mutation(Method.accountsUpdate, AccountUpdateParams(idempotencyKey: key, id: accountId, changes: values).json)
        case .grant(let e):
            return try await mutation(Method.grantsAdd, grant(e.type, e.id))
        case .changeTier(_, let to):
            return try await mutation(Method.grantsAdd, grant(to.type, to.id))
        case .revoke(let e):
            return try await mutation(Method.grantsRemove, grant(e.type, e.id))
        }
    }

    // MARK: Verification

    /// Reads each account the steps touched once and checks every succeeded step against it;
    /// journals one `action.verified` per checked step.
    private func verify(_ steps: [Step], app: String, limit: Int) async -> [Step] {
        let checked = steps.indices.filter { steps[$0].outcome.succeeded }
        guard !checked.isEmpty else { return steps }
        var steps = steps
        let reader: AccountReader
        do {
            reader = try await AccountReader.open(try workspace.connector(app))
        } catch {
            for i in checked { steps[i].verdict = .notVisible("could not read the app back: \(error)") }
            await journalVerdicts(steps, checked, readbacks: [:])
            return steps
        }
        // One read per account: grants only where a step changed them.
        var wantsGrants: [String: Bool] = [:]
        var creates: [Int: AccountSpec] = [:]
        for i in checked {
            if let id = steps[i].action.accountId {
                wantsGrants[id] = (wantsGrants[id] ?? false) || steps[i].action.operation.changesGrants
            } else if case .createAccount(let spec) = steps[i].action.operation {
                creates[i] = spec
            }
        }
        let ids = wantsGrants.keys.sorted()
        let grantsWanted = wantsGrants
        let reads = await runLimited(ids, limit: limit) { id -> Result<AccountReadback, Error> in
            do { return .success(try await reader.read(id, grants: grantsWanted[id] ?? false)) } catch { return .failure(error) }
        }
        var readbacks = Dictionary(uniqueKeysWithValues: zip(ids, reads))
        for (i, spec) in creates {
            // A create that gave no account back (an invitation): find what it made.
            do {
                let found = try await reader.find(spec)
                if let found { steps[i].action.accountId = found.id }
                readbacks["create:\(i)"] = .success(AccountReadback(account: found, grants: nil))
            } catch {
                readbacks["create:\(i)"] = .failure(error)
            }
        }
        for i in checked {
            let key = creates[i] != nil ? "create:\(i)" : steps[i].action.accountId ?? ""
            switch readbacks[key] {
            case .success(let readback)?:
                steps[i].verdict = steps[i].action.operation.verdict(on: readback, accountId: steps[i].action.accountId ?? "")
            case .failure(let error)?:
                steps[i].verdict = .notVisible("the account could not be read back: \(error)")
            case nil:
                steps[i].verdict = .notVisible("the account could not be read back")
            }
            if case .notVisible(let seen)? = steps[i].verdict { onUnverified(steps[i].action, seen) }
        }
        await journalVerdicts(steps, checked, readbacks: readbacks)
        return steps
    }

    private func journalVerdicts(_ steps: [Step], _ checked: [Int], readbacks: [String: Result<AccountReadback, Error>]) async {
        var drafts: [EventDraft] = []
        for i in checked {
            let step = steps[i]
            guard let verdict = step.verdict else { continue }
            var seen: ActionVerification.Seen?
            if !verdict.isVisible, let id = step.action.accountId, case .success(let readback)? = readbacks[id] {
                var s = ActionVerification.Seen(account: .some(readback.account))
                switch step.action.operation {
                case .grant(let e), .revoke(let e), .changeTier(_, let e):
                    s.type = e.type
                    s.grants = readback.grants(ofType: e.type)
                default: break
                }
                seen = s
            }
            let verification = ActionVerification(key: step.key, operation: step.action.operation.name, verdict: verdict, seen: seen)
            drafts.append(workspace.event(EventType.actionVerified, subjects: subjects(step.action), data: verification.json))
        }
        _ = try? await workspace.record(drafts)
    }

    // MARK: In-doubt actions

    /// How reading the target settled a write whose answer was lost.
    enum Settlement: Sendable {
        case applied(ActionEffect)
        case notApplied
        case unreadable(String)
    }

    /// Reads the target to learn whether `action` took effect.
    func settle(_ action: PlanAction, state: GovernanceState) async -> Settlement {
        do {
            let reader = try await AccountReader.open(try workspace.connector(action.app))
            if case .createAccount(let spec) = action.operation {
                guard let found = try await reader.find(spec) else { return .notApplied }
                return .applied(.account(found))
            }
            let accountId = action.accountId ?? ""
            let readback = try await reader.read(accountId, grants: action.operation.changesGrants)
            guard action.operation.verdict(on: readback, accountId: accountId).isVisible else { return .notApplied }
            let known = state.apps[action.app]?.accounts[accountId]
            return .applied(action.operation.effect(accountId: accountId, answered: readback.account, known: known))
        } catch {
            return .unreadable("\(error)")
        }
    }

    /// Settles intents that have no outcome (the previous run was killed): reads each target and
    /// records whether the action took effect. Actions that did not are left to the next plan.
    public func resolveInDoubt() async throws -> Int {
        let state = try workspace.state()
        var resolved = 0
        for pending in state.inDoubt.values.sorted(by: { $0.seq < $1.seq }) {
            guard let action = try? PlanAction(json: pending.action) else { continue }
            let settlement = await settle(action, state: state)
            var data: [String: JSONValue] = ["key": .string(pending.key), "intentSeq": .int(pending.seq)]
            switch settlement {
            case .applied(let effect):
                data["result"] = "applied"
                data["verified"] = true
                data["effect"] = effect.journalJSON
            case .notApplied:
                data["result"] = "notApplied"
                data["verified"] = true
            case .unreadable(let why):
                data["result"] = "notApplied"
                data["verified"] = false
                data["note"] = .string("the target could not be read: \(why)")
            }
            try await workspace.record([workspace.event(EventType.actionResolved, subjects: subjects(action), data: .object(data))])
            resolved += 1
        }
        return resolved
    }

    // MARK: Helpers

    private func record(_ action: PlanAction, key: String, outcome: Outcome, effect: ActionEffect?, attempts: Int, note: String? = nil) async {
        var data: [String: JSONValue] = ["key": .string(key), "result": .string(outcome.name), "attempts": .int(attempts),
                                         "operation": .string(action.operation.name)]
        if let effect { data["effect"] = effect.journalJSON }
        if case .failed(let m) = outcome { data["error"] = .string(m) }
        if let note { data["note"] = .string(note) }
        var subjects = subjects(action)
        if let id = effect?.accountId { subjects["account"] = id }
        _ = try? await workspace.record([workspace.event(EventType.actionOutcome, subjects: subjects, data: .object(data))])
    }

    private func subjects(_ action: PlanAction) -> [String: String] {
        var s = ["app": action.app]
        if let p = action.personId { s["person"] = p }
        if let a = action.accountId { s["account"] = a }
        return s
    }

    /// Stable for the same action against the same journal head, so a rerun of the same plan
    /// repeats the key and the connector can recognise the request.
    private func idempotencyKey(_ action: PlanAction, _ planId: String) -> String {
        var hasher = FNV1a()
        hasher.add(planId)
        hasher.add(action.key)
        return "stw-" + String(hasher.value, radix: 16)
    }
}

/// Runs `body` over `items` with at most `limit` at once, keeping the input order in the output.
func runLimited<T: Sendable, R: Sendable>(_ items: [T], limit: Int, _ body: @escaping @Sendable (T) async -> R) async -> [R] {
    await withTaskGroup(of: (Int, R).self) { group in
        var results = [R?](repeating: nil, count: items.count)
        var next = 0
        for _ in 0..<min(max(1, limit), items.count) {
            let i = next
            group.addTask { (i, await body(items[i])) }
            next += 1
        }
        for await (i, r) in group {
            results[i] = r
            if next < items.count {
                let j = next
                group.addTask { (j, await body(items[j])) }
                next += 1
            }
        }
        return results.compactMap { $0 }
    }
}

/// 64-bit FNV-1a, for short stable keys (not for security).
struct FNV1a {
    private(set) var value: UInt64 = 0xcbf29ce484222325
    mutating func add(_ s: String) {
        for b in s.utf8 {
            value ^= UInt64(b)
            value = value &* 0x100000001b3
        }
        value ^= 0xff
        value = value &* 0x100000001b3
    }
}
