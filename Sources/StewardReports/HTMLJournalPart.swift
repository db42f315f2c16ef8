import StewardJSON

/// The appendix: the signed checkpoint the report was built from, and the inclusion proof of
/// each decision event, listed so an auditor can pick any one and check it.
enum HTMLJournalPart {
    static func write(_ report: ReviewReport, into html: inout HTMLWriter) {
        let journal = report.journal
        html.raw("""
        <section class="part" id="journal">
        <h2>Journal checkpoint and inclusion proofs</h2>
        <p class="note">The report was built from the journal as of this signed checkpoint. Save it to a file and run
        <code>steward audit verify --checkpoint FILE</code> to check the journal still hashes to it. Each proof below is in the
        JSON report in full (the format of <code>steward audit proof</code>); check one with <code>steward audit verify-proof FILE</code>.</p>
        <table class="facts"><tbody>

        """)
        html.fact("Events covered", ReportText.plain(journal["treeSize"]))
        html.fact("Root hash", ReportText.plain(journal["root"]))
        html.raw("</tbody></table>\n<pre>")
        html.text(journal["checkpoint"])
        html.raw("</pre>\n")

        let proofs = report.proofs
        guard !proofs.isEmpty else {
            html.raw("<p class=\"muted\">No inclusion proofs.</p>\n</section>\n")
            return
        }
        html.table("proofs", headers: ["Event (seq)", "Leaf index", "Tree size", "Leaf hash", "Audit path", "Against"]) { html in
            for proof in proofs {
                html.raw("<tr>")
                html.numberCell(proof["seq"])
                html.numberCell(proof["leafIdx"])
                html.numberCell(proof["treeSize"])
                html.raw("<td class=\"mono\">")
                html.text(proof["leafHash"])
                html.raw("</td><td class=\"n\">")
                html.int(proof["proof"].arrayValue?.count ?? 0)
                html.raw(" hashes</td>")
                html.raw(proof["checkpoint"] == journal["checkpoint"] ? "<td>the checkpoint above</td>" : "<td class=\"bad\">another checkpoint</td>")
                html.raw("</tr>\n")
            }
        }
        html.raw("</section>\n")
    }
}
