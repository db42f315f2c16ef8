import Foundation
import StewardProtocol
import StewardTestSupport
import Testing

/// A Steward folder wired to a sandbox's SCIM app, driven through the real `steward` binary.
final class Lab: StewardFolder, @unchecked Sendable {  // all state is set in init and only read afterwards, except files on disk
    let sandbox: TestSandbox
    let scim: String
    let token: String

    init(sandboxArguments: [String] = [], appJSON: (String) -> String = Lab.crmApp, policies: String = Lab.defaultPolicies,
         groups: [String] = ["engineering", "sales", "support"]) async throws {
        sandbox = try TestSandbox(["--scim", "--seed", "7"] + sandboxArguments)
        scim = try sandbox.url(of: "scim")
        token = sandbox.token
        try super.init()
        try write("sandbox.token", token)
        try write("checkpoint.key", "lab-checkpoint-key-0123456789abcdef")
        try write("steward.json", """
            {
              state: ".steward",
              checkpointKey: "file:checkpoint.key",
              source: { plugin: "file", settings: { path: "hr.csv" }, maxShrinkPercent: 20 },
              apps: [ \(appJSON(scim)) ],
              roles: { "sales-rep": [ { app: "crm", entitlements: ["role:User", "group:sales"] } ] },
              policies: [ \(policies) ],
            }
            """)
        for g in groups {
            _ = try await request("POST", "/Groups", body: ["schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": .string(g)])
        }
    }

    static func crmApp(_ url: String) -> String {
        """
        { id: "crm", plugin: "scim", settings: { baseURL: "\(url)", roleTiers: ["Admin", "User", "Viewer"] },
          secrets: { token: "file:sandbox.token" }, correlate: ["employeeNumber", "email", "userName"],
          deprovision: { action: "disable", deleteAfterDays: 30, maxPercent: 50 } }
        """
    }

    static let defaultPolicies = """
        { id: "everyone", when: {}, grant: [ { app: "crm", entitlements: ["role:Viewer"] } ] },
        { id: "sales", when: { department: ["Sales"] }, roles: ["sales-rep"] },
        { id: "engineering", when: { department: ["Engineering"] }, grant: [ { app: "crm", entitlements: ["group:engineering"] } ] },
        { id: "eng-leads", when: { department: ["Engineering"], title: { prefix: "Lead" } }, grant: [ { app: "crm", entitlements: ["role:Admin"] } ] }
        """

    func cleanup() {
        sandbox.stop()
        remove()
    }

    // MARK: Reading the sandbox directly

    func request(_ method: String, _ path: String, body: JSONValue? = nil) async throws -> (Int, JSONValue) {
        let (status, data) = try await sandbox.send(method, scim + path, body: body, contentType: "application/scim+json")
        return (status, data.isEmpty ? .null : (try? JSONParser.parse(data)) ?? .null)
    }

    /// Every SCIM user (all pages).
    func users() async throws -> [JSONValue] {
        var all: [JSONValue] = []
        var start = 1
        while true {
            let (_, page) = try await request("GET", "/Users?startIndex=\(start)&count=500")
            let items = page["Resources"].arrayValue ?? []
            all += items
            if items.isEmpty || all.count >= page["totalResults"].intValue ?? 0 { return all }
            start += items.count
        }
    }

    func user(email: String) async throws -> JSONValue? {
        try await users().first { $0["userName"].stringValue == email }
    }

    func roles(of user: JSONValue) -> [String] {
        (user["roles"].arrayValue ?? []).compactMap { $0["value"].stringValue }.sorted()
    }

    /// Display names of the groups `user` is a member of (read from the Groups side).
    func groups(of user: JSONValue) async throws -> [String] {
        let id = user["id"].stringValue ?? ""
        let (_, page) = try await request("GET", "/Groups?count=100")
        return (page["Resources"].arrayValue ?? []).filter { g in
            (g["members"].arrayValue ?? []).contains { $0["value"].stringValue == id }
        }.compactMap { $0["displayName"].stringValue }.sorted()
    }
}
