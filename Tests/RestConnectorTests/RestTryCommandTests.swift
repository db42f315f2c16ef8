import Foundation
import StewardJSON
import StewardTestSupport
import Testing

/// `steward rest try`, run as a process against the sandbox.
@Suite("steward rest try", .enabled(if: RestTry.isAvailable, "the steward binary has no rest command yet"))
struct RestTryCommandTests {
    @Test func printsEveryExchangeRedactedAndTheResult() async throws {
        let sandbox = try GitHubSandbox()
        defer { sandbox.stop() }
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let settings = try dir.write("github.json5", "{ baseURL: \"\(sandbox.baseURL)\", org: \"acme\" }").path
        let run = try RestTry.run([Products.appDefinition("github"), "--op", "accounts/list", "--settings", settings,
                                   "--secret", "token=\(sandbox.token)", "--arg", "pageSize=1"])
        #expect(run.code == 0, "\(run.err)")
        #expect(run.out.contains("→ GET \(sandbox.baseURL)/orgs/acme/members?role=all&per_page=1"))
        #expect(run.out.contains("Authorization: *** (bearer token)"))
        #expect(run.out.contains("← 200 GET"))
        #expect(run.out.contains("\"id\": \"sandbox-admin\""))
        #expect(!(run.out + run.err).contains(sandbox.token))

        let json = try RestTry.run([Products.appDefinition("github"), "--op", "grants/add", "--settings", settings,
                                    "--secret", "token=\(sandbox.token)", "--arg", "accountId=octo-cat", "--arg", "type=team",
                                    "--arg", "entitlementId=platform", "--json"])
        #expect(json.code == 0, "\(json.err)")
        let answer = try JSONParser.parse(json.out)
        #expect(answer["result"]["alreadyApplied"] == false)
        #expect(answer["exchanges"].arrayValue?.count == 2)
        #expect(try await sandbox.state().pendingTeams(of: "octo-cat") == ["platform"])
    }

    @Test func aBrokenDefinitionIsReportedWithFileLinePathAndReason() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        var definition = try JSONParser.parse(try Data(contentsOf: URL(fileURLWithPath: Products.appDefinition("github"))))
        definition.set(["operations", "accounts/get", "fields", "mail"], "/email")
        let path = try dir.write("github.json", JSONWriter.pretty(definition)).path
        let run = try RestTry.run([path, "--op", "accounts/list", "--secret", "token=abcd1234"])
        #expect(run.code == 2)
        #expect(run.err.range(of: #"github\.json:\d+: operations\.accounts/get\.fields\.mail: unknown account field"#,
                                 options: .regularExpression) != nil, "\(run.err)")
    }
}

enum RestTry {
    /// The `steward` built with the tests, or `$STEWARD_BINARY`.
    static var steward: String {
        ProcessInfo.processInfo.environment["STEWARD_BINARY"] ?? Products.path("steward")
    }

    /// Whether the built `steward` lists the `rest` command.
    static var isAvailable: Bool {
        guard FileManager.default.isExecutableFile(atPath: steward), let help = try? run(["--help"], command: []) else { return false }
        return help.out.contains("\n  rest ")
    }

    static func run(_ arguments: [String], command: [String] = ["rest", "try"]) throws -> ProgramRun {
        try ProgramRun(steward, command + arguments)
    }
}
