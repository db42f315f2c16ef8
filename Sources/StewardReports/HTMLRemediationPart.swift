import StewardJSON

/// Part 4: what the access is after the campaign. Every revoke with its plan action, outcome
/// and verification, and every item that nobody decided.
enum HTMLRemediationPart {
    static func write(_ report: ReviewReport, into html: inout HTMLWriter) {
        var counts: [String: Int] = [:]
        for item in report.items { counts[item["status"].stringValue ?? "", default: 0] += 1 }
        html.raw("""
        <section class="part" id="part-4">
        <h2>4. Access after remediation</h2>
        <p class="note">A revoke becomes an ordinary plan action (cause review) that is applied through the app's connector and
        then verified by reading the app again. Only then is the item revoked-verified.</p>

        """)
        html.table("facts", headers: ["Outcome", "Items", "Meaning"]) { html in
            for (status, label, meaning) in ReportText.statuses {
                html.raw("<tr><td class=\"status status-")
                html.rawString(status)
                html.raw("\">")
                html.text(label)
                html.raw("</td><td class=\"n\">")
                html.int(counts[status, default: 0])
                html.raw("</td><td>")
                html.text(meaning)
                html.raw("</td></tr>\n")
            }
        }

        let revokes: Set<String> = ["revoke-pending", "revoked-verified", "revoke-failed"]
        html.raw("<h3>Revokes</h3>\n")
        let revoked = report.items.filter { revokes.contains($0["status"].stringValue ?? "") || !$0["remediation"].isNull }
        if revoked.isEmpty {
            html.raw("<p class=\"muted\">No access was revoked.</p>\n")
        } else {
            html.table("items", headers: ["#", "Access", "Revoked by", "Outcome", "Plan action", "Outcome recorded", "Event"]) { html in
                for item in revoked { revokeRow(item, &html) }
            }
        }

        html.raw("<h3>Not decided</h3>\n")
        let undecided = report.items.filter { ["expired", "open"].contains($0["status"].stringValue ?? "") }
        if undecided.isEmpty {
            html.raw("<p class=\"muted\">Every item was decided.</p>\n")
        } else {
            html.raw("<p class=\"note\">Expired items kept their access without a decision; open items are still waiting.</p>\n")
            html.table("items", headers: ["#", "Access", "Reviewer", "Outcome"]) { html in
                for item in undecided {
                    html.raw("<tr><td class=\"n\">")
                    html.itemLink(item["id"])
                    html.raw("</td>")
                    access(item, &html)
                    html.cell(item["stages"].arrayValue?.last?["reviewer"] ?? .null)
                    status(item, &html)
                    html.raw("</tr>\n")
                }
            }
        }
        html.raw("</section>\n")
    }

    private static func revokeRow(_ item: JSONValue, _ html: inout HTMLWriter) {
        html.raw("<tr><td class=\"n\">")
        html.itemLink(item["id"])
        html.raw("</td>")
        access(item, &html)
        let decision = (item["stages"].arrayValue ?? []).last { $0["decision"]["decision"].stringValue == "revoke" }?["decision"] ?? .null
        html.raw("<td>")
        html.text(decision["by"])
        html.raw("<small>")
        html.text(decision["at"])
        html.raw("</small></td>")
        status(item, &html)
        let remediation = item["remediation"]
        html.raw("<td class=\"mono\">")
        if remediation.isNull {
            html.raw("<span class=\"muted\">not run yet</span>")
        } else {
            html.text(remediation["actionKey"])
        }
        html.raw("</td><td>")
        html.text(remediation["at"])
        if !remediation.isNull {
            html.raw(remediation["verified"].boolValue == true ? "<small class=\"ok\">verified by a fresh read</small>" : "<small class=\"bad\">not verified</small>")
        }
        html.raw("</td>")
        html.numberCell(remediation["seq"])
        html.raw("</tr>\n")
    }

    private static func access(_ item: JSONValue, _ html: inout HTMLWriter) {
        html.raw("<td>")
        html.text(item["app"])
        html.raw(" · ")
        html.text(item["accountName"])
        html.raw("<small>")
        html.text(item["access"])
        html.raw("</small></td>")
    }

    private static func status(_ item: JSONValue, _ html: inout HTMLWriter) {
        let status = item["status"].stringValue ?? ""
        html.raw("<td><span class=\"status status-")
        html.text(status)
        html.raw("\">")
        html.text(ReportText.statusLabel(status))
        html.raw("</span>")
        if let error = item["remediation"]["error"].stringValue {
            html.raw("<small>")
            html.text(error)
            html.raw("</small>")
        }
        html.raw("</td>")
    }
}
