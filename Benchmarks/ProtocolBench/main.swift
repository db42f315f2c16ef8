import Foundation
import StewardHost
import StewardProtocol

// ProtocolBench: the host talking to a no-op connector (steward-test-connector, built with
// ConnectorKit) over stdio. Run: swift run -c release ProtocolBench
//
// Targets on a 2-core machine: ≥ 30,000 round trips/s pipelined, p50 ≤ 100 µs one at a time,
// 1,000,000 accounts listed in pages of 1,000 in ≤ 5 s.

let binDir = URL(fileURLWithPath: (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0])
    .deletingLastPathComponent()
let connectorPath = binDir.appendingPathComponent("steward-test-connector").path
guard FileManager.default.isExecutableFile(atPath: connectorPath) else {
    print("steward-test-connector not found beside the benchmark; run `swift build -c release` first")
    exit(1)
}

func connector(accounts: Int, maxInFlight: Int) -> SupervisedConnector {
    var options = ConnectorConnection.Options()
    options.maxInFlight = maxInFlight
    options.requestTimeout = 600
    return SupervisedConnector(ConnectorLaunch(appId: "bench", command: [connectorPath], settings: ["accounts": .int(accounts)],
                                               options: options))
}

/// `PROTOCOL_BENCH=pipelined|latency|listing` runs one part only (for profiling).
let only = ProcessInfo.processInfo.environment["PROTOCOL_BENCH"]

func seconds(since start: UInt64) -> Double { Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9 }

// 1. Pipelined round trips.
if only == nil || only == "pipelined" {
    let c = connector(accounts: 0, maxInFlight: 256)
    try await c.start()
    let total = 300_000
    let workers = 256
    let start = DispatchTime.now().uptimeNanoseconds
    try await withThrowingTaskGroup(of: Void.self) { group in
        for w in 0..<workers {
            group.addTask {
                var i = w
                while i < total {
                    _ = try await c.call(Method.ping)
                    i += workers
                }
            }
        }
        try await group.waitForAll()
    }
    let elapsed = seconds(since: start)
    print(String(format: "pipelined round trips: %.0f/s (%d pings, %d in flight, %.2f s)", Double(total) / elapsed, total, workers, elapsed))
    await c.stop()
}

// 2. Latency one at a time.
if only == nil || only == "latency" {
    let c = connector(accounts: 0, maxInFlight: 1)
    try await c.start()
    for _ in 0..<2_000 { _ = try await c.call(Method.ping) }
    var samples: [Double] = []
    samples.reserveCapacity(20_000)
    for _ in 0..<20_000 {
        let t = DispatchTime.now().uptimeNanoseconds
        _ = try await c.call(Method.ping)
        samples.append(Double(DispatchTime.now().uptimeNanoseconds - t) / 1000)
    }
    samples.sort()
    print(String(format: "latency one at a time: p50 %.0f µs, p99 %.0f µs (20,000 pings)", samples[samples.count / 2], samples[samples.count * 99 / 100]))
    await c.stop()
}

// 3. Listing 1,000,000 accounts in pages of 1,000.
if only == nil || only == "listing" {
    let total = 1_000_000
    let c = connector(accounts: total, maxInFlight: 4)
    try await c.start()
    let start = DispatchTime.now().uptimeNanoseconds
    var count = 0
    try await c.list(Method.accountsList, params: ListParams(pageSize: 1_000), of: Account.self) { page in
        count += page.count
    }
    let elapsed = seconds(since: start)
    print(String(format: "listing: %d accounts in %.2f s = %.0f accounts/s (pages of 1,000)", count, elapsed, Double(count) / elapsed))
    await c.stop()
}
