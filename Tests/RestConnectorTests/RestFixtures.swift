import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import StewardHost
import StewardHTTP
import StewardJSON
import StewardProtocol
import Testing

/// Paths of the built executables and of the repository.
enum Products {
    static var directory: URL {
        let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        return URL(fileURLWithPath: exe).deletingLastPathComponent()
    }

    static func executable(_ name: String) throws -> String {
        let path = directory.appendingPathComponent(name).path
        try #require(FileManager.default.isExecutableFile(atPath: path), "\(name) was not built next to the tests (\(path))")
        return path
    }

    /// The repository root (this file is Tests/RestConnectorTests/Support.swift).
    static var repoRoot: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }

    static func appDefinition(_ name: String) -> String {
        repoRoot.appendingPathComponent("plugins/rest/apps/\(name).json").path
    }

    static var fixtures: URL { URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures") }
}

/// A fresh temporary directory, removed by `cleanup()`.
struct TempDir {
    let url: URL

    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("steward-rest-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    @discardableResult
    func write(_ name: String, _ text: String) throws -> URL {
        let file = url.appendingPathComponent(name)
        try Data(text.utf8).write(to: file)
        return file
    }

    func cleanup() { try? FileManager.default.removeItem(at: url) }
}

/// The rest connector for one app, through the host's supervisor.
func restConnector(definition: String, settings: [String: JSONValue] = [:], secrets: [String: String] = [:],
                   baseDirectory: String? = nil, events: ConnectorEvents = ConnectorEvents(log: { _ in })) throws -> SupervisedConnector {
    var all = settings
    all["definition"] = .string(definition)
    return SupervisedConnector(ConnectorLaunch(
        appId: "app", command: [try Products.executable("steward-connector-rest")], settings: .object(all), secrets: secrets,
        baseDirectory: baseDirectory, restart: RestartPolicy(crashBudget: 1), events: events))
}

/// The connector error a call failed with.
func connectorError(_ body: () async throws -> Void) async -> ConnectorError? {
    do {
        try await body()
        return nil
    } catch let f as ConnectorFailure {
        return f.connectorError ?? ConnectorError(.internal, "\(f)")
    } catch {
        return ConnectorError(.internal, "\(error)")
    }
}

/// A `steward-sandbox` child with the GitHub app, read until its ready line, stopped by `stop()`.
final class GitHubSandbox: @unchecked Sendable {  // immutable after init; `process` is only stopped once
    let process: Process
    let baseURL: String
    let token: String
    private let input = Pipe()

    init(_ arguments: [String] = []) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try Products.executable("steward-sandbox"))
        process.arguments = ["--github", "--exit-with-stdin"] + arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardInput = input
        process.standardError = FileHandle.standardError
        try process.run()
        self.process = process
        let line = String(decoding: Self.readLine(output.fileHandleForReading), as: UTF8.self)
        let ready = try JSONParser.parse(line)
        guard let url = ready["apps"]["github"].stringValue, let token = ready["token"].stringValue else {
            process.terminate()
            throw SandboxError(description: "unexpected ready line: \(line)")
        }
        baseURL = url
        self.token = token
    }

    struct SandboxError: Error, CustomStringConvertible { var description: String }

    private static func readLine(_ handle: FileHandle) -> [UInt8] {
        var bytes: [UInt8] = []
        while true {
            let chunk = handle.readData(ofLength: 1)
            if chunk.isEmpty || chunk.first == 0x0A { return bytes }
            bytes.append(contentsOf: chunk)
        }
    }

    func stop() {
        guard process.isRunning else { return }
        process.terminate()
        process.waitUntilExit()
    }

    /// The connector settings for this sandbox's organization.
    var settings: [String: JSONValue] { ["baseURL": .string(baseURL), "org": "acme"] }
    var secrets: [String: String] { ["token": token] }

    /// Calls the sandbox directly (not through the connector) and returns the JSON answer.
    @discardableResult
    func call(_ method: String, _ path: String, _ body: JSONValue? = nil) async throws -> JSONValue {
        guard let url = URL(string: baseURL + path) else { throw SandboxError(description: "bad path \(path)") }
        var request = URLRequest(url: url)
        request.httpMethod = method
        request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization")
        if let body { request.httpBody = Data(JSONWriter.bytes(body)) }
        let (data, _) = try await URLSession.shared.data(for: request)
        return data.isEmpty ? .null : try JSONParser.parse(data)
    }

    /// The organization as the sandbox holds it.
    func state() async throws -> OrgState { OrgState(try await call("GET", "/_sandbox/state")) }
}

/// The sandbox's organization, read for assertions.
struct OrgState {
    let json: JSONValue

    init(_ json: JSONValue) { self.json = json }

    func role(of login: String) -> String? {
        json["members"].arrayValue?.first { $0["login"].stringValue == login }?["role"].stringValue
    }

    func isInvited(_ login: String) -> Bool {
        json["invitations"].arrayValue?.contains { $0["login"].stringValue == login } ?? false
    }

    func invitationRole(_ login: String) -> String? {
        json["invitations"].arrayValue?.first { $0["login"].stringValue == login }?["role"].stringValue
    }

    /// Active team memberships of `login`, by slug.
    func teams(of login: String) -> Set<String> { memberships(login, key: "members") }

    /// Pending team memberships of `login`, by slug.
    func pendingTeams(of login: String) -> Set<String> { memberships(login, key: "pending") }

    private func memberships(_ login: String, key: String) -> Set<String> {
        Set((json["teams"].arrayValue ?? []).filter { team in
            team[key].arrayValue?.contains { $0["login"].stringValue == login } ?? false
        }.compactMap { $0["slug"].stringValue })
    }
}

/// An HTTP server in the test process that records requests and answers with `respond`.
final class RecordingServer: @unchecked Sendable {  // `recorded` is guarded by `lock`
    private let lock = NSLock()
    private var recorded: [HTTPRequest] = []
    private var server: HTTPServer?

    init(respond: @escaping @Sendable (HTTPRequest) -> HTTPResponse) throws {
        var router = Router()
        router.add(nil, "/*", .sync { [weak self] request in
            self?.lock.withLock { self?.recorded.append(request) }
            return respond(request)
        })
        router.add(nil, "/", .sync { [weak self] request in
            self?.lock.withLock { self?.recorded.append(request) }
            return respond(request)
        })
        server = try HTTPServer.start(router)
    }

    var baseURL: String { server?.baseURL ?? "" }
    var requests: [HTTPRequest] { lock.withLock { recorded } }

    func stop() { server?.shutdown() }
}

/// Writes a definition file in `dir` and returns its path.
func writeDefinition(_ dir: TempDir, _ text: String, name: String = "app.json") throws -> String {
    try dir.write(name, text).path
}
