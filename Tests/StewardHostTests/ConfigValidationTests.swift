import Foundation
import StewardHost
import StewardProtocol
import StewardTestSupport
import Testing

/// steward.json is checked against the config schema built into the binary, and each app's and
/// the source's settings against its plugin's settingsSchema, when the workspace opens: errors
/// name the file, the line and the key path, and come before any connector starts.
@Suite("Config and settings validation")
struct ConfigValidationTests {
    @Test func theEmbeddedConfigSchemaIsTheRepositorysByteForByte() throws {
        let file = Products.repoRoot.appendingPathComponent("schemas/config.schema.json")
        let published = try Data(contentsOf: file)
        #expect(Data(ConfigSchema.text.utf8) == published, "run .ci/embed-config-schema after editing schemas/config.schema.json")
    }

    @Test func anUnknownSettingIsRefusedWithFileLineAndPath() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let config = try dir.write("steward.json", """
            {
              source: { plugin: "file", settings: { path: "hr.csv" } },
              apps: [
                { id: "crm", plugin: "scim", settings: { baseURL: "https://crm.example.com/scim/v2" } },
                { id: "wiki", plugin: "scim",
                  settings: {
                    baseURL: "https://wiki.example.com/scim/v2",
                    bogus: 1,
                  } },
              ],
            }
            """)
        let error = #expect(throws: ConfigFileError.self) { try Workspace.open(configPath: config.path, actor: "test") }
        #expect(error?.line == 8)
        #expect(error?.description.hasPrefix("steward.json:8: apps[1].settings.bogus: not allowed by the scim plugin's settings schema (it has ") == true,
                "\(String(describing: error))")
        // Refused before anything was made or started: not even the state directory exists.
        #expect(!FileManager.default.fileExists(atPath: dir.url.appendingPathComponent(".steward").path))
    }

    @Test func aSettingOfTheWrongTypeIsRefused() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let config = try dir.write("steward.json", """
            {
              source: { plugin: "file", settings: { path: "hr.csv", columns: { id: 7 } } },
            }
            """)
        let error = #expect(throws: ConfigFileError.self) { try Workspace.open(configPath: config.path, actor: "test") }
        #expect(error?.description == "steward.json:2: source.settings.columns.id: expected string, got number (the file plugin's settings schema)")
    }

    @Test func aMissingRequiredSettingPointsAtTheSettingsObject() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let config = try dir.write("steward.json", """
            {
              source: { plugin: "file", settings: { path: "hr.csv" } },
              apps: [ { id: "crm", plugin: "scim",
                        settings: { pageSize: 0 } } ],
            }
            """)
        let error = #expect(throws: ConfigFileError.self) { try Workspace.open(configPath: config.path, actor: "test") }
        // Both problems are on line 4; the first by path is reported and the other counted.
        #expect(error?.description == "steward.json:4: apps[0].settings.baseURL: required (the scim plugin's settings schema) (and 1 more problem)")
    }

    @Test func theConfigSchemaCatchesWhatTheHandWrittenChecksDoNotLookAt() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let config = try dir.write("steward.json", """
            {
              source: { plugin: "file", settings: { path: "hr.csv" } },
              apps: [ { id: "crm", plugin: "scim", settings: { baseURL: "https://x.example.com" },
                        limits: { concurrency: 2,
                                  requestTimeoutSeconds: "10" } } ],
            }
            """)
        let error = #expect(throws: ConfigFileError.self) { try StewardConfig.load(config.path) }
        #expect(error?.description == "steward.json:5: apps[0].limits.requestTimeoutSeconds: expected number, got string")
    }

    @Test func theHandWrittenMessageWinsWhereThereIsOne() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let config = try dir.write("steward.json", """
            {
              source: { plugin: "file", settings: { path: "hr.csv" } },
              apps: [ { id: "crm", plugin: "scim", settings: { baseURL: "https://x.example.com" }, colour: "blue" } ],
            }
            """)
        let error = #expect(throws: ConfigFileError.self) { try StewardConfig.load(config.path) }
        #expect(error?.description.hasPrefix("steward.json:3: apps[0].colour: unknown key (expected one of ") == true, "\(String(describing: error))")
    }

    @Test func aValidConfigOpens() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        _ = try dir.write("hr.csv", "employee_id,email\nE1,a@example.com\n")
        let config = try dir.write("steward.json", """
            {
              $schema: "../schemas/config.schema.json",
              source: { plugin: "file", settings: { path: "hr.csv", format: "csv", columns: { id: "employee_id" } }, maxShrinkPercent: 20 },
              apps: [ { id: "crm", plugin: "scim", mode: "observe", settings: { baseURL: "https://x.example.com", roleTiers: ["Admin", "User"] },
                        secrets: { token: "env:CRM_TOKEN" }, limits: { concurrency: 2, requestTimeoutSeconds: 30 },
                        correlate: ["email"], deprovision: { action: "disable", maxPercent: 10 } } ],
              policies: [ { id: "everyone", when: { title: { prefix: "Lead" } }, grant: [ { app: "crm", entitlements: ["role:User"] } ] } ],
            }
            """)
        let ws = try Workspace.open(configPath: config.path, actor: "test")
        await ws.close()
    }

    @Test func aManifestWithAnUnimplementedKeywordFailsToLoadNamingFileAndKeyword() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        try FileManager.default.createDirectory(at: dir.url.appendingPathComponent("plugins/odd"), withIntermediateDirectories: true)
        let manifest = try dir.write("plugins/odd/plugin.json", """
            {"name": "odd", "version": "1.0.0", "executable": "steward-connector-file",
             "settingsSchema": {"type": "object", "properties": {"hosts": {"type": "array", "unevaluatedItems": false}}}}
            """)
        let error = #expect(throws: ManifestError.self) { try PluginManifest.load(manifest) }
        #expect(error?.description == "\(manifest.path): settingsSchema#/properties/hosts: keyword \"unevaluatedItems\" is not supported by Steward's schema validator, so its rule cannot be checked")

        let registry = PluginRegistry(configDirectory: dir.url, environment: [:])
        #expect(registry.manifest(named: "odd") == nil)
        #expect(registry.problems.contains { $0.contains("plugins/odd/plugin.json") && $0.contains("\"unevaluatedItems\"") })

        // A config that uses it cannot open, and says why rather than "no plugin odd".
        let config = try dir.write("steward.json", """
            {
              source: { plugin: "odd", settings: {} },
            }
            """)
        let open = #expect(throws: ConfigFileError.self) { try Workspace.open(configPath: config.path, actor: "test") }
        #expect(open?.description.hasPrefix("steward.json:2: source.plugin: the odd plugin cannot be loaded: \(manifest.path): settingsSchema#/properties/hosts: keyword \"unevaluatedItems\"") == true,
                "\(String(describing: open))")
    }
}
