import Foundation
#if canImport(Glibc)
import Glibc
#endif
import StewardHost
import StewardJSON
import StewardTestSupport
import Testing

/// `steward serve` against the sandbox's three kinds of app at once: the SCIM app, the
/// GitHub-shaped REST app and the browser-only legacy app. A signed HR webhook naming a leaver
/// takes their access away in all three (read back from the apps themselves, not from
/// Steward's journal); SIGTERM in the middle of an apply leaves every action with an outcome or
/// an in-doubt intent, and a restart finishes the work.
@Suite("steward serve on three kinds of app", .serialized,
       .enabled(if: BrowserAvailability.enabled, "Chromium is not installed and STEWARD_REQUIRE_CHROMIUM is unset"))
struct ServeThreeAppsTests {
    @Test func aSignedWebhookTakesALeaverOutOfEveryAppAndSIGTERMMidApplyLosesNothing() async throws {
        let folder = try ThreeAppFolder()
        defer { folder.cleanup() }
        try folder.hr(ThreeAppFolder.people.mapValues { _ in "active" })
        try folder.converge()
        // GitHub invites by e-mail; the invitees accept, so its side is real members.
        var logins: [String: String] = [:]
        for (id, email) in ThreeAppFolder.people { logins[id] = try #require(await folder.invitedLogin(email), "\(email) invited to GitHub") }
        try await folder.github("POST", "/_sandbox/invitations/accept")
        try folder.converge()
        for (id, email) in ThreeAppFolder.people {
            #expect(try await folder.scimActive(email) == true, "\(email) in the SCIM app")
            #expect(try await folder.githubHas(logins[id] ?? ""), "\(email) in the GitHub org")
            #expect(try await folder.legacyEnabled(email) == true, "\(email) in the legacy app")
        }

        let service = try ServiceProcess(in: folder.dir)
        defer { service.kill() }
        let base = try #require(service.baseURL)
        // The service's first sync, at start, has run: from here only the webhook acts.
        try await eventually { () async throws -> Bool? in
            let health = try await HTTP.get(base + "/healthz")
            return health.status == 200 && !health.json["lastSync"].isNull ? true : nil
        }

        // E3 leaves; the webhook names E3 and nothing else.
        try folder.hr(ThreeAppFolder.people.mapValues { _ in "active" }.merging(["E3": "terminated"]) { $1 })
        let (body, headers) = folder.signedHook(["E3"])
        let accepted = try await HTTP.post(base + "/hooks/source", body: body, headers: headers)
        #expect(accepted.status == 202, "\(accepted.text)")
        let cy = try #require(ThreeAppFolder.people["E3"])
        try await eventually(timeout: .seconds(120)) { () async throws -> Bool? in
            let scim = try await folder.scimActive(cy), legacy = try await folder.legacyStatus(cy)
            let github = try await folder.githubHas(logins["E3"] ?? "")
            return scim == false && legacy == "disabled" && !github ? true : nil
        }
        let hooked = try folder.events("webhook.received").filter { $0["data"]["result"] == "accepted" }
        #expect(hooked.count == 1 && hooked.first?["data"]["people"] == ["E3"], "\(hooked)")
        for id in ["E1", "E2", "E4", "E5", "E6"] {
            let email = try #require(ThreeAppFolder.people[id])
            let scim = try await folder.scimActive(email), legacy = try await folder.legacyEnabled(email)
            #expect(scim == true && legacy == true, "\(id) keeps their access")
        }
        // The same request again is a replay: refused and journaled, nothing done.
        let replayed = try await HTTP.post(base + "/hooks/source", body: body, headers: headers)
        #expect(replayed.status == 401)
        let unsigned = try await HTTP.post(base + "/hooks/source", body: body, headers: [:])
        #expect(unsigned.status == 401)
        let stale = folder.signedHook(["E3"], at: Int(Date().timeIntervalSince1970) - 3600)
        #expect(try await HTTP.post(base + "/hooks/source", body: stale.body, headers: stale.headers).status == 401)
        let refused = try await eventually { () throws -> [JSONValue]? in
            let r = try folder.events("webhook.received").filter { $0["data"]["result"] == "refused" }
            return r.count == 3 ? r : nil
        }
        #expect(refused.allSatisfy { !($0["data"]["reason"].stringValue ?? "").isEmpty })

        // Four more leave at once. The legacy app takes one action at a time: SIGTERM as soon
        // as it shows the first of them disabled, usually with the others not started.
        let leavers = ["E1", "E4", "E5", "E6"]
        try folder.hr(ThreeAppFolder.people.mapValues { _ in "active" }.merging((leavers + ["E3"]).map { ($0, "terminated") }) { $1 })
        let second = folder.signedHook(leavers)
        #expect(try await HTTP.post(base + "/hooks/source", body: second.body, headers: second.headers).status == 202)
        try await eventually(timeout: .seconds(120)) { () async throws -> Bool? in
            for id in leavers where try await folder.legacyEnabled(ThreeAppFolder.people[id] ?? "") == false { return true }
            return nil
        }
        let stopped = Date()
        #expect(service.terminate() == 0, "serve exits 0 on SIGTERM")
        #expect(Date().timeIntervalSince(stopped) < 10, "and within 10 s")
        // Every intent has an outcome. (Whether any action was still unstarted depends on the
        // machine's speed here; ServeTests stops an apply with a write in flight for certain.)
        #expect(try folder.intentsWithoutOutcome().isEmpty)
        let skipped = try folder.events("action.outcome").filter { $0["data"]["result"] == "skipped" }
        #expect(skipped.allSatisfy { $0["data"]["note"].stringValue?.contains("stopping") == true }, "\(skipped)")
        #expect(try folder.steward(["audit", "verify"]).code == 0)

        // A restart settles what was in doubt and finishes the leavers.
        let again = try ServiceProcess(in: folder.dir)
        defer { again.kill() }
        try #require(again.baseURL != nil)
        for id in leavers {
            let email = try #require(ThreeAppFolder.people[id])
            try await eventually(timeout: .seconds(120)) { () async throws -> Bool? in
                let scim = try await folder.scimActive(email), legacy = try await folder.legacyStatus(email)
                let github = try await folder.githubHas(logins[id] ?? "")
                return scim == false && legacy == "disabled" && !github ? true : nil
            }
        }
        let e2 = try #require(ThreeAppFolder.people["E2"])
        let e2SCIM = try await folder.scimActive(e2), e2Legacy = try await folder.legacyEnabled(e2)
        #expect(e2SCIM == true && e2Legacy == true, "E2 kept their access")
        #expect(again.terminate() == 0)
        #expect(try folder.intentsWithoutOutcome().isEmpty, "the restart settled every intent")
        #expect(try folder.journalIntact())
    }
}

/// A Steward folder on a sandbox running all three apps, with everyone in Engineering holding a
/// role in each.
final class ThreeAppFolder: StewardFolder, @unchecked Sendable {  // set in init, then only read
    let sandbox: TestSandbox
    static let people = ["E1": "ann@example.com", "E2": "bo@example.com", "E3": "cy@example.com", "E4": "di@example.com",
                         "E5": "ed@example.com", "E6": "flo@example.com"]
    static let secret = "three-app-webhook-secret-0123456789"

    override init() throws {
        // Some latency, so that an apply lasts long enough to be stopped in the middle.
        sandbox = try TestSandbox(["--scim", "--github", "--legacy", "--seed", "7", "--latency-ms", "40"])
        let scim = try sandbox.url(of: "scim"), github = try sandbox.url(of: "github"), legacy = try sandbox.url(of: "legacy")
        try super.init()
        try write("sandbox.token", sandbox.token + "\n")
        try write("checkpoint.key", "three-app-checkpoint-key-0123456789\n")
        try write("webhook.secret", Self.secret + "\n")
        try write("steward.json", """
            {
              state: ".steward",
              checkpointKey: "file:checkpoint.key",
              serve: { webhookSecret: "file:webhook.secret", schedule: { sync: "1h", apply: "auto" } },
              source: { plugin: "file", settings: { path: "hr.csv" }, maxShrinkPercent: 50 },
              apps: [
                { id: "crm", plugin: "scim", mode: "enforce", settings: { baseURL: "\(scim)", roleTiers: ["Admin", "User", "Viewer"] },
                  secrets: { token: "file:sandbox.token" }, correlate: ["employeeNumber", "email", "userName"],
                  deprovision: { action: "disable", maxPercent: 100 } },
                { id: "github", plugin: "rest", mode: "enforce", settings: { definition: "github", baseURL: "\(github)", org: "acme" },
                  secrets: { token: "file:sandbox.token" }, correlate: ["email", "userName"],
                  deprovision: { action: "delete", maxPercent: 100 } },
                { id: "legacy", plugin: "browser", mode: "enforce", settings: { recipe: "legacy", baseURL: "\(legacy)", username: "admin" },
                  secrets: { password: "file:sandbox.token" }, correlate: ["email", "userName"],
                  deprovision: { action: "disable", maxPercent: 100 }, limits: { concurrency: 1 } },
              ],
              policies: [
                { id: "engineering", when: { department: ["Engineering"] },
                  grant: [ { app: "crm", entitlements: ["role:Viewer"] }, { app: "github", entitlements: ["role:member"] },
                           { app: "legacy", entitlements: ["role:Viewer"] } ] },
              ],
            }
            """)
    }

    /// Writes the HR export with everyone in Engineering and the given statuses.
    func hr(_ statuses: [String: String]) throws {
        try hr(statuses.keys.sorted().map { id in (id, Self.people[id] ?? "", "Engineering", "Engineer", statuses[id] ?? "active") })
    }

    /// A signed `POST /hooks/source` body and headers naming `people`.
    func signedHook(_ people: [String], at timestamp: Int = Int(Date().timeIntervalSince1970)) -> (body: [UInt8], headers: [String: String]) {
        let body = JSONWriter.bytes(["people": .array(people.map(JSONValue.string))])
        let signature = WebhookVerifier.signature(secret: Array(Self.secret.utf8), timestamp: timestamp, body: body)
        return (body, ["X-Steward-Timestamp": String(timestamp), "X-Steward-Signature": signature])
    }

    /// Action keys journaled as intents with neither an outcome nor a resolution.
    func intentsWithoutOutcome() throws -> Set<String> {
        let intents = Set(try events("action.intent").compactMap { $0["data"]["key"].stringValue })
        let settled = Set(try (events("action.outcome") + events("action.resolved")).compactMap { $0["data"]["key"].stringValue })
        return intents.subtracting(settled)
    }

    // MARK: The apps, read directly

    @discardableResult
    func github(_ method: String, _ path: String) async throws -> JSONValue {
        let (_, data) = try await sandbox.send(method, try sandbox.url(of: "github") + path, contentType: nil)
        return data.isEmpty ? .null : try JSONParser.parse(data)
    }

    /// The login of the GitHub user an open invitation to `email` is for.
    func invitedLogin(_ email: String) async throws -> String? {
        let state = try await github("GET", "/_sandbox/state")
        return (state["invitations"].arrayValue ?? []).first { $0["email"].stringValue?.lowercased() == email }?["login"].stringValue
    }

    /// Whether `login` is a member of the org or has an invitation open.
    func githubHas(_ login: String) async throws -> Bool {
        let state = try await github("GET", "/_sandbox/state")
        let members = (state["members"].arrayValue ?? []) + (state["invitations"].arrayValue ?? [])
        return members.contains { $0["login"].stringValue == login }
    }

    func scimActive(_ email: String) async throws -> Bool? {
        let (_, data) = try await sandbox.send("GET", try sandbox.url(of: "scim") + "/Users?count=1000", contentType: nil)
        let users = try JSONParser.parse(data)["Resources"].arrayValue ?? []
        let user = users.first { u in
            u["userName"].stringValue?.lowercased() == email || (u["emails"].arrayValue ?? []).contains { $0["value"].stringValue?.lowercased() == email }
        }
        return user?["active"].boolValue
    }

    func legacyStatus(_ email: String) async throws -> String? {
        let (_, data) = try await sandbox.send("GET", try sandbox.url(of: "legacy") + "/_state", contentType: nil)
        return (try JSONParser.parse(data)["users"].arrayValue ?? []).first { $0["email"].stringValue?.lowercased() == email }?["status"].stringValue
    }

    /// Whether the legacy app's account for `email` can be used (active, or invited and not
    /// yet signed in); nil when there is none.
    func legacyEnabled(_ email: String) async throws -> Bool? {
        try await legacyStatus(email).map { $0 == "active" || $0 == "invited" }
    }

    func cleanup() {
        sandbox.stop()
        remove()
    }
}
