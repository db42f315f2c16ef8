import Foundation
import StewardJSON
@testable import StewardReports
import Testing

@Suite("PDF form of the long tables")
struct PrintedTableTests {
    @Test("rows are read from the parts' markup: cells, their lines, entities decoded, tags dropped")
    func readsTheMarkup() {
        var table = PrintedTable(headers: ["#", "Who"])
        table.read(rowsOf: Array(#"<tr><td class="n" id="item-1">1</td><td>Ann &amp; Bo <span class="flag">privileged</span><small>E1 · ann@example.com</small><br>second &lt;line&gt;</td></tr>"#.utf8)
                   + Array("\n<tr><td>2</td><td></td></tr>\n".utf8))
        #expect(table.rows == [[["1"], ["Ann & Bo privileged", "E1 · ann@example.com", "second <line>"]], [["2"], []]])
    }

    @Test("a value wider than its column is wrapped, never cut, and no line is wider than the page")
    func wrapsWithoutLosingText() {
        let long = "justified by policy engineering-platform-team and exception CHG-12345 until 2027-01-31, " + String(repeating: "x", count: 130)
        var table = PrintedTable(headers: ["#", "Justification", "Recommendation"])
        table.rows = [[["1"], [long], ["keep", "granted by policy everyone"]]]
        var html = HTMLWriter(capacity: 1024)
        table.write(into: &html)
        let text = String(decoding: html.bytes, as: UTF8.self)
        let lines = text.split(separator: "\n").map(String.init)
        #expect(lines.allSatisfy { $0.replacingOccurrences(of: "<pre class=\"rows\">", with: "").count <= PrintedTable.lineWidth })
        for word in long.split(separator: " ") where word.count < 40 { #expect(text.contains(word), "\(word) is missing") }
        #expect(text.filter { $0 == "x" }.count >= 130)
    }

    @Test("the header repeats every block of rows")
    func headerRepeats() {
        var table = PrintedTable(headers: ["#", "Access"])
        table.rows = (1...(PrintedTable.rowsPerBlock * 2 + 1)).map { [["\($0)"], ["role:admin"]] }
        var html = HTMLWriter(capacity: 1024)
        table.write(into: &html)
        let text = String(decoding: html.bytes, as: UTF8.self)
        #expect(text.components(separatedBy: "<pre class=\"rows\">").count - 1 == 3)
        #expect(text.components(separatedBy: "Access").count - 1 == 3)
    }

    @Test("the PDF's HTML sets the long tables as text holding every item, and the screen HTML keeps its tables")
    func pdfFormKeepsEveryValue() throws {
        let sample = SampleReport(extraItems: 30)
        let screen = String(decoding: try HTMLReport.render(sample.json), as: UTF8.self)
        let printed = String(decoding: try HTMLReport.render(sample.json, forPDF: true), as: UTF8.self)
        #expect(screen.contains("<table class=\"items\">"))
        #expect(!printed.contains("<table class=\"items\">"))
        #expect(!printed.contains("<table class=\"proofs\">"))
        #expect(printed.contains("<pre class=\"rows\">"))
        let report = try ReviewReport(sample.json)
        for item in report.items {
            for key in ["accountName", "access"] {
                let value = try #require(item[key].stringValue)
                #expect(printed.contains(value) || printed.filter { !$0.isWhitespace }.contains(value.filter { !$0.isWhitespace }),
                        "\(key) \(value) of item \(item["id"]) is missing from the PDF form")
            }
        }
        // The comment escaped in the screen form is escaped in the text form too.
        var hostile = SampleReport()
        hostile.comment = "<script>x</script>"
        let text = String(decoding: try HTMLReport.render(hostile.json, forPDF: true), as: UTF8.self)
        #expect(!text.contains("<script>"))
        #expect(text.contains("&lt;script&gt;x&lt;/script&gt;"))
    }
}
