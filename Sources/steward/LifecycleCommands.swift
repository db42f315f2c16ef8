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
    discussion: "Discovery sources (discovery: [...]) are read too. With --app, only those apps or discovery sources are synced (the HR source is not). A source that fails leaves what was known from it and never blocks the others. Exit 1 when any listing failed.",
    options: [.value("--app", "ID", "Sync only this app or discovery source; repeatable.")],
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
    for d in s.discovery {
        if let e = d.error {
            print("\(d.id): FAILED: \(e)")
        } else {
            print("\(d.id): \(d.records) records, \(d.usage) app × user records (\(d.unknown) unknown vendor\(d.unknown == 1 ? "" : "s"), \(d.notSoftware) not software); \(d.changes) changes journaled")
        }
    }
    if s.findingsOpened + s.findingsResolved > 0 {
        print("Findings: \(s.findingsOpened) new, \(s.findingsResolved) resolved (steward discover)")
    }
    if s.reviewItemsRerouted > 0 { print("Reviews: \(s.reviewItemsRerouted) open item\(s.reviewItemsRerouted == 1 ? "" : "s") moved to a new reviewer (HR changed)") }
    if !s.microCertifications.isEmpty { print("Reviews opened: \(s.microCertifications.joined(separator: ", "))") }
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
    summary: "People, apps, accounts linked and orphaned, actions pending, in doubt or unverified, last sync per app.",
    usage: "[--json]",
    run: { inv in
        try await withWorkspace(inv, actor: "steward status", readOnly: true) { ws in
            let status = try await Queries(workspace: ws, now: try commandNow()).status()
            if inv.json { printJSON(status.json) } else { print(status.text) }
            return ExitCode.ok
        }
    })

let personCommand = Command(
    name: "person",
    summary: "One person's access across apps, and their history.",
    subcommands: [
        Command(
            name: "show",
            summary: "Every account and entitlement of a person, the rule justifying each, and their history.",
            usage: "ID [--json]",
            run: { inv in
                let id = try inv.positional(0, "ID (an employee id)")
                return try await withWorkspace(inv, actor: "steward person show", readOnly: true) { ws in
                    let queries = try await Queries(workspace: ws, now: try commandNow())
                    guard let access = queries.person(id) else {
                        printError("no person \"\(id)\" in the journal")
                        return ExitCode.failure
                    }
                    let history = try queries.history(of: id)
                    if inv.json {
                        var doc = access.json.objectValue ?? [:]
                        doc["history"] = .array(history.map(\.json))
                        printJSON(.object(doc))
                        return ExitCode.ok
                    }
                    print(personText(access))
                    print("  history:")
                    for entry in history { print("    " + entry.line) }
                    return ExitCode.ok
                }
            }),
        Command(
            name: "history",
            summary: "What changed for a person, one line per change: what, where, why, by whom, and how it ended.",
            usage: "ID [--app APP] [--since DATE] [--json]",
            discussion: """
            Each line is one change: HR events (joined, moved, left), every action Steward took for the
            person with its cause and the rule behind it, the outcome and whether a read of the app
            showed it, and what syncs saw change on the person's accounts. With --json, one JSON
            object per line, carrying the journal sequence numbers (seqs) so `steward audit proof
            --seq N` can prove each.
            """,
            options: [
                .value("--app", "APP", "Only this app (or the HR source's id for HR events)."),
                .value("--since", "DATE", "Only changes on or after this day or RFC 3339 time."),
            ],
            run: { inv in
                let id = try inv.positional(0, "ID (an employee id)")
                let since = try inv.value("--since").map { text -> Timestamp in
                    guard let t = parseDay(text) else { throw UsageError("--since: \"\(text)\" is not a date like 2026-12-01 or an RFC 3339 time") }
                    return t
                }
                return try await withWorkspace(inv, actor: "steward person history", readOnly: true) { ws in
                    let queries = try await Queries(workspace: ws, now: try commandNow())
                    guard queries.person(id) != nil else {
                        printError("no person \"\(id)\" in the journal")
                        return ExitCode.failure
                    }
                    if let app = inv.value("--app"), ws.config.app(app) == nil, app != ws.config.source.id {
                        throw UsageError("--app: no app \"\(app)\" in \(ws.config.file.lastPathComponent)")
                    }
                    for entry in try queries.history(of: id, app: inv.value("--app"), since: since) {
                        if inv.json { printJSON(entry.json) } else { print(entry.line) }
                    }
                    return ExitCode.ok
                }
            }),
    ])

/// A person's access as text: who they are, then each account and what it holds and why.
func personText(_ access: PersonAccess) -> String {
    let p = access.person
    var lines = ["\(p.fullName ?? p.id) <\(p.email)> \(p.id): \(p.department ?? "-"), \(p.title ?? "-"), \(access.standing)"]
    for held in access.accounts {
        lines.append("  \(held.app): \(held.account.userName) (\(held.account.status.rawValue))")
        for e in held.entitlements {
            let why = e.justifications.map(PlanRenderer.describe).joined(separator: "; ")
            lines.append("    \(e.entitlement.type):\(e.entitlement.name)\(why.isEmpty ? "  (not justified by any rule)" : "  ← \(why)")")
        }
    }
    if !access.pending.isEmpty {
        lines.append("  pending:")
        for a in access.pending { lines.append("    \(PlanRenderer.line(a))") }
    }
    return lines.joined(separator: "\n")
}

/// `2026-12-01` (the start of that day, UTC) or an RFC 3339 time.
func parseDay(_ text: String) -> Timestamp? {
    if let t = Timestamp(rfc3339: text) { return t }
    guard let day = CalendarDay(iso: text) else { return nil }
    return Timestamp(rfc3339: "\(day)T00:00:00Z")
}

let accountsCommand = Command(
    name: "accounts",
    summary: "One app's accounts: whose each is (and how that was decided), orphans, ignored accounts.",
    usage: "APP [--orphans] [--json]",
    discussion: "As of the last sync. Orphans are linked to nobody: link them (`steward link`), mark them as nobody's (`steward ignore`), or let the plan remove them.",
    options: [.flag("--orphans", "Only accounts linked to nobody.")],
    run: { inv in
        let app = try inv.positional(0, "APP (an app id)")
        return try await withWorkspace(inv, actor: "steward accounts", readOnly: true) { ws in
            guard ws.config.app(app) != nil else { throw UsageError("no app \"\(app)\" in \(ws.config.file.lastPathComponent)") }
            guard var listing = try await Queries(workspace: ws, now: try commandNow()).accounts(in: app) else {
                printError("\(app) has not been synced yet: run `steward sync`")
                return ExitCode.failure
            }
            if inv.flag("--orphans") { listing.accounts = listing.orphans }
            if inv.json {
                printJSON(listing.json)
                return ExitCode.ok
            }
            for e in listing.accounts {
                let owner: String
                switch e.owner {
                case .person(let id, let how): owner = "\(id) (\(how))"
                case .ignored(let reason): owner = "nobody's: \(reason)"
                case .nobody: owner = "ORPHAN"
                }
                let held = e.entitlements.isEmpty ? "" : "  " + e.entitlements.joined(separator: ", ")
                print("\(e.account.id)  \(e.account.userName) (\(e.account.status.rawValue))  \(owner)\(held)")
            }
            print("\(listing.accounts.count) account\(listing.accounts.count == 1 ? "" : "s")\(inv.flag("--orphans") ? " linked to nobody" : ", \(listing.orphans.count) linked to nobody")")
            return ExitCode.ok
        }
    })

let linkCommand = Command(
    name: "link",
    summary: "Link an app account to a person by hand (journaled); correlation rules no longer decide for it.",
    usage: "APP:ACCOUNT PERSON [--json]",
    run: { inv in
        let account = try parseAccountRef(try inv.positional(0, "APP:ACCOUNT"))
        let person = try inv.positional(1, "PERSON (an employee id)")
        return try await withWorkspace(inv, actor: "steward link") { ws in
            do {
                try await ws.link(app: account.app, account: account.id, to: person)
            } catch let e as Workspace.ManualLinkError {
                throw UsageError(e.description)
            }
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
        return try await withWorkspace(inv, actor: "steward ignore") { ws in
            do {
                try await ws.ignore(app: account.app, account: account.id, reason: reason)
            } catch let e as Workspace.ManualLinkError {
                throw UsageError(e.description)
            }
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
func withWorkspace(_ inv: Invocation, actor: String, readOnly: Bool = false,
                   _ body: (Workspace) async throws -> Int32) async throws -> Int32 {
    let ws: Workspace
    do {
        ws = try await openWaitingForWriters(inv.configPath, actor: actor, readOnly: readOnly)
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

/// Opens the workspace; while another process (usually `steward serve` in the middle of a job)
/// holds the journal's writer lock, waits for it rather than failing, for up to
/// `STEWARD_LOCK_WAIT` seconds (default 120; 0 fails at once). Says so once on stderr.
func openWaitingForWriters(_ configPath: String, actor: String, readOnly: Bool) async throws -> Workspace {
    let wait = ProcessInfo.processInfo.environment["STEWARD_LOCK_WAIT"].flatMap(Double.init) ?? 120
    let deadline = Date().addingTimeInterval(max(0, wait))
    var told = false
    while true {
        do {
            return try Workspace.open(configPath: configPath, actor: actor, readOnly: readOnly)
        } catch JournalError.locked(let path) where Date() < deadline {
            if !told {
                printError("waiting for the journal: another steward process (steward serve, or a command in another terminal) is writing to \(path); STEWARD_LOCK_WAIT=\(Int(wait)) seconds at most")
                told = true
            }
            try await Task.sleep(for: .milliseconds(100))
        }
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
    try writeAtomically(Array(text.utf8), to: path)
}

func writeAtomically(_ bytes: [UInt8], to path: String) throws {
    let url = URL(fileURLWithPath: path)
    let tmp = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).tmp-\(getpid())")
    try Data(bytes).write(to: tmp)
    guard rename(tmp.path, url.path) == 0 else {
        let reason = String(cString: strerror(errno))
        try? FileManager.default.removeItem(at: tmp)
        throw UsageError("cannot write \(path): \(reason)")
    }
}
