import Foundation
import StewardHost
import StewardTestSupport
import Testing

/// The real `steward` binary refuses a config whose settings break their plugin's schema, or
/// whose plugin's schema cannot be checked: exit 2, file, line and key path on stderr, and
/// nothing synced, written or sent.
@Suite("Config checks through the binary")
struct ConfigCheckTests {
    /// A folder with an HR file and `config` as steward.json, removed by `cleanup()`.
    struct Folder {
        let directory: TemporaryDirectory

        init(_ config: String) throws {
            directory = try TemporaryDirectory(prefix: "steward-config")
            try write("hr.csv", "employee_id,email\nE1,ann@example.com\n")
            try write("steward.json", config)
        }

        var dir: URL { directory.url }

        func write(_ name: String, _ text: String) throws {
            try directory.write(name, text)
        }

        var nothingWritten: Bool { !FileManager.default.fileExists(atPath: dir.appendingPathComponent(".steward").path) }

        func cleanup() { directory.remove() }
    }

    @Test func aBogusAppSettingExits2NamingFileLineAndPathBeforeAnythingRuns() throws {
        let folder = try Folder("""
            {
              source: { plugin: "file", settings: { path: "hr.csv" } },
              apps: [
                { id: "crm", plugin: "scim", settings: { baseURL: "http://127.0.0.1:9/scim/v2" } },
                { id: "wiki", plugin: "scim",
                  settings: { baseURL: "http://127.0.0.1:9/scim/v2",
                              roleTiers: ["Admin"],
                              bogus: 1 } },
              ],
            }
            """)
        defer { folder.cleanup() }
        for command in [["sync"], ["plan"], ["apply", "--yes"]] {
            let run = try Lab.steward(command, in: folder.dir)
            #expect(run.code == 2, "\(command): \(run.err)")
            #expect(run.err.hasPrefix("steward: steward.json:8: apps[1].settings.bogus: not allowed by the scim plugin's settings schema"),
                    "\(command): \(run.err)")
            #expect(run.out.isEmpty)
        }
        #expect(folder.nothingWritten)
    }

    @Test func aSettingOfTheWrongTypeExits2() throws {
        let folder = try Folder("""
            {
              source: { plugin: "file",
                        settings: { path: 7 } },
            }
            """)
        defer { folder.cleanup() }
        let run = try Lab.steward(["sync"], in: folder.dir)
        #expect(run.code == 2)
        #expect(run.err.contains("steward: steward.json:3: source.settings.path: expected string, got number (the file plugin's settings schema)"), "\(run.err)")
        #expect(folder.nothingWritten)
    }

    @Test func aPluginWhoseSchemaUsesAnUnimplementedKeywordCannotBeUsed() throws {
        let folder = try Folder("""
            {
              source: { plugin: "hr-export", settings: { path: "hr.csv" } },
            }
            """)
        defer { folder.cleanup() }
        try folder.write("plugins/hr-export/plugin.json", """
            {"name": "hr-export", "version": "1.0.0", "executable": "steward-connector-file",
             "settingsSchema": {"type": "object", "dependencies": {"format": ["path"]}}}
            """)
        let manifest = folder.dir.appendingPathComponent("plugins/hr-export/plugin.json").standardizedFileURL.path
        let run = try Lab.steward(["sync"], in: folder.dir)
        #expect(run.code == 2)
        #expect(run.err.contains("steward.json:2: source.plugin: the hr-export plugin cannot be loaded: "), "\(run.err)")
        #expect(run.err.contains("\(manifest): settingsSchema#: keyword \"dependencies\" is not supported"), "\(run.err)")
        #expect(folder.nothingWritten)

        let list = try Lab.steward(["plugins", "list"], in: folder.dir)
        #expect(list.err.contains("\(manifest): settingsSchema#: keyword \"dependencies\""), "\(list.err)")
    }

    @Test func theConfigSchemaIsCheckedByTheInstalledBinaryToo() throws {
        // The schema is built in: a copy of steward with no checkout beside it checks the same.
        let folder = try Folder("""
            {
              source: { plugin: "file", settings: { path: "hr.csv" } },
              apps: [ { id: "crm", plugin: "scim", settings: { baseURL: "http://127.0.0.1:9/scim/v2" },
                        limits: { requestTimeoutSeconds: "30" } } ],
            }
            """)
        defer { folder.cleanup() }
        let bin = folder.dir.appendingPathComponent("prefix/bin")
        try FileManager.default.createDirectory(at: bin, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: Lab.stewardPath, toPath: bin.appendingPathComponent("steward").path)
        let run = try ProgramRun(bin.appendingPathComponent("steward").path, ["status"], in: folder.dir)
        #expect(run.code == 2)
        #expect(run.err.contains("steward: steward.json:4: apps[0].limits.requestTimeoutSeconds: expected number, got string"), "\(run.err)")
    }
}
