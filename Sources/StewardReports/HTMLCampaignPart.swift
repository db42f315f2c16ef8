import StewardJSON

/// Part 1: the campaign's rules, its scope, and the population it snapshotted, with the counts,
/// sync times and hashes an auditor uses to check that nothing was left out.
enum HTMLCampaignPart {
    static func write(_ report: ReviewReport, into html: inout HTMLWriter) {
        let campaign = report.campaign
        let population = report.population
        html.raw("<section class=\"part\" id=\"part-1\">\n<h2>1. Campaign definition, scope and population</h2>\n")

        html.raw("<h3>Campaign</h3>\n<table class=\"facts\"><tbody>\n")
        html.fact("Campaign", report.campaignID)
        html.fact("Status", ReportText.plain(campaign["status"]))
        let stages = report.definition["stages"].arrayValue?.count ?? 0
        let stage = campaign["stage"].intValue ?? 0
        html.fact("Current stage", stage > stages ? "all \(stages) stages closed" : "\(stage) of \(stages)")
        html.fact("Launched", ReportText.plain(campaign["launchedAt"]))
        for (i, deadline) in (campaign["deadlines"].arrayValue ?? []).enumerated() {
            html.fact("Stage \(i + 1) deadline", ReportText.plain(deadline))
        }
        html.fact("Closed", campaign["closedAt"].stringValue ?? "not yet")
        html.fact("Launch event", "journal seq \(ReportText.plain(campaign["launchSeq"])) (review.launched: the definition and population as recorded)")
        html.raw("</tbody></table>\n")

        html.raw("<h3>Rules</h3>\n<table class=\"facts\"><tbody>\n")
        for (label, value) in ReportText.definition(report.definition) { html.fact(label, value) }
        html.raw("</tbody></table>\n")

        html.raw("<h3>Scope and filters</h3>\n<table class=\"facts\"><tbody>\n")
        for (label, value) in ReportText.scope(population["filters"]) { html.fact(label, value) }
        html.raw("</tbody></table>\n")
        if population["filters"] != report.definition["scope"] {
            html.raw("<p class=\"bad\">The definition's scope differs from the filters the population was selected with:</p>\n<table class=\"facts\"><tbody>\n")
            for (label, value) in ReportText.scope(report.definition["scope"]) { html.fact(label, value) }
            html.raw("</tbody></table>\n")
        }

        html.raw("<h3>Population</h3>\n<table class=\"facts\"><tbody>\n")
        html.fact("Items", ReportText.plain(population["items"]))
        html.fact("SHA-256 of all items", ReportText.plain(population["sha256"]))
        html.fact("HR source last synced", population["hrSync"].stringValue ?? "never")
        html.fact("Self-reviews blocked", ReportText.plain(population["selfReviewsBlocked"]))
        html.fact("Reassigned at launch", ReportText.plain(population["reassigned"]))
        html.fact("Without a reviewer", ReportText.plain(population["unassigned"]))
        html.raw("</tbody></table>\n")

        html.table("apps", headers: ["App", "Items", "Synced (source of the items)", "Accounts", "Grants", "SHA-256 of the app's items"]) { html in
            for app in population["apps"].arrayValue ?? [] {
                html.raw("<tr>")
                html.cell(app["app"])
                html.numberCell(app["items"])
                html.cell(app["lastSync"].stringValue ?? "never synced")
                html.numberCell(app["accounts"])
                html.numberCell(app["grants"])
                html.raw("<td class=\"mono\">")
                html.text(app["sha256"])
                html.raw("</td></tr>\n")
            }
        }
        html.raw("""
        <p class="note">Accounts and grants are what each app held at that sync, in scope or not. Each hash is SHA-256 over the
        app's items as recorded at launch, one compact JSON line with sorted keys per item; the auditor's guide shows how to
        recompute it from the JSON report.</p>
        </section>

        """)
    }
}
