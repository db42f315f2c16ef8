import Foundation
#if canImport(Glibc)
import Glibc
#endif
import StewardHost
import StewardJSON
import StewardProtocol
import StewardTestSupport

extension Products {
    /// The shipped recipe for the sandbox's legacy app.
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

/// The sandbox's legacy admin app (`steward-sandbox --legacy`), as the browser tests use it.
struct LegacySandbox: Sendable {
    let sandbox: TestSandbox
    let baseURL: String

    init(_ arguments: [String] = []) throws {
        sandbox = try TestSandbox(["--legacy"] + arguments)
        baseURL = try sandbox.url(of: "legacy")
    }

    var token: String { sandbox.token }

    func stop() { sandbox.stop() }

    /// Connector settings for this sandbox with the shipped recipe (or `recipe`).
    func settings(recipe: String = Products.legacyRecipe, extra: [String: JSONValue] = [:]) -> JSONValue {
        var settings: [String: JSONValue] = ["recipe": .string(recipe), "baseURL": .string(baseURL), "username": "admin"]
        for (key, value) in extra { settings[key] = value }
        return .object(settings)
    }

    var secrets: [String: String] { ["password": token] }

    @discardableResult
    func call(_ method: String, _ path: String, _ body: JSONValue? = nil) async throws -> JSONValue {
        let (_, data) = try await sandbox.send(method, baseURL + path, body: body)
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

/// The browser connector for one app, through the host's supervisor.
func browserConnector(settings: JSONValue, secrets: [String: String], stateDirectory: String? = nil) throws -> SupervisedConnector {
    var options = ConnectorConnection.Options()
    options.requestTimeout = 60
    return SupervisedConnector(ConnectorLaunch(
        appId: "legacy", command: [try Products.executable("steward-connector-browser")], settings: settings, secrets: secrets,
        stateDirectory: stateDirectory, options: options, restart: RestartPolicy(crashBudget: 1),
        events: ConnectorEvents(log: { _ in })))
}

/// Browser tests share two cores: at most two Chromiums at a time.
enum BrowserSlots {
    static let shared = Slots(2)
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
