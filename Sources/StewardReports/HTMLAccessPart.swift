import StewardJSON

/// Part 2: every item as it stood at launch, with the context the reviewer saw beside it.
enum HTMLAccessPart {
    static func write(_ report: ReviewReport, into html: inout HTMLWriter) {
        html.raw("""
        <section class="part" id="part-2">
        <h2>2. Access at launch</h2>
        <p class="note">Each grant (or account) in the population, as snapshotted at launch, with who holds it, what justifies it,
        when it was last used, how many peers (same department and title) hold it, and what Steward recommended and why.</p>

        """)
        html.table("items", headers: ["#", "App", "Account", "Person", "Access", "Justification", "Last sign-in", "Peers holding", "Recommendation"]) { html in
            for item in report.items { row(item, &html) }
        }
        html.raw("</section>\n")
    }

    private static func row(_ item: JSONValue, _ html: inout HTMLWriter) {
        let context = item["context"]
        html.raw("<tr><td class=\"n\" id=\"item-")
        html.text(item["id"])
        html.raw("\">")
        html.text(item["id"])
        html.raw("</td>")
        html.cell(item["app"])

        html.raw("<td>")
        html.text(item["accountName"])
        if item["account"] != item["accountName"] {
            html.raw("<small>")
            html.text(item["account"])
            html.raw("</small>")
        }
        html.raw("</td><td>")
        person(item, context, &html)
        html.raw("</td><td>")
        html.text(item["access"])
        if let entitlement = item["entitlement"].objectValue, entitlement["id"] != entitlement["name"] {
            html.raw("<small>id ")
            html.text(entitlement["id"] ?? .null)
            html.raw("</small>")
        }
        if context["privileged"].boolValue == true { html.raw(" <span class=\"flag\">privileged</span>") }
        html.raw("</td><td>")
        let justifications = context["justifications"].arrayValue ?? []
        if justifications.isEmpty {
            html.raw("<span class=\"bad\">none</span>")
        } else {
            for (i, justification) in justifications.enumerated() {
                if i > 0 { html.raw("<br>") }
                html.text(justification)
            }
        }
        html.raw("</td><td>")
        if let login = context["lastLoginAt"].stringValue {
            html.text(login)
        } else {
            html.raw("<span class=\"muted\">not reported</span>")
        }
        html.raw("</td><td class=\"n\">")
        html.text(context["peersHolding"])
        html.raw(" of ")
        html.text(context["peers"])
        html.raw("</td><td>")
        let recommendation = item["recommendation"]
        html.raw(recommendation["verdict"].stringValue == "revoke" ? "<span class=\"revoke\">" : "<span class=\"keep\">")
        html.text(recommendation["verdict"])
        html.raw("</span><small>")
        html.text(recommendation["reason"])
        html.raw("</small></td></tr>\n")
    }

    /// Who holds the account: name, employee id, e-mail, department and title, manager, standing.
    private static func person(_ item: JSONValue, _ context: JSONValue, _ html: inout HTMLWriter) {
        let kind = context["kind"].stringValue
        if item["person"].isNull {
            html.raw("<span class=\"bad\">orphan: linked to nobody</span>")
            return
        }
        html.text(context["name"].stringValue ?? "")
        html.raw("<small>")
        html.text(item["person"])
        if let email = context["email"].stringValue {
            html.raw(" · ")
            html.text(email)
        }
        html.raw("</small>")
        let department = context["department"].stringValue, title = context["title"].stringValue
        if department != nil || title != nil {
            html.raw("<small>")
            html.text([department, title].compactMap { $0 }.joined(separator: " · "))
            html.raw("</small>")
        }
        if let manager = context["managerId"].stringValue {
            html.raw("<small>manager ")
            html.text(manager)
            html.raw("</small>")
        }
        html.raw(kind == "leaver" ? "<small class=\"bad\">" : "<small>")
        html.text(context["standing"])
        html.raw("</small>")
    }
}
