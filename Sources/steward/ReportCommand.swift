import Foundation
import StewardHost
import StewardJournal
import StewardProtocol
import StewardReports

// steward report review ID: the auditor's evidence for a campaign; steward report discovery:
// the findings, open and resolved.

let reportCommand = Command(
    name: "report",
    summary: "Evidence for auditors.",
    subcommands: [
        Command(
            name: "review",
            summary: "A campaign's report: scope and population, access at launch, reviewer actions, access after remediation.",
            usage: "ID --format html|csv|json|pdf --out FILE [--json]",
            discussion: """
            Built from the journal alone, against a checkpoint signed for it, with an inclusion proof
            for every decision (check one with `steward audit verify-proof`). The JSON form follows
            schemas/review-report.schema.json; see docs/auditor-guide.md for how to read and verify it.
            """,
            options: [
                .value("--format", "FORMAT", "html, csv, json or pdf (default json)."),
                .value("--out", "FILE", "Where to write it (required)."),
            ],
            run: { inv in
                let id = try inv.positional(0, "ID (a campaign)")
                guard let out = inv.value("--out") else { throw UsageError("--out FILE is required") }
                let format = inv.value("--format") ?? "json"
                guard let kind = ReviewReportFormat(rawValue: format) else { throw UsageError("--format: expected html, csv, json or pdf, got \(format)") }
                return try await withWorkspace(inv, actor: "steward report review") { ws in
                    let report: JSONValue
                    do {
                        report = try ReviewReportBuilder(workspace: ws, now: try commandNow()).build(id)
                    } catch let refusal as ReviewEngine.Refusal {
                        printError(refusal.description)
                        return ExitCode.usage
                    }
                    let bytes = try await renderReport(report, as: kind)
                    try writeAtomically(bytes, to: out)
                    if inv.json {
                        printJSON(["out": .string(out), "format": .string(format), "bytes": .int(bytes.count), "items": report["summary"]["items"]])
                    } else {
                        print("Wrote \(out) (\(format), \(bytes.count) bytes, \(report["summary"]["items"].intValue ?? 0) items, \(report["proofs"].arrayValue?.count ?? 0) decision proofs).")
                    }
                    return ExitCode.ok
                }
            }),
        Command(
            name: "discovery",
            summary: "Every open discovery finding with its evidence and next step, and the findings resolved, with when and how.",
            usage: "--format html|csv|json --out FILE [--json]",
            discussion: """
            Open findings are those `steward discover` shows now (leavers still active, leftovers,
            orphans, dormant seats, privileges no rule grants, ownerless service accounts, shadow apps),
            each with when the journal first recorded it; resolved ones come from the journal's
            finding.resolved events. Nothing is written to the journal.
            """,
            options: [
                .value("--format", "FORMAT", "html, csv or json (default json)."),
                .value("--out", "FILE", "Where to write it (required)."),
            ],
            run: { inv in
                guard let out = inv.value("--out") else { throw UsageError("--out FILE is required") }
                let format = inv.value("--format") ?? "json"
                guard let kind = DiscoveryReport.Format(rawValue: format) else { throw UsageError("--format: expected html, csv or json, got \(format)") }
                return try await withWorkspace(inv, actor: "steward report discovery", readOnly: true) { ws in
                    let report = try await DiscoveryReportBuilder(workspace: ws, now: try commandNow()).build()
                    let bytes = try DiscoveryReport.render(report, as: kind)
                    try writeAtomically(bytes, to: out)
                    let open = report["findings"].arrayValue?.count ?? 0, resolved = report["resolved"].arrayValue?.count ?? 0
                    if inv.json {
                        printJSON(["out": .string(out), "format": .string(format), "bytes": .int(bytes.count), "open": .int(open), "resolved": .int(resolved)])
                    } else {
                        print("Wrote \(out) (\(format), \(bytes.count) bytes, \(open) open findings, \(resolved) resolved).")
                    }
                    return ExitCode.ok
                }
            }),
    ])
