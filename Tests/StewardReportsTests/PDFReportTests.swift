import DevTools
import Foundation
import StewardJSON
@testable import StewardReports
import StewardTestSupport
import Testing

@Suite("PDF report", .enabled(if: Tools.pdfTestsEnabled, "Chromium or pdftoppm is not installed and CI is unset"), .serialized)
struct PDFReportTests {
    @Test("a small report prints to a PDF whose first page has ink, with page numbers, and no Chromium process is left")
    func printsAndCleansUp() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let launched = LaunchedProcess()
        var printer = PDFPrinter(options: PDFReport.Options())
        printer.launched = { launched.pid = $0 }
        let pdf = try await printer.print(try HTMLReport.render(SampleReport().json))
        #expect(pdf.starts(with: Array("%PDF-".utf8)))

        let group = try #require(launched.pid)
        #expect(processes(inGroup: group) == [], "Chromium processes left behind")

        let file = directory.file("report.pdf")
        try Data(pdf).write(to: file)
        let page = try rasterise(file, in: directory)
        // A4 at 50 dpi is 413 x 585 pixels.
        #expect((410...416).contains(page.width) && (582...588).contains(page.height), "\(page.width) x \(page.height)")
        let dark = page.pixels.filter { $0 < 128 }.count
        #expect(dark > page.pixels.count / 200, "page 1 is blank: \(dark) dark pixels of \(page.pixels.count)")
        #expect(page.pixels.filter { $0 > 250 }.count > page.pixels.count / 2, "page 1 is not mostly white paper")

        let text = try pdfText(file)
        #expect(text.contains("Access review report: quarterly-admins-1"))
        #expect(text.contains("Page 1 of "))
        #expect(text.contains("Access review quarterly-admins-1"))
        let pages = try pageCount(file)
        #expect(pages >= 6, "each part starts on a new page: \(pages) pages")
    }

    @Test("renderReport prints Letter landscape when asked, through the one entry point's defaults otherwise")
    func paperAndEntryPoint() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        var options = PDFReport.Options()
        options.paper = .letter
        options.landscape = true
        let letter = directory.file("letter.pdf")
        try Data(try await PDFReport.render(SampleReport().json, options: options)).write(to: letter)
        #expect(try pageSize(letter).contains("792 x 612 pts"))

        let a4 = directory.file("a4.pdf")
        try Data(try await renderReport(SampleReport().json, as: .pdf)).write(to: a4)
        #expect(try pageSize(a4).contains("595"))
    }

    // MARK: Poppler

    private func rasterise(_ pdf: URL, in directory: TemporaryDirectory) throws -> (width: Int, height: Int, pixels: [UInt8]) {
        let tool = try #require(Tools.find("pdftoppm"), "pdftoppm is not installed (apt-get install poppler-utils)")
        let result = try run(tool, ["-gray", "-r", "50", "-f", "1", "-l", "1", "-singlefile", pdf.path, directory.file("page").path])
        try #require(result.status == 0, "pdftoppm failed")
        let pgm = try Data(contentsOf: directory.file("page.pgm"))
        return try PGM.parse(Array(pgm))
    }

    private func pdfText(_ pdf: URL) throws -> String {
        let tool = try #require(Tools.find("pdftotext"))
        let result = try run(tool, ["-f", "1", "-l", "1", "-layout", pdf.path, "-"])
        return String(decoding: result.output, as: UTF8.self)
    }

    private func info(_ pdf: URL) throws -> String {
        let tool = try #require(Tools.find("pdfinfo"))
        return String(decoding: try run(tool, [pdf.path]).output, as: UTF8.self)
    }

    private func pageSize(_ pdf: URL) throws -> String {
        try info(pdf).split(separator: "\n").first { $0.hasPrefix("Page size:") }.map(String.init) ?? ""
    }

    private func pageCount(_ pdf: URL) throws -> Int {
        let line = try info(pdf).split(separator: "\n").first { $0.hasPrefix("Pages:") } ?? ""
        return Int(line.split(separator: " ").last ?? "") ?? 0
    }
}

@Suite("PDF report without Chromium")
struct PDFWithoutChromiumTests {
    @Test("a missing browser is a clear error naming what was tried, and nothing is left in the temporary directory")
    func missingChromium() async throws {
        let before = try temporaryReportDirectories()
        var options = PDFReport.Options()
        options.launch = LaunchOptions(executablePath: "/nonexistent/chromium")
        let error = await #expect(throws: ReviewReportError.self) { try await PDFReport.render(SampleReport().json, options: options) }
        #expect(error.map { "\($0)" }?.contains("/nonexistent/chromium") == true)
        #expect(try temporaryReportDirectories().subtracting(before).isEmpty)
    }

    private func temporaryReportDirectories() throws -> Set<String> {
        Set(try FileManager.default.contentsOfDirectory(atPath: FileManager.default.temporaryDirectory.path).filter { $0.hasPrefix("steward-report-") })
    }
}

/// A binary PGM (P5) image, as `pdftoppm -gray` writes it.
enum PGM {
    struct Malformed: Error {}

    static func parse(_ bytes: [UInt8]) throws -> (width: Int, height: Int, pixels: [UInt8]) {
        // Header: "P5", width, height, maxval, separated by whitespace, then one whitespace byte.
        var fields: [String] = []
        var i = 0
        while fields.count < 4 {
            while i < bytes.count, bytes[i] == 0x20 || bytes[i] == 0x0A || bytes[i] == 0x0D || bytes[i] == 0x09 { i += 1 }
            var field: [UInt8] = []
            while i < bytes.count, ![0x20, 0x0A, 0x0D, 0x09].contains(bytes[i]) { field.append(bytes[i]); i += 1 }
            guard !field.isEmpty else { throw Malformed() }
            fields.append(String(decoding: field, as: UTF8.self))
        }
        i += 1
        guard fields[0] == "P5", let width = Int(fields[1]), let height = Int(fields[2]), fields[3] == "255",
              bytes.count - i == width * height else { throw Malformed() }
        return (width, height, Array(bytes[i...]))
    }
}

/// The browser process id `PDFPrinter` reports, written from its task and read after.
final class LaunchedProcess: @unchecked Sendable {  // every access holds the lock
    private let lock = NSLock()
    private var value: Int32?

    var pid: Int32? {
        get { lock.withLock { value } }
        set { lock.withLock { value = newValue } }
    }
}

/// Processes (zombies included) whose process group is `group`, from /proc.
func processes(inGroup group: Int32) -> [Int32] {
    guard let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else { return [] }
    return entries.compactMap { entry -> Int32? in
        guard let pid = Int32(entry), let stat = try? String(contentsOfFile: "/proc/\(entry)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return nil }
        // After the name: state, ppid, pgrp.
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        return fields.count > 2 && Int32(fields[2]) == group ? pid : nil
    }
}
