import Foundation
import StewardHost
import StewardProtocol
import StewardTestSupport
import Testing

@Suite("First-party and example connectors through the host")
struct ConnectorsThroughHostTests {
    @Test func fileConnectorReadsCSVThroughTheSupervisor() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        _ = try dir.write("hr.csv", """
            \u{FEFF}employee_id,email,first_name,last_name,department,title,manager_id,location,employment_type,status,start_date,end_date,badge\r
            E1,ann@example.com,Ann,Lee,Sales,"Rep, Senior",,NYC,full_time,active,2024-01-02,,B-1\r
            E2,bo@example.com,Bo,"Multi
            Line",Engineering,Lead Engineer,E1,SF,full_time,Terminated,2023-01-01,2026-01-01,\r

            """)
        let c = SupervisedConnector(ConnectorLaunch(
            appId: "hr", command: [try Products.executable("steward-connector-file")],
            settings: ["path": "hr.csv"], baseDirectory: dir.url.path))
        let people = try await c.listAll(Method.personsList, params: ListParams(pageSize: 1), of: Person.self)
        #expect(people.count == 2)
        #expect(people[0].title == "Rep, Senior")
        #expect(people[0].attributes["badge"] == "B-1")
        #expect(people[1].lastName == "Multi\nLine")
        #expect(people[1].status == .terminated)
        #expect(people[1].managerId == "E1")
        await c.stop()
    }

    @Test func fileConnectorRejectsABadFileWholeWithLinesAndFields() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        _ = try dir.write("hr.csv", """
            employee_id,email,status,start_date
            E1,a@example.com,active,2024-01-01
            E2,,active,2024-01-01
            E1,c@example.com,active,2024-01-01
            E4,d@example.com,fired,2024-13-01

            """)
        let c = SupervisedConnector(ConnectorLaunch(
            appId: "hr", command: [try Products.executable("steward-connector-file")],
            settings: ["path": "hr.csv"], baseDirectory: dir.url.path))
        let error = await #expect(throws: ConnectorFailure.self) {
            try await c.listAll(Method.personsList, of: Person.self)
        }
        let message = error?.connectorError?.message ?? ""
        #expect(message.contains("nothing was read"))
        #expect(message.contains("hr.csv: line 3: email: required"))
        #expect(message.contains("hr.csv: line 4: employee_id: employee id \"E1\" repeats the one on line 2"))
        #expect(message.contains("hr.csv: line 5: status: unknown status \"fired\""))
        #expect(message.contains("hr.csv: line 5: start_date: \"2024-13-01\" is not a date"))
        await c.stop()
    }

    @Test func fileConnectorReadsJSONWithColumnMapping() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        _ = try dir.write("people.json", """
            [{"Employee ID": "E9", "Work Email": "z@example.com", "department": "Ops"}]
            """)
        let c = SupervisedConnector(ConnectorLaunch(
            appId: "hr", command: [try Products.executable("steward-connector-file")],
            settings: ["path": "people.json", "columns": ["id": "Employee ID", "email": "Work Email"]],
            baseDirectory: dir.url.path))
        let people = try await c.listAll(Method.personsList, of: Person.self)
        #expect(people == [Person(id: "E9", email: "z@example.com", department: "Ops")])
        await c.stop()
    }

    @Test func pythonExampleConnectorWorksThroughTheHost() async throws {
        let registry = PluginRegistry(environment: ["STEWARD_PLUGIN_PATH": Products.repoRoot.appendingPathComponent("docs").path])
        let manifest = try #require(registry.manifest(named: "python-example"))
        let command = try #require(manifest.resolvedCommand())
        let c = SupervisedConnector(ConnectorLaunch(appId: "py", command: command, settings: ["accounts": ["a@x.com", "b@x.com"]]))
        let handshake = try await c.start()
        #expect(handshake.capabilities.accounts.contains(.create))
        let created = try await c.call(Method.accountsCreate,
                                       params: AccountCreateParams(idempotencyKey: "k1", account: AccountSpec(userName: "new@x.com")).json,
                                       as: AccountCreateResult.self)
        #expect(created.status == .created)
        let again = try await c.call(Method.accountsCreate,
                                     params: AccountCreateParams(idempotencyKey: "k2", account: AccountSpec(userName: "new@x.com")).json,
                                     as: AccountCreateResult.self)
        #expect(again.status == .alreadyExists)
        let id = try #require(created.account?.id)
        let disabled = try await c.call(Method.accountsDisable, params: AccountRefParams(idempotencyKey: "k3", id: id).json, as: MutationResult.self)
        #expect(disabled.alreadyApplied == false)
        let twice = try await c.call(Method.accountsDisable, params: AccountRefParams(idempotencyKey: "k4", id: id).json, as: MutationResult.self)
        #expect(twice.alreadyApplied == true)
        let accounts = try await c.listAll(Method.accountsList, params: ListParams(pageSize: 2), of: Account.self)
        #expect(accounts.count == 3)
        #expect(accounts.first { $0.id == id }?.status == .disabled)
        let missing = await #expect(throws: ConnectorFailure.self) {
            try await c.call(Method.accountsDisable, params: AccountRefParams(idempotencyKey: "k5", id: "nope").json)
        }
        #expect(missing?.connectorError?.kind == .notFound)
        await c.stop()
    }

    @Test func conformanceCheckPassesForTheFileConnectorAndFailsFastForHello() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        _ = try dir.write("hr.csv", "employee_id,email\nE1,a@example.com\n")
        let good = ConformanceCheck(command: [try Products.executable("steward-connector-file")], settings: ["path": "hr.csv"],
                                    baseDirectory: dir.url.path)
        let failures = Collected<String>()
        #expect(await good.run { if $0.failed { failures.add("\($0.name): \($0.detail)") } })
        #expect(failures.all.isEmpty)

        let hello = try dir.write("hello.sh", "#!/bin/sh\necho hello\nsleep 30\n")
        chmod(hello.path, 0o755)
        let started = Date()
        let bad = ConformanceCheck(command: [hello.path])
        let badFailures = Collected<String>()
        #expect(await bad.run { if $0.failed { badFailures.add($0.detail) } } == false)
        #expect(Date().timeIntervalSince(started) < 10)
        #expect(badFailures.all.first?.contains("\"hello\"") == true)
    }
}

