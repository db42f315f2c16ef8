import Foundation
import StewardCore
import StewardJournal
import StewardProtocol

/// The page a reviewer's signed link opens: their open items in the campaign, each with its
/// context and recommendation, keep or revoke per item or for the ticked ones, a comment,
/// delegation and sign-off. Plain server-rendered HTML that works without scripts and on a
/// phone; every value from the journal is escaped.
struct ReviewerPage {
    let campaign: Campaign
    let reviewer: String
    /// The open items this reviewer may decide now (`ReviewView.Snapshot.openItems`).
    let open: [Int]
    let blocks: ItemBlockCache
    /// The form token bound to the link.
    let csrf: String
    let action: String
    /// Shown above the items after a post (`3 items kept`), or the refusal.
    var notice: String?
    var filters: [String: String] = [:]

    func render() -> String {
        let undecided = open
            .filter { campaign.progress[$0].decision(at: campaign.stage) == nil }
        let mine = undecided.filter { matchesFilters(campaign.items[$0]) }
        var html = """
        <!DOCTYPE html>
        <html lang="en"><head><meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; form-action 'self'">
        <meta name="referrer" content="no-referrer">
        <title>Access review \(escape(campaign.id))</title>
        <style>
        body { font: 15px/1.45 system-ui, sans-serif; margin: 0 auto; max-width: 60rem; padding: 0 12px 40px; color: #111; }
        .item { border: 1px solid #bbb; border-radius: 6px; padding: 10px 12px; margin: 10px 0; }
        .item h2 { font-size: 16px; margin: 0 0 4px; }
        .ctx { color: #444; font-size: 13px; margin: 2px 0; }
        .rec-revoke { color: #b00020; font-weight: 600; } .rec-keep { color: #1b5e20; font-weight: 600; }
        .notice { border: 2px solid #333; padding: 8px 10px; margin: 12px 0; }
        fieldset { border: 0; padding: 0; margin: 6px 0; } label { margin-right: 14px; }
        textarea, input[type=text], input[type=email] { width: 100%; max-width: 32rem; font: inherit; }
        button { font: inherit; padding: 6px 14px; margin: 4px 6px 4px 0; }
        </style></head><body>
        <h1>Access review \(escape(campaign.id))</h1>
        <p>Reviewer: <strong>\(escape(reviewer))</strong>. Stage \(campaign.stage + 1) of \(campaign.deadlines.count), due \(escape(day(campaign.deadlines[min(campaign.stage, campaign.deadlines.count - 1)]))). \(mine.count) item\(mine.count == 1 ? "" : "s") waiting for you.</p>

        """
        if let notice { html += "<p class=\"notice\" role=\"status\">\(escape(notice))</p>\n" }
        html += filterForm(apps: Set(undecided.map { campaign.items[$0].app }).sorted())
        html += "<form method=\"post\" action=\"\(escape(action))\">\n<input type=\"hidden\" name=\"csrf\" value=\"\(escape(csrf))\">\n"
        for i in mine { html += blocks.block(campaign: campaign.id, item: i) { itemBlock(campaign.items[i]) } }
        if mine.isEmpty {
            html += "<p>Nothing is waiting for you here.</p>\n"
        } else {
            html += """
            <h2>Decide the ticked items</h2>
            <p><label for="comment">Comment (needed to keep privileged or unjustified access)</label><br>
            <textarea id="comment" name="comment" rows="2"></textarea></p>
            <button type="submit" name="verdict" value="keep">Keep ticked</button>
            <button type="submit" name="verdict" value="revoke">Revoke ticked</button>
            <h2>Delegate the ticked items</h2>
            <p><label for="to">To (e-mail)</label><br><input type="email" id="to" name="to"></p>
            <p><label for="reason">Reason</label><br><input type="text" id="reason" name="reason"></p>
            <button type="submit" name="do" value="delegate">Delegate ticked</button>

            """
        }
        html += "<h2>Sign off</h2>\n<p>When everything is decided, sign off: your decisions are then locked.</p>\n"
        html += "<button type=\"submit\" name=\"do\" value=\"signoff\">Sign off</button>\n</form>\n</body></html>\n"
        return html
    }

    private func itemBlock(_ item: ReviewItem) -> String {
        let c = item.context
        let id = escape(item.id)
        var html = "<div class=\"item\"><h2><label><input type=\"checkbox\" name=\"item\" value=\"\(id)\"> \(escape(item.accessName)) in \(escape(item.app))</label></h2>\n"
        let who = item.personId == nil ? "an account linked to nobody" : [c.personName, c.email, item.personId].compactMap { $0 }.joined(separator: " · ")
        html += "<p class=\"ctx\">\(escape(who)) — account \(escape(item.accountName))</p>\n"
        let role = [c.department, c.title].compactMap { $0 }.joined(separator: " · ")
        if !role.isEmpty { html += "<p class=\"ctx\">\(escape(role)) — \(escape(c.standing))</p>\n" }
        html += "<p class=\"ctx\">Justified by: \(escape(c.justifications.isEmpty ? "nothing" : c.justifications.joined(separator: ", ")))"
        html += "; last sign-in: \(escape(c.lastLoginAt ?? "not reported")); \(c.peersHolding) of \(c.peers) peers hold it\(c.privileged ? "; privileged" : "")</p>\n"
        let verdict = item.recommendation.verdict.rawValue
        html += "<p>Recommended: <span class=\"rec-\(escape(verdict))\">\(escape(verdict))</span> — \(escape(item.recommendation.reason))</p></div>\n"
        return html
    }

    /// The filters, offering the apps among the reviewer's own items.
    private func filterForm(apps: [String]) -> String {
        var html = "<form method=\"get\" action=\"\(escape(action))\"><p><label for=\"app\">App</label> <select id=\"app\" name=\"app\"><option value=\"\">all</option>"
        for app in apps { html += "<option\(filters["app"] == app ? " selected" : "")>\(escape(app))</option>" }
        html += "</select> <label for=\"rec\">Recommendation</label> <select id=\"rec\" name=\"recommendation\"><option value=\"\">all</option>"
        for v in ["keep", "revoke"] { html += "<option\(filters["recommendation"] == v ? " selected" : "")>\(v)</option>" }
        html += "</select> <button type=\"submit\">Filter</button></p></form>\n"
        return html
    }

    private func matchesFilters(_ item: ReviewItem) -> Bool {
        if let app = filters["app"], !app.isEmpty, item.app != app { return false }
        if let rec = filters["recommendation"], !rec.isEmpty, item.recommendation.verdict.rawValue != rec { return false }
        return true
    }

    private func day(_ date: Date) -> String { String(Timestamp(date).rfc3339.prefix(10)) }
}

/// Text for HTML element content and quoted attributes.
func escape(_ text: String) -> String {
    // Most values (ids, e-mails, app names) need nothing: return them as they are.
    guard text.utf8.contains(where: { $0 == 0x26 || $0 == 0x3C || $0 == 0x3E || $0 == 0x22 || $0 == 0x27 }) else { return text }
    var out: [UInt8] = []
    out.reserveCapacity(text.utf8.count + 16)
    for byte in text.utf8 {
        switch byte {
        case 0x26: out += Array("&amp;".utf8)
        case 0x3C: out += Array("&lt;".utf8)
        case 0x3E: out += Array("&gt;".utf8)
        case 0x22: out += Array("&quot;".utf8)
        case 0x27: out += Array("&#39;".utf8)
        default: out.append(byte)
        }
    }
    return String(decoding: out, as: UTF8.self)
}
