import DevTools
import Foundation
import StewardJSON
import StewardTestSupport
import Testing

/// The reviewer page in real headless Chromium: a manager opens their signed link, keeps one
/// item with a comment, delegates another and signs off; another reviewer revokes from theirs.
/// The journal shows each with channel `link`.
@Suite("Reviewer page in a browser", .serialized, .enabled(if: BrowserAvailability.enabled, "Chromium is not installed and STEWARD_REQUIRE_CHROMIUM is unset"))
struct ReviewerPageBrowserTests {
    @Test func aManagerKeepsDelegatesAndSignsOffAndAnotherRevokesFromTheirPages() async throws {
        let folder = try ServeTests.reviewFolder()
        defer { folder.remove() }
        #expect(try folder.steward(["review", "start", "eng"]).code == 0)
        let mias = try ServeTests.itemIds(folder, "mia@example.com"), anns = try ServeTests.itemIds(folder, "ann@example.com")
        try #require(mias.count >= 2 && !anns.isEmpty)
        let service = try ServiceProcess(in: folder.dir)
        defer { service.kill() }
        let base = try #require(service.baseURL)
        func link(_ reviewer: String) throws -> String { try ServeTests.link(folder, reviewer, base: base) }

        let browser = try await Browser.launch()
        do {
            let page = try await browser.newPage()
            page.defaultTimeout = .seconds(30)
            _ = try await page.goto(try link("mia@example.com"))
            try await page.check(Selectors("input[name=item][value=\"\(mias[0])\"]"))
            try await page.fill("#comment", "works on the payments team")
            try await page.click("button[value=keep]")
            try await page.waitFor(.text("Kept 1 item"))

            try await page.check(Selectors("input[name=item][value=\"\(mias[1])\"]"))
            try await page.fill("#to", "bo.lead@example.com")
            try await page.fill("#reason", "Bo's lead knows this account")
            try await page.click("button[value=delegate]")
            try await page.waitFor(.text("Delegated 1 item"))

            try await page.click("button[value=signoff]")
            try await page.waitFor(.text("Signed off"))

            _ = try await page.goto(try link("ann@example.com"))
            try await page.check(Selectors("input[name=item][value=\"\(anns[0])\"]"))
            try await page.click("button[value=revoke]")
            try await page.waitFor(.text("Revoked 1 item"))
            await browser.close()
        } catch {
            await browser.close()
            throw error
        }

        let decided = try folder.events("review.decided")
        #expect(decided.map { $0["data"]["decision"].stringValue ?? "" }.sorted() == ["keep", "revoke"])
        #expect(decided.allSatisfy { $0["data"]["channel"] == "link" })
        #expect(decided.first { $0["data"]["decision"] == "keep" }?["data"]["comment"] == "works on the payments team")
        #expect(try folder.events("review.delegated").first?["data"]["to"] == "bo.lead@example.com")
        #expect(try folder.events("review.signed-off").first?["data"]["reviewer"] == "mia@example.com")
        #expect(service.terminate() == 0)
    }
}

/// Browser tests run where Chromium is, and always in CI (where its absence is a failure).
enum BrowserAvailability {
    static var enabled: Bool {
        let environment = ProcessInfo.processInfo.environment
        if environment["STEWARD_REQUIRE_CHROMIUM"] != nil || environment["CI"] != nil { return true }
        return ["/usr/lib/chromium/chromium", "/usr/bin/chromium", "/usr/bin/chromium-browser"].contains { FileManager.default.isExecutableFile(atPath: $0) }
    }
}
