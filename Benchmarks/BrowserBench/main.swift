// BrowserBench: Chromium launch to ready, and a warm "deactivate one user" flow.
//
//   swift run -c release BrowserBench            run the benchmark (median of 20)
//   swift run -c release BrowserBench connector  warm deactivate through the connector (build
//                                                steward-sandbox and steward-connector-browser too)
//   swift run -c release BrowserBench bulk [N] [MS]  N leavers (default 100) deactivated through the
//                                                connector with 1, 2 and 4 tabs (settings.pages), the
//                                                app answering each request MS ms late (default 0)
//   swift run -c release BrowserBench hold       launch, print "pid <pid>", wait to be killed
//
// `hold` exists for the DevTools tests: they SIGKILL it and check that its Chromium exits.
import DevTools
import Foundation

let arguments = CommandLine.arguments.dropFirst()

if arguments.first == "hold" {
    do {
        let browser = try await Browser.launch()
        let page = try await browser.newPage()
        try await page.goto("data:text/html,<p>held</p>")
        FileHandle.standardOutput.write(Data("pid \(browser.processID)\n".utf8))
        while true { try await Task.sleep(for: .seconds(3600)) }
    } catch {
        FileHandle.standardError.write(Data("BrowserBench hold: \(error)\n".utf8))
        exit(1)
    }
}

if arguments.first == "bulk" {
    // N leavers through the connector with 1, 2 and 4 tabs (see ConnectorBench.swift).
    do {
        let rest = Array(arguments.dropFirst())
        try await runBulkBench(count: Int(rest.first ?? "") ?? 100, latencyMs: Int(rest.dropFirst().first ?? "") ?? 0)
        exit(0)
    } catch {
        FileHandle.standardError.write(Data("BrowserBench bulk: \(error)\n".utf8))
        exit(1)
    }
}

if arguments.first == "connector" {
    // Through steward-connector-browser and the legacy recipe (see ConnectorBench.swift).
    do {
        try await runConnectorBench(iterations: Int(arguments.dropFirst().first ?? "") ?? 20)
        exit(0)
    } catch {
        FileHandle.standardError.write(Data("BrowserBench connector: \(error)\n".utf8))
        exit(1)
    }
}

let iterations = Int(arguments.first ?? "") ?? 20

do {
    let app = DemoApp()
    let server = try LocalServer(handler: app.handle)
    print("BrowserBench: Chromium via DevTools pipe, \(iterations) iterations, test app at \(server.baseURL)")

    // Launch to ready (first reply on the pipe), then close.
    var launches: [Duration] = []
    var closes: [Duration] = []
    for _ in 0..<iterations {
        let start = ContinuousClock.now
        let browser = try await Browser.launch()
        launches.append(ContinuousClock.now - start)
        let closing = ContinuousClock.now
        await browser.close()
        closes.append(ContinuousClock.now - closing)
    }

    // Warm deactivate: the browser and tab are up; open the user's page, click Deactivate,
    // accept the confirm() dialog, see the new status.
    let browser = try await Browser.launch()
    let context = try await browser.newContext()
    let tabStart = ContinuousClock.now
    let page = try await context.newPage()
    let tabTime = ContinuousClock.now - tabStart
    page.dialogPolicy = .accept()
    page.defaultTimeout = .seconds(10)
    /// Returns the time of each phase: open the page, click (with dialog and navigation), see.
    func deactivate(_ id: Int) async throws -> [Duration] {
        let clock = ContinuousClock()
        let opened = try await clock.measure { try await page.goto("\(server.baseURL)/users/\(id)") }
        let clicked = try await clock.measure {
            try await page.click(["role=button[name=\"Deactivate\"]", "#deactivate"], timeout: .seconds(5))
        }
        let seen = try await clock.measure { try await page.waitFor(.text("Status: disabled"), timeout: .seconds(5)) }
        return [opened, clicked, seen]
    }
    for id in 1...3 { _ = try await deactivate(id) }  // warm-up
    var deactivations: [Duration] = []
    var phases: [[Duration]] = [[], [], []]
    for id in 100..<(100 + iterations) {
        let times = try await deactivate(id)
        deactivations.append(times.reduce(.zero, +))
        for (index, time) in times.enumerated() { phases[index].append(time) }
        guard app.status(of: id) == "disabled" else { throw ServerError("user \(id) was not disabled on the server") }
    }
    // One auto-waiting click on a page that does not navigate, and one evaluate round trip.
    try await page.setContent("<button id=b onclick='window.n = (window.n || 0) + 1'>Count</button>")
    var clicks: [Duration] = []
    var evaluations: [Duration] = []
    for _ in 0..<iterations {
        clicks.append(try await ContinuousClock().measure { try await page.click("role=button[name=\"Count\"]") })
        evaluations.append(try await ContinuousClock().measure { try await page.evaluate("window.n") })
    }
    let pdfStart = ContinuousClock.now
    let pdf = try await page.pdf()
    let pdfTime = ContinuousClock.now - pdfStart
    try await context.close()
    await browser.close()

    report("launch to ready", launches, target: .milliseconds(300))
    report("warm deactivate", deactivations, target: .milliseconds(250))
    report("  open the user's page", phases[0], target: nil)
    report("  click Deactivate, accept confirm, new page committed", phases[1], target: nil)
    report("  see the new status", phases[2], target: nil)
    report("close", closes, target: nil)
    report("checked click (no navigation)", clicks, target: nil)
    report("evaluate round trip", evaluations, target: nil)
    print(String(format: "new tab (context + attach + enable): %.1f ms; pdf of the user page: %.1f ms (%d bytes)",
                 tabTime.milliseconds, pdfTime.milliseconds, pdf.count))
} catch {
    FileHandle.standardError.write(Data("BrowserBench failed: \(error)\n".utf8))
    exit(1)
}

func report(_ name: String, _ samples: [Duration], target: Duration?) {
    let sorted = samples.sorted()
    let median = sorted[sorted.count / 2]
    let p90 = sorted[min(sorted.count - 1, sorted.count * 9 / 10)]
    var line = String(format: "%@: median %.1f ms, min %.1f ms, p90 %.1f ms", name,
                      median.milliseconds, sorted[0].milliseconds, p90.milliseconds)
    if let target {
        line += String(format: " (target ≤ %.0f ms: %@)", target.milliseconds, median <= target ? "met" : "MISSED")
    }
    print(line)
}

extension Duration {
    var milliseconds: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) * 1000 + Double(attoseconds) / 1e15
    }
}
