import Foundation
import StewardCore
import StewardHost

let discoverCommand = Command(
    name: "discover",
    summary: "Accounts nobody answers for: orphans with their likely owners, leavers' leftovers, dormant seats, unjustified privileges, ownerless service accounts.",
    usage: "[--kind orphan|leftover|dormant|privileged|service|licences ...] [--app ID ...] [--json]",
    discussion: """
    Reads what `steward sync` last saw and the config's rules (nothing is written). Each finding
    says what was found, the evidence, how long it has been so where the data says, and what to
    do: an orphan lists the three people it most likely belongs to (by e-mail, name and user-name
    forms such as first.last, flast, nicknames, accents, +tags and old domains) so one
    `steward link APP:ACCOUNT PERSON` settles it. Tune per app with dormantAfterDays (default 90),
    licence: { entitlement, monthlyCost } and serviceAccounts (name patterns). Leftovers come
    first: a leaver's enabled account, in any app, is the most urgent finding.
    """,
    options: [
        .value("--kind", "KIND", "Only findings of this kind; repeatable."),
        .value("--app", "ID", "Only this app; repeatable."),
    ],
    run: { inv in
        var kinds: Set<AccountFinding.Kind> = []
        for text in inv.allValues("--kind") {
            if text == "shadow" {
                throw UsageError("--kind shadow: shadow-app discovery (expense, OAuth-grant and sign-in exports) is not in this version yet; the account kinds are \(AccountFinding.Kind.allCases.map(\.rawValue).joined(separator: ", "))")
            }
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
            let found = try await DiscoveryEngine(workspace: ws).accountFindings(now: try commandNow())
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
    let order: [AccountFinding.Kind] = [.leftover, .orphan, .privileged, .service, .dormant, .licences]
    let titles: [AccountFinding.Kind: String] = [
        .leftover: "Leavers' leftover access", .orphan: "Accounts linked to nobody", .privileged: "Privileged access no rule grants",
        .service: "Shared or service accounts without an owner", .dormant: "Dormant accounts", .licences: "Licences",
    ]
    var text = ""
    for kind in order {
        let group = findings.filter { $0.kind == kind }
        guard !group.isEmpty else { continue }
        text += "\(titles[kind] ?? kind.rawValue) (\(group.count))\n"
        for f in group {
            let subject = f.accountName.map { "\(f.app) \($0)" } ?? f.app
            var line = "  \(subject): \(f.summary)"
            if let cost = f.monthlyCost, let currency = f.currency { line += String(format: "; %.2f %@ a month", cost, currency) }
            text += line + "\n"
            for e in f.evidence { text += "      · \(e)\n" }
            for c in f.candidates {
                text += String(format: "      likely %@ %@ (%.2f): %@\n", c.personId, c.name ?? c.email, c.score, c.reasons.joined(separator: "; "))
            }
            text += "      → \(f.suggestion)\n"
        }
    }
    return text
}
