import Foundation
import StewardJSON
@testable import StewardReports
import Testing

@Suite("HTML report")
struct HTMLReportTests {
    static func html(_ sample: SampleReport = SampleReport()) throws -> String {
        String(decoding: try HTMLReport.render(sample.json), as: UTF8.self)
    }

    @Test("self-contained: nothing is fetched, nothing runs")
    func selfContained() throws {
        let html = try Self.html()
        for forbidden in ["http://", "https://", "<script", "<link", "url(", "@import", " src=", "<img", "<iframe", "<object"] {
            #expect(!html.lowercased().contains(forbidden), "the HTML contains \(forbidden)")
        }
        #expect(html.contains("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">"))
        #expect(html.hasPrefix("<!DOCTYPE html>"))
    }

    @Test("every value from the report is escaped")
    func escapes() throws {
        var sample = SampleReport()
        sample.comment = "<script>alert(\"x\")</script> & 'co'"
        sample.personName = "Zoë <b>Ann</b> & Co"
        let html = try Self.html(sample)
        #expect(!html.contains("<script>"))
        #expect(!html.contains("<b>Ann</b>"))
        #expect(html.contains("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;co&#39;"))
        #expect(html.contains("Zoë &lt;b&gt;Ann&lt;/b&gt; &amp; Co"))
        // Markup stays balanced, so no value opened or closed an element.
        for tag in ["tr", "td", "table", "section", "small"] {
            #expect(html.components(separatedBy: "<\(tag)").count - 1 == html.components(separatedBy: "</\(tag)>").count - 1, "<\(tag)> unbalanced")
        }
    }

    @Test("a value cannot break out of the CSS footer string")
    func cssStringEscapes() {
        let escaped = HTMLReport.cssString("x\"; } </style><script>")
        #expect(!escaped.contains("\"") && !escaped.contains("<") && !escaped.contains("}"))
        #expect(escaped.hasPrefix("x\\22 "))
    }

    @Test("the four parts, the summary and the checkpoint are there, with what each must show")
    func parts() throws {
        let html = try Self.html()
        let order = ["id=\"summary\"", "id=\"part-1\"", "id=\"part-2\"", "id=\"part-3\"", "id=\"part-4\"", "id=\"journal\""]
        let positions = order.map { html.range(of: $0)?.lowerBound }
        #expect(positions.allSatisfy { $0 != nil })
        #expect(positions.compactMap { $0 } == positions.compactMap { $0 }.sorted())

        // Part 1: counts, sync times, filters, hashes.
        let report = SampleReport().json
        #expect(html.contains(report["population"]["sha256"].stringValue ?? "-"))
        for app in report["population"]["apps"].arrayValue ?? [] { #expect(html.contains(app["sha256"].stringValue ?? "-")) }
        #expect(html.contains("2026-11-18T08:30:00.000Z"))
        #expect(html.contains("employmentType not (is contractor)"))
        #expect(html.contains("7, 3, 1 days before the deadline; every 1 days while overdue"))
        // Part 2: context beside each item.
        #expect(html.contains("id=\"item-12\""))
        #expect(html.contains("exception CHG-1042"))
        #expect(html.contains("orphan: linked to nobody"))
        #expect(html.contains("3 of 4"))
        // Part 3: decisions, routing, the log, quality with the rubber stamp shown plainly.
        #expect(html.contains("approvals moved to the new controller"))
        #expect(html.contains("self-review blocked"))
        #expect(html.contains("delegated by zed@example.com: on leave until December"))
        #expect(html.contains("<span class=\"flag\">late</span>"))
        #expect(html.contains("replaced later"))
        #expect(html.contains("3d-before to dana@example.com: 2 open items"))
        #expect(html.contains("bo@example.com signed off stage 1"))
        #expect(html.contains("<td>dana@example.com</td><td class=\"n\">2</td><td class=\"n\">2</td><td class=\"n\">0</td><td class=\"n\">1.2 s</td><td class=\"n\">0%</td><td class=\"n\">50%</td><td><span class=\"flag\">YES: rubber stamp</span></td>"))
        #expect(html.contains("Rubber stamp: dana@example.com kept every item, each in under 2 seconds."))
        // Part 4: each revoke with its action key, outcome and time.
        #expect(html.contains("stw-7f3a9c2e10b4"))
        #expect(html.contains("erp is in observe mode: Steward never changes it"))
        #expect(html.contains("2026-11-19T10:05:12.000Z<small class=\"ok\">verified by a fresh read</small>"))
        // The checkpoint, as text.
        #expect(html.contains("steward.local/.steward\n5000\n"))
    }

    @Test("the summary figures come first, and findings are stated in words")
    func summary() throws {
        let html = try Self.html()
        let summary = try #require(html.range(of: "id=\"summary\"").map { String(html[$0.lowerBound...].prefix(6000)) })
        #expect(summary.contains("<b>12</b><span>Items in the population</span>"))
        #expect(summary.contains("<div class=\"figure bad\"><b>1</b><span>Revoke failed</span>"))
        #expect(summary.contains("1 revokes failed or are still visible in the app"))
        #expect(summary.contains("1 items were not decided by the deadline"))
    }

    @Test("the report's own consistency checks pass for a sound report and catch an edited one")
    func consistency() throws {
        let html = try Self.html()
        #expect(html.components(separatedBy: "<td class=\"ok\">consistent</td>").count - 1 == 6)
        #expect(!html.contains("NOT CONSISTENT"))

        guard case .object(var report) = SampleReport().json, case .object(var summary) = report["summary"] else { return }
        summary["kept"] = 99
        report["summary"] = .object(summary)
        let edited = String(decoding: try HTMLReport.render(.object(report)), as: UTF8.self)
        #expect(edited.contains("NOT CONSISTENT</td><td>kept: the summary says 99, the items 3</td>"))
    }

    @Test("it prints cleanly: parts on new pages, headers repeated, rows whole, page numbers, no dark backgrounds")
    func printStyles() throws {
        let html = try Self.html()
        #expect(html.contains("@media print"))
        #expect(html.contains("section.part { break-before: page; }"))
        #expect(html.contains("thead { display: table-header-group; }"))
        #expect(html.contains("tr, .figure, pre { break-inside: avoid; }"))
        #expect(html.contains("counter(page)"))
        // Every background is a light grey.
        let backgrounds = html.components(separatedBy: "background: ").dropFirst().map { String($0.prefix(7)) }
        #expect(!backgrounds.isEmpty)
        let light = ["#fff;", "#eee;", "#f6f6f6", "#f0f0f0"]
        #expect(backgrounds.allSatisfy { background in light.contains { background.hasPrefix($0) } }, "\(backgrounds)")
    }

    @Test("anything but a steward-review-report/1 object is refused")
    func refusesOtherValues() {
        #expect(throws: ReviewReportError.notAReport("format is \"other/1\", expected \"steward-review-report/1\"")) {
            try HTMLReport.render(["format": "other/1"])
        }
        #expect(throws: ReviewReportError.notAReport("the value is array, not an object")) { try HTMLReport.render([]) }
    }
}
