import Foundation
import StewardProtocol
import StewardTestSupport
import Testing

/// Shadow-app discovery through the binary: discovery sources synced by `steward sync`,
/// matched to the shipped vendor catalogue, and reported by `steward discover`.
@Suite("shadow-app discovery", .serialized)
struct ShadowDiscoveryTests {
    static let now = ["STEWARD_NOW": "2026-12-01T09:00:00Z"]

    /// Ann and Cy work here; Bo left on 2026-10-31.
    static let hr = """
        employee_id,email,first_name,last_name,department,title,status,end_date
        E1,ann@example.com,Ann,Lee,Engineering,Engineer,active,
        E2,bo@example.com,Bo,Ng,Sales,Account Executive,terminated,2026-10-31
        E3,cy@example.com,Cy,Park,Sales,Account Executive,active,
        """

    static let expenses = """
        date,vendor,description,amount,currency,employee_email
        2026-09-03,ZOOM.US 888-799-9666,Pro plan,14.99,USD,ann@example.com
        2026-10-03,ZOOM.US 888-799-9666,Pro plan,14.99,USD,ann@example.com
        2026-10-05,SQ *NOTION LABS,,96.00,USD,bo@example.com
        2026-11-05,SQ *NOTION LABS,,96.00,USD,cy@example.com
        2026-11-07,FIGMA* MONTHLY,,45.00,USD,
        2026-11-08,UBER *TRIP HELP.UBER.COM,,23.10,USD,cy@example.com
        2026-11-09,ACME WIDGET CO,Widgets,310.00,USD,cy@example.com
        """

    /// Google's token audit activity (Admin SDK Reports API, applicationName=token).
    static let oauth = """
        {"kind": "admin#reports#activities", "items": [
          {"id": {"time": "2026-11-20T10:15:00.000Z", "applicationName": "token"},
           "actor": {"email": "bo@example.com", "profileId": "1"},
           "events": [{"type": "auth", "name": "authorize", "parameters": [
             {"name": "client_id", "value": "1234.apps.googleusercontent.com"},
             {"name": "app_name", "value": "Notion"},
             {"name": "scope", "multiValue": ["openid", "email"]}]}]},
          {"id": {"time": "2026-11-02T08:00:00.000Z", "applicationName": "token"},
           "actor": {"email": "ann@example.com", "profileId": "2"},
           "events": [{"type": "auth", "name": "authorize", "parameters": [
             {"name": "client_id", "value": "99.apps.googleusercontent.com"},
             {"name": "app_name", "value": "Miro"}]}]}
        ]}
        """

    func folder(expenses: String = ShadowDiscoveryTests.expenses) throws -> StewardFolder {
        let folder = try StewardFolder()
        try folder.write("hr.csv", Self.hr)
        try folder.write("expenses.csv", expenses)
        try folder.write("oauth.json", Self.oauth)
        try folder.write("steward.json", """
            {
              source: { plugin: "file", settings: { path: "hr.csv" } },
              apps: [],
              discovery: [
                { id: "cards", plugin: "file", settings: { kind: "expenses", path: "expenses.csv" } },
                { id: "google-oauth", plugin: "file", settings: { kind: "oauth-grants", path: "oauth.json" } },
              ],
            }
            """)
        return folder
    }

    @Test func expensesAndOAuthGrantsBecomeShadowAppsAndALeaversGrantIsUrgent() throws {
        let folder = try folder()
        defer { folder.remove() }
        let sync = try folder.steward(["sync"], environment: Self.now)
        #expect(sync.code == 0, "\(sync.out)\(sync.err)")
        #expect(sync.out.contains("cards: 7 records") && sync.out.contains("google-oauth: 2 records"), "\(sync.out)")
        #expect(try folder.events("usage.observed").count >= 6)

        let run = try folder.steward(["discover", "--json"], environment: Self.now)
        #expect(run.code == 0, "\(run.err)")
        let findings = try JSONParser.parse(run.out)["findings"].arrayValue ?? []
        // Bo left on 2026-10-31 and granted Notion access on 2026-11-20: first, and urgent.
        let urgent = try #require(findings.first, "\(run.out)")
        #expect(urgent["kind"] == "leftover" && urgent["person"] == "E2" && urgent["app"] == "Notion" && urgent["urgent"] == true, "\(urgent)")
        #expect(urgent["summary"].stringValue?.contains("20 days after leaving") == true, "\(urgent)")

        func shadow(_ name: String) -> JSONValue? { findings.first { $0["kind"] == "shadow" && $0["app"].stringValue == name } }
        let notion = try #require(shadow("Notion"), "\(run.out)")
        let users = notion["users"].arrayValue ?? []
        #expect(users.compactMap { $0["person"].stringValue }.sorted() == ["E2", "E3"], "\(notion)")
        #expect(users.first { $0["person"] == "E2" }?["hasLeft"] == true)
        #expect(notion["monthlyCost"].doubleValue == 96, "one charge in October, one in November: 96 a month")
        #expect(notion["firstSeen"] == "2026-10-05" && notion["lastSeen"] == "2026-11-20")
        #expect((notion["evidence"].arrayValue ?? []).contains { $0.stringValue?.contains("expenses.csv:4") == true }, "\(notion)")
        #expect(shadow("Zoom")?["monthlyCost"].doubleValue == 14.99)
        #expect(shadow("Figma") != nil && shadow("Miro") != nil)
        // Unknown vendors are listed, never dropped; card noise is not software.
        let unknown = try #require(findings.first { $0["kind"] == "shadow" && $0["summary"].stringValue?.contains("unknown app") == true }, "\(run.out)")
        #expect(unknown["app"].stringValue?.lowercased().contains("acme widget") == true, "\(unknown)")
        #expect(!findings.contains { $0["app"].stringValue?.lowercased().contains("uber") == true })

        let text = try folder.steward(["discover", "--kind", "shadow"], environment: Self.now)
        #expect(text.out.contains("Apps in use that Steward does not manage") && text.out.contains("user bo@example.com (E2, left)"), "\(text.out)")
        let status = try folder.steward(["status"], environment: Self.now)
        #expect(status.out.contains("1 leftover") && status.out.contains("shadow"), "\(status.out)")
        #expect(status.out.contains("cards: discovery source — "), "\(status.out)")

        // The report, in each format.
        #expect(try folder.steward(["report", "discovery", "--format", "html", "--out", "d.html"], environment: Self.now).code == 0)
        let html = try String(contentsOf: folder.dir.appendingPathComponent("d.html"), encoding: .utf8)
        #expect(html.contains("Apps in use that Steward does not manage") && html.contains("<b>URGENT</b>") && html.contains("bo@example.com (E2, left)"))
        #expect(!html.contains("<script"))
        #expect(try folder.steward(["report", "discovery", "--format", "csv", "--out", "d.csv"], environment: Self.now).code == 0)
        let csv = try String(contentsOf: folder.dir.appendingPathComponent("d.csv"), encoding: .utf8)
        #expect(csv.contains("status,kind,urgent,app") && csv.contains("open,shadow,,Notion"), "\(csv)")
        let badFormat = try folder.steward(["report", "discovery", "--format", "pdf", "--out", "d.pdf"], environment: Self.now)
        #expect(badFormat.code == 2 && badFormat.err.contains("expected html, csv or json"))

        // A second sync of the same exports journals no usage change.
        let before = try folder.events("usage.observed").count
        #expect(try folder.steward(["sync"], environment: Self.now).code == 0)
        #expect(try folder.events("usage.observed").count == before)
    }

    /// A user catalogue (`vendorCatalogue`) adds a vendor the shipped one lacks; a bad one is
    /// named with its file.
    @Test func aUserCatalogueNamesAnUnknownMerchant() throws {
        let folder = try folder()
        defer { folder.remove() }
        try folder.write("vendors.json", #"{"vendors": [{"name": "Acme Widgets", "descriptors": ["ACME WIDGET"], "category": "analytics"}]}"#)
        let config = try String(contentsOf: folder.dir.appendingPathComponent("steward.json"), encoding: .utf8)
        try folder.write("steward.json", config.replacingOccurrences(of: "apps: [],", with: #"apps: [], vendorCatalogue: "vendors.json","#))
        #expect(try folder.steward(["sync"], environment: Self.now).code == 0)
        let findings = try JSONParser.parse(try folder.steward(["discover", "--json", "--kind", "shadow"], environment: Self.now).out)["findings"].arrayValue ?? []
        #expect(findings.contains { $0["app"] == "Acme Widgets" && $0["category"] == "analytics" }, "\(findings.map { $0["app"] })")
        #expect(!findings.contains { $0["summary"].stringValue?.contains("unknown app") == true })

        try folder.write("vendors.json", #"{"vendors": [{"domains": ["x.com"]}]}"#)
        let bad = try folder.steward(["sync"], environment: Self.now)
        #expect(bad.code == 1 && bad.out.contains("vendors.json") && bad.out.contains("name is required"), "\(bad.out)\(bad.err)")
    }

    @Test func aBadExportIsReportedWithFileLineAndFieldAndNothingOfItIsImported() throws {
        let folder = try folder()
        defer { folder.remove() }
        #expect(try folder.steward(["sync"], environment: Self.now).code == 0)
        let usageBefore = try folder.events("usage.observed").count

        // A bad date on line 3 and a bad amount on line 4: the whole file is refused.
        try folder.write("expenses.csv", """
            date,vendor,description,amount,currency,employee_email
            2026-11-03,SLACK T01ABC,,8.75,USD,ann@example.com
            2026-13-40,ZOOM.US,,14.99,USD,ann@example.com
            2026-11-04,FIGMA,,twelve,USD,ann@example.com
            """)
        let run = try folder.steward(["sync"], environment: Self.now)
        #expect(run.code == 1)
        #expect(run.out.contains("expenses.csv: line 3: date: \"2026-13-40\" is not a date"), "\(run.out)")
        #expect(run.out.contains("expenses.csv: line 4: amount: \"twelve\" is not an amount"), "\(run.out)")
        #expect(run.out.contains("google-oauth: 2 records"), "the other source is read: \(run.out)")
        #expect(try folder.events("discovery.sync-failed").count == 1)
        // Slack, on the good line 2, was not imported: nothing of the file is.
        #expect(try folder.events("usage.observed").count == usageBefore)
        let findings = try JSONParser.parse(try folder.steward(["discover", "--json"], environment: Self.now).out)["findings"].arrayValue ?? []
        #expect(!findings.contains { $0["app"] == "Slack" })
        #expect(findings.contains { $0["app"] == "Zoom" }, "what was known from the source stays")

        // A broken line (a field too many, an unclosed quote) is named, and nothing is read.
        try folder.write("expenses.csv", "date,vendor,description,amount,currency,employee_email\n2026-11-03,SLACK,,8.75,USD,ann@example.com\n2026-11-04,ZOOM,,1,USD,ann@example.com,extra\n")
        let broken = try folder.steward(["sync", "--app", "cards"], environment: Self.now)
        #expect(broken.code == 1 && broken.out.contains("expenses.csv: line 3: 7 fields, but the header has 6; nothing was read"), "\(broken.out)")
        try folder.write("expenses.csv", "date,vendor,description,amount,currency,employee_email\n2026-11-03,\"SLACK,,8.75,USD,ann@example.com\n")
        let unclosed = try folder.steward(["sync", "--app", "cards"], environment: Self.now)
        #expect(unclosed.code == 1 && unclosed.out.contains("expenses.csv: line 2: a quoted field is never closed"), "\(unclosed.out)")
        #expect(try folder.events("usage.observed").count == usageBefore)

        // A missing column is one error naming the column.
        try folder.write("expenses.csv", "date,merchant,amount\n2026-11-03,SLACK,8.75\n")
        let missing = try folder.steward(["sync", "--app", "cards"], environment: Self.now)
        #expect(missing.code == 1)
        #expect(missing.out.contains("expenses.csv: line 1: vendor: column missing"), "\(missing.out)")
        #expect(!missing.out.contains("google-oauth"), "--app syncs only the source named")

        // The column mapping reads another layout.
        try folder.write("steward.json", """
            {
              source: { plugin: "file", settings: { path: "hr.csv" } },
              discovery: [
                { id: "cards", plugin: "file", settings: { kind: "expenses", path: "expenses.csv", columns: { vendor: "merchant" }, currency: "EUR" } },
              ],
            }
            """)
        let mapped = try folder.steward(["sync", "--app", "cards"], environment: Self.now)
        #expect(mapped.code == 0, "\(mapped.out)\(mapped.err)")
        let slack = try JSONParser.parse(try folder.steward(["discover", "--json", "--kind", "shadow"], environment: Self.now).out)["findings"]
            .arrayValue?.first { $0["app"] == "Slack" }
        #expect(slack?["currency"] == "EUR", "\(String(describing: slack))")
    }
}

/// The other export layouts: Entra sign-ins and permission grants as Graph returns them, an IdP
/// assignment CSV, and a browser-domain export.
@Suite("discovery export layouts", .serialized)
struct DiscoveryLayoutTests {
    @Test func entraSignInsGrantsAssignmentsAndBrowserDomainsAreRead() throws {
        let folder = try StewardFolder()
        defer { folder.remove() }
        try folder.write("hr.csv", ShadowDiscoveryTests.hr)
        // Graph auditLogs/signIns: a failed sign-in (errorCode 50126) is not use.
        try folder.write("signins.json", """
            {"@odata.context": "https://graph.microsoft.com/v1.0/$metadata#auditLogs/signIns", "value": [
              {"id": "1", "createdDateTime": "2026-11-25T08:01:02Z", "userPrincipalName": "BO@example.com", "appDisplayName": "Salesforce",
               "appId": "aaaa-1", "status": {"errorCode": 0}},
              {"id": "2", "createdDateTime": "2026-11-26T08:01:02Z", "userPrincipalName": "ann@example.com", "appDisplayName": "Dropbox",
               "appId": "bbbb-2", "status": {"errorCode": 50126, "failureReason": "Invalid username or password."}}
            ]}
            """)
        try folder.write("grants.json", """
            {"value": [
              {"id": "g1", "clientId": "cccc-3", "consentType": "Principal", "principalId": "p1", "resourceId": "r1",
               "scope": "User.Read Files.Read", "clientDisplayName": "Calendly", "userPrincipalName": "cy@example.com"},
              {"id": "g2", "clientId": "dddd-4", "consentType": "AllPrincipals", "principalId": null, "resourceId": "r1",
               "scope": "User.Read", "clientDisplayName": "Loom"}
            ]}
            """)
        try folder.write("assignments.csv", "app,user_email\nAsana,ann+work@example.com\n")
        try folder.write("domains.csv", "domain,user_email,first_seen,last_seen\napp.clickup.com,cy@example.com,2026-10-01,2026-11-30\n")
        try folder.write("steward.json", """
            {
              source: { plugin: "file", settings: { path: "hr.csv" } },
              discovery: [
                { id: "entra-signins", plugin: "file", settings: { kind: "sso-signins", path: "signins.json" } },
                { id: "entra-grants", plugin: "file", settings: { kind: "oauth-grants", path: "grants.json" } },
                { id: "idp", plugin: "file", settings: { kind: "sso-signins", path: "assignments.csv" } },
                { id: "proxy", plugin: "file", settings: { kind: "browser-domains", path: "domains.csv" } },
              ],
            }
            """)
        let now = ShadowDiscoveryTests.now
        let sync = try folder.steward(["sync"], environment: now)
        #expect(sync.code == 0, "\(sync.out)\(sync.err)")
        #expect(sync.out.contains("entra-signins: 1 records"), "the failed sign-in is left out: \(sync.out)")
        let findings = try JSONParser.parse(try folder.steward(["discover", "--json"], environment: now).out)["findings"].arrayValue ?? []
        func shadow(_ name: String) -> JSONValue? { findings.first { $0["kind"] == "shadow" && $0["app"].stringValue == name } }
        // Bo left on 2026-10-31 and signed in to Salesforce on 2026-11-25 (the e-mail's case ignored).
        #expect(findings.first?["kind"] == "leftover" && findings.first?["app"] == "Salesforce" && findings.first?["person"] == "E2", "\(findings.first ?? .null)")
        #expect(shadow("Dropbox") == nil, "a failed sign-in is no evidence")
        #expect(shadow("Calendly")?["users"].arrayValue?.first?["person"] == "E3")
        #expect(shadow("Loom") != nil, "an admin's consent for everyone names no user but is still an app in use")
        #expect(shadow("Asana")?["users"].arrayValue?.first?["person"] == "E1", "plus-addressing folded")
        let clickup = try #require(shadow("ClickUp"), "\(findings.map { $0["app"] })")
        #expect(clickup["firstSeen"] == "2026-10-01" && clickup["lastSeen"] == "2026-11-30")

        // Connecting an app resolves its shadow finding: the app's id names the vendor.
        #expect(try folder.events("finding.opened").contains { $0["subjects"]["app"] == "Asana" })
        let config = try String(contentsOf: folder.dir.appendingPathComponent("steward.json"), encoding: .utf8)
        try folder.write("steward.json", config.replacingOccurrences(of: "discovery: [", with: """
            apps: [ { id: "asana", plugin: "scim", mode: "observe", settings: { baseURL: "http://127.0.0.1:9/scim/v2" } } ],
              discovery: [
            """))
        let resync = try folder.steward(["sync", "--app", "idp"], environment: now)
        #expect(resync.code == 0, "\(resync.out)\(resync.err)")
        let resolved = try folder.events("finding.resolved")
        #expect(resolved.contains { $0["subjects"]["app"] == "Asana" && $0["data"]["resolution"] == "connected" }, "\(resolved)")
    }
}
