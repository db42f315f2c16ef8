import Foundation
import StewardHost
import StewardProtocol

// ScimBench: lists 100,000 users from steward-sandbox through steward-connector-scim via the
// host, as `steward sync` does, and reports users per second.
//
//   swift build -c release --product steward-sandbox --product steward-connector-scim
//   swift run -c release ScimBench [--users N] [--page-size N] [--runs N] [--latency-ms N]

struct Options {
    var users = 100_000
    var pageSize = 1000
    var runs = 3
    /// Sandbox latency per response, to see what a SaaS round trip costs.
    var latencyMs = 0

    init(_ arguments: [String]) {
        var i = 0
        while i < arguments.count {
            let value = i + 1 < arguments.count ? Int(arguments[i + 1]) : nil
            switch (arguments[i], value) {
            case ("--users", let v?): users = v
            case ("--page-size", let v?): pageSize = v
            case ("--runs", let v?): runs = max(1, v)
            case ("--latency-ms", let v?): latencyMs = v
            default:
                FileHandle.standardError.write(Data("usage: ScimBench [--users N] [--page-size N] [--runs N] [--latency-ms N]\n".utf8))
                exit(2)
            }
            i += 2
        }
    }
}

/// The directory holding this binary, where the build also put the sandbox and the connector.
func productPath(_ name: String) -> String {
    let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
    let path = URL(fileURLWithPath: exe).deletingLastPathComponent().appendingPathComponent(name).path
    guard FileManager.default.isExecutableFile(atPath: path) else {
        FileHandle.standardError.write(Data("ScimBench: \(path) is missing; build it with: swift build -c release --product \(name)\n".utf8))
        exit(1)
    }
    return path
}

func log(_ text: String) { FileHandle.standardError.write(Data((text + "\n").utf8)) }

/// CPU seconds (user + system) a process has used so far, from /proc/<pid>/stat.
func cpuSeconds(_ pid: Int32?) -> Double {
    guard let pid, let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
          let close = text.lastIndex(of: ")") else { return 0 }
    let fields = text[text.index(after: close)...].split(separator: " ")
    // After the command: state is field 3, utime and stime are fields 14 and 15.
    guard fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) else { return 0 }
    return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
}

let options = Options(Array(CommandLine.arguments.dropFirst()))

// Start the sandbox with generated users and read its ready line.
let sandbox = Process()
sandbox.executableURL = URL(fileURLWithPath: productPath("steward-sandbox"))
sandbox.arguments = ["--scim", "--port", "0", "--exit-with-stdin", "--users", String(options.users),
                     "--latency-ms", String(options.latencyMs)]
let readyPipe = Pipe()
let stdinPipe = Pipe()
sandbox.standardOutput = readyPipe
sandbox.standardInput = stdinPipe
let seeding = Date()
do {
    try sandbox.run()
} catch {
    log("ScimBench: cannot start the sandbox: \(error)")
    exit(1)
}
var readyLine: [UInt8] = []
while let byte = readyPipe.fileHandleForReading.readData(ofLength: 1).first, byte != 0x0A { readyLine.append(byte) }
guard let ready = try? JSONParser.parse(readyLine), let scimURL = ready["apps"]["scim"].stringValue,
      let token = ready["token"].stringValue else {
    log("ScimBench: the sandbox printed no ready line: \(String(decoding: readyLine, as: UTF8.self))")
    sandbox.terminate()
    exit(1)
}
log("sandbox ready with \(options.users) users in \(String(format: "%.1f", Date().timeIntervalSince(seeding))) s at \(scimURL)")

var connectionOptions = ConnectorConnection.Options()
connectionOptions.requestTimeout = 300
let connector = SupervisedConnector(ConnectorLaunch(
    appId: "bench", command: [productPath("steward-connector-scim")], settings: ["baseURL": .string(scimURL)],
    secrets: ["token": token], options: connectionOptions))

var best = 0.0
var failed = false
do {
    try await connector.start()
    let connectorPid = await connector.lastPid
    for run in 1...options.runs {
        let connectorCPU = cpuSeconds(connectorPid)
        let sandboxCPU = cpuSeconds(sandbox.processIdentifier)
        let started = DispatchTime.now().uptimeNanoseconds
        var count = 0
        var pages = 0
        try await connector.list(Method.accountsList, params: ListParams(pageSize: options.pageSize), of: Account.self) { page in
            count += page.count
            pages += 1
        }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
        let rate = Double(count) / seconds
        best = max(best, rate)
        print(String(format: "run %d: %d users in %d pages of %d, %.2f s, %.0f users/s (CPU: connector %.2f s, sandbox %.2f s)",
                     run, count, pages, options.pageSize, seconds, rate,
                     cpuSeconds(connectorPid) - connectorCPU, cpuSeconds(sandbox.processIdentifier) - sandboxCPU))
        if count != options.users {
            log("ScimBench: listed \(count) users, expected \(options.users)")
            failed = true
        }
    }
    print(String(format: "best: %.0f users/s (list %d users through steward-connector-scim via the host)", best, options.users))
} catch {
    log("ScimBench: \(error)")
    failed = true
}
await connector.stop()
sandbox.terminate()
sandbox.waitUntilExit()
exit(failed ? 1 : 0)
