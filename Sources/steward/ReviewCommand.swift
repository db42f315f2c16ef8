import Foundation
import StewardCore
import StewardHost
import StewardJournal
import StewardProtocol

// steward review …: access review campaigns from the command line, the trusted local channel.

let reviewCommand = Command(
    name: "review",
    summary: "Access review campaigns: launch, decide, delegate, sign off, remind, close.",
    discussion: """
    A campaign snapshots the access in scope from the last sync, routes each item to its
    reviewer (never the subject), and records every decision in the journal. Closing a stage
    turns revoke decisions into plan actions, applied and read back like any other: an item ends
    revoked-verified only when the app no longer shows the access. The CLI is the trusted local
    channel: --as names the reviewer acting, and the journal records it with channel cli.
    """,
    subcommands: [
        Command(
            name: "start",
            summary: "Launch a campaign defined in the config, or an ad hoc one.",
            usage: "NAME [--due DATE] | --adhoc ID [--app APP ...] [--entitlement PATTERN ...] [--privileged] [--include KIND ...] [--everything] [--reviewer RULE ...] [--fallback RULE] [--days N] [--due DATE]",
            discussion: """
            NAME is a review in the config's `reviews`. An ad hoc campaign takes its scope from the
            options: --app and --entitlement (type:name, * matches anything) narrow it, --privileged
            keeps what apps[].privileged names, --include access|orphans|leavers (default access),
            --everything takes all three everywhere. Each --reviewer is a stage: manager, appOwner,
            entitlementOwner, group:NAME or an e-mail. An app whose last sync is older than the
            review's maxSyncAgeHours (24 by default) stops the launch.
            """,
            options: [
                .value("--due", "DATE", "The last stage's deadline (a day or an RFC 3339 time); default: the review's days from now."),
                .value("--adhoc", "ID", "Launch an ad hoc campaign with this id instead of a configured review."),
                .value("--app", "APP", "Ad hoc: only this app; repeatable."),
                .value("--entitlement", "PATTERN", "Ad hoc: only entitlements matching type:name; repeatable."),
                .flag("--privileged", "Ad hoc: only privileged access (apps[].privileged)."),
                .value("--include", "KIND", "Ad hoc: access, orphans or leavers; repeatable."),
                .flag("--everything", "Ad hoc: every grant, orphan and leaver's account in every app."),
                .value("--reviewer", "RULE", "Ad hoc: a stage's reviewer; repeatable, one per stage (default manager)."),
                .value("--fallback", "RULE", "Ad hoc: who takes items the stage's reviewer cannot."),
                .value("--days", "N", "Ad hoc: length in days (default 14)."),
            ],
            run: { inv in
                let due = try inv.value("--due").map { text -> Date in
                    guard let t = parseDay(text) else { throw UsageError("--due: \"\(text)\" is not a date like 2026-12-31 or an RFC 3339 time") }
                    return t.date
                }
                return try await withReviews(inv) { engine, ws in
                    let definition = try reviewDefinition(inv, config: ws.config.governance)
                    let campaign = try await engine.launch(definition, due: due)
                    if inv.json {
                        printJSON(campaignJSON(campaign))
                    } else {
                        print(campaignHeadline(campaign))
                        let unassigned = campaign.progress.filter { $0.assignments.first?.reviewer == nil }.count
                        let selfBlocked = campaign.progress.filter { $0.assignments.first?.selfReviewBlocked == true }.count
                        if selfBlocked > 0 { print("\(selfBlocked) self-review\(selfBlocked == 1 ? "" : "s") blocked and sent to the fallback") }
                        if unassigned > 0 { printError("\(unassigned) item\(unassigned == 1 ? " has" : "s have") no independent reviewer: add a fallback to the review") }
                        for (reviewer, n) in reviewerLoad(campaign) { print("  \(reviewer): \(n) item\(n == 1 ? "" : "s")") }
                    }
                    return ExitCode.ok
                }
            }),
        Command(
            name: "list", summary: "Every campaign, newest last.", usage: "[--json]",
            run: { inv in
                try await withReviews(inv, readOnly: true) { engine, _ in
                    let book = try engine.book()
                    let campaigns = book.order.compactMap { book.campaigns[$0] }
                    if inv.json {
                        printJSON(["campaigns": .array(campaigns.map(campaignJSON))])
                    } else if campaigns.isEmpty {
                        print("No campaigns yet: start one with `steward review start NAME`.")
                    } else {
                        for c in campaigns { print(campaignHeadline(c)) }
                    }
                    return ExitCode.ok
                }
            }),
        Command(
            name: "show", summary: "A campaign: scope, population, progress per reviewer, outcomes and review quality.",
            usage: "ID [--json]",
            run: { inv in
                let id = try inv.positional(0, "ID (a campaign)")
                return try await withReviews(inv, readOnly: true) { engine, _ in
                    let campaign = try engine.campaign(id)
                    if inv.json {
                        var doc = campaignJSON(campaign).objectValue ?? [:]
                        doc["quality"] = ["campaign": ReviewQuality.campaign(campaign).json, "reviewers": .array(ReviewQuality.perReviewer(campaign).map(\.json))]
                        doc["population"] = try engine.book().populations[id] ?? .null
                        printJSON(.object(doc))
                        return ExitCode.ok
                    }
                    print(campaignHeadline(campaign))
                    if let d = campaign.definition.description { print("  \(d)") }
                    print("  stages: " + campaign.definition.stages.enumerated().map { i, s in
                        "\(i + 1). \(s.reviewer) (due \(campaign.deadlines[i].rfc3339Text.prefix(16)))" }.joined(separator: ", "))
                    let population = try engine.book().populations[id]
                    if let sha = population?["sha256"].stringValue { print("  population: \(campaign.items.count) items, sha256 \(sha.prefix(16))…") }
                    let outcomes = Dictionary(grouping: campaign.progress, by: { $0.status.description }).mapValues(\.count)
                    print("  items: " + outcomes.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(separator: ", "))
                    for (reviewer, n) in reviewerLoad(campaign) { print("  waiting on \(reviewer): \(n)") }
                    for q in ReviewQuality.perReviewer(campaign) {
                        print(String(format: "  %@: %d decided, median %.1f s each, %.0f%% in bulk, %.0f%% as recommended%@", q.reviewer as NSString,
                                     q.decided, q.medianSeconds, q.bulkShare * 100, q.followedRecommendationShare * 100,
                                     q.rubberStamp ? ", RUBBER STAMP (all kept, each under 2 s)" : ""))
                    }
                    return ExitCode.ok
                }
            }),
        Command(
            name: "items", summary: "A campaign's items with context, recommendation, reviewer and status.",
            usage: "ID [--reviewer EMAIL] [--status open|decided] [--json]",
            options: [
                .value("--reviewer", "EMAIL", "Only items this reviewer may decide now."),
                .value("--status", "STATUS", "open (waiting for a decision at the current stage) or decided."),
            ],
            run: { inv in
                let id = try inv.positional(0, "ID (a campaign)")
                let status = inv.value("--status")
                if let status, !["open", "decided"].contains(status) { throw UsageError("--status: expected open or decided, got \(status)") }
                return try await withReviews(inv, readOnly: true) { engine, ws in
                    let campaign = try engine.campaign(id)
                    var positions = Array(campaign.items.indices)
                    if let reviewer = inv.value("--reviewer") {
                        positions = campaign.openItems(for: reviewer, groups: ws.config.governance.reviewerGroups)
                    }
                    let undecided = Set(campaign.undecidedItems)
                    if status == "open" { positions = positions.filter { undecided.contains($0) } }
                    if status == "decided" { positions = positions.filter { !undecided.contains($0) } }
                    for p in positions {
                        if inv.json { printJSON(itemJSON(campaign, p)) } else { print(itemLine(campaign, p)) }
                    }
                    if !inv.json { print("\(positions.count) item\(positions.count == 1 ? "" : "s")") }
                    return ExitCode.ok
                }
            }),
        Command(
            name: "decide", summary: "Keep or revoke items, as a reviewer.",
            usage: "ID ITEM... keep|revoke [--comment TEXT] --as EMAIL [--json]",
            discussion: "A comment is required to keep privileged access, access no rule grants, an orphan or a leaver's account. Refused (exit 2, nothing recorded) when --as is not the items' reviewer, is their subject, has signed off, or an item is not open.",
            options: [.value("--comment", "TEXT", "Why; auditors read it."), .value("--as", "EMAIL", "The reviewer deciding (required).")],
            run: { inv in
                let id = try inv.positional(0, "ID (a campaign)")
                guard inv.positionals.count >= 3, let verdictText = inv.positionals.last,
                      let verdict = Recommendation.Verdict(rawValue: verdictText) else {
                    throw UsageError("expected ID ITEM... keep|revoke")
                }
                let items = Array(inv.positionals.dropFirst().dropLast())
                let email = try reviewerOption(inv)
                return try await withReviews(inv) { engine, _ in
                    let n = try await engine.decide(id, items: items, verdict: verdict, comment: inv.value("--comment"), as: email)
                    if inv.json { printJSON(["decided": .int(n)]) } else { print("Recorded \(verdict.rawValue) on \(n) item\(n == 1 ? "" : "s") as \(email).") }
                    return ExitCode.ok
                }
            }),
        Command(
            name: "accept-recommendations", summary: "Decide each of your open items as recommended; each is recorded on its own.",
            usage: "ID --as EMAIL [--json]",
            options: [.value("--as", "EMAIL", "The reviewer deciding (required).")],
            run: { inv in
                let id = try inv.positional(0, "ID (a campaign)")
                let email = try reviewerOption(inv)
                return try await withReviews(inv) { engine, _ in
                    let (decided, left) = try await engine.acceptRecommendations(id, as: email)
                    if inv.json {
                        printJSON(["decided": .int(decided), "needComment": .array(left.map(JSONValue.string))])
                    } else {
                        print("Recorded \(decided) decision\(decided == 1 ? "" : "s") as recommended, as \(email).")
                        if !left.isEmpty { print("Left for you to decide with a comment (privileged or unjustified access kept): items \(left.joined(separator: ", "))") }
                    }
                    return ExitCode.ok
                }
            }),
        Command(
            name: "delegate", summary: "Hand items to another reviewer, with a reason.",
            usage: "ID ITEM... --to EMAIL --reason TEXT --as EMAIL [--json]",
            options: [.value("--to", "EMAIL", "Who takes them."), .value("--reason", "TEXT", "Why (required)."),
                      .value("--as", "EMAIL", "The reviewer delegating (required).")],
            run: { inv in
                let id = try inv.positional(0, "ID (a campaign)")
                let items = Array(inv.positionals.dropFirst())
                guard let toText = inv.value("--to"), let to = Reviewer(toText) else { throw UsageError("--to: an e-mail address or group:NAME is required") }
                let email = try reviewerOption(inv)
                return try await withReviews(inv) { engine, _ in
                    try await engine.delegate(id, items: items, to: to, reason: inv.value("--reason") ?? "", as: email)
                    if inv.json { printJSON(["delegated": .int(items.count)]) } else { print("Delegated \(items.count) item\(items.count == 1 ? "" : "s") to \(to).") }
                    return ExitCode.ok
                }
            }),
        Command(
            name: "signoff", summary: "Sign off your decisions at the current stage; they are locked afterwards.",
            usage: "ID --as EMAIL [--json]",
            options: [.value("--as", "EMAIL", "The reviewer signing off (required).")],
            run: { inv in
                let id = try inv.positional(0, "ID (a campaign)")
                let email = try reviewerOption(inv)
                return try await withReviews(inv) { engine, _ in
                    try await engine.signOff(id, as: email)
                    if inv.json { printJSON(["signedOff": true]) } else { print("\(email) signed off \(id).") }
                    return ExitCode.ok
                }
            }),
        Command(
            name: "link", summary: "A reviewer's signed link to their items, for `steward serve`'s pages.",
            usage: "ID --reviewer EMAIL [--days N] [--json]",
            discussion: """
            Signed with serve.linkKey; it opens serve.publicURL (or the listen address) /r/TOKEN, shows
            only that reviewer's items in the campaign, and records what is decided there with channel
            `link`. Whoever holds it acts as the reviewer until it expires (--days, default 14) or
            `steward review revoke-links` stops it.
            """,
            options: [.value("--reviewer", "EMAIL", "Whose link (required)."), .value("--days", "N", "Days until it expires (default 14).")],
            run: { inv in
                let id = try inv.positional(0, "ID (a campaign)")
                guard let reviewer = inv.value("--reviewer"), reviewer.contains("@") else { throw UsageError("--reviewer EMAIL is required") }
                let days = try inv.value("--days").map { text -> Double in
                    guard let d = Double(text), d > 0 else { throw UsageError("--days: expected a positive number, got \(text)") }
                    return d
                } ?? 14
                return try await withReviews(inv, readOnly: true) { engine, ws in
                    _ = try engine.campaign(id)
                    guard let issuer = try ReviewLinkIssuer(config: ws.config) else {
                        printError("serve.linkKey is not set in \(ws.config.file.lastPathComponent): links need a key (env:NAME or file:PATH)")
                        return ExitCode.usage
                    }
                    let (link, url) = issuer.link(reviewer: reviewer, campaign: id, now: try commandNow(), lifetime: days * 86_400)
                    if inv.json {
                        printJSON(["url": .string(url), "reviewer": .string(link.reviewer), "expiresAt": .int(link.expiresAt)])
                    } else {
                        print(url)
                    }
                    return ExitCode.ok
                }
            }),
        Command(
            name: "revoke-links", summary: "Stop a campaign's reviewer links (one reviewer's, or everyone's) issued until now.",
            usage: "ID [--reviewer EMAIL] [--json]",
            options: [.value("--reviewer", "EMAIL", "Only this reviewer's links.")],
            run: { inv in
                let id = try inv.positional(0, "ID (a campaign)")
                let reviewer = inv.value("--reviewer")?.lowercased()
                return try await withReviews(inv) { engine, ws in
                    _ = try engine.campaign(id)
                    let now = try commandNow()
                    _ = try await ws.record([ws.event(EventType.reviewLinksRevoked, subjects: ["campaign": id], data: [
                        "campaign": .string(id), "reviewer": reviewer.map(JSONValue.string) ?? .null,
                        "before": .int(Int(now.timeIntervalSince1970)),
                    ])])
                    if inv.json { printJSON(["revoked": true]) } else { print("Links to \(id)\(reviewer.map { " for \($0)" } ?? "") issued until now no longer work.") }
                    return ExitCode.ok
                }
            }),
        Command(
            name: "remind", summary: "Send what is due now: reminders by the ladder, escalations, and the default decision at the deadline.",
            usage: "ID [--json]",
            run: { inv in
                let id = try inv.positional(0, "ID (a campaign)")
                return try await withReviews(inv) { engine, _ in
                    let due = try await engine.remind(id)
                    if inv.json {
                        printJSON(["reminders": .array(due.reminders.map { ["reviewer": .string($0.reviewer), "openItems": .int($0.openItems), "slot": .string($0.slot)] }),
                                   "escalations": .array(due.escalations.map { ["from": .string($0.from), "to": $0.to.map(JSONValue.string) ?? .null, "items": .int($0.items.count)] }),
                                   "stageClosed": .bool(due.closeStage)])
                    } else {
                        if due.reminders.isEmpty && due.escalations.isEmpty && !due.closeStage { print("Nothing is due now.") }
                        for r in due.reminders { print("remind \(r.reviewer): \(r.openItems) open item\(r.openItems == 1 ? "" : "s") (\(r.slot))") }
                        for e in due.escalations { print("escalated \(e.items.count) overdue item\(e.items.count == 1 ? "" : "s") of \(e.from) to \(e.to ?? "nobody: no manager in HR")") }
                        if due.closeStage { print("The deadline passed: the default decision settled the undecided items and the stage closed.") }
                    }
                    return ExitCode.ok
                }
            }),
        Command(
            name: "close", summary: "Close the current stage; revoke decisions are applied and read back.",
            usage: "ID [--stage N] [--allow-mass-deprovision] [--json]",
            options: [.value("--stage", "N", "The stage to close (must be the current one)."),
                      .flag("--allow-mass-deprovision", "Apply the revokes even if a safety rail trips.")],
            run: { inv in
                let id = try inv.positional(0, "ID (a campaign)")
                let stage = try inv.value("--stage").map { text -> Int in
                    guard let n = Int(text), n >= 1 else { throw UsageError("--stage: expected a stage number, got \(text)") }
                    return n - 1
                }
                return try await withReviews(inv) { engine, _ in
                    let campaign = try await engine.close(id, stage: stage, allowMassDeprovision: inv.flag("--allow-mass-deprovision"))
                    let outcomes = Dictionary(grouping: campaign.progress, by: { $0.status.description }).mapValues(\.count)
                    if inv.json {
                        printJSON(["campaign": campaignJSON(campaign), "outcomes": .object(outcomes.mapValues { .int($0) })])
                    } else {
                        print(campaignHeadline(campaign))
                        print("  " + outcomes.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(separator: ", "))
                    }
                    let failed = campaign.progress.contains { if case .revokeFailed = $0.status { return true } else { return false } }
                    return failed ? ExitCode.failure : ExitCode.ok
                }
            }),
    ])

// MARK: - Helpers

/// Opens the workspace and maps the engine's refusals to exit codes: 2 for a request that is
/// wrong, 1 for stale state, 3 for a safety rail.
func withReviews(_ inv: Invocation, readOnly: Bool = false, _ body: (ReviewEngine, Workspace) async throws -> Int32) async throws -> Int32 {
    try await withWorkspace(inv, actor: "steward \(inv.path.joined(separator: " "))", readOnly: readOnly) { ws in
        do {
            return try await body(ReviewEngine(workspace: ws, now: try commandNow()), ws)
        } catch let refusal as ReviewEngine.Refusal {
            switch refusal.kind {
            case .invalid:
                // The request was understood and refused: say why, without the usage hint.
                printError(refusal.description)
                return ExitCode.usage
            case .stale:
                printError(refusal.description)
                return ExitCode.failure
            case .blocked:
                printError(refusal.description)
                return ExitCode.blocked
            }
        }
    }
}

func reviewerOption(_ inv: Invocation) throws -> String {
    guard let email = inv.value("--as"), email.contains("@") else { throw UsageError("--as EMAIL is required: the reviewer acting") }
    return email.lowercased()
}

/// The configured review NAME, or an ad hoc one from the options.
func reviewDefinition(_ inv: Invocation, config: GovernanceConfig) throws -> ReviewDefinition {
    if let name = inv.positionals.first {
        guard inv.value("--adhoc") == nil else { throw UsageError("give a review NAME or --adhoc ID, not both") }
        guard let definition = config.review(name) else {
            throw UsageError("no review \"\(name)\" in the config" + (config.reviews.isEmpty ? " (it defines none; use --adhoc ID with --app, --reviewer, …)" : " (defined: \(config.reviews.map(\.id).joined(separator: ", ")))"))
        }
        return definition
    }
    guard let id = inv.value("--adhoc") else { throw UsageError("expected a review NAME, or --adhoc ID with its scope options") }
    var scope = inv.flag("--everything") ? ReviewScope.everything : ReviewScope()
    let apps = inv.allValues("--app")
    for app in apps where config.app(app) == nil { throw UsageError("--app: no app \"\(app)\" in the config") }
    if !apps.isEmpty { scope.apps = apps }
    scope.entitlements = try inv.allValues("--entitlement").map { text in
        guard let p = EntitlementPattern(text) else { throw UsageError("--entitlement: expected type:name, got \(text)") }
        return p
    }
    scope.privilegedOnly = inv.flag("--privileged")
    let include = try inv.allValues("--include").flatMap { $0.split(separator: ",").map(String.init) }.map { text in
        guard let i = ReviewScope.Include(rawValue: text) else { throw UsageError("--include: expected access, orphans or leavers, got \(text)") }
        return i
    }
    if !include.isEmpty { scope.include = Set(include) }
    func rule(_ text: String, _ option: String) throws -> ReviewerRule {
        guard let r = ReviewerRule(text) else { throw UsageError("\(option): expected manager, appOwner, entitlementOwner, group:NAME or an e-mail, got \(text)") }
        if case .group(let g) = r, config.reviewerGroups[g] == nil { throw UsageError("\(option): no reviewer group \"\(g)\" in the config") }
        return r
    }
    let reviewers = try inv.allValues("--reviewer").map { try rule($0, "--reviewer") }
    let days = try inv.value("--days").map { text -> Int in
        guard let n = Int(text), (1...365).contains(n) else { throw UsageError("--days: expected 1 to 365, got \(text)") }
        return n
    }
    return ReviewDefinition(id: id, scope: scope, stages: reviewers.isEmpty ? [ReviewStage(reviewer: .manager)] : reviewers.map { ReviewStage(reviewer: $0) },
                            fallback: try inv.value("--fallback").map { try rule($0, "--fallback") }, days: days ?? 14)
}

func campaignHeadline(_ c: Campaign) -> String {
    let state = c.isClosed ? "closed \(c.closedAt?.rfc3339Text.prefix(16) ?? "")"
        : c.stage < c.deadlines.count ? "stage \(c.stage + 1) of \(c.deadlines.count), due \(c.deadlines[c.stage].rfc3339Text.prefix(16))" : "remediating"
    return "\(c.id): \(c.items.count) item\(c.items.count == 1 ? "" : "s"), \(c.undecidedItems.count) undecided; \(state)"
}

func campaignJSON(_ c: Campaign) -> JSONValue {
    ["id": .string(c.id), "review": .string(c.definition.id), "items": .int(c.items.count), "undecided": .int(c.undecidedItems.count),
     "stage": .int(c.stage + 1), "stages": .int(c.deadlines.count), "launchedAt": .string(c.launchedAt.rfc3339Text),
     "deadlines": .array(c.deadlines.map { .string($0.rfc3339Text) }), "closed": .bool(c.isClosed)]
}

/// Undecided items per reviewer at the current stage.
func reviewerLoad(_ c: Campaign) -> [(String, Int)] {
    var load: [String: Int] = [:]
    for p in c.undecidedItems { load[c.progress[p].currentReviewer(c.stage)?.description ?? "nobody (no independent reviewer)", default: 0] += 1 }
    return load.sorted { $0.key < $1.key }
}

func itemLine(_ c: Campaign, _ p: Int) -> String {
    let item = c.items[p], progress = c.progress[p]
    let who = item.personId.map { "\($0) \(item.context.personName ?? "")" } ?? "nobody"
    let why = item.context.justifications.isEmpty ? "no rule" : item.context.justifications.joined(separator: ", ")
    let decision = progress.decision(at: c.stage).map { " decided \($0.verdict.rawValue) by \($0.by)" } ?? ""
    return "\(item.id)  \(item.app)  \(item.accountName) (\(who))  \(item.accessName)\(item.context.privileged ? " [privileged]" : "")  [\(why)]  recommend \(item.recommendation.verdict.rawValue): \(item.recommendation.reason)  reviewer \(progress.currentReviewer(c.stage)?.description ?? "-")  \(progress.status)\(decision)"
}

func itemJSON(_ c: Campaign, _ p: Int) -> JSONValue {
    let item = c.items[p], progress = c.progress[p]
    return ["id": .string(item.id), "app": .string(item.app), "account": .string(item.accountId), "accountName": .string(item.accountName),
            "person": item.personId.map(JSONValue.string) ?? .null, "access": .string(item.accessName),
            "privileged": .bool(item.context.privileged), "justifications": .array(item.context.justifications.map(JSONValue.string)),
            "recommendation": ["verdict": .string(item.recommendation.verdict.rawValue), "reason": .string(item.recommendation.reason)],
            "reviewer": progress.currentReviewer(c.stage).map { .string($0.description) } ?? .null,
            "status": .string(progress.status.description),
            "decision": progress.decision(at: c.stage).map { ["decision": .string($0.verdict.rawValue), "by": .string($0.by)] } ?? .null]
}

extension Date {
    var rfc3339Text: String { Timestamp(self).rfc3339 }
}
