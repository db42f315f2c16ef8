import StewardJSON
import StewardReports
import Testing

@Suite("renderReport")
struct RenderReportTests {
    @Test("json is the report itself, pretty-printed with sorted keys")
    func json() async throws {
        let report = SampleReport().json
        let bytes = try await renderReport(report, as: .json)
        // The same JSON: 120.0 reads back as the integer 120, so compare the compact forms.
        #expect(JSONWriter.string(try JSONParser.parse(bytes), sortedKeys: true) == JSONWriter.string(report, sortedKeys: true))
        let text = String(decoding: bytes, as: UTF8.self)
        #expect(text.hasPrefix("{\n  \"campaign\": {\n"))
        #expect(text.hasSuffix("}\n"))
    }

    @Test("html and csv are what their renderers write")
    func sameAsTheRenderers() async throws {
        let report = SampleReport().json
        #expect(try await renderReport(report, as: .html) == HTMLReport.render(report))
        #expect(try await renderReport(report, as: .csv) == CSVReport.render(report))
    }

    @Test("every format refuses a value that is not a report", arguments: ReviewReportFormat.allCases)
    func refuses(format: ReviewReportFormat) async {
        await #expect(throws: ReviewReportError.self) { try await renderReport(["format": "steward-review-report/2"], as: format) }
    }

    @Test("the format names are the CLI's --format values")
    func names() {
        #expect(ReviewReportFormat.allCases.map(\.rawValue) == ["html", "csv", "json", "pdf"])
        #expect(ReviewReportFormat(rawValue: "pdf")?.fileExtension == "pdf")
    }
}
