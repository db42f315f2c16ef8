import StewardJSON

/// Part 3: what reviewers did. Each item's decision per stage (who, how, when, with what
/// comment, whether late), the other actions in time order (delegations, reassignments,
/// escalations, sign-offs, reminders, and decisions later replaced), and how each reviewer
/// reviewed, with the rubber-stamp flag.
enum HTMLActionsPart {
    static func write(_ report: ReviewReport, into html: inout HTMLWriter) {
        html.raw("""
        <section class="part" id="part-3">
        <h2>3. Reviewer actions</h2>
        <h3>Decisions</h3>
        <p class="note">One row per item and stage reached. The reviewer is whoever had the item last at that stage; a note says
        why it was not the stage's usual reviewer. Each decision's journal event has an inclusion proof in the appendix.</p>

        """)
        var finalDecisions = Set<Int>()
        html.table("items", headers: ["#", "Access", "Stage", "Reviewer", "Decision", "By", "At", "Comment", "Event"]) { html in
            for item in report.items {
                let stages = item["stages"].arrayValue ?? []
                for (i, stage) in stages.enumerated() {
                    if let seq = stage["decision"]["seq"].intValue { finalDecisions.insert(seq) }
                    // The report says whether the item was late, not at which stage: flag it where it stands.
                    decisionRow(item, stage, late: i == stages.count - 1 && item["late"].boolValue == true, &html)
                }
            }
        }
        log(report, finalDecisions: finalDecisions, &html)
        quality(report, &html)
        html.raw("</section>\n")
    }

    private static func decisionRow(_ item: JSONValue, _ stage: JSONValue, late: Bool, _ html: inout HTMLWriter) {
        html.raw("<tr><td class=\"n\">")
        html.itemLink(item["id"])
        html.raw("</td><td>")
        html.text(item["app"])
        html.raw(" · ")
        html.text(item["accountName"])
        html.raw("<small>")
        html.text(item["access"])
        html.raw("</small></td><td class=\"n\">")
        html.text(stage["stage"])
        html.raw("</td><td>")
        if let reviewer = stage["reviewer"].stringValue {
            html.text(reviewer)
        } else {
            html.raw("<span class=\"bad\">nobody</span>")
        }
        if stage["selfReviewBlocked"].boolValue == true { html.raw(" <span class=\"flag\">self-review blocked</span>") }
        if let reassignment = stage["reassignment"].stringValue {
            html.raw("<small>")
            html.text(reassignment)
            html.raw("</small>")
        }
        html.raw("</td>")
        let decision = stage["decision"]
        guard !decision.isNull else {
            html.raw(late
                ? "<td class=\"muted\">none</td><td></td><td><span class=\"flag\">late</span></td><td></td><td></td></tr>\n"
                : "<td class=\"muted\">none</td><td></td><td></td><td></td><td></td></tr>\n")
            return
        }
        html.raw(decision["decision"].stringValue == "revoke" ? "<td class=\"revoke\">" : "<td class=\"keep\">")
        html.text(decision["decision"])
        html.raw("</td><td>")
        html.text(decision["by"])
        html.raw("<small>")
        html.text(decision["channel"])
        if decision["bulk"].boolValue == true { html.raw(" · bulk") }
        if decision["followedRecommendation"].boolValue == true { html.raw(" · as recommended") }
        html.raw("</small></td><td>")
        html.text(decision["at"])
        if late { html.raw(" <span class=\"flag\">late</span>") }
        html.raw("</td>")
        html.cell(decision["comment"])
        html.numberCell(decision["seq"])
        html.raw("</tr>\n")
    }

    /// Everything but the final decisions above, oldest first.
    private static func log(_ report: ReviewReport, finalDecisions: Set<Int>, _ html: inout HTMLWriter) {
        let actions = report.reviewerActions.filter { action in
            action["type"].stringValue != "decision" || !finalDecisions.contains(action["seq"].intValue ?? -1)
        }
        html.raw("""
        <h3>Delegations, reassignments, escalations, sign-offs and reminders</h3>
        <p class="note">In time order. A decision is listed here only when a later decision on the same item and stage replaced it.</p>

        """)
        guard !actions.isEmpty else {
            html.raw("<p class=\"muted\">None.</p>\n")
            return
        }
        html.table("log", headers: ["At", "Action", "By", "Item", "Stage", "Detail", "Event"]) { html in
            for action in actions {
                html.raw("<tr>")
                html.cell(action["at"])
                html.raw("<td>")
                html.text(action["type"])
                if action["type"].stringValue == "decision" { html.raw("<small>replaced later</small>") }
                html.raw("</td>")
                html.cell(action["by"])
                html.raw("<td class=\"n\">")
                if !action["item"].isNull { html.itemLink(action["item"]) }
                html.raw("</td>")
                html.numberCell(action["stage"])
                html.cell(action["detail"])
                html.numberCell(action["seq"])
                html.raw("</tr>\n")
            }
        }
    }

    private static func quality(_ report: ReviewReport, _ html: inout HTMLWriter) {
        html.raw("""
        <h3>Review quality</h3>
        <p class="note">Per reviewer: the median time per decision (since their previous decision or the stage's start, shared
        among items decided together), the share decided in bulk and the share that followed the recommendation. A reviewer who
        kept every item, each in under 2 seconds, is flagged as a rubber stamp. Default decisions at the deadline are not counted.</p>

        """)
        html.table("quality", headers: ["Reviewer", "Decided", "Kept", "Revoked", "Median time per decision", "In bulk", "As recommended", "Rubber stamp"]) { html in
            for reviewer in report.quality["reviewers"].arrayValue ?? [] { qualityRow(reviewer, total: false, &html) }
            qualityRow(report.quality["campaign"], total: true, &html)
        }
    }

    private static func qualityRow(_ q: JSONValue, total: Bool, _ html: inout HTMLWriter) {
        html.raw(total ? "<tr class=\"total\">" : "<tr>")
        html.cell(total ? "Whole campaign" : ReportText.plain(q["reviewer"]))
        html.numberCell(q["decided"])
        html.numberCell(q["kept"])
        html.numberCell(q["revoked"])
        html.raw("<td class=\"n\">")
        html.text(ReportText.duration(q["medianSeconds"]))
        html.raw("</td><td class=\"n\">")
        html.text(ReportText.percent(q["bulkShare"]))
        html.raw("</td><td class=\"n\">")
        html.text(ReportText.percent(q["followedRecommendationShare"]))
        html.raw(q["rubberStamp"].boolValue == true ? "</td><td><span class=\"flag\">YES: rubber stamp</span></td></tr>\n" : "</td><td>no</td></tr>\n")
    }
}
