import Foundation
import StewardHost
import StewardProtocol
import StewardTestSupport
import Testing

/// `steward connector check` against the test connector: it passes the well-behaved one (read
/// only and with writes), and each deliberate flaw fails exactly the check that looks for it,
/// with one line naming what was sent and what came back.
@Suite("Conformance checker")
struct ConformanceCheckTests {
    static func run(_ arguments: [String] = [], writes: Bool = false, timeout: Double = 3) async throws -> [ConformanceCheck.Result] {
        let check = ConformanceCheck(command: [try Products.executable("steward-test-connector")] + arguments, timeout: timeout, writes: writes)
        let results = Collected<ConformanceCheck.Result>()
        _ = await check.run { results.add($0) }
        return results.all
    }

    @Test func theWellBehavedConnectorPassesReadOnlyAndWritesNothing() async throws {
        let results = try await Self.run()
        #expect(results.filter(\.failed).isEmpty, "\(results.filter(\.failed).map(\.line))")
        for name in ["accounts/list pageSize", "accounts/list same cursor", "entitlements/list pageSize", "accounts/get",
                     "accounts/get by userName", "accounts/get by email", "unknown id answers notFound", "cancel", "shutdown"] {
            #expect(results.first { $0.name == name }?.passed == true, "\(name): \(results.map(\.line))")
        }
        #expect(results.first { $0.name == "writes" }?.status == .skipped)
        #expect(!results.contains { $0.name == Method.accountsCreate })
    }

    @Test func theWellBehavedConnectorPassesWithWrites() async throws {
        let results = try await Self.run(writes: true)
        #expect(results.filter(\.failed).isEmpty, "\(results.filter(\.failed).map(\.line))")
        let writes = ["accounts/create", "accounts/create visible", "grants/add group", "grants/add group visible", "grants/add group again",
                      "grants/remove group", "grants/remove group visible", "grants/remove group not held", "grants/add role replaces",
                      "accounts/disable", "accounts/disable visible", "accounts/disable again", "accounts/enable", "accounts/enable visible",
                      "accounts/delete", "accounts/delete visible"]
        #expect(results.filter { writes.contains($0.name) }.map(\.name) == writes)
        #expect(results.filter { writes.contains($0.name) }.allSatisfy { $0.passed }, "\(results.map(\.line))")
        #expect(results.first { $0.name == "accounts/create" }?.detail.hasPrefix("created steward-check-") == true)
    }

    /// A flaw of the test connector, the check it must fail and the words of that failure.
    struct Flaw: Sendable, CustomStringConvertible {
        var arguments: [String]
        var writes = false
        var check: String
        var detail: [String]
        /// Checks the flaw fails as well, by its nature.
        var alsoFailing: [String] = []

        var description: String { arguments.joined(separator: " ") }
    }

    static let flaws: [Flaw] = [
        Flaw(arguments: ["ignores-page-size"], check: "accounts/list pageSize", detail: [#"sent accounts/list {"pageSize":1}; got 5 items"#]),
        Flaw(arguments: ["unstable-cursor"], check: "accounts/list same cursor",
             detail: [#"sent accounts/list {"cursor":"1","pageSize":1} twice; got [u1] with a next page, then [u2] with a next page"#]),
        Flaw(arguments: ["no-get-by-username"], check: "accounts/get by userName",
             detail: [#"sent accounts/get {"userName":"user0@example.com"}; got an invalidArgument error: params.userName: this connector cannot look accounts up by userName"#]),
        Flaw(arguments: ["unknown-id-succeeds"], check: "unknown id answers notFound",
             detail: [#"sent accounts/disable {"id":"steward-check-absent-"#, #"}; got {"alreadyApplied":false}; expected a notFound error"#]),
        Flaw(arguments: ["ignores-cancel"], check: "cancel",
             detail: ["sent accounts/list {\"pageSize\":100} with id \"steward-check-cancel-", "then cancel for it; got no answer within 3 s; a cancelled request must still be answered"]),
        Flaw(arguments: ["wrong-id"], check: "accounts/list",
             detail: [#"sent accounts/list {"pageSize":100}; got no answer within 3 s, nor 2 s after cancel, so the checker killed it as hung; meanwhile it sent a reply to id "#,
                      #", which no request has: {"jsonrpc":"2.0","id":"#],
             alsoFailing: ["cancel"]),
        Flaw(arguments: ["crash-after", "2"], check: "accounts/list pageSize",
             detail: [#"sent accounts/list {"pageSize":1}; got no answer: the connector exited with status 3"#]),
        Flaw(arguments: ["exits-on-disable"], writes: true, check: "accounts/disable",
             detail: [#"sent accounts/disable {"id":"c0","idempotencyKey":"steward-check-"#, "got no answer: the connector exited with status 3"]),
        Flaw(arguments: ["disable-not-idempotent"], writes: true, check: "accounts/disable again",
             detail: [#"}; got {"alreadyApplied":false}; expected alreadyApplied true: disabling a disabled account changes nothing"#]),
        Flaw(arguments: ["disable-invisible"], writes: true, check: "accounts/disable visible",
             detail: [#"sent accounts/get {"id":"c0"}; got {"account":{"#, #""status":"active""#, "expected status disabled"],
             alsoFailing: ["accounts/disable again"]),
        Flaw(arguments: ["held-grant-not-already"], writes: true, check: "grants/add group again",
             detail: [#"sent grants/add {"accountId":"c0","entitlementId":"g1""#, #"got {"alreadyApplied":false}; expected alreadyApplied true: adding a value the account holds changes nothing"#]),
        Flaw(arguments: ["remove-not-held-fails"], writes: true, check: "grants/remove group not held",
             detail: [#"sent grants/remove {"accountId":"c0","entitlementId":"g1""#, "got a notFound error: c0 does not hold g1"]),
        Flaw(arguments: ["single-adds"], writes: true, check: "grants/add role replaces",
             detail: ["sent grants/add role r-viewer, then r-admin; grants/list then showed role [r-admin, r-viewer], expected only r-admin"]),
    ]

    @Test(arguments: flaws)
    func eachFlawFailsItsCheckInOneLine(_ flaw: Flaw) async throws {
        let results = try await Self.run(flaw.arguments, writes: flaw.writes)
        let failed = results.filter(\.failed)
        #expect(Set(failed.map(\.name)) == Set([flaw.check] + flaw.alsoFailing), "\(failed.map(\.line))")
        let line = try #require(failed.first { $0.name == flaw.check }).detail
        for fragment in flaw.detail {
            #expect(line.contains(fragment), "\(line) should contain \(fragment)")
        }
        for result in results {
            #expect(!result.detail.contains("\n"), "\(result.line)")
            for dump in ["Optional(", "crashed(", "protocolViolation(", "timedOut(", "unavailable(", "rpc(", "RPCError(", "ConnectorError("] {
                #expect(!result.detail.contains(dump), "\(result.line)")
            }
        }
    }

    @Test func aConnectorThatDiesIsReportedOnceAndTheRestAsNotRun() async throws {
        let results = try await Self.run(["exits-on-disable"], writes: true)
        #expect(results.filter { $0.detail.contains("exited with status 3") }.map(\.name) == ["accounts/disable"])
        let notRun = try #require(results.first { $0.status == .notRun })
        #expect(notRun.detail.hasPrefix("accounts/disable visible, accounts/disable again, accounts/enable"))
        #expect(notRun.detail.contains("shutdown: the connector had exited during accounts/disable; the throwaway account steward-check-"))
        #expect(notRun.detail.hasSuffix("(id c0) is left in the app"))
        #expect(!results.contains { $0.name == "shutdown" })
        // Checks on connectors of their own still run.
        #expect(results.first { $0.name == "refuses protocol 99.0" }?.passed == true)
    }

    @Test func theCommandPrintsOneLinePerCheckAndExits1OnAFailure() throws {
        let steward = try Products.executable("steward")
        let connector = try Products.executable("steward-test-connector")
        let bad = try ProgramRun(steward, ["connector", "check", "--timeout", "3", "--", connector, "unstable-cursor"])
        #expect(bad.code == 1)
        #expect(bad.out.contains(#"FAIL accounts/list same cursor: sent accounts/list {"cursor":"1","pageSize":1} twice; got [u1] with a next page, then [u2] with a next page"#), "\(bad.out)")
        #expect(bad.out.contains("skip writes: not asked for"))
        #expect(bad.out.split(separator: "\n").allSatisfy { ["ok  ", "FAIL", "skip", "----"].contains(String($0.prefix(4))) }, "\(bad.out)")
        let good = try ProgramRun(steward, ["connector", "check", "--writes", "--json", "--", connector])
        #expect(good.code == 0, "\(good.out)")
        let lines = try good.out.split(separator: "\n").map { try JSONParser.parse(String($0)) }
        #expect(lines.contains { $0["name"] == "accounts/delete" && $0["status"] == "passed" && $0["passed"] == true })
    }
}

extension ConformanceCheck.Result {
    var line: String { "\(status.rawValue) \(name): \(detail)" }
}
