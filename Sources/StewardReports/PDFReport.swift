import DevTools
import Foundation
import StewardJSON

/// The report as PDF: the HTML form printed by headless Chromium (`Page.printToPDF`), so the
/// PDF and the printed HTML are the same document. Page numbers come from the stylesheet's
/// `@page` footer; headings become PDF bookmarks.
public enum PDFReport {
    public struct Options: Sendable {
        public var paper: PDFOptions.Paper = .a4
        public var landscape = false
        /// Which Chromium and how to start it (`STEWARD_CHROMIUM` and the usual paths by default).
        public var launch = LaunchOptions()
        /// How long loading and printing may take; a 10,000-item report is several hundred pages.
        public var timeout: Duration = .seconds(300)

        public init() {}
    }

    public static func render(_ report: JSONValue, options: Options = Options()) async throws -> [UInt8] {
        let html = try HTMLReport.render(report, forPDF: true)
        return try await PDFPrinter(options: options).print(html)
    }
}

/// Prints one HTML document with a browser of its own, and always closes it.
struct PDFPrinter {
    let options: PDFReport.Options
    /// Told the browser's process id once it runs, so tests can check nothing is left behind.
    var launched: @Sendable (Int32) -> Void = { _ in }

    /// The document goes to a private temporary file that Chromium opens: a data: URL or
    /// `Page.setDocumentContent` would push tens of megabytes through one protocol message.
    func print(_ html: [UInt8]) async throws -> [UInt8] {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("steward-report-\(UUID().uuidString)")
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o700])
        } catch {
            throw ReviewReportError.pdfFailed("cannot create a temporary directory: \(error)")
        }
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("report.html")
        do {
            try Data(html).write(to: file)
        } catch {
            throw ReviewReportError.pdfFailed("cannot write \(file.path): \(error)")
        }

        let browser: Browser
        do {
            browser = try await Browser.launch(options.launch)
        } catch {
            throw ReviewReportError.pdfFailed("\(error)")
        }
        launched(browser.processID)
        do {
            let pdf = try await printPage(file, in: browser)
            await browser.close()
            return pdf
        } catch {
            await browser.close()
            throw ReviewReportError.pdfFailed("\(error)")
        }
    }

    private func printPage(_ file: URL, in browser: Browser) async throws -> [UInt8] {
        let page = try await browser.newPage()
        page.defaultTimeout = options.timeout
        try await page.goto(file.absoluteString, waitUntil: .load)
        var pdf = PDFOptions()
        pdf.paper = options.paper
        pdf.landscape = options.landscape
        pdf.preferCSSPageSize = false
        pdf.outline = true
        pdf.timeout = options.timeout
        return Array(try await page.pdf(pdf))
    }
}
