import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
#if canImport(Glibc)
import Glibc
#endif
import StewardDemo
import StewardJSON
import Testing

/// A `steward-sandbox` for one test: the build's sandbox executable started through
/// `SandboxProcess` (on a free port, going away with the test process), and stopped exactly once.
public final class TestSandbox: Sendable {
    public let process: SandboxProcess
    private let stopped = Locked(false)

    /// Starts `steward-sandbox ARGUMENTS` (add `--scim`, `--github` or `--legacy` to choose apps)
    /// and waits for its ready line.
    public init(_ arguments: [String] = []) throws {
        process = try SandboxProcess.start(arguments: arguments, executable: try Products.executable("steward-sandbox"), timeout: 60)
    }

    deinit { stop() }

    /// Runs `steward-sandbox ARGUMENTS` to its end (for `--help`, bad flags, bad state files).
    public static func run(_ arguments: [String]) throws -> ProgramRun {
        try ProgramRun(try Products.executable("steward-sandbox"), arguments)
    }

    /// The bearer token every app accepts.
    public var token: String { process.token }

    /// App key (`scim`, `github`, `legacy`) → base URL.
    public var apps: [String: String] { process.apps }

    /// The base URL of `app`; throws, naming the apps there are, when the sandbox does not run it.
    public func url(of app: String) throws -> String {
        guard let url = apps[app] else {
            throw TestFailure("the sandbox runs no \(app) app (it runs \(apps.keys.sorted().joined(separator: ", ")))")
        }
        return url
    }

    /// The port every app is served on.
    public var port: Int { apps.values.lazy.compactMap { URL(string: $0)?.port }.first ?? 0 }

    /// Stops the sandbox (end of its stdin, then signals) and waits for it. Later calls do nothing.
    public func stop() {
        guard claimStop() else { return }
        process.stop()
    }

    /// Stops the sandbox with SIGTERM, as a service manager would, and waits for it to exit; a
    /// sandbox still running ten seconds later is recorded as an issue and killed.
    public func terminate(sourceLocation: SourceLocation = #_sourceLocation) {
        guard claimStop() else { return }
        process.child.signalGroup(SIGTERM)
        if !Self.exited(process.child.pid, within: 10) {
            Issue.record("steward-sandbox ignored SIGTERM", sourceLocation: sourceLocation)
        }
        process.stop()
    }

    /// Sends `method url` with the sandbox's bearer token, and `body` as JSON of `contentType`
    /// (no `Content-Type` when nil). Returns the status and the body as it came.
    public func send(_ method: String, _ url: String, body: JSONValue? = nil, contentType: String? = "application/json"
    ) async throws -> (status: Int, body: Data) {
        guard let address = URL(string: url) else { throw TestFailure("bad URL \(url)") }
        var request = URLRequest(url: address)
        request.httpMethod = method
        request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization")
        if let body {
            request.httpBody = Data(JSONWriter.bytes(body))
            if let contentType { request.setValue(contentType, forHTTPHeaderField: "Content-Type") }
        }
        let (data, response) = try await URLSession.shared.data(for: request)
        return ((response as? HTTPURLResponse)?.statusCode ?? 0, data)
    }

    /// True for the first caller only.
    private func claimStop() -> Bool {
        stopped.withLock { already in
            defer { already = true }
            return !already
        }
    }

    /// Whether our child `pid` has exited within `seconds`. It is left unreaped (a zombie), so
    /// its pid cannot be reused before `SandboxProcess.stop()` reaps it.
    private static func exited(_ pid: pid_t, within seconds: Double) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        repeat {
            guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
                  let nameEnd = stat.lastIndex(of: ")") else { return true }
            // After the name: a space, then the state.
            if stat[stat.index(after: nameEnd)...].dropFirst().first == "Z" { return true }
            usleep(10_000)
        } while Date() < deadline
        return false
    }
}
