import Foundation
import StewardJSON
#if canImport(Glibc)
import Glibc
#endif

// SandboxBench: requests per second the SCIM sandbox serves under keep-alive load.
//
//   swift run -c release SandboxBench [--duration S] [--connections N] [--threads N] [--users N]
//
// Starts the release `steward-sandbox` built beside this executable with N generated users,
// then drives it with `wrk` (Debian package `wrk`) for each scenario and prints requests/s.

struct BenchError: Error, CustomStringConvertible {
    var description: String
}

func option(_ name: String, default value: Int) -> Int {
    let arguments = CommandLine.arguments
    guard let index = arguments.firstIndex(of: name), index + 1 < arguments.count, let number = Int(arguments[index + 1]) else {
        return value
    }
    return number
}

let duration = option("--duration", default: 10)
let connections = option("--connections", default: 64)
let threads = option("--threads", default: 2)
let userCount = option("--users", default: 100_000)

/// Finds an executable on PATH.
func which(_ name: String) -> String? {
    for directory in (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":") {
        let path = "\(directory)/\(name)"
        if FileManager.default.isExecutableFile(atPath: path) { return path }
    }
    return nil
}

/// One `GET` over a fresh connection, returning the body. Enough to look up an id.
func httpGet(port: Int, path: String, token: String) throws -> [UInt8] {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = in_port_t(UInt16(port)).bigEndian
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    let connected = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    guard connected == 0 else { throw BenchError(description: "cannot connect to port \(port)") }
    let request = Array("GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer \(token)\r\nConnection: close\r\n\r\n".utf8)
    _ = request.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, 0) }
    var response: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 65536)
    while true {
        let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        if n <= 0 { break }
        response.append(contentsOf: chunk[0..<n])
    }
    guard let split = response.firstRange(of: Array("\r\n\r\n".utf8)) else { throw BenchError(description: "no HTTP response") }
    return Array(response[split.upperBound...])
}

/// CPU seconds (user + system) a process has used so far, from /proc; nil elsewhere.
func cpuSeconds(_ pid: Int32) -> Double? {
    guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
          let close = stat.lastIndex(of: ")")
    else { return nil }
    let fields = stat[stat.index(after: close)...].split(separator: " ")
    guard fields.count > 13, let user = Double(fields[11]), let system = Double(fields[12]) else { return nil }
    return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
}

/// Runs wrk and returns its "Requests/sec" figure, request count and latency percentiles.
func runWrk(_ wrk: String, url: String, token: String) throws -> (requestsPerSecond: Double, requests: Double, summary: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: wrk)
    process.arguments = ["-t\(threads)", "-c\(connections)", "-d\(duration)s", "--latency",
                         "-H", "Authorization: Bearer \(token)", url]
    let output = Pipe()
    process.standardOutput = output
    try process.run()
    let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    process.waitUntilExit()
    guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix("Requests/sec:") }),
          let value = Double(line.split(separator: " ").last ?? "")
    else { throw BenchError(description: "could not read wrk's output:\n\(text)") }
    if text.contains("Non-2xx") { throw BenchError(description: "wrk saw error responses:\n\(text)") }
    let percentiles = text.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
        .filter { $0.hasPrefix("50%") || $0.hasPrefix("99%") }.joined(separator: ", ")
    let requests = text.split(separator: "\n").first { $0.contains("requests in") }
        .flatMap { Double($0.trimmingCharacters(in: .whitespaces).split(separator: " ").first ?? "") } ?? 0
    return (value, requests, percentiles)
}

do {
    guard let wrk = which("wrk") else { throw BenchError(description: "wrk is not installed (apt-get install wrk)") }
    let sandboxPath = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        .deletingLastPathComponent().appendingPathComponent("steward-sandbox").path
    guard FileManager.default.isExecutableFile(atPath: sandboxPath) else {
        throw BenchError(description: "\(sandboxPath) is missing; build it with swift build -c release --product steward-sandbox")
    }

    let sandbox = Process()
    sandbox.executableURL = URL(fileURLWithPath: sandboxPath)
    sandbox.arguments = ["--scim", "--users", String(userCount), "--token", "bench-token", "--exit-with-stdin"]
    let stdout = Pipe(), stdin = Pipe()
    sandbox.standardOutput = stdout
    sandbox.standardInput = stdin
    let started = Date()
    try sandbox.run()
    defer {
        sandbox.terminate()
        sandbox.waitUntilExit()
    }
    var line: [UInt8] = []
    var byte: UInt8 = 0
    while read(stdout.fileHandleForReading.fileDescriptor, &byte, 1) == 1, byte != 0x0A { line.append(byte) }
    let ready = try JSONParser.parse(line)
    guard let base = ready["apps"]["scim"].stringValue, let port = URL(string: base)?.port else {
        throw BenchError(description: "unexpected ready line \(String(decoding: line, as: UTF8.self))")
    }
    let startup = Date().timeIntervalSince(started)
    let prefix = URL(string: base)?.path ?? "/scim/v2"
    let target = "user\(String(format: "%06d", max(1, userCount / 2)))@example.com"
    let filter = "userName%20eq%20%22\(target)%22"
    let found = try JSONParser.parse(try httpGet(port: port, path: "\(prefix)/Users?filter=\(filter)", token: "bench-token"))
    guard let id = found["Resources"].arrayValue?.first?["id"].stringValue else {
        throw BenchError(description: "the sandbox did not find \(target)")
    }

    print("SandboxBench: steward-sandbox with \(userCount) users (ready in \(String(format: "%.2f", startup)) s); "
          + "wrk -t\(threads) -c\(connections) -d\(duration)s, keep-alive")
    let scenarios = [
        ("GET /Users/{id}", "\(base)/Users/\(id)"),
        ("GET /Users?filter=userName eq", "\(base)/Users?filter=\(filter)"),
        ("GET /Users?startIndex=50001&count=100", "\(base)/Users?startIndex=50001&count=100"),
    ]
    // Requests/s depends on what else the machine is doing; the sandbox's CPU time per
    // request does much less, so both are printed.
    for (name, url) in scenarios {
        let before = cpuSeconds(sandbox.processIdentifier)
        let result = try runWrk(wrk, url: url, token: "bench-token")
        var cpu = ""
        if let before, let after = cpuSeconds(sandbox.processIdentifier), result.requests > 0 {
            cpu = String(format: ", %.1f µs CPU/request", (after - before) / result.requests * 1e6)
        }
        print("  \(name.padding(toLength: 40, withPad: " ", startingAt: 0)) \(String(format: "%8.0f", result.requestsPerSecond)) requests/s  (\(result.summary)\(cpu))")
    }
} catch {
    FileHandle.standardError.write(Data("SandboxBench: \(error)\n".utf8))
    exit(1)
}
