import Foundation
import StewardHost

// LifecycleBench: wall time of sync → plan → apply against the sandbox (SCIM app through the
// SCIM connector), for a company of about 1,000 people, then a second round after HR changes.
// Run: swift build -c release && swift run -c release LifecycleBench

let dir = FileManager.default.temporaryDirectory.appendingPathComponent("steward-lifecycle-bench-\(getpid())")
defer { try? FileManager.default.removeItem(at: dir) }
let scale = Int(ProcessInfo.processInfo.environment["LIFECYCLE_BENCH_SCALE"] ?? "5") ?? 5
let started = Date()
let result = try await Demo(directory: dir, scale: scale, say: { _ in }).run()
let total = Date().timeIntervalSince(started)
print("people: about \(200 * scale); apps: \(result.apps.joined(separator: ", "))")
for (step, seconds) in result.timings {
    print(String(format: "%-14@ %6.2f s", step as NSString, seconds))
}
let round1 = result.timings.filter { $0.0.hasPrefix("round1") }.map(\.1).reduce(0, +)
print(String(format: "round 1 (sync → plan → apply, %d actions): %.2f s", result.firstApply.applied, round1))
print(String(format: "whole demo incl. sandbox start and journal verify: %.2f s; journal intact: %@", total, result.verified ? "yes" : "NO"))
