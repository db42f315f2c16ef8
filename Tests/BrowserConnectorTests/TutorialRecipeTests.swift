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
