import Foundation
import StewardCore
import StewardJournal
import StewardProtocol

/// Runs a plan's actions through the connectors and journals each one: an intent before it
/// runs (on disk before the connector is asked) and an outcome after.
///
/// Apps run concurrently, change sets within an app up to the app's concurrency limit, and the
/// actions of one change set in order, stopping at the first failure. Retryable errors are
/// retried with backoff (honouring `retryAfterMs`); a write whose outcome is unknown is
/// resolved by reading the target, never by blind replay. After a crash, `resolveInDoubt()`
/// does the same for intents that never got an outcome.
public struct Executor: Sendable {
    public let workspace: Workspace
    public var maxAttempts = 5
    /// Called after each action with its outcome, for progress output.
    public var onOutcome: @Sendable (PlanAction, Outcome) -> Void = { _, _ in }

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
    }

    public struct Summary: Sendable {
        public var applied = 0, alreadyApplied = 0, failed = 0, skipped = 0, resolved = 0
        public var failures: [String] = []

        public var json: JSONValue {
            ["applied": .int(applied), "alreadyApplied": .int(alreadyApplied), "failed": .int(failed), "skipped": .int(skipped),
             "resolvedInDoubt": .int(resolved), "failures": .array(failures.map(JSONValue.string))]
        }
    }

    // MARK: Apply

    /// Applies the plan's executable actions (none when it is blocked).
    public func apply(_ plan: Plan) async throws -> Summary {
        let state = try workspace.state()
        let actions = plan.executableActions
        let planId = String((plan.journalHead ?? "").prefix(24))
        try await workspace.record([workspace.event(EventType.applyStarted, data: [
            "journalHead": .string(plan.journalHead ?? ""), "actions": .int(actions.count),
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
        let results = await withTaskGroup(of: [Outcome].self) { group in
            for (app, sets) in byApp {
                let limit = workspace.config.app(app)?.concurrency ?? 4
                group.addTask {
                    await runLimited(sets, limit: limit) { set in
                        await self.runChangeSet(set, planId: planId, state: state)
                    }.flatMap { $0 }
                }
            }
            var all: [Outcome] = []
            for await r in group { all += r }
            return all
        }
        var summary = Summary()
        for r in results {
            switch r {
            case .applied: summary.applied += 1
            case .alreadyApplied: summary.alreadyApplied += 1
            case .failed(let m):
                summary.failed += 1
                summary.failures.append(m)
            case .skipped: summary.skipped += 1
            }
        }
        try await workspace.record([workspace.event(EventType.applyFinished, data: [
            "applied": .int(summary.applied), "alreadyApplied": .int(summary.alreadyApplied), "failed": .int(summary.failed),
            "skipped": .int(summary.skipped), "config": GovernanceConfig.rulesDocument(workspace.config.document),
        ])])
        return summary
    }

    private func runChangeSet(_ actions: [PlanAction], planId: String, state: GovernanceState) async -> [Outcome] {
        var outcomes: [Outcome] = []
        var createdAccountId: String?
        for var action in actions {
            if outcomes.contains(where: { if case .failed = $0 { return true } else { return false } }) {
                outcomes.append(.skipped)
                await record(action, key: idempotencyKey(action, planId), outcome: .skipped, effect: .null, attempts: 0)
                onOutcome(action, .skipped)
                continue
            }
            if action.accountId == nil { action.accountId = createdAccountId }
            let (outcome, effect) = await run(action, planId: planId, state: state)
            if case .createAccount = action.operation, let id = effect["account"]["id"].stringValue { createdAccountId = id }
            if case .createAccount = action.operation, effect["account"].isNull, outcome != .skipped {
                // Created asynchronously (an invitation): later grants wait for the next sync.
                if outcome == .applied || outcome == .alreadyApplied, actions.count > 1 {
                    outcomes.append(outcome)
                    onOutcome(action, outcome)
                    for rest in actions.dropFirst(outcomes.count) {
                        await record(rest, key: idempotencyKey(rest, planId), outcome: .skipped, effect: .null, attempts: 0, note: "the account is not usable yet (invitation pending)")
                        outcomes.append(.skipped)
                        onOutcome(rest, .skipped)
                    }
                    return outcomes
                }
            }
            outcomes.append(outcome)
            onOutcome(action, outcome)
        }
        return outcomes
    }

    /// Runs one action with its journal records and retries.
    private func run(_ action: PlanAction, planId: String, state: GovernanceState) async -> (Outcome, JSONValue) {
        let key = idempotencyKey(action, planId)
        do {
            try await workspace.record([workspace.event(EventType.actionIntent, subjects: subjects(action),
                                                        data: ["key": .string(key), "action": action.json])])
        } catch {
            return (.failed("\(action.app): cannot journal the intent: \(error)"), .null)
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
                    // Never repeat a write whose fate is unknown without reading the target first.
                    guard let verified = await verify(action, state: state) else {
                        message += " (outcome unknown and the target cannot be read now; the next sync will show whether it took effect)"
                        await record(action, key: key, outcome: .failed(message), effect: .null, attempts: attempt)
                        return (.failed(message), .null)
                    }
                    if verified.applied {
                        await record(action, key: key, outcome: .applied, effect: verified.effect, attempts: attempt, note: "verified by reading the target after: \(failure)")
                        return (.applied, verified.effect)
                    }
                    message += " (verified not applied)"
                }
                if failure.retryable && attempt < maxAttempts {
                    try? await Task.sleep(nanoseconds: UInt64(backoff(attempt: attempt, hintMs: failure.connectorError?.retryAfterMs) * 1e9))
                    continue
                }
                await record(action, key: key, outcome: .failed(message), effect: .null, attempts: attempt)
                return (.failed(message), .null)
            } catch {
                let message = "\(action.app): \(error)"
                await record(action, key: key, outcome: .failed(message), effect: .null, attempts: attempt)
                return (.failed(message), .null)
            }
        }
    }

    /// The connector call for an operation, and the effect to fold into the state.
    private func perform(_ action: PlanAction, key: String, connector: SupervisedConnector,
                         state: GovernanceState) async throws -> (Outcome, JSONValue) {
        let accountId = action.accountId ?? ""
        func mutation(_ method: String, _ params: JSONValue) async throws -> MutationResult {
            try await connector.call(method, params: params, as: MutationResult.self)
        }
        func known(_ status: AccountStatus) -> JSONValue {
            guard var a = state.apps[action.app]?.accounts[accountId] else { return .null }
            a.status = status
            return a.json
        }
        switch action.operation {
        case .createAccount(let spec):
            let r = try await connector.call(Method.accountsCreate, params: AccountCreateParams(idempotencyKey: key, account: spec).json,
                                             as: AccountCreateResult.self)
            return (r.alreadyApplied ? .alreadyApplied : .applied, ["account": r.account?.json ?? .null, "status": .string(r.status.rawValue)])
        case .enableAccount:
            let r = try await mutation(Method.accountsEnable, AccountRefParams(idempotencyKey: key, id: accountId).json)
            return (r.alreadyApplied ? .alreadyApplied : .applied, ["account": r.account?.json ?? known(.active)])
        case .disableAccount:
            let r = try await mutation(Method.accountsDisable, AccountRefParams(idempotencyKey: key, id: accountId).json)
            return (r.alreadyApplied ? .alreadyApplied : .applied, ["account": r.account?.json ?? known(.disabled)])
        case .deleteAccount:
            let r = try await mutation(Method.accountsDelete, AccountRefParams(idempotencyKey: key, id: accountId).json)
            return (r.alreadyApplied ? .alreadyApplied : .applied, ["removedAccount": .string(accountId)])
        case .updateAccount(let changes):
            var values: [String: JSONValue] = [:]
            for c in changes { values[c.attribute] = c.after.map(JSONValue.string) ?? .null }
            let r = try await mutation(Method.accountsUpdate, AccountUpdateParams(idempotencyKey: key, id: accountId, changes: values).json)
            return (r.alreadyApplied ? .alreadyApplied : .applied, ["account": r.account?.json ?? .null])
        case .grant(let e):
            let r = try await mutation(Method.grantsAdd, GrantChangeParams(idempotencyKey: key, accountId: accountId, type: e.type, entitlementId: e.id).json)
            return (r.alreadyApplied ? .alreadyApplied : .applied, ["addGrant": Grant(accountId: accountId, type: e.type, entitlementId: e.id).json])
        case .changeTier(_, let to):
            let r = try await mutation(Method.grantsAdd, GrantChangeParams(idempotencyKey: key, accountId: accountId, type: to.type, entitlementId: to.id).json)
            return (r.alreadyApplied ? .alreadyApplied : .applied, ["addGrant": Grant(accountId: accountId, type: to.type, entitlementId: to.id).json,
                                                                  "replaceType": .string(to.type)])
        case .revoke(let e):
            let r = try await mutation(Method.grantsRemove, GrantChangeParams(idempotencyKey: key, accountId: accountId, type: e.type, entitlementId: e.id).json)
            return (r.alreadyApplied ? .alreadyApplied : .applied, ["removeGrant": Grant(accountId: accountId, type: e.type, entitlementId: e.id).json])
        }
    }

    // MARK: In-doubt actions

    /// Settles intents that have no outcome (the previous run was killed): reads each target and
    /// records whether the action took effect. Actions that did not are left to the next plan.
    public func resolveInDoubt() async throws -> Int {
        let state = try workspace.state()
        var resolved = 0
        for pending in state.inDoubt.values.sorted(by: { $0.seq < $1.seq }) {
            guard let action = try? PlanAction(json: pending.action) else { continue }
            let verified = await verify(action, state: state)
            let applied = verified?.applied ?? false
            try await workspace.record([workspace.event(EventType.actionResolved, subjects: subjects(action), data: [
                "key": .string(pending.key), "result": .string(applied ? "applied" : "notApplied"),
                "verified": .bool(verified != nil), "effect": verified?.effect ?? .null, "intentSeq": .int(pending.seq),
            ])])
            resolved += 1
        }
        return resolved
    }

    /// Reads the target to learn whether `action` took effect; nil when it cannot be read.
    func verify(_ action: PlanAction, state: GovernanceState) async -> (applied: Bool, effect: JSONValue)? {
        guard let connector = try? workspace.connector(action.app), let caps = try? await connector.start().capabilities else { return nil }
        let accountId = action.accountId ?? ""
        func account(_ params: AccountGetParams) async -> Account?? {
            guard caps.accounts.contains(.get),
                  let r = try? await connector.call(Method.accountsGet, params: params.json, as: AccountGetResult.self) else { return nil }
            return .some(r.account)
        }
        func holds(_ type: String, _ entitlementId: String) async -> Bool? {
            guard caps.grantsList,
                  let grants = try? await connector.listAll(Method.grantsList, params: ListParams(type: type, accountId: accountId), of: Grant.self)
            else { return nil }
            return grants.contains { $0.accountId == accountId && $0.type == type && $0.entitlementId == entitlementId }
        }
        switch action.operation {
        case .createAccount(let spec):
            for params in [AccountGetParams(userName: spec.userName), spec.email.map { AccountGetParams(email: $0) }].compactMap({ $0 }) {
                guard let found = await account(params) else { return nil }
                if let a = found { return (true, ["account": a.json]) }
            }
            return (false, .null)
        case .enableAccount, .disableAccount:
            guard let found = await account(AccountGetParams(id: accountId)) else { return nil }
            guard let a = found else { return (false, .null) }
            let wanted: AccountStatus = { if case .enableAccount = action.operation { return .active } else { return .disabled } }()
            return (a.status == wanted, ["account": a.json])
        case .deleteAccount:
            guard let found = await account(AccountGetParams(id: accountId)) else { return nil }
            return (found == nil, found == nil ? ["removedAccount": .string(accountId)] : .null)
        case .grant(let e):
            guard let has = await holds(e.type, e.id) else { return nil }
            return (has, has ? ["addGrant": Grant(accountId: accountId, type: e.type, entitlementId: e.id).json] : .null)
        case .changeTier(_, let to):
            guard let has = await holds(to.type, to.id) else { return nil }
            return (has, has ? ["addGrant": Grant(accountId: accountId, type: to.type, entitlementId: to.id).json, "replaceType": .string(to.type)] : .null)
        case .revoke(let e):
            guard let has = await holds(e.type, e.id) else { return nil }
            return (!has, !has ? ["removeGrant": Grant(accountId: accountId, type: e.type, entitlementId: e.id).json] : .null)
        case .updateAccount:
            return nil
        }
    }

    // MARK: Helpers

    private func record(_ action: PlanAction, key: String, outcome: Outcome, effect: JSONValue, attempts: Int, note: String? = nil) async {
        var data: [String: JSONValue] = ["key": .string(key), "result": .string(outcome.name), "attempts": .int(attempts),
                                         "operation": .string(action.operation.name)]
        if !effect.isNull { data["effect"] = effect }
        if case .failed(let m) = outcome { data["error"] = .string(m) }
        if let note { data["note"] = .string(note) }
        var subjects = subjects(action)
        if let id = effect["account"]["id"].stringValue { subjects["account"] = id }
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
        for _ in 0..<min(limit, items.count) {
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
