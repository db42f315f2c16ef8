@testable import DevTools
import Foundation
import StewardJSON
import StewardTestSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

@Suite("Browser lifecycle")
struct BrowserLifecycleTests {
    @Test("launch and close leave no Chromium process, zombie or profile behind")
    func launchAndCloseLeaveNothing() async throws {
        let browser = try await Browser.launch()
        let group = browser.processID
        let page = try await browser.newPage()
        try await page.setContent("<p>hello</p>")
        #expect(try await page.evaluate("document.querySelector('p').textContent") == "hello")
        #expect(browser.version.contains("Chrome"))
        #expect(!processes(inGroup: group).isEmpty)
        let profile = browser.process.profileDirectory
        #expect(FileManager.default.fileExists(atPath: profile))
        let handlers = crashHandlers(loggingTo: profile + "/chromium.log")
        await browser.close()
        #expect(processes(inGroup: group).map(\.pid) == [])
        #expect(handlers.filter(processExists) == [], "crash handlers left: \(handlers)")
        #expect(!browser.isConnected)
        #expect(!FileManager.default.fileExists(atPath: profile))
    }

    @Test("a missing binary names the path tried and how to install Chromium")
    func missingBinary() async throws {
        let error = await #expect(throws: DevToolsError.self) {
            _ = try await Browser.launch(LaunchOptions(executablePath: "/nonexistent/chromium"))
        }
        #expect(error == .chromiumNotFound(tried: ["/nonexistent/chromium"]))
        let text = "\(error.map { "\($0)" } ?? "")"
        #expect(text.contains("/nonexistent/chromium"))
        #expect(text.contains("apt-get install chromium"))
    }

    @Test("STEWARD_CHROMIUM overrides the default paths; an explicit path overrides both")
    func executableOverride() throws {
        let fromEnvironment = #expect(throws: DevToolsError.self) {
            try LaunchOptions().resolveExecutable(environment: ["STEWARD_CHROMIUM": "/opt/missing/chrome"])
        }
        #expect(fromEnvironment == .chromiumNotFound(tried: ["/opt/missing/chrome"]))
        #expect(try LaunchOptions(executablePath: "/bin/sh").resolveExecutable(environment: ["STEWARD_CHROMIUM": "/opt/missing/chrome"]) == "/bin/sh")
        let defaults = try LaunchOptions().resolveExecutable(environment: [:])
        #expect(LaunchOptions.defaultExecutablePaths.contains(defaults))
    }

    @Test("a binary that is not Chromium fails the launch with a clear error and leaves nothing running")
    func notChromium() async throws {
        var options = LaunchOptions(executablePath: "/bin/true")
        options.launchTimeout = .seconds(20)
        let error = await #expect(throws: DevToolsError.self) { _ = try await Browser.launch(options) }
        guard case .launchFailed(let why) = error else {
            Issue.record("expected launchFailed, got \(String(describing: error))")
            return
        }
        #expect(why.contains("/bin/true"))
    }

    @Test("killing the owning process with SIGKILL leaves no Chromium process of its group behind")
    func ownerKilled() async throws {
        let helper = try #require(Self.browserBenchBinary(), "BrowserBench is built with the tests (swift build builds it)")
        // As a host would: orphans of the killed child come to us, and we reap them.
        becomeChildSubreaper()
        let output = Pipe()
        let child = Process()
        child.executableURL = URL(fileURLWithPath: helper)
        child.arguments = ["hold"]
        child.standardOutput = output
        try child.run()
        let line = try #require(Self.firstLine(of: output.fileHandleForReading), "BrowserBench hold printed nothing")
        let group = try #require(Int32(line.replacingOccurrences(of: "pid ", with: "")), "unexpected output: \(line)")
        #expect(!processes(inGroup: group).isEmpty)
        let handlers = crashHandlers(childrenOf: child.processIdentifier)
        kill(child.processIdentifier, SIGKILL)
        child.waitUntilExit()
        let left = await waitUntilGroupIsGone(group)
        #expect(left.isEmpty, "left behind: \(left)")
        let handlersLeft = await waitUntilGone(handlers)
        #expect(handlersLeft == [], "crash handlers left: \(handlersLeft)")
        if !left.isEmpty { kill(-group, SIGKILL) }
    }

    @Test("a browser that dies fails every pending call at once, with the exit in the error")
    func browserCrash() async throws {
        let browser = try await Browser.launch()
        let page = try await browser.newPage()
        let pending = Task { try await page.evaluate("new Promise(() => {})", timeout: .seconds(120)) }
        let other = Task { try await page.evaluate("new Promise(() => {})", timeout: .seconds(120)) }
        try await Task.sleep(for: .milliseconds(200))
        kill(browser.processID, SIGKILL)
        for task in [pending, other] {
            let error = await #expect(throws: DevToolsError.self) { try await task.value }
            guard case .browserClosed(let why) = error else {
                Issue.record("expected browserClosed, got \(String(describing: error))")
                continue
            }
            #expect(why.contains("signal 9") || why.contains("closed the DevTools pipe"))
        }
        #expect(!browser.isConnected)
        await #expect(throws: DevToolsError.self) { try await page.evaluate("1") }
        await browser.close()
        #expect(await waitUntilGroupIsGone(browser.processID).isEmpty)
    }

    @Test("a crashed tab fails its pending calls; the browser and other tabs keep working")
    func rendererCrash() async throws {
        try await Harness.withBrowser { (browser: Browser) async throws in
            let page = try await browser.newPage()
            let survivor = try await browser.newPage()
            try await page.setContent("<p>doomed</p>")
            let pending = Task { try await page.evaluate("new Promise(() => {})", timeout: .seconds(120)) }
            try await Task.sleep(for: .milliseconds(200))
            _ = try? await page.session.send("Page.crash", timeout: .seconds(5))
            let error = await #expect(throws: DevToolsError.self) { try await pending.value }
            guard case .pageClosed = error else {
                Issue.record("expected pageClosed, got \(String(describing: error))")
                return
            }
            try await survivor.setContent("<p>alive</p>")
            #expect(try await survivor.evaluate("document.body.innerText") == "alive")
        }
    }

    @Test("a closed tab refuses further calls; the browser goes on")
    func pageClose() async throws {
        try await Harness.withBrowser { (browser: Browser) async throws in
            let page = try await browser.newPage()
            try await page.close()
            let error = await #expect(throws: DevToolsError.self) { try await page.evaluate("1") }
            #expect(error == .pageClosed("the page was closed"))
            let next = try await browser.newPage()
            #expect(try await next.evaluate("2") == 2)
        }
    }

    @Test("browser contexts do not share cookies")
    func contextsAreIsolated() async throws {
        let server = try StubServer(pages: ["/": "<p>cookies</p>"])
        defer { server.stop() }
        try await Harness.withBrowser { (browser: Browser) async throws in
            let first = try await browser.newContext()
            let second = try await browser.newContext()
            let a = try await first.newPage()
            let b = try await second.newPage()
            try await a.goto(server.url("/"))
            try await b.goto(server.url("/"))
            try await a.evaluate("document.cookie = 'job=one'")
            #expect(try await a.evaluate("document.cookie") == "job=one")
            #expect(try await b.evaluate("document.cookie") == "")
            let sibling = try await first.newPage()
            try await sibling.goto(server.url("/"))
            #expect(try await sibling.evaluate("document.cookie") == "job=one")
            try await first.close()
            try await second.close()
        }
    }

    @Test("messages of many megabytes arrive whole")
    func largeMessages() async throws {
        try await Harness.withContent("<p>big</p>") { (page: Page) async throws in
            let text = try await page.evaluate("'x'.repeat(8 * 1024 * 1024) + 'end'").stringValue
            let expected = 8 * 1024 * 1024 + 3
            #expect(text?.count == expected)
            #expect(text?.hasSuffix("xend") == true)
            #expect(try await page.evaluate("1 + 1") == 2)
        }
    }

    // MARK: Helpers

    /// BrowserBench sits next to the test binary in the build directory.
    static func browserBenchBinary() -> String? {
        let path = Products.path("BrowserBench")
        return FileManager.default.isExecutableFile(atPath: path) ? path : nil
    }

    static func firstLine(of handle: FileHandle) -> String? {
        var bytes: [UInt8] = []
        while true {
            let data = handle.readData(ofLength: 1)
            guard let byte = data.first else { return bytes.isEmpty ? nil : String(decoding: bytes, as: UTF8.self) }
            if byte == 10 { return String(decoding: bytes, as: UTF8.self) }
            bytes.append(byte)
        }
    }
}

@Suite("NUL framing")
struct FramingTests {
    @Test("messages split across reads and several per read are delivered whole, in order")
    func splitsOnNUL() throws {
        var fds: [Int32] = [0, 0]
        #expect(pipe(&fds) == 0)
        let writer = fds[1]
        let big = String(repeating: "y", count: 700_000)
        let payload = Array("{\"a\":1}\0{\"b\":2}\0{\"c\":\"\(big)\"}\0{\"d\":".utf8)
        Thread.detachNewThread {
            var offset = 0
            while offset < payload.count {
                let n = min(1000 + offset % 777, payload.count - offset)
                _ = payload.withUnsafeBytes { write(writer, $0.baseAddress! + offset, n) }
                offset += n
            }
            _ = "4}\0".withCString { write(writer, $0, 3) }
            close(writer)
        }
        let reader = NULFramedReader(fd: fds[0], initialCapacity: 64)
        var messages: [JSONValue] = []
        while reader.next({ bytes in messages.append((try? JSONParser.parse(bytes)) ?? .null) }) {}
        close(fds[0])
        #expect(messages.count == 4)
        #expect(messages.first?["a"] == 1)
        #expect(messages.dropFirst(2).first?["c"].stringValue?.count == 700_000)
        #expect(messages.last?["d"] == 4)
    }
}
