import Foundation
import StewardJSON
import Testing

/// `steward rest try`, run as a process against the sandbox.
@Suite("steward rest try", .enabled(if: RestTry.isAvailable, "the steward binary has no rest command yet"))
struct RestTryCommandTests {
    @Test func printsEveryExchangeRedactedAndTheResult() async throws {
        let sandbox = try GitHubSandbox()
        defer { sandbox.stop() }
        let dir = try TempDir()
        defer { dir.cleanup() }
        let settings = try dir.write("github.json5", "{ baseURL: \"\(sandbox.baseURL)\", org: \"acme\" }").path
        let run = try RestTry.run([Products.appDefinition("github"), "--op", "accounts/list", "--settings", settings,
                                   "--secret", "token=\(sandbox.token)", "--arg", "pageSize=1"])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout.contains("→ GET \(sandbox.baseURL)/orgs/acme/members?role=all&per_page=1"))
        #expect(run.stdout.contains("Authorization: *** (bearer token)"))
        #expect(run.stdout.contains("← 200 GET"))
        #expect(run.stdout.contains("\"id\": \"sandbox-admin\""))
        #expect(!(run.stdout + run.stderr).contains(sandbox.token))

        let json = try RestTry.run([Products.appDefinition("github"), "--op", "grants/add", "--settings", settings,
                                    "--secret", "token=\(sandbox.token)", "--arg", "accountId=octo-cat", "--arg", "type=team",
                                    "--arg", "entitlementId=platform", "--json"])
        #expect(json.status == 0, "\(json.stderr)")
        let answer = try JSONParser.parse(json.stdout)
        #expect(answer["result"]["alreadyApplied"] == false)
        #expect(answer["exchanges"].arrayValue?.count == 2)
        #expect(try await sandbox.state().pendingTeams(of: "octo-cat") == ["platform"])
    }

    @Test func aBrokenDefinitionIsReportedWithFileLinePathAndReason() throws {
        let dir = try TempDir()
        defer { dir.cleanup() }
        var definition = try JSONParser.parse(try Data(contentsOf: URL(fileURLWithPath: Products.appDefinition("github"))))
        definition.set(["operations", "accounts/get", "fields", "mail"], "/email")
        let path = try dir.write("github.json", JSONWriter.pretty(definition)).path
        let run = try RestTry.run([path, "--op", "accounts/list", "--secret", "token=abcd1234"])
        #expect(run.status == 2)
        #expect(run.stderr.range(of: #"github\.json:\d+: operations\.accounts/get\.fields\.mail: unknown account field"#,
                                 options: .regularExpression) != nil, "\(run.stderr)")
    }
}

enum RestTry {
    /// The `steward` built with the tests, or `$STEWARD_BINARY`.
    static var steward: String {
        ProcessInfo.processInfo.environment["STEWARD_BINARY"] ?? Products.directory.appendingPathComponent("steward").path
    }

    /// Whether the built `steward` lists the `rest` command.
    static var isAvailable: Bool {
        guard FileManager.default.isExecutableFile(atPath: steward), let help = try? run(["--help"], command: []) else { return false }
        return help.stdout.contains("\n  rest ")
    }

    static func run(_ arguments: [String], command: [String] = ["rest", "try"]) throws -> (status: Int32, stdout: String, stderr: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: steward)
        process.arguments = command + arguments
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: stdout, as: UTF8.self), String(decoding: stderr, as: UTF8.self))
    }
}
