import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
#if canImport(Glibc)
import Glibc
#endif
import StewardHost
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

    /// The repository root (this file is Tests/BrowserConnectorTests/Support.swift).
    static var repoRoot: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }

    static var legacyRecipe: String { repoRoot.appendingPathComponent("plugins/browser/recipes/legacy.json").path }
}

/// Whether browser tests can run. In CI (`CI` or `STEWARD_REQUIRE_CHROMIUM` set) they always run,
/// so a missing Chromium fails them; on a developer machine without Chromium they are skipped
/// with a message saying so.
enum Chromium {
    static let paths = ["/usr/lib/chromium/chromium", "/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"]

    static var isInstalled: Bool {
        if let path = ProcessInfo.processInfo.environment["STEWARD_CHROMIUM"], !path.isEmpty { return access(path, X_OK) == 0 }
        return paths.contains { access($0, X_OK) == 0 }
    }

    static var testsEnabled: Bool {
        let environment = ProcessInfo.processInfo.environment
        if isInstalled || environment["CI"] != nil || environment["STEWARD_REQUIRE_CHROMIUM"] != nil { return true }
        FileHandle.standardError.write(Data("BrowserConnectorTests: skipped, Chromium is not installed (apt-get install chromium)\n".utf8))
        return false
    }
}

/// A fresh temporary directory, removed by `cleanup()`.
struct TempDir {
    let url: URL

    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("steward-browser-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    var path: String { url.path }

    @discardableResult
    func write(_ name: String, _ text: String) throws -> String {
        let file = url.appendingPathComponent(name)
        try Data(text.utf8).write(to: file)
        return file.path
    }

    func cleanup() { try? FileManager.default.removeItem(at: url) }
}

/// A `steward-sandbox --legacy` child, read until its ready line, stopped by `stop()`.
final class LegacySandbox: @unchecked Sendable {  // immutable after init; `process` is only stopped once
    let process: Process
    let baseURL: String
    let token: String
    private let input = Pipe()

    init(_ arguments: [String] = []) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try Products.executable("steward-sandbox"))
        process.arguments = ["--legacy", "--exit-with-stdin"] + arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardInput = input
        process.standardError = FileHandle.standardError
        try process.run()
        self.process = process
        var bytes: [UInt8] = []
        while true {
            let chunk = output.fileHandleForReading.readData(ofLength: 1)
            if chunk.isEmpty || chunk.first == 0x0A { break }
            bytes.append(contentsOf: chunk)
        }
        let line = String(decoding: bytes, as: UTF8.self)
        let ready = try JSONParser.parse(line)
        guard let url = ready["apps"]["legacy"].stringValue, let token = ready["token"].stringValue else {
            process.terminate()
            throw Failure("unexpected ready line: \(line)")
        }
        baseURL = url
        self.token = token
    }

    func stop() {
        guard process.isRunning else { return }
        process.terminate()
        process.waitUntilExit()
    }

    /// Connector settings for this sandbox with the shipped recipe (or `recipe`).
    func settings(recipe: String = Products.legacyRecipe, extra: [String: JSONValue] = [:]) -> JSONValue {
        var settings: [String: JSONValue] = ["recipe": .string(recipe), "baseURL": .string(baseURL), "username": "admin"]
        for (key, value) in extra { settings[key] = value }
        return .object(settings)
    }

    var secrets: [String: String] { ["password": token] }

    @discardableResult
    func call(_ method: String, _ path: String, _ body: JSONValue? = nil) async throws -> JSONValue {
        guard let url = URL(string: baseURL + path) else { throw Failure("bad path \(path)") }
        var request = URLRequest(url: url)
        request.httpMethod = method
        request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization")
        if let body {
            request.httpBody = Data(JSONWriter.bytes(body))
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        }
        let (data, _) = try await URLSession.shared.data(for: request)
        return data.isEmpty ? .null : try JSONParser.parse(data)
    }

    /// The app's users as the sandbox holds them, by user name.
    func users() async throws -> [String: JSONValue] {
        var users: [String: JSONValue] = [:]
        for user in try await call("GET", "/_state")["users"].arrayValue ?? [] {
            if let name = user["userName"].stringValue { users[name] = user }
        }
        return users
    }

    func user(_ userName: String) async throws -> JSONValue { try await users()[userName] ?? .null }
}

struct Failure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// The browser connector for one app, through the host's supervisor.
func browserConnector(settings: JSONValue, secrets: [String: String], stateDirectory: String? = nil) throws -> SupervisedConnector {
    var options = ConnectorConnection.Options()
    options.requestTimeout = 60
    return SupervisedConnector(ConnectorLaunch(
        appId: "legacy", command: [try Products.executable("steward-connector-browser")], settings: settings, secrets: secrets,
        stateDirectory: stateDirectory, options: options, restart: RestartPolicy(crashBudget: 1),
        events: ConnectorEvents(log: { _ in })))
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

/// Browser tests share two cores: at most two Chromiums at a time.
actor BrowserSlots {
    static let shared = BrowserSlots(2)
    private var free: Int
    private var waiting: [CheckedContinuation<Void, Never>] = []

    init(_ count: Int) { free = count }

    func acquire() async {
        if free > 0 {
            free -= 1
            return
        }
        await withCheckedContinuation { waiting.append($0) }
    }

    func release() {
        if waiting.isEmpty { free += 1 } else { waiting.removeFirst().resume() }
    }
}

/// Runs `body` with a legacy sandbox and a started connector, and always cleans both up.
func withLegacy(sandboxArguments: [String] = [], recipe: String = Products.legacyRecipe, settings extra: [String: JSONValue] = [:],
                secrets moreSecrets: [String: String] = [:], stateDirectory: String? = nil,
                _ body: (LegacySandbox, SupervisedConnector) async throws -> Void) async throws {
    await BrowserSlots.shared.acquire()
    let sandbox: LegacySandbox
    do {
        sandbox = try LegacySandbox(sandboxArguments)
    } catch {
        await BrowserSlots.shared.release()
        throw error
    }
    var secrets = sandbox.secrets
    for (key, value) in moreSecrets { secrets[key] = value }
    do {
        let connector = try browserConnector(settings: sandbox.settings(recipe: recipe, extra: extra), secrets: secrets,
                                             stateDirectory: stateDirectory)
        do {
            _ = try await connector.start()
            try await body(sandbox, connector)
        } catch {
            await connector.stop()
            throw error
        }
        await connector.stop()
    } catch {
        sandbox.stop()
        await BrowserSlots.shared.release()
        throw error
    }
    sandbox.stop()
    await BrowserSlots.shared.release()
}
