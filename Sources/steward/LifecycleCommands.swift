import Foundation
import StewardCore
import StewardHost
import StewardJournal
import StewardProtocol

// sync, plan, apply, status, person show, link, ignore: the joiner-mover-leaver loop.

let syncCommand = Command(
    name: "sync",
    summary: "Pull people from HR and accounts, entitlements and grants from every app; journal what changed.",
    usage: "[--app ID ...] [--json]",
    discussion: "With --app, only those apps are synced (the HR source is not). Exit 1 when any listing failed.",
    options: [.value("--app", "ID", "Sync only this app; repeatable.")],
    run: { inv in
        try await withWorkspace(inv, actor: "steward sync") { ws in
            let apps = inv.allValues("--app")
            var engine = SyncEngine(workspace: ws)
            let now = try commandNow()
            engine.now = { now }
            let summary = try await engine.run(apps: apps.isEmpty ? nil : apps)
            if inv.json {
                printJSON(summary.json)
            } else {
                printSyncSummary(summary)
            }
            return summary.failed ? ExitCode.failure : ExitCode.ok
        }
    })

func printSyncSummary(_ s: SyncEngine.Summary) {
    if let e = s.sourceError {
        print("HR: FAILED: \(e)")
    } else if s.people > 0 || s.previousPeople > 0 {
        print("HR: \(s.people) people (\(s.joined) joined, \(s.moved) moved, \(s.left) left, \(s.rehired) rehired, \(s.updated) updated)")
    }
    for app in s.apps {
        if let e = app.error {
            print("\(app.id): FAILED: \(e)")
        } else {
            print("\(app.id): \(app.accounts) accounts, \(app.entitlements) entitlements, \(app.grants) grants; \(app.changes) changes journaled\(app.retries > 0 ? " (\(app.retries) page retries)" : "")")
        }
    }
}

let planCommand = Command(
    name: "plan",
    summary: "Compute what it takes to bring every app to what the rules say, and show it.",
    usage: "[--out FILE] [--app ID ...] [--allow-mass-deprovision] [--json]",
    discussion: """
    Reads the journal's state (run `steward sync` first) and the config's rules. The plan lists,
    per person and app, each action with its cause (joiner, mover, leaver, drift, policy change)
    and the rule that justifies it. A plan that trips a safety rail says so; `steward apply`
    refuses it (exit 3) unless --allow-mass-deprovision is given. A plan whose rules name something
    an app does not have (a role, a group, an entitlement type) has errors: each is printed with
    the config file, line and key and the closest known values, the command exits 2, and
    `steward apply` refuses the plan. --out saves it for `apply FILE`.
    """,
    options: [
        .value("--out", "FILE", "Save the plan as JSON for `steward apply FILE`."),
        .value("--app", "ID", "Plan only this app; repeatable."),
        .flag("--allow-mass-deprovision", "Let the plan pass the safety rails (recorded in the journal)."),
    ],
    run: { inv in
        try await withWorkspace(inv, actor: "steward plan") { ws in
            let apps = inv.allValues("--app")
            let result = try await PlanEngine(workspace: ws).plan(apps: apps.isEmpty ? nil : Set(apps),
                                                                  allowMassDeprovision: inv.flag("--allow-mass-deprovision"),
                                                                  now: try commandNow())
            if let out = inv.value("--out") {
                try writeAtomically(JSONWriter.pretty(result.plan.json), to: out)
            }
            if inv.json {
                printJSON(result.plan.json)
            } else {
                print(PlanRenderer.text(result.plan), terminator: "")
                if let out = inv.value("--out"), !result.plan.hasErrors { print("Saved to \(out); apply it with `steward apply \(out)`.") }
            }
            if result.plan.hasErrors {
                printRuleErrors(result.plan, engine: PlanEngine(workspace: ws))
                return ExitCode.usage
            }
            return ExitCode.ok
        }
    })

/// The plan's errors on stderr, each with the config file, line and key, and what to do.
func printRuleErrors(_ plan: Plan, engine: PlanEngine) {
    let errors = plan.errors
    printError("the plan cannot be applied: \(errors.count) error\(errors.count == 1 ? "" : "s") in the rules or the synced state")
    for e in errors { printError(engine.describe(e)) }
}

let applyCommand = Command(
    name: "apply",
    summary: "Apply a plan through the connectors, journaling every action.",
    usage: "[FILE] [--yes] [--allow-mass-deprovision] [--json]",
    discussion: """
    Without FILE, first settles actions a previous run left in doubt (by reading the target), then
    computes a fresh plan and applies it. With FILE, applies that saved plan unless the journal
    changed since it was made (then it is refused as stale). On a terminal it shows the plan and
    asks unless --yes. After the actions, every touched account is read back and each action's
    effect checked against what the app shows; what it does not show is reported and journaled as
    unverified. Exit 3 when a safety rail blocks the plan and 2 when the rules have errors
    (nothing is changed in either case), 1 when any action failed or is unverified.
    """,
    options: [
        .flag("--yes", "Do not ask for confirmation."),
        .flag("--allow-mass-deprovision", "Apply even if a safety rail trips (only without FILE; a saved plan carries its own choice)."),
        .flag("--no-verify", "Skip reading each touched account back (emergencies only; journaled, and nothing is marked verified)."),
    ],
    run: { inv in
        try await withWorkspace(inv, actor: "steward apply") { ws in
            var executor = Executor(workspace: ws)
            executor.now = try commandNow()
            executor.verifies = !inv.flag("--no-verify")
            let json = inv.json
            if !json {
                executor.onOutcome = { action, outcome in
                    let mark: String
                    switch outcome {
                    case .applied: mark = "done"
                    case .alreadyApplied: mark = "already so"
                    case .failed(let m): mark = "FAILED: \(m)"
                    case .skipped: mark = "skipped"
                    }
                    print("  \(action.app) \(action.accountName ?? action.personId ?? action.accountId ?? ""): \(PlanRenderer.describe(action.operation)) — \(mark)")
                }
                executor.onUnverified = { action, seen in
                    print("  \(action.app) \(action.accountName ?? action.personId ?? action.accountId ?? ""): \(PlanRenderer.describe(action.operation)) — UNVERIFIED: \(seen)")
                }
            }
            let plan: Plan
            var resolved = 0
            if let file = inv.positionals.first {
                plan = try readPlan(file)
                if let stale = try PlanEngine(workspace: ws).staleness(of: plan) {
                    printError("refusing a stale plan: \(stale)")
                    return ExitCode.failure
                }
            } else {
                resolved = try await executor.resolveInDoubt()
                if resolved > 0 && !json { print("Settled \(resolved) action\(resolved == 1 ? "" : "s") left in doubt by an earlier run.") }
                plan = try await PlanEngine(workspace: ws).plan(allowMassDeprovision: inv.flag("--allow-mass-deprovision"),
                                                                now: try commandNow()).plan
            }
            switch try await executor.refusal(for: plan) {
            case .ruleErrors(let errors)?:
                if json {
                    printJSON(["blocked": true, "errors": .array(errors.map(\.json)), "rails": .array(plan.rails.map(\.json))])
                } else {
                    print(PlanRenderer.text(plan), terminator: "")
                }
                printRuleErrors(plan, engine: PlanEngine(workspace: ws))
                printError("nothing was applied: fix the rules (or sync the app) and run `steward plan` again")
                return ExitCode.usage
            case .blocked?:
                if json {
                    printJSON(["blocked": true, "rails": .array(plan.rails.map(\.json))])
                } else {
                    print(PlanRenderer.text(plan), terminator: "")
                    printError("the plan is blocked by a safety rail; nothing was changed (use --allow-mass-deprovision after checking the HR feed)")
                }
                return ExitCode.blocked
            case nil:
                break
            }
            if plan.executableActions.isEmpty {
                if json { printJSON(["applied": 0, "resolvedInDoubt": .int(resolved)]) } else { print("Nothing to do: every app matches the rules.") }
                return ExitCode.ok
            }
            if !inv.flag("--yes") && isatty(0) == 1 && !json {
                print(PlanRenderer.text(plan), terminator: "")
                print("Apply \(plan.executableActions.count) action\(plan.executableActions.count == 1 ? "" : "s")? [y/N] ", terminator: "")
                guard let answer = readLine(), ["y", "yes"].contains(answer.lowercased()) else {
                    print("Nothing applied.")
                    return ExitCode.ok
                }
            }
            var summary = try await executor.apply(plan)
            summary.resolved = resolved
            if json {
                printJSON(summary.json)
            } else {
                print("Applied \(summary.applied), already so \(summary.alreadyApplied), failed \(summary.failed), skipped \(summary.skipped).")
                if summary.verifies {
                    print("Read back: \(summary.verified) verified, \(summary.unverified) unverified.")
                } else {
                    print("Not read back (--no-verify): nothing is verified; run `steward sync` to see what the apps show.")
                }
            }
            if summary.unverified > 0 {
                printError("\(summary.unverified) action\(summary.unverified == 1 ? "" : "s") the app does not show; the next plan does them again")
            }
            return summary.succeeded ? ExitCode.ok : ExitCode.failure
        }
    })

let statusCommand = Command(
    name: "status",
    summary: "People, apps, accounts linked and orphaned, actions in doubt, last sync per app.",
    usage: "[--json]",
    run: { inv in
        try await withWorkspace(inv, actor: "steward status", startConnectors: false) { ws in
            let state = try ws.state()
            let now = try commandNow()
            let result = state.lastHRSync == nil ? nil : try await PlanEngine(workspace: ws).plan(now: now, record: false)
            let today = CalendarDay(now)
            let active = state.people.values.filter { !PersonDirectory.standing(of: $0, on: today).0.hasLeft }.count
            var apps: [JSONValue] = []
            for app in ws.config.apps {
                let s = state.apps[app.id]
                let summary = result?.plan.apps.first { $0.id == app.id }
                var o = JSONObjectBuilder()
                o.set("id", app.id)
                o.set("mode", ws.config.governance.app(app.id)?.mode.rawValue)
                o.set("accounts", s?.accounts.count ?? 0)
                o.set("linked", summary?.linked)
                o.set("orphans", summary?.orphans)
                o.set("lastSync", s?.lastSync)
                o.set("pendingActions", result?.plan.actions.filter { $0.app == app.id }.count)
                apps.append(o.value)
            }
            let doc: JSONValue = [
                "people": ["active": .int(active), "left": .int(state.people.count - active + state.formerPeople.count)],
                "lastHRSync": state.lastHRSync.map(JSONValue.string) ?? .null,
                "apps": .array(apps),
                "inDoubtActions": .int(state.inDoubt.count),
                "lastApply": state.lastApply.map { a in
                    ["time": .string(a.time), "applied": .int(a.applied), "alreadyApplied": .int(a.alreadyApplied), "failed": .int(a.failed),
                     "skipped": .int(a.skipped), "verified": .int(a.verified), "unverified": .int(a.unverified), "verify": .bool(a.verifiedReads)]
                } ?? .null,
                "pendingActions": .int(result?.plan.actions.count ?? 0),
                "blocked": .bool(result?.plan.isBlocked ?? false),
                "journal": ["events": .int(ws.journal.size), "head": .string(ws.journalHead)],
            ]
            if inv.json {
                printJSON(doc)
                return ExitCode.ok
            }
            print("People: \(active) active, \(state.people.count - active + state.formerPeople.count) left (HR synced \(state.lastHRSync ?? "never"))")
            for app in apps {
                print("\(app["id"].stringValue ?? ""): \(app["mode"].stringValue ?? "") — \(app["accounts"].intValue ?? 0) accounts, \(app["linked"].intValue ?? 0) linked, \(app["orphans"].intValue ?? 0) orphaned; \(app["pendingActions"].intValue ?? 0) pending actions; last sync \(app["lastSync"].stringValue ?? "never")")
            }
            print("Pending actions: \(result?.plan.actions.count ?? 0)\(result?.plan.isBlocked == true ? " (BLOCKED by a safety rail)" : "")\(result?.plan.hasErrors == true ? " (the rules have errors: run `steward plan`)" : ""); in doubt: \(state.inDoubt.count)")
            if let a = state.lastApply {
                let reads = a.verifiedReads ? "\(a.verified) verified, \(a.unverified) UNVERIFIED" : "not read back (--no-verify)"
                print("Last apply \(a.time): \(a.applied) applied, \(a.alreadyApplied) already so, \(a.failed) failed, \(a.skipped) skipped; \(reads)")
            }
            print("Journal: \(ws.journal.size) events")
            return ExitCode.ok
        }
    })

let personCommand = Command(
    name: "person",
    summary: "One person's access across apps.",
    subcommands: [
        Command(
            name: "show",
            summary: "Every account and entitlement of a person, the rule justifying each, and their history.",
            usage: "ID [--json]",
            run: { inv in
                let id = try inv.positional(0, "ID (an employee id)")
                return try await withWorkspace(inv, actor: "steward person show", startConnectors: false) { ws in
                    let state = try ws.state()
                    guard let person = state.people[id] ?? state.formerPeople[id] else {
                        printError("no person \"\(id)\" in the journal")
                        return ExitCode.failure
                    }
                    let result = try await PlanEngine(workspace: ws).plan(now: try commandNow(), record: false)
                    var access: [JSONValue] = []
                    for (appIndex, app) in ws.config.apps.enumerated() {
                        guard let correlation = result.correlations.first(where: { $0.appId == app.id }),
                              let p = result.directory.index(of: id), let inventory = state.inventory(app: app.id) else { continue }
                        _ = appIndex
                        guard let a = correlation.account(ofPerson: p), a >= 0 else { continue }
                        let account = inventory.accounts[a]
                        let desired = result.desired.desiredAccess(ofPerson: id).first { $0.app == app.id }
                        let held = inventory.grants(ofAccount: a).map { inventory.entitlements[Int($0)] }
                        access.append([
                            "app": .string(app.id), "account": account.json,
                            "entitlements": .array(held.map { e in
                                let why = desired?.entitlements.first(where: { $0.entitlement.type == e.type && $0.entitlement.id == e.id })
                                return ["type": .string(e.type), "name": .string(e.name),
                                        "justification": .array((why?.justifications ?? []).map { .string(PlanRenderer.describe($0)) })]
                            }),
                        ])
                    }
                    let history = try ws.journal.events(matching: EventFilter(person: id)).map { e -> JSONValue in
                        ["seq": .int(e.seq), "time": .string(e.time.description), "type": .string(e.type), "app": e.subjects["app"].map(JSONValue.string) ?? .null]
                    }
                    let pending = result.plan.actions.filter { $0.personId == id }
                    let standing: String
                    if state.people[id] == nil {
                        standing = "left (\(LeaveReason.goneFromFeed.explanation))"
                    } else {
                        switch PersonDirectory.standing(of: person, on: CalendarDay(try commandNow())).0 {
                        case .active: standing = "active"
                        case .onLeave: standing = "on leave"
                        case .pending: standing = "pending (starts \(person.startDate ?? "later"))"
                        case .left(let reason): standing = "left (\(reason.explanation))"
                        }
                    }
                    if inv.json {
                        printJSON(["person": person.json, "standing": .string(standing), "access": .array(access),
                                   "pending": .array(pending.map(\.json)), "history": .array(history)])
                        return ExitCode.ok
                    }
                    print("\(person.fullName ?? person.id) <\(person.email)> \(person.id): \(person.department ?? "-"), \(person.title ?? "-"), \(standing)")
                    for item in access {
                        print("  \(item["app"].stringValue ?? ""): \(item["account"]["userName"].stringValue ?? "") (\(item["account"]["status"].stringValue ?? ""))")
                        for e in item["entitlements"].arrayValue ?? [] {
                            let why = (e["justification"].arrayValue ?? []).compactMap(\.stringValue).joined(separator: "; ")
                            print("    \(e["type"].stringValue ?? ""):\(e["name"].stringValue ?? "")\(why.isEmpty ? "  (not justified by any rule)" : "  ← \(why)")")
                        }
                    }
                    if !pending.isEmpty {
                        print("  pending:")
                        for a in pending { print("    \(PlanRenderer.line(a))") }
                    }
                    print("  history:")
                    for h in history { print("    #\(h["seq"].intValue ?? 0) \(h["time"].stringValue ?? "") \(h["type"].stringValue ?? "")\(h["app"].stringValue.map { " (\($0))" } ?? "")") }
                    return ExitCode.ok
                }
            }),
    ])

let linkCommand = Command(
    name: "link",
    summary: "Link an app account to a person by hand (journaled); correlation rules no longer decide for it.",
    usage: "APP:ACCOUNT PERSON [--json]",
    run: { inv in
        let account = try parseAccountRef(try inv.positional(0, "APP:ACCOUNT"))
        let person = try inv.positional(1, "PERSON (an employee id)")
        return try await withWorkspace(inv, actor: "steward link", startConnectors: false) { ws in
            let state = try ws.state()
            guard ws.config.app(account.app) != nil else { throw UsageError("no app \"\(account.app)\" in the config") }
            guard state.apps[account.app]?.accounts[account.id] != nil else { throw UsageError("app \(account.app) has no account \"\(account.id)\" (run `steward sync`?)") }
            guard state.people[person] != nil || state.formerPeople[person] != nil else { throw UsageError("no person \"\(person)\"") }
            try await ws.record([ws.event(EventType.accountLinked, subjects: ["app": account.app, "account": account.id, "person": person],
                                          data: ["source": "manual"])])
            if inv.json { printJSON(["linked": true]) } else { print("Linked \(account.app):\(account.id) to \(person).") }
            return ExitCode.ok
        }
    })

let ignoreCommand = Command(
    name: "ignore",
    summary: "Mark an app account as not a person's (a service account); journaled with the reason.",
    usage: "APP:ACCOUNT --reason TEXT [--json]",
    options: [.value("--reason", "TEXT", "Why (required; auditors read it).")],
    run: { inv in
        let account = try parseAccountRef(try inv.positional(0, "APP:ACCOUNT"))
        guard let reason = inv.value("--reason"), !reason.isEmpty else { throw UsageError("--reason is required") }
        return try await withWorkspace(inv, actor: "steward ignore", startConnectors: false) { ws in
            let state = try ws.state()
            guard state.apps[account.app]?.accounts[account.id] != nil else { throw UsageError("app \(account.app) has no account \"\(account.id)\" (run `steward sync`?)") }
            try await ws.record([ws.event(EventType.accountIgnored, subjects: ["app": account.app, "account": account.id],
                                          data: ["reason": .string(reason)])])
            if inv.json { printJSON(["ignored": true]) } else { print("Ignoring \(account.app):\(account.id): \(reason)") }
            return ExitCode.ok
        }
    })

// MARK: - Helpers

/// The time plans are computed for: now, or `STEWARD_NOW` (an RFC 3339 time) when set, so
/// grace periods and end dates can be rehearsed ("what would happen in 31 days?").
func commandNow() throws -> Date {
    guard let text = ProcessInfo.processInfo.environment["STEWARD_NOW"], !text.isEmpty else { return Date() }
    let formatter = ISO8601DateFormatter()
    if let d = formatter.date(from: text) { return d }
    formatter.formatOptions = [.withFullDate]
    if let d = formatter.date(from: text) { return d }
    throw UsageError("STEWARD_NOW: \"\(text)\" is not an RFC 3339 time such as 2026-12-01T09:00:00Z")
}

/// Opens the workspace named by the invocation's config, runs `body`, and closes it.
func withWorkspace(_ inv: Invocation, actor: String, startConnectors: Bool = true,
                   _ body: (Workspace) async throws -> Int32) async throws -> Int32 {
    let ws: Workspace
    do {
        ws = try Workspace.open(configPath: inv.configPath, actor: actor)
    } catch let e as ConfigFileError {
        throw UsageError("\(e)")
    }
    if let torn = ws.recovery.tornTail {
        printError("journal recovery: cut a torn record at the end of \(torn.file) (offset \(torn.offset), \(torn.bytes) bytes: \(torn.reason)); it was never acknowledged")
    }
    do {
        let code = try await body(ws)
        await ws.close()
        return code
    } catch {
        await ws.close()
        throw error
    }
}

func parseAccountRef(_ text: String) throws -> (app: String, id: String) {
    guard let colon = text.firstIndex(of: ":"), colon != text.startIndex, text.index(after: colon) != text.endIndex else {
        throw UsageError("expected APP:ACCOUNT (an app id and an account id), got \"\(text)\"")
    }
    return (String(text[..<colon]), String(text[text.index(after: colon)...]))
}

func readPlan(_ file: String) throws -> Plan {
    guard let data = FileManager.default.contents(atPath: file) else { throw UsageError("cannot read plan file \(file)") }
    do {
        return try Plan(json: try JSONParser.parse(data))
    } catch {
        throw UsageError("\(file): \(error)")
    }
}

/// Writes through a temporary file and a rename, so a reader never sees half a file.
func writeAtomically(_ text: String, to path: String) throws {
    let url = URL(fileURLWithPath: path)
    let tmp = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).tmp-\(getpid())")
    try Data(text.utf8).write(to: tmp)
    guard rename(tmp.path, url.path) == 0 else {
        let reason = String(cString: strerror(errno))
        try? FileManager.default.removeItem(at: tmp)
        throw UsageError("cannot write \(path): \(reason)")
    }
}
