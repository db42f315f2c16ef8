import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import StewardDemo
import StewardHost
import StewardJournal
import StewardProtocol
import Testing

/// A temporary Steward folder driven through the real `steward` binary.
class StewardFolder: @unchecked Sendable {  // all state is set in init and only read afterwards, except files on disk
    let dir: URL

    static var productsDirectory: URL {
        let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        return URL(fileURLWithPath: exe).deletingLastPathComponent()
    }

    static var stewardPath: String { productsDirectory.appendingPathComponent("steward").path }

    init() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("steward-lab-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }

    func write(_ name: String, _ text: String) throws {
        let url = dir.appendingPathComponent(name)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(text.utf8).write(to: url)
    }

    /// Writes the HR export: rows of (id, email, department, title, status).
    func hr(_ rows: [(String, String, String, String, String)]) throws {
        var text = "employee_id,email,first_name,last_name,department,title,status\n"
        for r in rows { text += "\(r.0),\(r.1),F\(r.0),L\(r.0),\(r.2),\(r.3),\(r.4)\n" }
        try write("hr.csv", text)
    }

    struct Run {
        var code: Int32
        var out: String
        var err: String
    }

    /// Runs `steward ARGS` in the folder.
    @discardableResult
    func steward(_ args: [String], environment: [String: String] = [:]) throws -> Run {
        try Lab.steward(args, in: dir, environment: environment)
    }

    /// Runs `steward ARGS` in `dir` and waits for it to exit.
    static func steward(_ args: [String], in dir: URL, environment: [String: String] = [:]) throws -> Run {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: Lab.stewardPath)
        p.arguments = args
        p.currentDirectoryURL = dir
        var env = ProcessInfo.processInfo.environment
        for (k, v) in environment { env[k] = v }
        p.environment = env
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        p.standardInput = FileHandle.nullDevice
        try p.run()
        let o = out.fileHandleForReading.readDataToEndOfFile()
        let e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return Run(code: p.terminationStatus, out: String(decoding: o, as: UTF8.self), err: String(decoding: e, as: UTF8.self))
    }

    /// `steward sync` then `steward apply --yes`, expecting both to succeed.
    func converge(environment: [String: String] = [:]) throws {
        let s = try steward(["sync"], environment: environment)
        #expect(s.code == 0, "sync failed: \(s.out) \(s.err)")
        let a = try steward(["apply", "--yes"], environment: environment)
        #expect(a.code == 0, "apply failed: \(a.out) \(a.err)")
    }

    /// The journal's events of `type`, as `steward audit log` prints them.
    func events(_ type: String) throws -> [JSONValue] {
        let r = try steward(["audit", "log", "--type", type, "--json"])
        return r.out.split(separator: "\n").compactMap { try? JSONParser.parse(String($0)) }
    }

    func journalIntact() throws -> Bool {
        let key = try CheckpointKey.resolve("file:" + dir.appendingPathComponent("checkpoint.key").path, stateDirectory: dir.appendingPathComponent(".steward"))
        return JournalVerifier.verify(directory: dir.appendingPathComponent(".steward/journal"), key: key).intact
    }

    func remove() {
        try? FileManager.default.removeItem(at: dir)
    }
}

/// A Steward folder wired to a sandbox, driven through the real `steward` binary.
final class Lab: StewardFolder, @unchecked Sendable {  // all state is set in init and only read afterwards, except files on disk
    let sandbox: SandboxProcess
    let scim: String
    let token: String

    init(sandboxArguments: [String] = [], appJSON: (String) -> String = Lab.crmApp, policies: String = Lab.defaultPolicies,
         groups: [String] = ["engineering", "sales", "support"]) async throws {
        sandbox = try SandboxProcess.start(arguments: ["--scim", "--seed", "7"] + sandboxArguments,
                                           executable: Lab.productsDirectory.appendingPathComponent("steward-sandbox").path)
        scim = try #require(sandbox.apps["scim"])
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
        let url = try #require(URL(string: scim + path))
        var r = URLRequest(url: url)
        r.httpMethod = method
        r.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization")
        if let body {
            r.setValue("application/scim+json", forHTTPHeaderField: "Content-Type")
            r.httpBody = Data(JSONWriter.bytes(body))
        }
        let (data, response) = try await URLSession.shared.data(for: r)
        let status = (response as? HTTPURLResponse)?.statusCode ?? 0
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
