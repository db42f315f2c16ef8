import Foundation
import StewardCore
import StewardHost

let discoverCommand = Command(
    name: "discover",
    summary: "Access nobody answers for: orphans with their likely owners, leavers' leftovers, dormant seats, unjustified privileges, ownerless service accounts, and apps in use nobody connected.",
    usage: "[--kind orphan|leftover|dormant|privileged|service|licences|shadow ...] [--app ID ...] [--json]",
    discussion: """
    Reads what `steward sync` last saw and the config's rules (nothing is written). Each finding
    says what was found, the evidence, how long it has been so where the data says, and what to
    do: an orphan lists the three people it most likely belongs to (by e-mail, name and user-name
    forms such as first.last, flast, nicknames, accents, +tags and old domains) so one
    `steward link APP:ACCOUNT PERSON` settles it. Tune per app with dormantAfterDays (default 90),
    licence: { entitlement, monthlyCost } and serviceAccounts (name patterns). Leftovers come
    first: a leaver's enabled account, in any app, is the most urgent finding, and a leaver
    still signing in or granting OAuth access after the leave date comes before all of them.

    Shadow apps come from the discovery sources (`discovery: [...]`: expense, OAuth-grant,
    sign-in and browser exports, read by `steward sync`), matched to the vendor catalogue: each
    lists its users (linked to people by e-mail), first and last seen, spend a month where the
    evidence has amounts, and the export lines behind it. Unknown vendors are listed as unknown.
    """,
    options: [
        .value("--kind", "KIND", "Only findings of this kind; repeatable."),
        .value("--app", "ID", "Only this app; repeatable."),
    ],
    run: { inv in
        var kinds: Set<AccountFinding.Kind> = []
        for text in inv.allValues("--kind") {
            guard let kind = AccountFinding.Kind(rawValue: text) else {
                throw UsageError("--kind: \"\(text)\" is not a kind; expected one of \(AccountFinding.Kind.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            kinds.insert(kind)
        }
        let apps = Set(inv.allValues("--app"))
        return try await withWorkspace(inv, actor: "steward discover", readOnly: true) { ws in
            for id in apps where ws.config.app(id) == nil {
                throw UsageError("--app: no app \"\(id)\" in \(ws.config.file.lastPathComponent)")
            }
            let found = try await DiscoveryEngine(workspace: ws).findings(now: try commandNow())
                .filter { (kinds.isEmpty || kinds.contains($0.kind)) && (apps.isEmpty || apps.contains($0.app)) }
            if inv.json {
                printJSON(["findings": .array(found.map(\.json)), "counts": .object(Dictionary(grouping: found, by: \.kind.rawValue).mapValues { .int($0.count) })])
            } else {
                print(discoveryText(found), terminator: "")
            }
            return ExitCode.ok
        }
    })

/// Findings grouped by kind, most urgent first, each with its evidence and next step.
func discoveryText(_ findings: [AccountFinding]) -> String {
    if findings.isEmpty { return "No findings.\n" }
    let order: [AccountFinding.Kind] = [.leftover, .orphan, .privileged, .service, .dormant, .licences, .shadow]
    let titles: [AccountFinding.Kind: String] = [
        .leftover: "Leavers' leftover access", .orphan: "Accounts linked to nobody", .privileged: "Privileged access no rule grants",
        .service: "Shared or service accounts without an owner", .dormant: "Dormant accounts", .licences: "Licences",
        .shadow: "Apps in use that Steward does not manage",
    ]
    var text = ""
    for kind in order {
        let group = findings.filter { $0.kind == kind }
        guard !group.isEmpty else { continue }
        text += "\(titles[kind] ?? kind.rawValue) (\(group.count))\n"
        for f in group {
            let subject = f.accountName.map { "\(f.app) \($0)" } ?? f.app
            var line = "  \(f.urgent ? "URGENT " : "")\(subject): \(f.summary)"
            if f.kind != .shadow, let cost = f.monthlyCost, let currency = f.currency { line += String(format: "; %.2f %@ a month", cost, currency) }
            text += line + "\n"
            if f.kind == .shadow {
                for u in f.users.prefix(10) {
                    let who = u.personId.map { " (\($0)\(u.hasLeft ? ", left" : ""))" } ?? " (no person)"
                    text += "      user \(u.email)\(who): \(u.firstSeen ?? "?") to \(u.lastSeen ?? "?") in \(u.sources.joined(separator: ", "))\n"
                }
                if f.users.count > 10 { text += "      … and \(f.users.count - 10) more users\n" }
            }
            for e in f.evidence { text += "      · \(e)\n" }
            for c in f.candidates {
                text += String(format: "      likely %@ %@ (%.2f): %@\n", c.personId, c.name ?? c.email, c.score, c.reasons.joined(separator: "; "))
            }
            text += "      → \(f.suggestion)\n"
        }
    }
    return text
}
