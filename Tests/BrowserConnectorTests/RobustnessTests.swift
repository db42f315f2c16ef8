import Foundation
#if canImport(Glibc)
import Glibc
#endif
import StewardHost
import StewardJSON
import StewardProtocol
import StewardTestSupport
import Testing

/// Sign-in with a second factor, UI changes, steps that cannot succeed, and a killed connector.
@Suite(.enabled(if: Chromium.testsEnabled, "Chromium is not installed and CI is unset"))
struct RobustnessTests {
    static let totpSecret = "JBSWY3DPEHPK3PXP"

    @Test func conformanceCheckPasses() async throws {
        await BrowserSlots.shared.acquire()
        let sandbox = try LegacySandbox()
        defer { sandbox.stop() }
        let check = ConformanceCheck(command: [try Products.executable("steward-connector-browser")],
                                     settings: sandbox.settings(), secrets: sandbox.secrets, timeout: 60)
        let failures = Collected<String>()
        let passed = await check.run { result in if result.failed { failures.add("\(result.name): \(result.detail)") } }
        await BrowserSlots.shared.release()
        #expect(passed, "\(failures.all)")
    }

    /// On the alt layout every check passes through the fallbacks, and the check says which
    /// steps only passed that way.
    @Test func conformanceCheckWarnsOfStepsOnlyFallbacksSaved() async throws {
        await BrowserSlots.shared.acquire()
        let sandbox = try LegacySandbox(["--legacy-layout", "alt"])
        defer { sandbox.stop() }
        let check = ConformanceCheck(command: [try Products.executable("steward-connector-browser")],
                                     settings: sandbox.settings(), secrets: sandbox.secrets, timeout: 60)
        let warnings = Collected<String>()
        let passed = await check.run { result in if result.status == .warning { warnings.add(result.detail) } }
        await BrowserSlots.shared.release()
        #expect(passed)
        #expect(warnings.all.contains { $0.hasPrefix("login.steps[2] passed only through fallback 2") }, "\(warnings.all)")
    }

    @Test func signsInWithAOneTimeCode() async throws {
        try await withLegacy(sandboxArguments: ["--legacy-totp-secret", Self.totpSecret], settings: ["totp": true],
                             secrets: ["totpSecret": Self.totpSecret]) { sandbox, connector in
            let accounts = try await connector.listAll(Method.accountsList, of: Account.self)
            #expect(accounts.count == (try await sandbox.users()).count)
        }
    }

    @Test func aWrongOneTimeCodeIsUnauthenticated() async throws {
        try await withLegacy(sandboxArguments: ["--legacy-totp-secret", Self.totpSecret],
                             secrets: ["totpSecret": "GEZDGNBVGY3TQOJQ"]) { _, connector in
            let error = await connectorError { _ = try await connector.listAll(Method.accountsList, of: Account.self) }
            #expect(error?.kind == .unauthenticated)
            #expect(error?.message.contains("one-time code") == true)
            #expect(error?.message.contains("GEZDGNBVGY3TQOJQ") == false, "secrets never appear in errors")
        }
    }

    @Test func fallbackSelectorsSurviveTheAltLayout() async throws {
        try await withLegacy(sandboxArguments: ["--legacy-layout", "alt"]) { sandbox, connector in
            let accounts = try await connector.listAll(Method.accountsList, of: Account.self)
            #expect(accounts.count == (try await sandbox.users()).count, "the table and pager have other ids in the alt layout")
            let leaver = try #require(accounts.first { $0.status == .active })
            _ = try await connector.call(Method.accountsDisable, params: AccountRefParams(idempotencyKey: "k1", id: leaver.id).json)
            #expect(try await sandbox.user(leaver.userName)["status"].stringValue == "disabled")
            _ = try await connector.call(Method.grantsAdd, params: GrantChangeParams(idempotencyKey: "k2", accountId: leaver.id, type: "role", entitlementId: "admin").json)
            #expect(try await sandbox.user(leaver.userName)["role"].stringValue == "admin")

            // Switching at run time works too: back to the classic layout.
            try await sandbox.call("POST", "/_sandbox/layout", ["layout": "classic"])
            _ = try await connector.call(Method.accountsEnable, params: AccountRefParams(idempotencyKey: "k3", id: leaver.id).json)
            #expect(try await sandbox.user(leaver.userName)["status"].stringValue == "active")
        }
    }

    @Test func aStepThatCannotSucceedFailsWithEvidence() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        var recipe = try JSONParser.parse(Array(try Data(contentsOf: URL(fileURLWithPath: Products.legacyRecipe))))
        let broken: JSONValue = [
            "steps": [
                ["action": "goto", "url": "/users/{{args.id}}"],
                ["action": "click", "selector": ["#deactivate-account", "text=Deactivate account"], "timeoutMs": 1500],
            ],
        ]
        if case .object(var root) = recipe, case .object(var accounts)? = root["accounts"] {
            accounts["disable"] = broken
            root["accounts"] = .object(accounts)
            recipe = .object(root)
        }
        let path = try dir.write("broken.json", JSONWriter.string(recipe)).path
        let state = dir.url.appendingPathComponent("state").path
        try await withLegacy(recipe: path, stateDirectory: state) { sandbox, connector in
            let error = await connectorError {
                _ = try await connector.call(Method.accountsDisable, params: AccountRefParams(idempotencyKey: "k1", id: "1").json)
            }
            let failure = try #require(error)
            // Absent from a page that had loaded, even after a reload: the recipe no longer fits
            // the page. Not a timeout to retry five times, and it says what the page has instead.
            #expect(failure.kind == .preconditionFailed && failure.retryable == false, "\(failure)")
            #expect(failure.message.contains("accounts.disable.steps[1]"))
            #expect(failure.message.contains("#deactivate-account: not found") && failure.message.contains("after a reload"), "\(failure.message)")
            #expect(failure.message.contains(#"closest on the page: button "Deactivate" (#deactivate)"#), "\(failure.message)")
            #expect(failure.outcome == .notApplied, "the click never happened")
            let screenshot = try #require(failure.details["screenshot"].stringValue)
            let html = try #require(failure.details["html"].stringValue)
            #expect(screenshot.hasPrefix(state))
            #expect(failure.message.contains(screenshot), "the evidence is named where people read the error")
            let png = try Data(contentsOf: URL(fileURLWithPath: screenshot))
            #expect(png.starts(with: [0x89, 0x50, 0x4E, 0x47]))
            let page = try String(contentsOfFile: html, encoding: .utf8)
            #expect(page.contains("Ada Lovelace"))
            #expect(!page.contains(sandbox.token), "the password never lands in evidence")
            #expect(!JSONWriter.string(failure.details).contains(sandbox.token))
            #expect(try await sandbox.user("ada.lovelace")["status"].stringValue == "active")
        }
    }

    @Test func theConfirmationDialogGuardsDeactivation() async throws {
        // Without "dialog": "accept" the connector answers Cancel, so the form is never sent.
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        var recipe = try JSONParser.parse(Array(try Data(contentsOf: URL(fileURLWithPath: Products.legacyRecipe))))
        let cancelling: JSONValue = [
            "steps": [
                ["action": "goto", "url": "/users/{{args.id}}"],
                ["action": "click", "selector": "#deactivate"],
                ["action": "waitFor", "selector": "//*[@id='status'][normalize-space()='Deactivated']", "timeoutMs": 1000],
            ],
        ]
        if case .object(var root) = recipe, case .object(var accounts)? = root["accounts"] {
            accounts["disable"] = cancelling
            root["accounts"] = .object(accounts)
            recipe = .object(root)
        }
        let path = try dir.write("cancelling.json", JSONWriter.string(recipe)).path
        try await withLegacy(recipe: path, stateDirectory: dir.url.appendingPathComponent("state").path) { sandbox, connector in
            let error = await connectorError {
                _ = try await connector.call(Method.accountsDisable, params: AccountRefParams(idempotencyKey: "k1", id: "1").json)
            }
            // The status never reads Deactivated on the loaded page, even after a reload.
            #expect(error?.kind == .preconditionFailed && error?.retryable == false)
            #expect(error?.outcome == .unknown, "the click reached the page")
            let ada = try await sandbox.user("ada.lovelace")
            #expect(ada["status"].stringValue == "active")
        }
    }

    @Test func keepsProofOfChangesWhenAsked() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        try await withLegacy(settings: ["evidence": "all"], stateDirectory: dir.path) { _, connector in
            _ = try await connector.call(Method.accountsDisable, params: AccountRefParams(idempotencyKey: "k1", id: "2").json)
            let files = try FileManager.default.contentsOfDirectory(atPath: dir.url.appendingPathComponent("evidence").path)
            #expect(files.contains { $0.contains("proof-accounts_disable") && $0.hasSuffix(".png") })
        }
    }

    @Test func killingTheConnectorLeavesNoChromium() async throws {
        await BrowserSlots.shared.acquire()
        defer { Task { await BrowserSlots.shared.release() } }
        let sandbox = try LegacySandbox(["--latency-ms", "300"])
        defer { sandbox.stop() }
        let connector = try browserConnector(settings: sandbox.settings(), secrets: sandbox.secrets)
        _ = try await connector.start()
        let pid = try #require(await connector.lastPid)
        let flow = Task { try await connector.listAll(Method.accountsList, of: Account.self) }

        // Wait until the flow has Chromium running under the connector, then kill the connector.
        var browsers: [Int32] = []
        for _ in 0..<400 where browsers.isEmpty {
            browsers = ProcessTable.descendants(of: pid).filter { ProcessTable.name($0)?.contains("chrom") == true }
            if browsers.isEmpty { try await Task.sleep(for: .milliseconds(25)) }
        }
        try #require(!browsers.isEmpty, "Chromium never started under the connector")
        try await Task.sleep(for: .milliseconds(500))  // mid-flow: signing in against a slow app
        let groups = Set(browsers.compactMap(ProcessTable.group))
        let everything = Set(browsers + groups.flatMap(ProcessTable.members(ofGroup:)))
        kill(pid, SIGKILL)
        _ = await flow.result

        var left = everything.filter(ProcessTable.isAlive)
        for _ in 0..<200 where !left.isEmpty {
            try await Task.sleep(for: .milliseconds(50))
            left = left.filter(ProcessTable.isAlive)
        }
        #expect(left.isEmpty, "Chromium processes outlived the killed connector: \(left.map { "\($0) \(ProcessTable.name($0) ?? "?")" })")
        await connector.stop()
    }

    @Test func aBrokenRecipeIsRefusedAtInitializeNamingTheMember() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let path = try dir.write("bad.json", """
            {"app": "x", "login": {"url": "/login", "loggedOutWhen": {"urlContains": "/login"},
              "steps": [{"action": "click", "selector": "role=button[name="}]}}
            """).path
        let connector = try browserConnector(settings: ["recipe": .string(path), "baseURL": "http://127.0.0.1:9/x", "username": "admin"],
                                             secrets: ["password": "pw-123456"])
        let error = await connectorError { _ = try await connector.start() }
        await connector.stop()
        #expect(error?.kind == .configuration)
        #expect(error?.message.contains("bad.json") == true)
        #expect(error?.message.contains("login.steps[0].selector") == true, "\(error?.message ?? "")")

        let typo = try dir.write("typo.json", """
            {"app": "x", "login": {"url": "/login", "loggedOutWhen": {"urlContains": "/login"},
              "steps": [{"action": "clik", "selector": "#go"}]}}
            """).path
        let second = try browserConnector(settings: ["recipe": .string(typo), "baseURL": "http://127.0.0.1:9/x", "username": "admin"],
                                          secrets: ["password": "pw-123456"])
        let unknown = await connectorError { _ = try await second.start() }
        await second.stop()
        #expect(unknown?.message.contains("login.steps[0].action: unknown action \"clik\"") == true, "\(unknown?.message ?? "")")
    }
}

/// Reads /proc.
enum ProcessTable {
    static func stat(_ pid: Int32) -> (state: String, ppid: Int32, pgrp: Int32, name: String)? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let open = text.firstIndex(of: "("), let close = text.lastIndex(of: ")") else { return nil }
        let fields = text[text.index(after: close)...].split(separator: " ")
        guard fields.count > 2, let ppid = Int32(fields[1]), let pgrp = Int32(fields[2]) else { return nil }
        return (String(fields[0]), ppid, pgrp, String(text[text.index(after: open)..<close]))
    }

    static var all: [Int32] {
        ((try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []).compactMap(Int32.init)
    }

    static func descendants(of root: Int32) -> [Int32] {
        let table = all.compactMap { pid in stat(pid).map { (pid, $0.ppid) } }
        var found: [Int32] = []
        var frontier = [root]
        while let parent = frontier.popLast() {
            let children = table.filter { $0.1 == parent }.map(\.0)
            found += children
            frontier += children
        }
        return found
    }

    static func name(_ pid: Int32) -> String? { stat(pid)?.name }
    static func group(_ pid: Int32) -> Int32? { stat(pid)?.pgrp }
    static func members(ofGroup group: Int32) -> [Int32] { all.filter { stat($0)?.pgrp == group } }

    /// Running or sleeping; a zombie has exited.
    static func isAlive(_ pid: Int32) -> Bool {
        guard let state = stat(pid)?.state else { return false }
        return state != "Z" && state != "X"
    }
}
