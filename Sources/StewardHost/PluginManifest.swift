import Foundation
import StewardProtocol

/// A connector's manifest, `plugins/<name>/plugin.json`: how to start it and what it needs.
///
/// ```json
/// {"name": "scim", "version": "1.0.0", "protocol": "1.0",
///  "executable": "steward-connector-scim",
///  "secrets": ["token", "clientSecret"],
///  "settingsSchema": {"type": "object", "required": ["baseURL"], ...}}
/// ```
/// `command` (an argv array) may replace `executable`, so `["ssh", "runner-1",
/// "steward-connector-scim"]` runs the connector on another machine unchanged.
public struct PluginManifest: Sendable {
    public var name: String
    public var version: String
    public var protocolVersion: ProtocolVersion
    public var description: String?
    /// The argv as written in the manifest; see `resolvedCommand()`.
    public var command: [String]
    public var settingsSchema: JSONValue?
    public var secrets: [String]
    /// Extra environment variables the connector may see (beyond a minimal safe set).
    public var environment: [String]
    /// Setting → folder of this plugin where a bare name in it is looked up (`SettingFiles`).
    public var settingFiles: [String: String] = [:]
    /// The manifest file.
    public var file: URL

    public var directory: URL { file.deletingLastPathComponent() }

    public init(name: String, version: String, protocolVersion: ProtocolVersion = .current, description: String? = nil,
                command: [String], settingsSchema: JSONValue? = nil, secrets: [String] = [], environment: [String] = [],
                file: URL) {
        self.name = name
        self.version = version
        self.protocolVersion = protocolVersion
        self.description = description
        self.command = command
        self.settingsSchema = settingsSchema
        self.secrets = secrets
        self.environment = environment
        self.file = file
    }

    /// Reads and validates a manifest; errors name the file and the field.
    public static func load(_ file: URL) throws -> PluginManifest {
        let data: Data
        do {
            data = try Data(contentsOf: file)
        } catch {
            throw ManifestError(file: file, message: "cannot read: \(error.localizedDescription)")
        }
        let json: JSONValue
        do {
            json = try JSONParser.parse(data)
        } catch {
            throw ManifestError(file: file, message: "\(error)")
        }
        do {
            let f = try JSONFields(json, path: "")
            let name = try f.nonEmptyString("name")
            let version = try f.nonEmptyString("version")
            let protocolText = try f.optionalString("protocol") ?? ProtocolVersion.current.description
            guard let protocolVersion = ProtocolVersion(protocolText) else {
                throw ConnectorError(.invalidArgument, "protocol: \"\(protocolText)\" is not a version like \"1.0\"")
            }
            var command = try f.stringArray("command")
            if let executable = try f.optionalString("executable") {
                guard command.isEmpty else { throw ConnectorError(.invalidArgument, "executable: give either \"executable\" or \"command\", not both") }
                command = [executable] + (try f.stringArray("args"))
            }
            guard !command.isEmpty, !command[0].isEmpty else {
                throw ConnectorError(.invalidArgument, "executable: required (or \"command\", an argv array)")
            }
            if let settingsSchema = f.object["settingsSchema"] {
                // Refused here, so a settings rule the validator cannot check is never skipped.
                do {
                    _ = try JSONSchema(settingsSchema)
                } catch {
                    throw ConnectorError(.invalidArgument, "settingsSchema\(error)")
                }
            }
            var manifest = PluginManifest(
                name: name, version: version, protocolVersion: protocolVersion,
                description: try f.optionalString("description"), command: command,
                settingsSchema: f.object["settingsSchema"], secrets: try f.stringArray("secrets"),
                environment: try f.stringArray("environment"), file: file)
            manifest.settingFiles = try f.stringMap("settingFiles")
            return manifest
        } catch let e as ConnectorError {
            throw ManifestError(file: file, message: e.message)
        }
    }

    /// The argv with its program resolved to a path: relative paths against the manifest's
    /// directory, bare names beside the `steward` binary, then on `PATH`. Arguments starting
    /// with `./` or `../` are made absolute against the manifest's directory too (a script
    /// beside the manifest). Nil if the program is not found.
    public func resolvedCommand() -> [String]? {
        guard let program = resolveExecutable(command[0], relativeTo: directory) else { return nil }
        let args = command.dropFirst().map { arg in
            arg.hasPrefix("./") || arg.hasPrefix("../") ? directory.appendingPathComponent(arg).standardizedFileURL.path : arg
        }
        return [program] + args
    }
}

public struct ManifestError: Error, CustomStringConvertible {
    public let file: URL
    public let message: String
    public var description: String { "\(file.path): \(message)" }
}

/// Finds plugin manifests. Earlier directories win when two define the same name:
/// `$STEWARD_PLUGIN_PATH` (colon-separated), the config's `plugins/`, the working directory's
/// `plugins/`, the source tree's `plugins/` when running from a build directory, and the
/// `plugins/` beside the `steward` binary (or `../share/steward/plugins`).
public struct PluginRegistry: Sendable {
    public private(set) var manifests: [String: PluginManifest] = [:]
    /// Manifests that failed to load, so `plugins list` can show them instead of hiding them.
    public var problems: [String] { failures.map(\.description) }
    /// The same, with the file each came from.
    public private(set) var failures: [ManifestError] = []
    public let searchPath: [URL]

    public init(configDirectory: URL? = nil, environment: [String: String] = ProcessInfo.processInfo.environment) {
        var dirs: [URL] = []
        if let extra = environment["STEWARD_PLUGIN_PATH"] {
            dirs += extra.split(separator: ":").map { URL(fileURLWithPath: String($0)) }
        }
        if let configDirectory { dirs.append(configDirectory.appendingPathComponent("plugins")) }
        dirs.append(URL(fileURLWithPath: FileManager.default.currentDirectoryPath).appendingPathComponent("plugins"))
        if let bin = currentExecutableDirectory() {
            if let tree = Self.sourceTree(above: URL(fileURLWithPath: bin)) { dirs.append(tree.appendingPathComponent("plugins")) }
            dirs.append(URL(fileURLWithPath: bin).appendingPathComponent("plugins"))
            dirs.append(URL(fileURLWithPath: bin).deletingLastPathComponent().appendingPathComponent("share/steward/plugins"))
        }
        var seen: Set<String> = []
        searchPath = dirs.map(\.standardizedFileURL).filter { seen.insert($0.path).inserted }
        load()
    }

    private mutating func load() {
        let fm = FileManager.default
        for dir in searchPath {
            guard let entries = try? fm.contentsOfDirectory(atPath: dir.path) else { continue }
            for entry in entries.sorted() {
                let file = dir.appendingPathComponent(entry).appendingPathComponent("plugin.json")
                guard fm.fileExists(atPath: file.path) else { continue }
                do {
                    let m = try PluginManifest.load(file)
                    if manifests[m.name] == nil { manifests[m.name] = m }
                } catch let error as ManifestError {
                    failures.append(error)
                } catch {
                    failures.append(ManifestError(file: file, message: "\(error)"))
                }
            }
        }
    }

    public func manifest(named name: String) -> PluginManifest? { manifests[name] }

    /// The Steward source tree containing a build directory such as `.build/debug`.
    static func sourceTree(above bin: URL) -> URL? {
        var dir = bin
        for _ in 0..<5 {
            dir = dir.deletingLastPathComponent()
            let fm = FileManager.default
            if fm.fileExists(atPath: dir.appendingPathComponent("Package.swift").path),
               fm.fileExists(atPath: dir.appendingPathComponent("plugins").path) {
                return dir
            }
        }
        return nil
    }
}
