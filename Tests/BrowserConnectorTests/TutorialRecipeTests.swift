import Foundation
import StewardHost
import StewardJSON
import StewardProtocol
import StewardTestSupport
import Testing

/// The tutorial's recipe (plugins/browser/recipes/legacy-noid.json, docs/browser-recipes.md) on
/// the legacy app's `noid` layout, where no page shows an id: it passes the conformance check and
/// carries a joiner, a mover and a leaver through `steward`, every effect read from the sandbox.
@Suite(.enabled(if: Chromium.testsEnabled, "Chromium is not installed and CI is unset"), .serialized)
struct TutorialRecipeTests {
    static var recipe: String { Products.repoRoot.appendingPathComponent("plugins/browser/recipes/legacy-noid.json").path }

    @Test func isShortAndPassesTheConformanceCheck() async throws {
        let lines = try String(contentsOfFile: Self.recipe, encoding: .utf8).split(separator: "\n").count
        #expect(lines <= 80, "the tutorial promises a recipe of at most 80 lines; it has \(lines)")
        await BrowserSlots.shared.acquire()
        let sandbox = try LegacySandbox(["--legacy-layout", "noid"])
        defer { sandbox.stop() }
        let check = ConformanceCheck(command: [try Products.executable("steward-connector-browser")],
                                     settings: sandbox.settings(recipe: Self.recipe), secrets: sandbox.secrets, timeout: 60)
        let failures = Collected<String>()
        let passed = await check.run { result in if result.failed { failures.add("\(result.name): \(result.detail)") } }
        await BrowserSlots.shared.release()
        #expect(passed, "\(failures.all)")
    }

    @Test func carriesAJoinerAMoverAndALeaverThroughSteward() async throws {
        await BrowserSlots.shared.acquire()
        let sandbox = try LegacySandbox(["--legacy-layout", "noid"])
        let folder = try StewardFolder()
        defer {
            folder.remove()
            sandbox.stop()
        }
        try await sandbox.call("PUT", "/_sandbox/users", ["users": [
            ["userName": "ann", "email": "ann@example.com", "role": "viewer", "groups": [], "status": "active"],
            ["userName": "bo", "email": "bo@example.com", "role": "viewer", "groups": ["sales"], "status": "active"],
        ]])
        try folder.write("token", sandbox.token)
        try folder.write("steward.json", """
            {
              source: { plugin: "file", settings: { path: "hr.csv" } },
              apps: [ { id: "legacy", plugin: "browser", settings: { recipe: "\(Self.recipe)", baseURL: "\(sandbox.baseURL)", username: "admin" },
                        secrets: { password: "file:token" }, correlate: ["email", "userName"],
                        deprovision: { action: "disable", maxPercent: 100 } } ],
              policies: [
                { id: "everyone", when: {}, grant: [ { app: "legacy", entitlements: ["role:Viewer"] } ] },
                { id: "sales", when: { department: ["Sales"] }, grant: [ { app: "legacy", entitlements: ["group:sales"] } ] },
                { id: "engineering", when: { department: ["Engineering"] }, grant: [ { app: "legacy", entitlements: ["role:Editor", "group:engineering"] } ] },
              ],
            }
            """)
        func converge(_ round: String) throws {
            let sync = try folder.steward(["sync"])
            let apply = try folder.steward(["apply", "--yes"])
            #expect(sync.code == 0 && apply.code == 0, "\(round): \(sync.out)\(sync.err)\(apply.out)\(apply.err)")
            let plan = try folder.steward(["plan", "--json"])
            #expect((try JSONParser.parse(plan.out)["actions"].arrayValue ?? []).isEmpty, "\(round): the apps match the rules after one apply: \(plan.out.prefix(800))")
        }

        // Round 1: Cy joins Engineering; Ann and Bo are in Sales.
        try folder.hr([("E1", "ann@example.com", "Sales", "Rep", "active"), ("E2", "bo@example.com", "Sales", "Rep", "active"),
                       ("E3", "cy@example.com", "Engineering", "Engineer", "active")])
        try converge("joiner")
        var cy = try await sandbox.user("cy@example.com")
        #expect(cy["status"] == "invited" && cy["email"] == "cy@example.com", "\(cy)")
        #expect(cy["role"] == "editor" && cy["groups"] == ["engineering"], "\(cy)")
        #expect(try await sandbox.user("ann")["groups"] == ["sales"])

        // Round 2: Ann moves to Engineering (role and groups change); Bo leaves.
        try folder.hr([("E1", "ann@example.com", "Engineering", "Engineer", "active"), ("E2", "bo@example.com", "Sales", "Rep", "terminated"),
                       ("E3", "cy@example.com", "Engineering", "Engineer", "active")])
        try converge("mover and leaver")
        let ann = try await sandbox.user("ann"), bo = try await sandbox.user("bo")
        #expect(ann["role"] == "editor" && ann["groups"] == ["engineering"], "\(ann)")
        #expect(bo["status"] == "disabled", "\(bo)")
        cy = try await sandbox.user("cy@example.com")
        #expect(cy["role"] == "editor", "the joiner was left as the rules say")
        await BrowserSlots.shared.release()
    }
}

/// `findRow` (across pages, or through the search box), steps `within` the row it found, and
/// attributes read with a regex capture, on the id-less layout.
@Suite(.enabled(if: Chromium.testsEnabled, "Chromium is not installed and CI is unset"))
struct RowAuthoringTests {
    static func recipe(in dir: TemporaryDirectory, lastUser: String) throws -> String {
        var recipe = try JSONParser.parse(Array(try Data(contentsOf: URL(fileURLWithPath: TutorialRecipeTests.recipe))))
        guard case .object(var root) = recipe, case .object(var accounts)? = root["accounts"],
              case .object(var create)? = accounts["create"], case .array(let steps)? = create["steps"] else { throw SchemaError() }
        // Before inviting: is the user there already? Search, and read the id from the row's link.
        create["steps"] = .array([
            ["action": "goto", "url": "/users"],
            ["action": "findRow", "table": "table", "column": "Username", "equals": "{{args.account.userName}}",
             "search": ["field": "role=searchbox[name=\"Search users\"]"], "optional": true, "into": "existing"],
            ["action": "if", "visible": "[data-steward-within=\"existing\"]", "then": [
                ["action": "extractText", "within": "existing", "selector": "a", "attribute": "href", "match": "/users/(\\d+)$", "into": "id"],
                ["action": "finishIf", "visible": "[data-steward-within=\"existing\"]"],
            ]],
        ] + steps)
        accounts["create"] = .object(create)
        // Disabling the last user in the table: found across the pages, opened by its link.
        accounts["disable"] = ["steps": [
            ["action": "goto", "url": "/users"],
            ["action": "findRow", "table": "table", "column": "Username", "equals": .string(lastUser), "nextPage": "text=\"Next\"", "maxPages": 5, "into": "row"],
            ["action": "click", "within": "row", "selector": "a"],
            ["action": "finishIf", "visible": "//*[@id='status'][normalize-space()='Deactivated']"],
            ["action": "click", "selector": "text=\"Deactivate\"", "dialog": "accept"],
            ["action": "waitFor", "selector": "//*[@id='status'][normalize-space()='Deactivated']"],
        ]]
        root["accounts"] = .object(accounts)
        recipe = .object(root)
        return try dir.write("rows.json", JSONWriter.string(recipe)).path
    }

    struct SchemaError: Error {}

    @Test func findsRowsAcrossPagesAndThroughTheSearchBox() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let probe = try LegacySandbox(["--legacy-layout", "noid"])
        let users = try await probe.users().values.sorted { ($0["id"].intValue ?? 0, $0["id"].stringValue ?? "") < ($1["id"].intValue ?? 0, $1["id"].stringValue ?? "") }
        probe.stop()
        let last = try #require(users.max { Int($0["id"].stringValue ?? "0") ?? 0 < Int($1["id"].stringValue ?? "0") ?? 0 })
        let lastName = try #require(last["userName"].stringValue)
        let recipe = try Self.recipe(in: dir, lastUser: lastName)
        try await withLegacy(sandboxArguments: ["--legacy-layout", "noid"], recipe: recipe) { sandbox, connector in
            #expect((try await sandbox.users()).count > 20, "three pages of ten")
            _ = try await connector.call(Method.accountsDisable, params: AccountRefParams(idempotencyKey: "k1", id: "ignored").json, as: MutationResult.self)
            #expect(try await sandbox.user(lastName)["status"] == "disabled")
            #expect(try await sandbox.users().values.filter { $0["status"] == "disabled" }.count
                    == users.filter { $0["status"] == "disabled" }.count + 1, "only that user")

            // The search box finds Ada; her id comes from her row's link.
            let ada = try #require(try await sandbox.user("ada.lovelace")["id"].stringValue)
            let existing = try await connector.call(Method.accountsCreate, params: AccountCreateParams(
                idempotencyKey: "k2", account: AccountSpec(userName: "ada.lovelace")).json, as: AccountCreateResult.self)
            #expect(existing.status == .alreadyExists && existing.account?.id == ada, "\(existing)")
            let fresh = try await connector.call(Method.accountsCreate, params: AccountCreateParams(
                idempotencyKey: "k3", account: AccountSpec(userName: "new.person", email: "new@example.com")).json, as: AccountCreateResult.self)
            #expect(fresh.status == .created)
            #expect(try await sandbox.user("new.person")["id"].stringValue == fresh.account?.id)
        }
    }
}

/// Several flows at once on tabs of one browser context (`settings.pages`), sharing one sign-in.
@Suite(.enabled(if: Chromium.testsEnabled, "Chromium is not installed and CI is unset"))
struct ParallelPagesTests {
    @Test func concurrentLeaversRunOnTabsThatShareOneSignIn() async throws {
        try await withLegacy(settings: ["pages": 3]) { sandbox, connector in
            let active = try await sandbox.users().values.filter { $0["status"] == "active" }.compactMap { $0["id"].stringValue }.sorted()
            let leavers = Array(active.prefix(6))
            #expect(leavers.count == 6)
            try await withThrowingTaskGroup(of: Void.self) { group in
                for (i, id) in leavers.enumerated() {
                    group.addTask {
                        _ = try await connector.call(Method.accountsDisable, params: AccountRefParams(idempotencyKey: "k\(i)", id: id).json,
                                                     as: MutationResult.self)
                    }
                }
                try await group.waitForAll()
            }
            let after = try await sandbox.users().values
            #expect(leavers.allSatisfy { id in after.contains { $0["id"].stringValue == id && $0["status"] == "disabled" } })
            let state = try await sandbox.call("GET", "/_state")
            #expect(state["sessionsStarted"] == 1, "three tabs, one sign-in: \(state["sessionsStarted"])")
        }
    }

    @Test func pagesIsCheckedAndARecipeCanLimitIt() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let bad = try browserConnector(settings: ["recipe": .string(Products.legacyRecipe), "baseURL": "http://127.0.0.1:9/x", "username": "admin", "pages": 0],
                                       secrets: ["password": "pw-123456"])
        let refused = await connectorError { _ = try await bad.start() }
        await bad.stop()
        #expect(refused?.kind == .configuration && refused?.message.contains("settings.pages") == true, "\(String(describing: refused))")
        // A recipe that says pages: 1 runs its flows one at a time, and still all of them.
        let text = try String(contentsOfFile: Products.legacyRecipe, encoding: .utf8)
            .replacingOccurrences(of: #""timeoutMs": 10000,"#, with: #""timeoutMs": 10000, "pages": 1,"#)
        let recipe = try dir.write("one-tab.json", text).path
        try await withLegacy(recipe: recipe, settings: ["pages": 4]) { sandbox, connector in
            let ids = try await sandbox.users().values.filter { $0["status"] == "active" }.compactMap { $0["id"].stringValue }.sorted().prefix(3)
            try await withThrowingTaskGroup(of: Void.self) { group in
                for (i, id) in ids.enumerated() {
                    group.addTask { _ = try await connector.call(Method.accountsDisable, params: AccountRefParams(idempotencyKey: "p\(i)", id: id).json) }
                }
                try await group.waitForAll()
            }
            let after = try await sandbox.users().values
            #expect(ids.allSatisfy { id in after.contains { $0["id"].stringValue == id && $0["status"] == "disabled" } })
        }
    }
}
