import Foundation
import StewardHost
import StewardJSON
import StewardProtocol
import StewardTestSupport

extension Products {
    /// A shipped REST app definition by name (`github`).
    static func appDefinition(_ name: String) -> String {
        repoRoot.appendingPathComponent("plugins/rest/apps/\(name).json").path
    }

    /// This target's recorded fixtures.
    static var fixtures: URL { URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures") }
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

/// The sandbox's GitHub-shaped app (`steward-sandbox --github`), as the REST tests use it.
struct GitHubSandbox: Sendable {
    let sandbox: TestSandbox
    let baseURL: String

    init(_ arguments: [String] = []) throws {
        sandbox = try TestSandbox(["--github"] + arguments)
        baseURL = try sandbox.url(of: "github")
    }

    var token: String { sandbox.token }

    func stop() { sandbox.stop() }

    /// The connector settings for this sandbox's organization.
    var settings: [String: JSONValue] { ["baseURL": .string(baseURL), "org": "acme"] }
    var secrets: [String: String] { ["token": token] }

    /// Calls the sandbox directly (not through the connector) and returns the JSON answer.
    @discardableResult
    func call(_ method: String, _ path: String, _ body: JSONValue? = nil) async throws -> JSONValue {
        let (_, data) = try await sandbox.send(method, baseURL + path, body: body, contentType: nil)
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

/// Writes a definition file in `dir` and returns its path.
func writeDefinition(_ dir: TemporaryDirectory, _ text: String, name: String = "app.json") throws -> String {
    try dir.write(name, text).path
}
