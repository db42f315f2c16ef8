import StewardJSON

/// What can be checked about a report from the report alone: that its figures add up and that
/// everything it cites lies under the checkpoint it names. The cryptographic checks (signature,
/// audit paths, the journal itself) are `steward audit verify` and `verify-proof`; these catch a
/// report that was edited by hand or built wrongly, and tell the auditor what to run next.
struct ReportChecks {
    struct Check {
        var name: String
        var ok: Bool
        var detail: String
    }

    let checks: [Check]

    init(_ report: ReviewReport) {
        checks = [Self.checkpoint(report), Self.proofs(report), Self.decisionsProved(report),
                  Self.citedEvents(report), Self.counts(report), Self.statuses(report)]
    }

    var allOK: Bool { checks.allSatisfy(\.ok) }

    /// The checkpoint note's second and third lines are the tree size and root the report states.
    private static func checkpoint(_ report: ReviewReport) -> Check {
        let journal = report.journal
        let lines = (journal["checkpoint"].stringValue ?? "").split(separator: "\n", omittingEmptySubsequences: false)
        let size = lines.count > 1 ? String(lines[1]) : ""
        let root = lines.count > 2 ? String(lines[2]) : ""
        let ok = size == ReportText.plain(journal["treeSize"]) && root == (journal["root"].stringValue ?? "-")
        return Check(name: "Checkpoint", ok: ok, detail: ok
            ? "the signed checkpoint is for \(size) events with root \(root), as stated"
            : "the checkpoint text says size \(size) and root \(root), the report says \(ReportText.plain(journal["treeSize"])) and \(ReportText.plain(journal["root"]))")
    }

    /// Every proof is against the report's checkpoint, and its leaf index is seq - 1.
    private static func proofs(_ report: ReviewReport) -> Check {
        let journal = report.journal
        var wrong: [String] = []
        for proof in report.proofs {
            let seq = proof["seq"].intValue ?? 0
            let same = proof["checkpoint"] == journal["checkpoint"] && proof["treeSize"] == journal["treeSize"]
                && proof["root"] == journal["root"] && proof["leafIdx"].intValue == seq - 1
            if !same { wrong.append(String(seq)) }
        }
        return Check(name: "Proofs", ok: wrong.isEmpty, detail: wrong.isEmpty
            ? "all \(report.proofs.count) inclusion proofs are against this checkpoint"
            : "\(wrong.count) proofs are not against this checkpoint or have the wrong leaf index: seq \(sample(wrong))")
    }

    /// Every recorded decision has its inclusion proof in the report.
    private static func decisionsProved(_ report: ReviewReport) -> Check {
        let proved = Set(report.proofs.compactMap { $0["seq"].intValue })
        var decisions = 0
        var missing: [String] = []
        for item in report.items {
            for stage in item["stages"].arrayValue ?? [] {
                guard let seq = stage["decision"]["seq"].intValue else { continue }
                decisions += 1
                if !proved.contains(seq) { missing.append(String(seq)) }
            }
        }
        return Check(name: "Decisions proved", ok: missing.isEmpty, detail: missing.isEmpty
            ? "each of the \(decisions) recorded decisions has an inclusion proof"
            : "\(missing.count) of \(decisions) decisions have no proof in the report: seq \(sample(missing))")
    }

    /// Nothing the report cites happened after the checkpoint.
    private static func citedEvents(_ report: ReviewReport) -> Check {
        let size = report.journal["treeSize"].intValue ?? 0
        var beyond: [String] = []
        func cite(_ value: JSONValue) {
            if let seq = value.intValue, seq > size { beyond.append(String(seq)) }
        }
        cite(report.campaign["launchSeq"])
        for item in report.items {
            for stage in item["stages"].arrayValue ?? [] { cite(stage["decision"]["seq"]) }
            cite(item["remediation"]["seq"])
        }
        for action in report.reviewerActions { cite(action["seq"]) }
        return Check(name: "Events under the checkpoint", ok: beyond.isEmpty, detail: beyond.isEmpty
            ? "every event the report cites is at or below seq \(size), so the checkpoint covers it"
            : "\(beyond.count) cited events are after the checkpoint (size \(size)): seq \(sample(beyond))")
    }

    /// The population counts agree: summary, population, per-app and the items listed.
    private static func counts(_ report: ReviewReport) -> Check {
        let listed = report.items.count
        let stated = report.population["items"].intValue
        let summary = report.summary["items"].intValue
        let perApp = (report.population["apps"].arrayValue ?? []).reduce(0) { $0 + ($1["items"].intValue ?? 0) }
        let ok = stated == listed && summary == listed && perApp == listed
        return Check(name: "Population count", ok: ok, detail: ok
            ? "\(listed) items listed, as the population, the per-app counts and the summary say"
            : "\(listed) items listed; population says \(stated.map(String.init) ?? "nothing"), the apps add up to \(perApp), the summary says \(summary.map(String.init) ?? "nothing")")
    }

    /// The summary's outcome counts are the items' statuses counted.
    private static func statuses(_ report: ReviewReport) -> Check {
        var counted: [String: Int] = [:]
        for item in report.items { counted[item["status"].stringValue ?? "", default: 0] += 1 }
        let pairs = [("kept", "kept"), ("revoked-verified", "revokedVerified"), ("revoke-pending", "revokePending"),
                     ("revoke-failed", "revokeFailed"), ("expired", "expired"), ("open", "open")]
        let wrong = pairs.filter { report.summary[$0.1].intValue != counted[$0.0, default: 0] }
        return Check(name: "Outcome counts", ok: wrong.isEmpty, detail: wrong.isEmpty
            ? "the summary's outcome figures are the items' statuses counted"
            : wrong.map { "\($0.1): the summary says \(ReportText.plain(report.summary[$0.1])), the items \(counted[$0.0, default: 0])" }.joined(separator: "; "))
    }

    private static func sample(_ values: [String]) -> String {
        values.count <= 5 ? values.joined(separator: ", ") : values.prefix(5).joined(separator: ", ") + ", …"
    }
}
