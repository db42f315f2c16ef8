import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import StewardHost
import StewardProtocol

/// The demo's config and app seeding.
enum DemoConfig {
    /// The GitHub-shaped app joins the demo once its people can be invited by email.
    static let demoIncludesGitHub = true

    struct App {
        var id: String
        var json: String
    }

    /// The sandbox CRM's sign-in extension (see the sandbox's SCIM schemas).
    static let activityURN = "urn:steward:params:scim:schemas:extension:sandbox-activity:2.0:User"

    /// The plugins the demo's config names.
    static let plugins = ["file", "scim", "rest", "browser"]

    /// Fails, naming what is missing, where it looked and how to fix it, unless every plugin the
    /// demo uses is installed.
    static func requirePlugins(_ registry: PluginRegistry) throws {
        let missing = plugins.filter { registry.manifest(named: $0) == nil }
        guard missing.isEmpty else {
            throw WorkspaceError(message: "the demo needs the \(missing.joined(separator: ", ")) plugin\(missing.count == 1 ? "" : "s"), not found in \(registry.searchPath.map(\.path).joined(separator: ", ")). Install Steward with `steward install --prefix DIR` (from a build: `swift build -c release && .build/release/steward install --prefix DIR`) and run DIR/bin/steward, or set STEWARD_PLUGIN_PATH to the folder holding the plugins")
        }
        for name in plugins {
            guard let manifest = registry.manifest(named: name), manifest.resolvedCommand() != nil else {
                throw WorkspaceError(message: "the \(name) plugin's program \(registry.manifest(named: name)?.command.first ?? "") is not beside steward nor on PATH; build it (`swift build`) or install Steward with `steward install`")
            }
        }
    }

    /// The apps the sandbox offers and this build has a connector for.
    /// `crmOwner` (an e-mail) reviews the CRM's access in the demo's campaign.
    static func apps(sandbox: SandboxProcess, registry: PluginRegistry, crmOwner: String, browserPages: Int? = nil) -> [App] {
        var apps: [App] = []
        if let scim = sandbox.apps["scim"], registry.manifest(named: "scim") != nil {
            apps.append(App(id: "crm", json: """
                    { id: "crm", plugin: "scim", mode: "enforce", owner: "\(crmOwner)", privileged: ["role:Admin"],
                      settings: { baseURL: "\(scim)", roleTiers: ["Admin", "User", "Viewer"],
                                  attributeMapping: { lastLoginAt: "\(activityURN):lastLoginAt" } },
                      dormantAfterDays: 60, licence: { entitlement: "role:User", monthlyCost: 35, currency: "USD" },
                      secrets: { token: "file:sandbox.token" },
                      correlate: ["employeeNumber", "email", "userName"],
                      deprovision: { action: "disable", deleteAfterDays: 30, maxPercent: 10 } }
                """))
        }
        if let github = sandbox.apps["github"], registry.manifest(named: "rest") != nil, demoIncludesGitHub {
            apps.append(App(id: "github", json: """
                    { id: "github", plugin: "rest", mode: "enforce",
                      settings: { definition: "github", baseURL: "\(github)", org: "acme" },
                      secrets: { token: "file:sandbox.token" },
                      correlate: ["email", "userName"],
                      deprovision: { action: "delete", maxPercent: 10 } }
                """))
        }
        if let legacy = sandbox.apps["legacy"], registry.manifest(named: "browser") != nil {
            apps.append(App(id: "legacy", json: """
                    { id: "legacy", plugin: "browser", mode: "enforce",
                      settings: { recipe: "legacy", baseURL: "\(legacy)", username: "admin"\(browserPages.map { ", pages: \($0)" } ?? "") },\(browserPages.map { " limits: { concurrency: \($0) }," } ?? "")
                      secrets: { password: "file:sandbox.token" },
                      correlate: ["email", "userName"],
                      deprovision: { action: "disable", maxPercent: 10 } }
                """))
        }
        return apps
    }

    static func text(apps: [App]) -> String {
        let ids = Set(apps.map(\.id))
        var everyone: [String] = []
        if ids.contains("crm") { everyone.append(#"{ app: "crm", entitlements: ["role:Viewer"] }"#) }
        var engineering: [String] = []
        if ids.contains("crm") { engineering.append(#"{ app: "crm", entitlements: ["group:engineering"] }"#) }
        if ids.contains("github") { engineering.append(#"{ app: "github", entitlements: ["role:member", "team:engineering"] }"#) }
        var leads: [String] = []
        if ids.contains("crm") { leads.append(#"{ app: "crm", entitlements: ["role:Admin"] }"#) }
        if ids.contains("github") { leads.append(#"{ app: "github", entitlements: ["role:admin"] }"#) }
        var salesRole: [String] = []
        if ids.contains("crm") { salesRole.append(#"{ app: "crm", entitlements: ["role:User", "group:sales"] }"#) }
        if ids.contains("github") { salesRole.append(#"{ app: "github", entitlements: ["role:member", "team:sales-engineering"] }"#) }
        var support: [String] = []
        if ids.contains("crm") { support.append(#"{ app: "crm", entitlements: ["group:support"] }"#) }
        // The browser-driven app is slow to drive, so only a few people use it: finance, and the
        // senior engineers who approve its changes (one of them leaves in round 2).
        var seniorEngineers: [String] = []
        if ids.contains("legacy") { seniorEngineers.append(#"{ app: "legacy", entitlements: ["role:Viewer", "group:Engineering"] }"#) }
        var finance: [String] = []
        if ids.contains("legacy") { finance.append(#"{ app: "legacy", entitlements: ["role:Editor", "group:Finance"] }"#) }

        var policies: [String] = []
        if !everyone.isEmpty { policies.append(#"{ id: "everyone", when: {}, grant: [\#(everyone.joined(separator: ", "))] }"#) }
        if !salesRole.isEmpty { policies.append(#"{ id: "sales", when: { department: ["Sales"] }, roles: ["sales-rep"] }"#) }
        if !engineering.isEmpty { policies.append(#"{ id: "engineering", when: { department: ["Engineering"] }, grant: [\#(engineering.joined(separator: ", "))] }"#) }
        if !leads.isEmpty { policies.append(#"{ id: "eng-leads", when: { department: ["Engineering"], title: { prefix: "Lead" } }, grant: [\#(leads.joined(separator: ", "))] }"#) }
        if !support.isEmpty { policies.append(#"{ id: "support", when: { department: ["Support"] }, grant: [\#(support.joined(separator: ", "))] }"#) }
        if !seniorEngineers.isEmpty { policies.append(#"{ id: "senior-engineers", when: { department: ["Engineering"], title: { prefix: "Senior" } }, grant: [\#(seniorEngineers.joined(separator: ", "))] }"#) }
        if !finance.isEmpty { policies.append(#"{ id: "finance", when: { department: ["Finance"] }, grant: [\#(finance.joined(separator: ", "))] }"#) }
        // The quarterly review `steward demo` runs: managers first, then the CRM's owner; items
        // without an independent reviewer go to the security group.
        let review = """
              reviewerGroups: { security: ["\(DemoReview.security)"] },
              reviews: [
                { id: "\(DemoReview.reviewId)", description: "Everything in the CRM, every quarter: managers, then the app owner",
                  scope: { apps: ["crm"], include: ["access", "orphans"] },
                  stages: [ { reviewer: "manager", days: 9 }, { reviewer: "appOwner" } ],
                  fallback: "group:security", days: 14, reminders: { before: [3, 1], overdueEvery: 1 },
                  remediate: "atClose", every: "quarter" },
                { id: "\(DemoReview.openReviewId)", description: "Admins of the CRM, for `steward demo --serve`: stays open for the link",
                  scope: { apps: ["crm"], include: ["access"] },
                  stages: [ { reviewer: "manager" } ], fallback: "group:security", days: 14, chatButtons: "unprivileged" },
              ],
            """
        return """
            // Written by `steward demo`. Paths are relative to this file.
            {
              state: ".steward",
              checkpointKey: "file:checkpoint.key",
              // `steward serve` (or `steward demo --serve`): links and the HR webhook are signed
              // with the files beside this one.
              serve: { listen: "127.0.0.1:8470", linkKey: "file:link.key", webhookSecret: "file:webhook.secret",
                       schedule: { sync: "15m", apply: "auto" } },
              source: { plugin: "file", settings: { path: "hr.csv" }, maxShrinkPercent: 20 },
              // Evidence of apps in use that nobody connected: `steward discover --kind shadow`.
              discovery: [
                { id: "cards", plugin: "file", settings: { kind: "expenses", path: "expenses.csv" } },
                { id: "google-oauth", plugin: "file", settings: { kind: "oauth-grants", path: "google-oauth.json" } },
              ],
              // Dormant seats and orphans are listed in plans for review; leavers are disabled by the rules.
              findings: { dormant: "review", orphan: "review" },
              apps: [
            \(apps.map(\.json).joined(separator: ",\n"))
              ],
              roles: { "sales-rep": [\(salesRole.joined(separator: ", "))] },
              policies: [
                \(policies.joined(separator: ",\n    "))
              ],
            \(ids.contains("crm") ? review : "")
            }

            """
    }

    /// Creates the SCIM app's groups, an account nobody provisioned for a future leaver, and an
    /// orphan.
    static func seedSCIM(baseURL: String, token: String, world: DemoWorld, futureLeaver: String?) async throws {
        for group in ["engineering", "sales", "support"] {
            try await post(baseURL + "/Groups", token: token, body: [
                "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": .string(group),
            ])
        }
        var users: [(String, String)] = [("contractor.zed@example.com", "Zed Contractor")]
        if let id = futureLeaver, let p = world.person(id) { users.append((p.email, p.fullName ?? p.email)) }
        for (email, name) in users {
            try await post(baseURL + "/Users", token: token, body: [
                "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": .string(email), "displayName": .string(name),
                "emails": [["value": .string(email), "type": "work", "primary": true]], "active": true,
            ])
        }
    }

    /// GETs a SCIM resource from the sandbox.
    static func get(_ url: String, token: String) async throws -> JSONValue {
        guard let u = URL(string: url) else { throw WorkspaceError(message: "bad URL \(url)") }
        var request = URLRequest(url: u)
        request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization")
        let (data, response) = try await URLSession.shared.data(for: request)
        let status = (response as? HTTPURLResponse)?.statusCode ?? 0
        guard status == 200 else { throw WorkspaceError(message: "reading the sandbox: GET \(url) answered \(status)") }
        return try JSONParser.parse([UInt8](data))
    }

    static func patch(_ url: String, token: String, body: JSONValue) async throws {
        try await post(url, token: token, body: body, method: "PATCH")
    }

    static func post(_ url: String, token: String, body: JSONValue, method: String = "POST") async throws {
        guard let u = URL(string: url) else { throw WorkspaceError(message: "bad URL \(url)") }
        var request = URLRequest(url: u)
        request.httpMethod = method
        request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization")
        request.setValue("application/scim+json", forHTTPHeaderField: "Content-Type")
        request.httpBody = Data(JSONWriter.bytes(body))
        let (_, response) = try await URLSession.shared.data(for: request)
        let status = (response as? HTTPURLResponse)?.statusCode ?? 0
        guard (200..<300).contains(status) || status == 409 else {
            throw WorkspaceError(message: "seeding the sandbox: \(method) \(url) answered \(status)")
        }
    }
}
