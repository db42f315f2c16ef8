import Foundation
import StewardProtocol
import StewardTestSupport
import Testing

/// `steward install` makes a working Steward outside the checkout: from an unrelated directory,
/// with no STEWARD_PLUGIN_PATH, the installed binary finds its plugins and runs the demo.
@Suite("Install", .serialized)
struct InstallTests {
    @Test func anInstalledStewardRunsTheDemoFromAnywhere() async throws {
        let root = try TemporaryDirectory(prefix: "steward-install")
        defer { root.remove() }
        let prefix = root.file("prefix"), elsewhere = root.file("elsewhere")
        try FileManager.default.createDirectory(at: elsewhere, withIntermediateDirectories: true)

        let install = try await run(StewardFolder.stewardPath, ["install", "--prefix", prefix.path], in: elsewhere)
        #expect(install.code == 0, "\(install.out)\n\(install.err)")
        for program in ["steward", "steward-connector-file", "steward-connector-scim", "steward-connector-rest",
                        "steward-connector-browser", "steward-connector-notify", "steward-sandbox"] {
            #expect(FileManager.default.isExecutableFile(atPath: prefix.appendingPathComponent("bin/\(program)").path), "\(program)")
            #expect(install.out.contains(prefix.appendingPathComponent("bin/\(program)").path))
        }
        #expect(FileManager.default.fileExists(atPath: prefix.appendingPathComponent("share/steward/plugins/rest/apps/github.json").path))
        #expect(FileManager.default.fileExists(atPath: prefix.appendingPathComponent("share/steward/plugins/discovery/catalogue.json").path),
                "the vendor catalogue is installed with the plugins")
        // Installing again over the earlier install works and writes the same files.
        let again = try await run(StewardFolder.stewardPath, ["install", "--prefix", prefix.path, "--json"], in: elsewhere)
        #expect(again.code == 0, "\(again.err)")
        #expect(try JSONParser.parse(again.out)["written"].arrayValue?.count == 14)

        let installed = prefix.appendingPathComponent("bin/steward").path
        let plugins = try await run(installed, ["plugins", "list", "--json"], in: elsewhere)
        let listed = try JSONParser.parse(plugins.out)["plugins"].arrayValue ?? []
        #expect(Set(listed.compactMap { $0["name"].stringValue }) == ["browser", "file", "notify", "rest", "scim"])
        #expect(listed.allSatisfy { $0["manifest"].stringValue?.hasPrefix(prefix.path) == true }, "plugins come from the prefix, not the checkout")

        let demo = try await run(installed, ["demo"], in: elsewhere)
        #expect(demo.code == 0, "\(demo.out.suffix(3000))\n\(demo.err.suffix(2000))")
        #expect(demo.out.contains("verified intact"))
        #expect(demo.out.contains("shadow Notion"), "discovery matched the exports with the installed catalogue")
        let config = try String(contentsOf: elsewhere.appendingPathComponent("steward-demo/steward.json"), encoding: .utf8)
        #expect(config.contains(#"definition: "github""#) && config.contains(#"recipe: "legacy""#))
        #expect(!config.contains("plugins/"), "the demo writes names, not paths into an installation")
    }

    /// A binary alone, without its plugins, stops the demo at once and says how to fix it.
    @Test func theDemoStopsAtOnceWhenPluginsAreMissing() async throws {
        let root = try TemporaryDirectory(prefix: "steward-lone")
        defer { root.remove() }
        try FileManager.default.createDirectory(at: root.file("bin"), withIntermediateDirectories: true)
        let lone = root.file("bin/steward")
        try FileManager.default.copyItem(atPath: StewardFolder.stewardPath, toPath: lone.path)
        let demo = try await run(lone.path, ["demo", "--dir", root.file("demo").path], in: root.url)
        #expect(demo.code == 1)
        #expect(demo.err.contains("the demo needs the file, scim, rest, browser plugins, not found in"), "\(demo.err)")
        #expect(demo.err.contains("steward install"))
        #expect(!FileManager.default.fileExists(atPath: root.file("demo").path), "nothing was written")
    }

    /// Runs `program` in `dir` without STEWARD_PLUGIN_PATH, so only an installation's own plugins count.
    private func run(_ program: String, _ args: [String], in dir: URL) async throws -> ProgramRun {
        try await ProgramRun.run(program, args, in: dir, environment: ["STEWARD_PLUGIN_PATH": nil])
    }
}
