import Foundation
import StewardHost
import StewardProtocol
import StewardTestSupport
import Testing

@Suite("Supervisor: connectors as isolated processes")
struct SupervisorTests {
    func testConnector(_ args: [String] = [], settings: JSONValue = [:], timeout: Double = 10, hangGrace: Double = 5,
                       restart: RestartPolicy = fastRestart, log: ConnectorEventLog = ConnectorEventLog()) throws -> SupervisedConnector {
        var options = ConnectorConnection.Options()
        options.requestTimeout = timeout
        options.hangGrace = hangGrace
        return SupervisedConnector(ConnectorLaunch(
            appId: "test-app", command: [try Products.executable("steward-test-connector")] + args, settings: settings,
            options: options, restart: restart, events: log.events))
    }

    @Test func wellBehavedConnectorListsAcrossPages() async throws {
        let c = try testConnector(settings: ["accounts": 2_345])
        let handshake = try await c.start()
        #expect(handshake.connector.name == "test")
        #expect(handshake.capabilities.accounts == [.list, .get, .create, .disable, .enable, .delete])
        #expect(handshake.capabilities.entitlementType("role")?.cardinality == .single)
        let accounts = try await c.listAll(Method.accountsList, params: ListParams(pageSize: 500), of: Account.self)
        #expect(accounts.count == 2_345)
        #expect(Set(accounts.map(\.id)).count == 2_345)
        // entitlements/list walks every type with the SDK's combined cursor.
        let entitlements = try await c.listAll(Method.entitlementsList, of: Entitlement.self)
        #expect(entitlements.map(\.id) == ["r-admin", "r-viewer", "g1", "g2"])
        await c.stop()
    }

    /// The next page is asked for while the current one is still being handled, and pages
    /// still arrive in order, each once.
    @Test func theNextPageIsRequestedWhileThisOneIsHandled() async throws {
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("steward-requests-\(UUID().uuidString)")
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        defer { try? FileManager.default.removeItem(at: log) }
        let c = try testConnector(settings: ["accounts": 30, "requestLog": .string(log.path)])
        var pages: [[String]] = []
        var askedEarly: [Bool] = []
        try await c.list(Method.accountsList, params: ListParams(pageSize: 10), of: Account.self) { page in
            pages.append(page.map(\.id))
            guard pages.count < 3 else { return }
            // While this page is in hand, the request for the next must arrive (deadline, no sleep).
            let next = String(pages.count * 10)
            let deadline = ContinuousClock.now + .seconds(30)
            var seen = false
            while !seen, ContinuousClock.now < deadline {
                seen = (try? String(contentsOf: log, encoding: .utf8))?.split(separator: "\n").contains(Substring(next)) == true
                if !seen { try await Task.sleep(for: .milliseconds(10)) }
            }
            askedEarly.append(seen)
        }
        #expect(askedEarly == [true, true])
        #expect(pages == (0..<3).map { p in (0..<10).map { "u\(p * 10 + $0)" } })
        #expect(try String(contentsOf: log, encoding: .utf8) == "start\n10\n20\n")
        await c.stop()
    }

    @Test func crashOnNthRequestFailsThatRequestAndRestarts() async throws {
        let c = try testConnector(["crash-after", "2"])
        _ = try await c.call(Method.accountsList)
        let error = await #expect(throws: ConnectorFailure.self) { try await c.call(Method.accountsList) }
        guard case .crashed(let message)? = error?.reason else {
            Issue.record("expected a crash, got \(String(describing: error))")
            return
        }
        #expect(message.contains("exited with status 3"))
        // The next call starts a fresh process, whose first data request works again.
        _ = try await c.call(Method.accountsList)
        #expect(await c.starts == 2)
        await c.stop()
    }

    @Test func givesUpAfterTheCrashBudget() async throws {
        let c = try testConnector(["crash-after", "1"], restart: RestartPolicy(crashBudget: 3, window: 180, initialBackoff: 0.01, maxBackoff: 0.02))
        for _ in 0..<3 {
            await #expect(throws: ConnectorFailure.self) { try await c.call(Method.accountsList) }
        }
        let error = await #expect(throws: ConnectorFailure.self) { try await c.call(Method.accountsList) }
        guard case .unavailable(let message)? = error?.reason else {
            Issue.record("expected unavailable, got \(String(describing: error))")
            return
        }
        #expect(message.contains("gave up"))
        #expect(await c.starts == 3)
    }

    @Test func garbageOnStdoutIsAFatalReportedError() async throws {
        let c = try testConnector(["garbage"])
        let error = await #expect(throws: ConnectorFailure.self) { try await c.call(Method.accountsList) }
        guard case .protocolViolation(let message)? = error?.reason else {
            Issue.record("expected a protocol violation, got \(String(describing: error))")
            return
        }
        #expect(message.contains("\"this is not json\""))
        await c.stop()
    }

    @Test func overLongLineIsRefused() async throws {
        let c = try testConnector(["huge-line"], timeout: 60)
        let error = await #expect(throws: ConnectorFailure.self) { try await c.call(Method.accountsList) }
        guard case .protocolViolation(let message)? = error?.reason else {
            Issue.record("expected a protocol violation, got \(String(describing: error))")
            return
        }
        #expect(message.contains("longer than 16 MiB"))
        await c.stop()
    }

    @Test func hangingRequestTimesOutAndTheConnectorIsKilled() async throws {
        let c = try testConnector(["hang"], timeout: 0.5, hangGrace: 0.5)
        let error = await #expect(throws: ConnectorFailure.self) { try await c.call(Method.accountsList) }
        guard case .timedOut? = error?.reason else {
            Issue.record("expected a timeout, got \(String(describing: error))")
            return
        }
        // Still silent after cancel and the grace period: the supervisor kills it, and the next
        // call starts a new one. Wait (with a deadline) for the old process to be gone; on a
        // loaded machine the new one's start can miss the 500 ms limit, so retry the call too.
        let first = try #require(await c.lastPid)
        let deadline = ContinuousClock.now + .seconds(60)
        while processExists(first), ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
        #expect(!processExists(first), "the hung connector was not killed")
        var answered = false
        while !answered, ContinuousClock.now < deadline {
            answered = (try? await c.call(Method.ping)) != nil
        }
        #expect(answered, "the restarted connector never answered ping")
        #expect(await c.starts >= 2)
        await c.stop()
    }

    @Test func connectorIgnoringShutdownIsKilledAndReaped() async throws {
        let c = try testConnector(["ignore-shutdown"])
        try await c.start()
        let started = Date()
        await c.stop(grace: 0.3)
        // The connector never exits by itself, so stop() returning at all means it escalated to
        // signals. The bound only catches a hang: a loaded two-core machine has taken 33 s to run
        // the shutdown request's timeout, the grace period and the signals' waits.
        #expect(Date().timeIntervalSince(started) < 120)
        // The group was killed: no process of it is left (stop() returns after reaping).
        let pid = try #require(await c.lastPid)
        #expect(!processExists(pid))
    }

    @Test func incompatibleProtocolVersionIsRefusedClearly() async throws {
        let c = try testConnector(["old-protocol"])
        let error = await #expect(throws: ConnectorFailure.self) { try await c.start() }
        #expect(error?.description.contains("2.0") == true)
        #expect(error?.description.contains("1.0") == true)
    }

    @Test func oneBrokenConnectorDoesNotDisturbAnother() async throws {
        let broken = try testConnector(["crash-after", "1"])
        let healthy = try testConnector(settings: ["accounts": 300])
        async let a: Void = {
            for _ in 0..<3 { _ = try? await broken.call(Method.accountsList) }
        }()
        async let b = healthy.listAll(Method.accountsList, params: ListParams(pageSize: 10), of: Account.self)
        _ = await a
        #expect(try await b.count == 300)
        await healthy.stop()
        await broken.stop()
    }

    @Test func strayPrintInAHandlerGoesToTheLogNotTheProtocol() async throws {
        let log = ConnectorEventLog()
        let c = try testConnector(log: log)
        let result = try await c.call(Method.validate, as: ValidateResult.self)
        #expect(result.ok)
        await c.stop()
        #expect(log.records.contains { $0.fromStderr && $0.message == "stray output from a handler" && $0.appId == "test-app" })
    }

    @Test func undeclaredMethodIsMethodNotFound() async throws {
        let c = try testConnector()
        let error = await #expect(throws: ConnectorFailure.self) { try await c.call(Method.personsList) }
        #expect(error?.isMethodNotFound == true)
        await c.stop()
    }

    @Test func secretsGoOnlyToTheirOwnConnectorAndNotThroughTheEnvironment() throws {
        let launch = ConnectorLaunch(appId: "a", command: ["/bin/true"], secrets: ["token": "s3cret"])
        let env = launch.environment(from: ["PATH": "/bin", "CRM_TOKEN": "other-apps-secret", "HOME": "/root"])
        #expect(env["CRM_TOKEN"] == nil)
        #expect(env["PATH"] == "/bin")
        #expect(env[connectorEnvironmentVariable] == ProtocolVersion.current.description)
        #expect(!env.values.contains("s3cret"))
    }
}
