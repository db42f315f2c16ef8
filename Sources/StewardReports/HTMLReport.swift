import StewardJSON

/// The report as one self-contained, printable HTML page.
///
/// It needs nothing else to display or print: the stylesheet is inline, there are no scripts,
/// images, fonts or links to anything outside the file, and a Content-Security-Policy forbids
/// fetching anything at all. The summary comes first, then the four parts an auditor expects
/// (scope and population, access at launch, reviewer actions, access after remediation), then
/// the journal checkpoint and the inclusion proofs.
public enum HTMLReport {
    public static func render(_ report: JSONValue) throws -> [UInt8] {
        try render(report, forPDF: false)
    }

    /// `forPDF`: the long tables as monospaced text, which Chromium prints many times faster
    /// (see `PrintedTable`); everything else is the same page.
    static func render(_ report: JSONValue, forPDF: Bool) throws -> [UInt8] {
        let report = try ReviewReport(report)
        var html = HTMLWriter(capacity: 64 * 1024 + report.items.count * 3000, printsLongTablesAsText: forPDF)
        head(report, &html)
        HTMLSummary.write(report, into: &html)
        HTMLCampaignPart.write(report, into: &html)
        HTMLAccessPart.write(report, into: &html)
        HTMLActionsPart.write(report, into: &html)
        HTMLRemediationPart.write(report, into: &html)
        HTMLJournalPart.write(report, into: &html)
        html.raw("</body>\n</html>\n")
        return html.bytes
    }

    private static func head(_ report: ReviewReport, _ html: inout HTMLWriter) {
        html.raw("""
        <!DOCTYPE html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <meta name="generator" content="
        """)
        html.text(report.json["generator"])
        html.raw("\">\n<title>Access review report: ")
        html.text(report.campaignID)
        html.raw("</title>\n<style>\n")
        html.raw(HTMLStyle.css)
        // The campaign on every printed page, beside the page number.
        html.raw("\n@page { @bottom-left { content: \"Access review ")
        html.rawString(cssString(report.campaignID))
        html.raw(" \\2014  generated ")
        html.rawString(cssString(report.json["generatedAt"].stringValue ?? ""))
        html.raw("\"; } }\n</style>\n</head>\n<body>\n")
    }

    /// Text for inside a CSS string: everything but letters, digits and a few safe marks is a
    /// hex escape, so a value can neither end the string nor the style element.
    static func cssString(_ text: String) -> String {
        var out = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "a"..."z", "A"..."Z", "0"..."9", " ", ".", "-", "_", ":", "@": out.unicodeScalars.append(scalar)
            default: out += "\\" + String(scalar.value, radix: 16) + " "
            }
        }
        return out
    }
}
