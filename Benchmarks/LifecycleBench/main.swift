import Foundation
import StewardDemo
import StewardHost

// LifecycleBench: wall time of sync → plan → apply against the sandbox (the SCIM app, the
// GitHub-shaped REST app and the browser-driven legacy app through their connectors), for a
// company of about 1,000 people, then a second round after HR changes. The demo runs twice:
// with the read-back of every touched account after apply (the default) and without
// (`--no-verify`), and the time each app spent acting and verifying is printed.
// Run: swift build -c release && swift run -c release LifecycleBench

let scale = Int(ProcessInfo.processInfo.environment["LIFECYCLE_BENCH_SCALE"] ?? "5") ?? 5

/// `LIFECYCLE_BENCH_PAGES=1,4`: one run with read-back per tab count of the browser app, instead
/// of the two runs with and without read-back.
let pagesToCompare = (ProcessInfo.processInfo.environment["LIFECYCLE_BENCH_PAGES"] ?? "").split(separator: ",").compactMap { Int($0) }

func runOnce(verifies: Bool, pages: Int? = nil) async throws {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("steward-lifecycle-bench-\(getpid())-\(verifies)-\(pages ?? 0)")
    defer { try? FileManager.default.removeItem(at: dir) }
    let started = Date()
    var demo = Demo(directory: dir, scale: scale, say: { _ in })
    demo.verifies = verifies
    demo.browserPages = pages
    if let pages { print("\n== the browser app with \(pages) tab\(pages == 1 ? "" : "s") (pages and limits.concurrency)") }
    demo.reviews = false  // the loop only; ReviewBench times campaigns
    let result = try await demo.run()
    let total = Date().timeIntervalSince(started)
    print("\n== \(verifies ? "with read-back (default)" : "without read-back (--no-verify)")")
    print("people: about \(200 * scale); apps: \(result.apps.joined(separator: ", "))")
    for (step, seconds) in result.timings {
        print(String(format: "%-14@ %6.2f s", step as NSString, seconds))
    }
    for (round, summary) in [("round1", result.firstApply), ("round2", result.secondApply)] {
        for (app, s) in summary.seconds.sorted(by: { $0.key < $1.key }) {
            print(String(format: "%@ %-7@ acting %6.2f s, verifying %6.2f s", round, app as NSString, s.acting, s.verifying))
        }
        print("\(round): \(summary.applied) applied, \(summary.verified) verified, \(summary.unverified) unverified")
    }
    let round1 = result.timings.filter { $0.0.hasPrefix("round1") }.map(\.1).reduce(0, +)
    print(String(format: "round 1 (sync → plan → apply, %d actions): %.2f s", result.firstApply.applied, round1))
    print(String(format: "whole demo incl. sandbox start and journal verify: %.2f s; journal intact: %@", total, result.verified ? "yes" : "NO"))
}

if pagesToCompare.isEmpty {
    try await runOnce(verifies: true)
    try await runOnce(verifies: false)
} else {
    for pages in pagesToCompare { try await runOnce(verifies: true, pages: pages) }
}
