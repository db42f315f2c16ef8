import Foundation
import StewardJSON

/// `BrowserBench connector`: a warm "deactivate one user" through steward-connector-browser
/// and the shipped legacy recipe, against `steward-sandbox --legacy`, both built next to this
/// benchmark. Measures the JSON-RPC round trip of `accounts/disable` (open the user's page,
/// click Deactivate, accept the confirm() dialog, see the new status), after one warm-up call
/// that launches Chromium and signs in.
func runConnectorBench(iterations: Int) async throws {
    let (sandbox, baseURL, token) = try startSandbox(["--legacy", "--users", String(iterations + 5)])
    defer { sandbox.terminate() }
    let (connector, input, replies) = try startConnector()
    var nextID = 0
    func call(_ method: String, _ params: JSONValue) throws -> JSONValue {
        nextID += 1
        let request: JSONValue = ["jsonrpc": "2.0", "id": .int(nextID), "method": .string(method), "params": params]
        input.fileHandleForWriting.write(Data((JSONWriter.string(request) + "\n").utf8))
        while true {
            let message = try JSONParser.parse(try replies.next())
            guard message["id"].intValue == nextID else { continue }  // log notifications
            if !message["error"].isNull { throw BenchError("\(method) failed: \(message["error"])") }
            return message["result"]
        }
    }
    let recipe = legacyRecipe
    _ = try call("initialize", [
        "protocolVersions": ["1.0"], "host": ["name": "BrowserBench", "version": "1"], "appId": "legacy",
        "settings": ["recipe": .string(recipe), "baseURL": .string(baseURL), "username": "admin"],
        "secrets": ["password": .string(token)],
    ])
    // The generated users come after the 23 seeded ones; the warm-up deactivates the first.
    let firstGenerated = 24
    let clock = ContinuousClock()
    let warmUp = try clock.measure { _ = try call("accounts/disable", ["idempotencyKey": "warm", "id": .string(String(firstGenerated))]) }
    var times: [Duration] = []
    for i in 1...iterations {
        let id = String(firstGenerated + i)
        times.append(try clock.measure { _ = try call("accounts/disable", ["idempotencyKey": .string("k\(i)"), "id": .string(id)]) })
    }
    _ = try call("shutdown", [:])
    try input.fileHandleForWriting.close()
    connector.waitUntilExit()
    let sorted = times.sorted()
    func ms(_ d: Duration) -> String { String(format: "%.1f ms", Double(d.components.attoseconds) / 1e15 + Double(d.components.seconds) * 1000) }
    print("connector: first accounts/disable (launch Chromium, sign in, deactivate) \(ms(warmUp))")
    print("connector: warm accounts/disable through steward-connector-browser: median \(ms(sorted[sorted.count / 2])), min \(ms(sorted[0])), max \(ms(sorted[sorted.count - 1])) (n=\(iterations))")
}

/// The programs built beside this benchmark, and the shipped legacy recipe.
private let buildDirectory = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
private let legacyRecipe = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("plugins/browser/recipes/legacy.json").path

/// `steward-sandbox ARGUMENTS`, its legacy app's address and token from the ready line.
private func startSandbox(_ arguments: [String]) throws -> (Process, String, String) {
    let sandbox = Process()
    sandbox.executableURL = buildDirectory.appendingPathComponent("steward-sandbox")
    sandbox.arguments = arguments + ["--exit-with-stdin"]
    let sandboxOut = Pipe(), sandboxIn = Pipe()
    sandbox.standardOutput = sandboxOut
    sandbox.standardInput = sandboxIn
    try sandbox.run()
    let ready = try JSONParser.parse(LineReader(sandboxOut.fileHandleForReading).next())
    guard let baseURL = ready["apps"]["legacy"].stringValue, let token = ready["token"].stringValue else {
        sandbox.terminate()
        throw BenchError("unexpected sandbox ready line")
    }
    return (sandbox, baseURL, token)
}

/// `steward-connector-browser`, with the pipe to write requests to and its replies line by line.
private func startConnector() throws -> (Process, Pipe, LineReader) {
    let connector = Process()
    connector.executableURL = buildDirectory.appendingPathComponent("steward-connector-browser")
    let input = Pipe(), output = Pipe()
    connector.standardInput = input
    connector.standardOutput = output
    try connector.run()
    return (connector, input, LineReader(output.fileHandleForReading))
}

struct BenchError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Newline-separated messages from a pipe.
final class LineReader {
    private let handle: FileHandle
    private var buffer: [UInt8] = []

    init(_ handle: FileHandle) { self.handle = handle }

    func next() throws -> [UInt8] {
        while true {
            if let newline = buffer.firstIndex(of: 0x0A) {
                let line = Array(buffer[..<newline])
                buffer.removeSubrange(...newline)
                return line
            }
            let chunk = handle.availableData
            if chunk.isEmpty { throw BenchError("the process closed its output") }
            buffer += chunk
        }
    }
}

/// `BrowserBench bulk [N]`: N leavers deactivated through the connector with 1, 2 and 4 tabs
/// (`settings.pages`), N requests kept in flight up to the tab count, as the host's per-app
/// concurrency does. Each run has its own sandbox and connector; the time includes launching
/// Chromium and signing in once.
func runBulkBench(count: Int, latencyMs: Int) async throws {
    for pages in [1, 2, 4] {
        let seconds = try bulkRound(count: count, pages: pages, latencyMs: latencyMs)
        print(String(format: "bulk: %d accounts/disable with %d tab%@, app latency %d ms: %.2f s (%.0f ms each)", count, pages,
                     pages == 1 ? "" : "s", latencyMs, seconds, seconds * 1000 / Double(count)))
    }
}

private func bulkRound(count: Int, pages: Int, latencyMs: Int) throws -> Double {
    let (sandbox, baseURL, token) = try startSandbox(["--legacy", "--users", String(count + 5), "--latency-ms", String(latencyMs)])
    defer { sandbox.terminate() }
    let (connector, input, replies) = try startConnector()
    func send(_ id: Int, _ method: String, _ params: JSONValue) {
        let request: JSONValue = ["jsonrpc": "2.0", "id": .int(id), "method": .string(method), "params": params]
        input.fileHandleForWriting.write(Data((JSONWriter.string(request) + "\n").utf8))
    }
    func reply() throws -> JSONValue {
        while true {
            let message = try JSONParser.parse(try replies.next())
            if message["id"].isNull { continue }  // notifications
            if !message["error"].isNull { throw BenchError("request \(message["id"]) failed: \(message["error"])") }
            return message
        }
    }
    let recipe = legacyRecipe
    send(0, "initialize", [
        "protocolVersions": ["1.0"], "host": ["name": "BrowserBench", "version": "1"], "appId": "legacy",
        "settings": ["recipe": .string(recipe), "baseURL": .string(baseURL), "username": "admin", "pages": .int(pages)],
        "secrets": ["password": .string(token)],
    ])
    _ = try reply()
    let firstGenerated = 24
    let start = ContinuousClock.now
    var sent = 0, done = 0
    while done < count {
        while sent < count, sent - done < pages {
            sent += 1
            send(sent, "accounts/disable", ["idempotencyKey": .string("k\(sent)"), "id": .string(String(firstGenerated + sent))])
        }
        _ = try reply()
        done += 1
    }
    let elapsed = ContinuousClock.now - start
    send(count + 1, "shutdown", [:])
    _ = try? reply()
    try input.fileHandleForWriting.close()
    connector.waitUntilExit()
    return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
}
