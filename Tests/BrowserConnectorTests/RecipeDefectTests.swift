import Foundation
import StewardHost
import StewardJSON
import StewardProtocol
import StewardTestSupport
import Testing

/// Regression tests for the defects a recipe written from the docs alone ran into, each on the
/// sandbox's legacy app in real headless Chromium.
@Suite(.enabled(if: Chromium.testsEnabled, "Chromium is not installed and CI is unset"))
struct RecipeDefectTests {
    /// The shipped recipe with steps added that exercise templated XPath, templated `failIf`
    /// messages and a fallback after a selector the page rejects (`#7` is not valid CSS), and a
    /// sign-in that checks for the error right after its click and then waits for the network
    /// to settle (the POST redirects).
    static func variant(in dir: TemporaryDirectory) throws -> String {
        var text = try String(contentsOfFile: Products.legacyRecipe, encoding: .utf8)
        let wait = ##"{ "action": "waitFor", "selector": ["label=Authentication code", "#whoami", "#login-error"] },"##
        #expect(text.contains(wait))
        text = text.replacingOccurrences(of: wait, with: ##"{ "action": "waitFor", "networkIdle": true, "timeoutMs": 5000 },"##)
        let invite = ##"{ "action": "failIf", "visible": "#form-error", "kind": "invalidArgument", "message": "the app rejected the invitation form" },"##
        #expect(text.contains(invite))
        text = text.replacingOccurrences(of: invite, with: invite + ##"""

                { "action": "waitFor", "selector": "//*[@id='display-name'][normalize-space()='{{args.account.displayName | args.account.userName}}']" },
        """##)
        let deactivate = ##"{ "action": "click", "selector": ["#deactivate","##
        #expect(text.contains(deactivate))
        text = text.replacingOccurrences(of: deactivate, with: ##"""
        { "action": "failIf", "visible": "//*[@id='status'][normalize-space()='Invited']", "kind": "preconditionFailed", "message": "account {{args.id}} is only invited" },
                { "action": "click", "selector": ["#{{args.id}}", "#deactivate",
        """##)
        return try dir.write("variant.json", text).path
    }

    @Test func rolesListedMostPrivilegedFirstRankHighest() async throws {
        try await withLegacy { _, connector in
            let roles = try await connector.listAll(Method.entitlementsList, params: ListParams(type: "role"), of: Entitlement.self)
            let rank = Dictionary(uniqueKeysWithValues: roles.map { ($0.id, $0.rank ?? -1) })
            #expect(rank["admin"] ?? 0 > rank["editor"] ?? 0 && rank["editor"] ?? 0 > rank["viewer"] ?? 0, "\(roles)")
        }
    }

    /// Two policies give one person Viewer and Editor: the plan picks Editor, the more privileged.
    @Test func aTierConflictPicksTheMorePrivilegedRole() async throws {
        await BrowserSlots.shared.acquire()
        let sandbox = try LegacySandbox()
        let folder = try StewardFolder()
        defer {
            folder.remove()
            sandbox.stop()
        }
        try await sandbox.call("PUT", "/_sandbox/users", ["users": [["userName": "ann", "email": "ann@example.com", "role": "viewer",
                                                                     "groups": [], "status": "active"]]])
        try folder.write("token", sandbox.token)
        try folder.hr([("E1", "ann@example.com", "Engineering", "Engineer", "active")])
        try folder.write("steward.json", """
            {
              source: { plugin: "file", settings: { path: "hr.csv" } },
              apps: [ { id: "legacy", plugin: "browser", settings: { recipe: "\(Products.legacyRecipe)", baseURL: "\(sandbox.baseURL)", username: "admin" },
                        secrets: { password: "file:token" }, correlate: ["email"] } ],
              policies: [
                { id: "everyone", when: {}, grant: [ { app: "legacy", entitlements: ["role:Viewer"] } ] },
                { id: "engineering", when: { department: ["Engineering"] }, grant: [ { app: "legacy", entitlements: ["role:Editor"] } ] },
              ],
            }
            """)
        let sync = try folder.steward(["sync"])
        await BrowserSlots.shared.release()
        #expect(sync.code == 0, "\(sync.out)\(sync.err)")
        let plan = try folder.steward(["plan"])
        #expect(plan.out.contains("~ role Viewer → Editor"), "\(plan.out)")
    }

    /// The app's UI changed and a fallback selector rescued the step: the journal records it
    /// once, and `steward status` says where, before the last selector stops matching too.
    @Test func aFallbackThatRescuesAStepShowsUpInStatusAndTheJournal() async throws {
        await BrowserSlots.shared.acquire()
        let sandbox = try LegacySandbox(["--legacy-layout", "alt"])
        let folder = try StewardFolder()
        defer {
            folder.remove()
            sandbox.stop()
        }
        try await sandbox.call("PUT", "/_sandbox/users", ["users": [
            ["userName": "ann", "email": "ann@example.com", "role": "viewer", "groups": [], "status": "active"],
            ["userName": "bo", "email": "bo@example.com", "role": "viewer", "groups": [], "status": "active"],
        ]])
        try folder.write("token", sandbox.token)
        try folder.hr([("E1", "ann@example.com", "Sales", "Rep", "terminated"), ("E2", "bo@example.com", "Sales", "Rep", "terminated")])
        try folder.write("steward.json", """
            {
              source: { plugin: "file", settings: { path: "hr.csv" } },
              apps: [ { id: "legacy", plugin: "browser", settings: { recipe: "\(Products.legacyRecipe)", baseURL: "\(sandbox.baseURL)", username: "admin" },
                        secrets: { password: "file:token" }, correlate: ["email"], deprovision: { action: "disable", maxPercent: 100 } } ],
            }
            """)
        let sync = try folder.steward(["sync"])
        let apply = try folder.steward(["apply", "--yes"])
        await BrowserSlots.shared.release()
        #expect(sync.code == 0 && apply.code == 0, "\(sync.out)\(apply.out)\(apply.err)")
        let ann = try await sandbox.user("ann"), bo = try await sandbox.user("bo")
        #expect(ann["status"] == "disabled" && bo["status"] == "disabled")
        let drift = try folder.events("recipe.drift")
        // The sign-in button drifted too (sync and apply each signed in): each step once.
        #expect(drift.filter { $0["data"]["step"] == "login.steps[2]" }.count == 1, "\(drift)")
        let disable = drift.filter { $0["data"]["step"] == "accounts.disable.steps[2]" }
        #expect(disable.count == 1 && disable.first?["data"]["fallback"] == 2, "two disables through the same fallback, journaled once: \(drift)")
        let status = try folder.steward(["status"])
        #expect(status.out.contains("legacy: recipe drift at accounts.disable.steps[2] (fallback 2, role=button[name=\"Suspend user\"]"), "\(status.out)")
    }

    @Test func listingHonoursPageSize() async throws {
        try await withLegacy { _, connector in
            let page = try await connector.call(Method.accountsList, params: ListParams(pageSize: 3).json, as: Page<Account>.self)
            #expect(page.items.count == 3 && page.nextCursor != nil)
        }
    }

    @Test func aCreateThatFindsTheAccountThereNamesIt() async throws {
        try await withLegacy { sandbox, connector in
            let first = try await connector.call(Method.accountsCreate, params: AccountCreateParams(
                idempotencyKey: "k1", account: AccountSpec(userName: "joan.clarke", email: "joan@example.com")).json, as: AccountCreateResult.self)
            let again = try await connector.call(Method.accountsCreate, params: AccountCreateParams(
                idempotencyKey: "k2", account: AccountSpec(userName: "joan.clarke")).json, as: AccountCreateResult.self)
            #expect(first.status == .created && again.status == .alreadyExists)
            let id = try await sandbox.user("joan.clarke")["id"].stringValue
            #expect(again.account?.id == id && id != nil, "the host grants to this account next: \(String(describing: again.account))")
        }
    }

    /// An element that exists but is empty (a user without an e-mail) is read as empty text.
    @Test func extractTextReadsAnEmptyElement() async throws {
        try await withLegacy { sandbox, connector in
            try await sandbox.call("PUT", "/_sandbox/users", ["users": [["userName": "no.mail", "email": "", "role": "viewer", "groups": [],
                                                                         "status": "active"]]])
            let id = try #require(try await sandbox.user("no.mail")["id"].stringValue)
            let read = try await connector.call(Method.accountsGet, params: AccountGetParams(id: id).json, as: AccountGetResult.self)
            #expect(read.account?.userName == "no.mail" && read.account?.email == nil)
        }
    }

    @Test func aValueWithAQuoteStaysOneXPathLiteral() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        try await withLegacy(recipe: try Self.variant(in: dir)) { sandbox, connector in
            let created = try await connector.call(Method.accountsCreate, params: AccountCreateParams(
                idempotencyKey: "k1", account: AccountSpec(userName: "pat.obrien", email: "pat@example.com", displayName: "Pat O'Brien")).json,
                as: AccountCreateResult.self)
            #expect(created.status == .created)
            #expect(try await sandbox.user("pat.obrien")["displayName"] == "Pat O'Brien")
        }
    }

    @Test func failIfMessagesAreTemplatedAndFallbacksFollowARejectedSelector() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        try await withLegacy(recipe: try Self.variant(in: dir)) { sandbox, connector in
            let invited = try await connector.call(Method.accountsCreate, params: AccountCreateParams(
                idempotencyKey: "k1", account: AccountSpec(userName: "ivy", email: "ivy@example.com")).json, as: AccountCreateResult.self)
            let id = try #require(invited.account?.id)
            let refused = await connectorError {
                _ = try await connector.call(Method.accountsDisable, params: AccountRefParams(idempotencyKey: "k2", id: id).json, as: MutationResult.self)
            }
            #expect(refused?.kind == .preconditionFailed && refused?.message.contains("account \(id) is only invited") == true, "\(String(describing: refused))")

            // `#<id>` is not valid CSS: the page rejects it and the next selector is tried.
            let ada = try #require(try await sandbox.user("ada.lovelace")["id"].stringValue)
            _ = try await connector.call(Method.accountsDisable, params: AccountRefParams(idempotencyKey: "k3", id: ada).json, as: MutationResult.self)
            #expect(try await sandbox.user("ada.lovelace")["status"] == "disabled")
        }
    }

    /// A wrong password fails at once as unauthenticated: the click waits for the page it opens,
    /// so the `failIf` right after it sees the error.
    @Test func aWrongPasswordIsRefusedNotTimedOut() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        try await withLegacy(recipe: try Self.variant(in: dir), secrets: ["password": "not-the-password"]) { _, connector in
            let refused = await connectorError { _ = try await connector.listAll(Method.accountsList, of: Account.self) }
            #expect(refused?.kind == .unauthenticated && refused?.message.contains("refused the username or password") == true,
                    "\(String(describing: refused))")
        }
    }

    /// Following a link to the account's page changes nothing: a step that fails after it is
    /// still "not applied", so the host need not read the account to find out.
    @Test func aClickThatOnlyNavigatesIsNotAWrite() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        var recipe = try JSONParser.parse(Array(try Data(contentsOf: URL(fileURLWithPath: Products.legacyRecipe))))
        if case .object(var root) = recipe, case .object(var accounts)? = root["accounts"] {
            accounts["enable"] = ["steps": [
                ["action": "goto", "url": "/users"],
                ["action": "click", "selector": "text=\"ada.lovelace\""],
                ["action": "waitFor", "selector": "#user-id"],
                ["action": "click", "selector": "#restore-access", "timeoutMs": 1000],
            ]]
            root["accounts"] = .object(accounts)
            recipe = .object(root)
        }
        let path = try dir.write("links.json", JSONWriter.string(recipe)).path
        try await withLegacy(recipe: path) { _, connector in
            let error = await connectorError {
                _ = try await connector.call(Method.accountsEnable, params: AccountRefParams(idempotencyKey: "k1", id: "1").json)
            }
            #expect(error?.kind == .preconditionFailed && error?.outcome == .notApplied, "\(String(describing: error))")
        }
    }

    @Test func resultTyposAndInvalidCSSAreRefusedWhenTheRecipeLoads() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let legacy = try String(contentsOfFile: Products.legacyRecipe, encoding: .utf8)
        let cases: [(String, String, String)] = [
            ("typo.json", legacy.replacingOccurrences(of: ##""table": "users",\##n        "account": {"##, with: ##""table": "users",\##n        "acount": {"##),
             "accounts.list.result.acount: unknown member"),
            ("css.json", legacy.replacingOccurrences(of: ##"["#users", "table.data"]"##, with: ##"["#users >", "table.data"]"##),
             "accounts.list.steps[1].selector[0]: invalid selector"),
            ("bracket.json", legacy.replacingOccurrences(of: ##""#new-email""##, with: ##""input[name=email""##),
             "accounts.create.steps[2].selector[0]"),
        ]
        for (name, text, expected) in cases {
            #expect(text != legacy, "\(name): the replacement found its text")
            let path = try dir.write(name, text).path
            let connector = try browserConnector(settings: ["recipe": .string(path), "baseURL": "http://127.0.0.1:9/x", "username": "admin"],
                                                 secrets: ["password": "pw-123456"])
            let error = await connectorError { _ = try await connector.start() }
            await connector.stop()
            #expect(error?.kind == .configuration && error?.message.contains(expected) == true, "\(name): \(error?.message ?? "no error")")
        }
    }
}
