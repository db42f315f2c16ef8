import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import StewardCore
import StewardHost
import StewardProtocol
import StewardReports

/// The demo's discovery: what IT never provisioned in the CRM (an old account of a finance
/// person under a former domain, a reporting job's account with Admin, a sales seat nobody
/// uses), and the exports that show apps in use nobody connected: a card export and Google's
/// OAuth token audit, in which the round's leaver grants an app access after leaving.
struct DemoDiscovery {
    let world: DemoWorld
    let directory: URL
    let say: @Sendable (String) -> Void

    /// The finance person whose old account the CRM still has.
    var formerDomainOwner: Person? { world.people.first { $0.department == "Finance" && $0.title == "Accountant" } }
    var salesReps: [Person] { world.people.filter { $0.department == "Sales" && $0.title == "Account Executive" } }

    /// Accounts created in the CRM outside Steward.
    func seedCRM(baseURL: String, token: String) async throws {
        var users: [JSONValue] = []
        if let p = formerDomainOwner, let first = p.firstName, let last = p.lastName {
            let old = "\(first.prefix(1))\(last)".lowercased()
            users.append(["schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": .string(old),
                          "displayName": .string("\(first) \(last)"),
                          "emails": [["value": .string("\(old)@acme-old.example"), "type": "work", "primary": true]], "active": true])
        }
        users.append(["schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "svc-reporting", "displayName": "Reporting job",
                      "roles": [["value": "Admin"]], "active": true])
        for user in users { try await DemoConfig.post(baseURL + "/Users", token: token, body: user) }
    }

    /// Sign-in times for three sales seats (the CRM reports them in an extension): one unused
    /// for 75 days, past the CRM's 60-day dormancy, and two used this week.
    func recordSignIns(baseURL: String, token: String, now: Date) async throws {
        let iso = ISO8601DateFormatter()
        for (i, rep) in salesReps.prefix(3).enumerated() {
            let page = try await DemoConfig.get(baseURL + "/Users?filter=" + ("userName eq \"\(rep.email)\"".addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""), token: token)
            guard let id = page["Resources"].arrayValue?.first?["id"].stringValue else { continue }
            let when = now.addingTimeInterval(-86_400 * (i == 0 ? 75 : Double(i + 1)))
            try await DemoConfig.patch(baseURL + "/Users/" + id, token: token, body: [
                "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                "Operations": [["op": "add", "path": .string(DemoConfig.activityURN + ":lastLoginAt"), "value": .string(iso.string(from: when))]],
            ])
        }
    }

    /// The exports the discovery sources read; `leaver` grants Notion access an hour ago.
    func writeExports(leaver: Person?, now: Date) throws {
        let day = { (daysAgo: Int) in String(ISO8601DateFormatter().string(from: now.addingTimeInterval(-86_400 * Double(daysAgo))).prefix(10)) }
        // Everyone but the leaver, so only the leaver's evidence is about a leaver.
        let people = world.people.filter { $0.id != leaver?.id }
        func email(_ i: Int) -> String { people[i % people.count].email }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC") ?? calendar.timeZone
        var lines = ["date,vendor,description,amount,currency,employee_email"]
        // The 3rd of each of the last three months: one charge a month per subscription.
        for monthsAgo in [3, 2, 1] {
            guard let month = calendar.date(byAdding: .month, value: -monthsAgo, to: now) else { continue }
            var parts = calendar.dateComponents([.year, .month], from: month)
            parts.day = 3
            guard let charged = calendar.date(from: parts) else { continue }
            let d = String(ISO8601DateFormatter().string(from: charged).prefix(10))
            lines.append("\(d),ZOOM.US 888-799-9666,Zoom Pro,15.99,USD,\(email(60))")
            lines.append("\(d),SQ *NOTION LABS,Team plan,96.00,USD,\(leaver?.email ?? email(5))")
            lines.append("\(d),FIGMA* MONTHLY,,45.00,USD,\(email(130))")
            lines.append("\(d),GITHUB,Copilot seats,190.00,USD,\(email(1))")
        }
        lines.append("\(day(12)),UBER *TRIP HELP.UBER.COM,client visit,23.40,USD,\(email(50))")
        lines.append("\(day(9)),BLUEFIN ANALYTICS LLC,dashboards,310.00,USD,\(email(95))")
        lines.append("\(day(8)),AMZN Mktp US*2K4TY,office supplies,54.12,USD,\(email(120))")
        try (lines.joined(separator: "\n") + "\n").write(to: directory.appendingPathComponent("expenses.csv"), atomically: true, encoding: .utf8)

        let iso = ISO8601DateFormatter()
        func grant(_ who: String, _ app: String, _ client: String, _ at: Date, _ name: String = "authorize") -> String {
            """
              {"kind": "admin#reports#activity", "id": {"time": "\(iso.string(from: at))", "applicationName": "token"},
               "actor": {"email": "\(who)"},
               "events": [{"type": "auth", "name": "\(name)", "parameters": [
                 {"name": "app_name", "value": "\(app)"}, {"name": "client_id", "value": "\(client).apps.googleusercontent.com"},
                 {"name": "scope", "multiValue": ["openid", "email", "profile"]}]}]}
            """
        }
        var items = [grant(email(20), "Miro", "4417", now.addingTimeInterval(-86_400 * 20)),
                     grant(email(70), "Calendly", "9901", now.addingTimeInterval(-86_400 * 6))]
        if let leaver { items.append(grant(leaver.email, "Notion", "3082", now.addingTimeInterval(-3_600))) }
        let text = "{\"kind\": \"admin#reports#activities\", \"items\": [\n" + items.joined(separator: ",\n") + "\n]}\n"
        try text.write(to: directory.appendingPathComponent("google-oauth.json"), atomically: true, encoding: .utf8)
    }

    /// What discovery found after the second round, and the report for it.
    func report(configPath: String) async throws -> [String: Int] {
        let ws = try Workspace.open(configPath: configPath, actor: "steward demo")
        do {
            let findings = try await DiscoveryEngine(workspace: ws).findings()
            var counts: [String: Int] = [:]
            for f in findings where f.kind != .licences { counts[f.kind.rawValue, default: 0] += 1 }
            say("open findings: " + counts.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(separator: ", ") + " (steward discover)")
            let state = try ws.state()
            var resolvedLeftovers: [String] = []
            try ws.journal.forEachEvent(from: max(1, state.lastSeq - 2_000)) { e in
                if e.type == EventType.findingResolved, e.data["kind"] == "leftover", let account = e.subjects["account"] {
                    resolvedLeftovers.append("\(e.subjects["app"] ?? "") \(state.apps[e.subjects["app"] ?? ""]?.accounts[account]?.userName ?? account) \(e.data["resolution"].stringValue ?? "")")
                }
                return true
            }
            if !resolvedLeftovers.isEmpty { say("  the leaver's accounts, found at sync and closed by apply: " + resolvedLeftovers.joined(separator: "; ")) }
            if let urgent = findings.first(where: \.urgent) { say("  URGENT \(urgent.summary)") }
            if let orphan = findings.first(where: { $0.kind == .orphan && !$0.candidates.isEmpty }), let best = orphan.candidates.first {
                say("  orphan \(orphan.app) \(orphan.accountName ?? ""): likely \(best.personId) \(best.name ?? best.email) (\(best.reasons.joined(separator: "; ")))")
            }
            for f in findings where f.kind == .dormant {
                say("  dormant \(f.app) \(f.accountName ?? ""): \(f.summary)" + (f.monthlyCost.map { String(format: "; %.2f %@ a month", $0, f.currency ?? "") } ?? ""))
            }
            if let f = findings.first(where: { $0.kind == .privileged }) { say("  privileged \(f.app) \(f.accountName ?? ""): \(f.summary)") }
            if let f = findings.first(where: { $0.kind == .service }) { say("  service \(f.app) \(f.accountName ?? ""): \(f.summary)") }
            for f in findings where f.kind == .shadow { say("  shadow \(f.summary)") }
            let doc = try await DiscoveryReportBuilder(workspace: ws).build()
            let reports = directory.appendingPathComponent("reports")
            try FileManager.default.createDirectory(at: reports, withIntermediateDirectories: true)
            let out = reports.appendingPathComponent("discovery.html")
            try Data(try DiscoveryReport.render(doc, as: .html)).write(to: out)
            say("  report: \(out.path)")
            await ws.close()
            return counts
        } catch {
            await ws.close()
            throw error
        }
    }
}
