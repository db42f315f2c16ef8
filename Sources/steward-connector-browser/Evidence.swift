import DevTools
import Foundation

/// Screenshots and HTML of pages, kept for operators (why did this step fail?) and auditors
/// (proof the change was made). Files go under the app's state directory; their names and the
/// page's HTML pass through `redact`, so typed secrets never end up in them.
struct Evidence: Sendable {
    let directory: String
    let redact: @Sendable (String) -> String

    struct Saved {
        var screenshot: String
        var html: String
    }

    /// Saves the page as `<time>-<kind>-<label>.png` and `.html`; nil if nothing could be saved
    /// (the browser is gone, the disk is full): evidence never hides the original error.
    func save(_ page: DevTools.Page, label: String, kind: String) async -> Saved? {
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            let stamp = Self.stamp()
            let safeLabel = String(label.map { $0.isLetter || $0.isNumber || $0 == "-" ? $0 : "_" })
            let base = URL(fileURLWithPath: directory).appendingPathComponent("\(stamp)-\(kind)-\(safeLabel)").path
            let image = try await page.screenshot(fullPage: true)
            try image.write(to: URL(fileURLWithPath: base + ".png"))
            let html = redact(try await page.content())
            try Data(html.utf8).write(to: URL(fileURLWithPath: base + ".html"))
            return Saved(screenshot: base + ".png", html: base + ".html")
        } catch {
            return nil
        }
    }

    private static func stamp() -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyyMMdd'T'HHmmss.SSS"
        return formatter.string(from: Date()) + "-" + String(UInt32.random(in: 0...UInt32.max), radix: 16)
    }
}
