import StewardJSON

/// The top of the report: which campaign, where it stands, the summary figures, what needs an
/// auditor's attention, and the report's own consistency checks.
enum HTMLSummary {
    static func write(_ report: ReviewReport, into html: inout HTMLWriter) {
        let campaign = report.campaign
        let stages = report.definition["stages"].arrayValue?.count ?? 0
        html.raw("<header>\n<h1>Access review report: ")
        html.text(report.campaignID)
        html.raw("</h1>\n")
        if let description = report.definition["description"].stringValue {
            html.raw("<p class=\"sub\">")
            html.text(description)
            html.raw("</p>\n")
        }
        html.raw("<p class=\"sub\">Campaign <b>")
        html.text(campaign["status"])
        html.raw("</b>")
        if campaign["status"].stringValue == "open" {
            html.raw(", at stage ")
            html.text(campaign["stage"])
            html.raw(" of ")
            html.int(stages)
        }
        html.raw(". Launched ")
        html.text(campaign["launchedAt"])
        if let closed = campaign["closedAt"].stringValue {
            html.raw(", closed ")
            html.text(closed)
        }
        html.raw(".</p>\n<p class=\"sub\">Generated ")
        html.text(report.json["generatedAt"])
        html.raw(" by ")
        html.text(report.json["generator"])
        html.raw(" from the journal up to event ")
        html.text(report.journal["treeSize"])
        html.raw(" (signed checkpoint root <span class=\"mono\">")
        html.text(report.journal["root"])
        html.raw("</span>).</p>\n</header>\n")

        html.raw("<section id=\"summary\">\n<h2>Summary</h2>\n<div class=\"figures\">\n")
        let alarming: Set<String> = ["revokeFailed", "expired", "late"]
        for (key, label) in ReportText.summaryFigures {
            let value = report.summary[key]
            let bad = alarming.contains(key) && (value.intValue ?? 0) > 0
            html.raw(bad ? "<div class=\"figure bad\"><b>" : "<div class=\"figure\"><b>")
            html.text(value)
            html.raw("</b><span>")
            html.text(label)
            html.raw("</span></div>\n")
        }
        html.raw("</div>\n")
        attention(report, &html)
        checks(report, &html)
        html.raw("""
        <nav><ol>
        <li><a href="#part-1">Campaign definition, scope and population</a></li>
        <li><a href="#part-2">Access at launch</a></li>
        <li><a href="#part-3">Reviewer actions</a></li>
        <li><a href="#part-4">Access after remediation</a></li>
        <li><a href="#journal">Journal checkpoint and inclusion proofs</a></li>
        </ol></nav>
        </section>

        """)
    }

    /// Findings stated in words, so they are not missed among the figures.
    private static func attention(_ report: ReviewReport, _ html: inout HTMLWriter) {
        var findings: [String] = []
        let stamps = (report.quality["reviewers"].arrayValue ?? []).filter { $0["rubberStamp"].boolValue == true }
        if report.quality["campaign"]["rubberStamp"].boolValue == true {
            findings.append("Rubber stamp: every reviewer kept every item, each in under 2 seconds.")
        } else if !stamps.isEmpty {
            let names = stamps.map { ReportText.plain($0["reviewer"]) }.joined(separator: ", ")
            findings.append("Rubber stamp: \(names) kept every item, each in under 2 seconds.")
        }
        func count(_ key: String) -> Int { report.summary[key].intValue ?? 0 }
        if count("revokeFailed") > 0 { findings.append("\(count("revokeFailed")) revokes failed or are still visible in the app (part 4).") }
        if count("expired") > 0 { findings.append("\(count("expired")) items were not decided by the deadline and kept their access (part 4).") }
        if count("late") > 0 { findings.append("\(count("late")) items were decided late or are overdue (part 3).") }
        if let unassigned = report.population["unassigned"].intValue, unassigned > 0 {
            findings.append("\(unassigned) items had no reviewer at launch (part 1).")
        }
        guard !findings.isEmpty else { return }
        html.raw("<div class=\"warn\"><b>Needs attention</b><ul>\n")
        for finding in findings {
            html.raw("<li>")
            html.text(finding)
            html.raw("</li>\n")
        }
        html.raw("</ul></div>\n")
    }

    private static func checks(_ report: ReviewReport, _ html: inout HTMLWriter) {
        let result = ReportChecks(report)
        html.raw("<h3>Consistency of this report</h3>\n<p class=\"note\">Checked from the report alone when it was rendered. The signature, the audit paths and the journal itself are checked with <code>steward audit verify</code> and <code>steward audit verify-proof</code> (see the auditor's guide).</p>\n")
        html.table("facts", headers: ["Check", "Result", "Detail"]) { html in
            for check in result.checks {
                html.raw("<tr><td>")
                html.text(check.name)
                html.raw(check.ok ? "</td><td class=\"ok\">consistent</td><td>" : "</td><td class=\"bad\">NOT CONSISTENT</td><td>")
                html.text(check.detail)
                html.raw("</td></tr>\n")
            }
        }
    }
}
