import Foundation
import StewardHost
import StewardProtocol
import Synchronization

/// A running `steward-sandbox`: the stand-in apps the demo and the end-to-end tests use.
///
/// It is started with `--exit-with-stdin`, so it goes away with whoever started it, even if that
/// process is killed.
public final class SandboxProcess: Sendable {
    public let child: ChildProcess
    /// App key (`scim`, `github`, `legacy`) → base URL, from the sandbox's ready line.
    public let apps: [String: String]
    /// The bearer token the apps accept.
    public let token: String
    private let stopped = Mutex(false)

    /// Starts the sandbox executable beside the running binary (or `executable`) with
    /// `arguments`, and waits for its ready line.
    public static func start(arguments: [String] = [], executable: String? = nil, timeout: Double = 30) throws -> SandboxProcess {
        guard let path = executable ?? resolveExecutable("steward-sandbox", relativeTo: nil) else {
            throw WorkspaceError(message: "steward-sandbox not found beside steward or on PATH (run `swift build`)")
        }
        let child = try ChildProcess.spawn([path, "--port", "0", "--exit-with-stdin"] + arguments,
                                           environment: ProcessInfo.processInfo.environment)
        let line = child.output.withDescriptor { readLine(fd: $0, timeout: timeout) } ?? nil
        guard let line, let ready = try? JSONParser.parse(line), let apps = ready["apps"].objectValue,
              let token = ready["token"].stringValue else {
            child.signalGroup(SIGKILL)
            _ = child.wait(timeout: 5)
            let err = child.errorOutput.withDescriptor(drain) ?? ""
            child.input.close()
            child.output.close()
            child.errorOutput.close()
            throw WorkspaceError(message: "steward-sandbox did not report ready\(line.map { ": got \"\($0.prefix(200))\"" } ?? " within \(Int(timeout)) s")\(err.isEmpty ? "" : "; it said: \(err.prefix(500))")")
        }
        // Keep draining its output so it never blocks on a full pipe.
        for owner in [child.output, child.errorOutput] {
            let t = Thread {
                var buffer = [UInt8](repeating: 0, count: 4096)
                _ = owner.withDescriptor { fd in while read(fd, &buffer, buffer.count) > 0 {} }
                owner.close()
            }
            t.start()
        }
        return SandboxProcess(child: child, apps: apps.compactMapValues(\.stringValue), token: token)
    }

    private init(child: ChildProcess, apps: [String: String], token: String) {
        self.child = child
        self.apps = apps
        self.token = token
    }

    /// Stops the sandbox: end of stdin, then SIGTERM, then SIGKILL. Idempotent.
    public func stop() {
        // The pid is reaped by the first stop; waiting on it again could reach a reused pid.
        guard stopped.withLock({ wasStopped in defer { wasStopped = true }; return !wasStopped }) else { return }
        child.input.close()
        if child.wait(timeout: 3) == nil {
            child.signalGroup(SIGTERM)
            if child.wait(timeout: 3) == nil {
                child.signalGroup(SIGKILL)
                _ = child.wait(timeout: 10)
            }
        }
    }
}

/// Reads one line from `fd` within `timeout` seconds.
private func readLine(fd: Int32, timeout: Double) -> String? {
    var bytes: [UInt8] = []
    let deadline = Date().addingTimeInterval(timeout)
    var byte: UInt8 = 0
    while Date() < deadline {
        var pfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        let ready = poll(&pfd, 1, 100)
        if ready <= 0 { continue }
        let n = read(fd, &byte, 1)
        if n <= 0 { return nil }
        if byte == 0x0A { return String(decoding: bytes, as: UTF8.self) }
        bytes.append(byte)
    }
    return nil
}

private func drain(fd: Int32) -> String {
    var out: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 4096)
    _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
    while true {
        let n = read(fd, &buffer, buffer.count)
        if n <= 0 { break }
        out += buffer[0..<n]
    }
    return String(decoding: out, as: UTF8.self)
}
