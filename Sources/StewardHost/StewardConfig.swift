import Foundation
import StewardCore
import StewardJournal
import StewardProtocol

/// `steward.json` (JSON5 accepted): where state lives, which connectors serve the HR source and
/// each app, and the access rules (read by `GovernanceConfig`). Paths are relative to the file.
///
/// Secrets are references (`env:NAME`, `file:PATH`) resolved only when a connector starts and
/// handed to that app's connector alone; a literal secret in the file is refused.
public struct StewardConfig: Sendable {
    public var file: URL
    public var stateDirectory: URL
    /// The checkpoint key reference (`env:NAME` or `file:PATH`), if checkpoints are signed.
    public var checkpointKey: String?
    public var source: ConnectorConfig
    public var apps: [ConnectorConfig]
    /// `notify: [...]`: connectors that deliver messages to people (mail, Slack, Teams).
    public var notifiers: [ConnectorConfig] = []
    /// `discovery: [...]`: sources of evidence that apps are in use (expense, OAuth-grant,
    /// sign-in and browser exports), synced with the apps and matched to the vendor catalogue.
    public var discoverySources: [ConnectorConfig] = []
    /// `vendorCatalogue`: the user's catalogue file, over the shipped one (relative to the config).
    public var vendorCatalogue: URL?
    /// `messages`: the texts Steward sends, by template name, over the defaults.
    public var messages = MessageTemplates()
    public var governance: GovernanceConfig
    /// The `serve` section (defaults when absent).
    public var serve = ServeConfig()
    /// The parsed document, for events that record the rules in force.
    public var document: JSONValue
    /// Line of each key path in the file, for errors found after loading (a rule naming a role
    /// the app does not have).
    public var keyLines: [String: Int] = [:]

    /// `steward.json:14: policies[1].grant[0]`: where `path` is written.
    public func location(of path: String) -> String {
        "\(file.lastPathComponent)\(lineOf(path, in: keyLines).map { ":\($0)" } ?? ""): \(path)"
    }

    public var directory: URL { file.deletingLastPathComponent() }

    /// The checkpoint signing key the config names, read now (`file:` paths are relative to the
    /// config); nil when checkpoints are not signed.
    public func resolvedCheckpointKey() throws -> CheckpointKey? {
        guard let ref = checkpointKey else { return nil }
        return try CheckpointKey.resolve(absoluteReference(ref, base: directory), stateDirectory: stateDirectory)
    }

    public func app(_ id: String) -> ConnectorConfig? { apps.first { $0.id == id } }

    public func discoverySource(_ id: String) -> ConnectorConfig? { discoverySources.first { $0.id == id } }

    /// Loads and validates the file. Errors name the file, the line and the key path.
    public static func load(_ path: String) throws -> StewardConfig {
        let file = URL(fileURLWithPath: path).standardizedFileURL
        guard let data = FileManager.default.contents(atPath: file.path) else {
            throw ConfigFileError(file: file, line: nil, message: FileManager.default.fileExists(atPath: file.path)
                ? "cannot read the file" : "no such file (give --config FILE or set STEWARD_CONFIG)")
        }
        let parsed: (value: JSONValue, lines: [String: Int])
        do {
            parsed = try JSONParser.parseWithLines(Array(data), options: .json5)
        } catch {
            throw ConfigFileError(file: file, line: error.line, message: "column \(error.column): \(error.message)")
        }
        let locate = { (path: String, message: String) -> ConfigFileError in
            ConfigFileError(file: file, line: lineOf(path, in: parsed.lines), message: path.isEmpty ? message : "\(path): \(message)")
        }
        do {
            var config = try StewardConfig(file: file, root: parsed.value, locate: locate)
            config.keyLines = parsed.lines
            try ConfigSchema.check(parsed.value, lines: parsed.lines)
            return config
        } catch let e as ConfigError {
            throw locate(e.path, e.message)
        }
    }

    init(file: URL, root: JSONValue, locate: (String, String) -> ConfigFileError) throws {
        guard case .object(let top) = root else { throw locate("", "the config must be a JSON object") }
        let known: Set<String> = ["$schema", "state", "checkpointKey", "source", "apps", "roles", "policies", "exceptions", "journal",
                                  "reviews", "reviewerGroups", "serve", "notify", "messages",
                                  "discovery", "vendorCatalogue", "findings"]
        for key in top.keys.sorted() where !known.contains(key) {
            throw locate(key, "unknown key (expected one of \(known.filter { $0 != "$schema" }.sorted().joined(separator: ", ")))")
        }
        self.file = file
        self.document = root
        let base = file.deletingLastPathComponent()
        let state = root["state"].isNull ? ".steward" : try Self.string(root["state"], "state", locate)
        stateDirectory = URL(fileURLWithPath: state, relativeTo: base).standardizedFileURL
        if root["checkpointKey"].isNull {
            checkpointKey = nil
        } else {
            let ref = try Self.string(root["checkpointKey"], "checkpointKey", locate)
            guard SecretReference(ref) != nil else {
                throw locate("checkpointKey", "must be a reference, env:NAME or file:PATH")
            }
            checkpointKey = ref
        }
        guard !root["source"].isNull else { throw locate("source", "required: the HR source, e.g. {plugin: \"file\", settings: {path: \"hr.csv\"}}") }
        source = try ConnectorConfig(root["source"], path: "source", defaultId: "hr", allowedExtra: ["maxShrinkPercent"], locate)
        var apps: [ConnectorConfig] = []
        for (i, app) in (root["apps"].arrayValue ?? []).enumerated() {
            apps.append(try ConnectorConfig(app, path: "apps[\(i)]", defaultId: nil, allowedExtra: AppSettingsKeys.all, locate))
        }
        self.apps = apps
        var taken = Set([source.id] + apps.map(\.id))
        for (i, entry) in (root["notify"].arrayValue ?? []).enumerated() {
            let notifier = try ConnectorConfig(entry, path: "notify[\(i)]", defaultId: nil, allowedExtra: [], locate)
            guard taken.insert(notifier.id).inserted else {
                throw locate("notify[\(i)].id", "\"\(notifier.id)\" is already the id of the source, an app or another notifier")
            }
            notifiers.append(notifier)
        }
        for (i, entry) in (root["discovery"].arrayValue ?? []).enumerated() {
            let source = try ConnectorConfig(entry, path: "discovery[\(i)]", defaultId: nil, allowedExtra: [], locate)
            guard taken.insert(source.id).inserted else {
                throw locate("discovery[\(i)].id", "\"\(source.id)\" is already the id of the source, an app, a notifier or another discovery source")
            }
            discoverySources.append(source)
        }
        if !root["discovery"].isNull, root["discovery"].arrayValue == nil { throw locate("discovery", "expected an array of discovery sources") }
        if !root["vendorCatalogue"].isNull {
            let path = try Self.string(root["vendorCatalogue"], "vendorCatalogue", locate)
            vendorCatalogue = URL(fileURLWithPath: path, relativeTo: base).standardizedFileURL
        }
        if !root["messages"].isNull { messages = try MessageTemplates(root["messages"], locate: locate) }
        governance = try GovernanceConfig(json: root)
        if !root["serve"].isNull { serve = try ServeConfig(root["serve"], locate: locate) }
    }

    fileprivate static func string(_ v: JSONValue, _ path: String, _ locate: (String, String) -> ConfigFileError) throws -> String {
        guard case .string(let s) = v, !s.isEmpty else { throw locate(path, "expected a non-empty string, got \(v.typeName)") }
        return s
    }
}

/// How to run one connector: the HR source or an app.
public struct ConnectorConfig: Sendable {
    public var id: String
    public var plugin: String
    public var settings: JSONValue
    /// Secret name → reference (`env:NAME`, `file:PATH`).
    public var secrets: [String: String]
    /// Requests in flight to this app's connector at once.
    public var concurrency: Int
    public var requestTimeout: Double
    /// JSON path of this entry in the config file, for errors.
    public var path: String

    /// Requests in flight to one app's connector when `limits.concurrency` is not given.
    public static let defaultConcurrency = 4

    init(_ v: JSONValue, path: String, defaultId: String?, allowedExtra: [String], _ locate: (String, String) -> ConfigFileError) throws {
        guard case .object(let o) = v else { throw locate(path, "expected an object, got \(v.typeName)") }
        let allowed = Set(["id", "plugin", "settings", "secrets", "limits", "description", "owner"] + allowedExtra)
        for key in o.keys.sorted() where !allowed.contains(key) {
            throw locate("\(path).\(key)", "unknown key (expected one of \(allowed.sorted().joined(separator: ", ")))")
        }
        if let defaultId, o["id"] == nil {
            id = defaultId
        } else {
            id = try StewardConfig.string(v["id"], "\(path).id", locate)
        }
        plugin = try StewardConfig.string(v["plugin"], "\(path).plugin", locate)
        settings = v["settings"].isNull ? [:] : v["settings"]
        guard case .object = settings else { throw locate("\(path).settings", "expected an object") }
        var secrets: [String: String] = [:]
        for (name, ref) in v["secrets"].objectValue ?? [:] {
            guard case .string(let s) = ref, SecretReference(s) != nil else {
                // Never echo the value: it may be a secret pasted in by mistake.
                throw locate("\(path).secrets.\(name)", "must be a reference, env:NAME or file:PATH (never the secret itself)")
            }
            secrets[name] = s
        }
        if !v["secrets"].isNull, v["secrets"].objectValue == nil { throw locate("\(path).secrets", "expected an object of references") }
        self.secrets = secrets
        let limits = v["limits"]
        concurrency = limits["concurrency"].intValue ?? Self.defaultConcurrency
        requestTimeout = limits["requestTimeoutSeconds"].doubleValue ?? 120
        if concurrency < 1 || concurrency > 256 { throw locate("\(path).limits.concurrency", "must be between 1 and 256") }
        if requestTimeout <= 0 { throw locate("\(path).limits.requestTimeoutSeconds", "must be positive") }
        self.path = path
    }
}

/// The app keys the planner reads (`AppSettings`); kept here so unknown keys can be refused.
enum AppSettingsKeys {
    static let all = ["mode", "correlate", "deprovision", "orphans", "manage", "userName", "updateAttributes",
                      "entitlementOwners", "privileged", "dormantAfterDays", "licence", "serviceAccounts", "vendor"]
}

/// A config error with its place in the file.
public struct ConfigFileError: Error, CustomStringConvertible {
    public var file: URL
    public var line: Int?
    public var message: String

    public var description: String {
        "\(file.lastPathComponent)\(line.map { ":\($0)" } ?? ""): \(message)"
    }
}

/// The line of `path`, or of its nearest ancestor that has one.
func lineOf(_ path: String, in lines: [String: Int]) -> Int? {
    var p = path
    while true {
        if let line = lines[p] { return line }
        guard let cut = p.lastIndex(where: { $0 == "." || $0 == "[" }) else { return lines[""] }
        p = String(p[..<cut])
    }
}

/// `env:NAME` or `file:PATH`: where a secret is, never what it is.
public struct SecretReference: Sendable, Hashable {
    public enum Kind: Sendable, Hashable {
        case environment(String)
        case file(String)
    }

    public var kind: Kind

    public init?(_ text: String) {
        if text.hasPrefix("env:"), text.count > 4 {
            kind = .environment(String(text.dropFirst(4)))
        } else if text.hasPrefix("file:"), text.count > 5 {
            kind = .file(String(text.dropFirst(5)))
        } else {
            return nil
        }
    }

    /// The secret's value. Files are read relative to `base`; one trailing newline is dropped.
    /// Errors name the reference, never a value.
    public func resolve(base: URL, environment: [String: String] = ProcessInfo.processInfo.environment) throws -> String {
        switch kind {
        case .environment(let name):
            guard let v = environment[name], !v.isEmpty else {
                throw SecretError(message: "environment variable \(name) is not set")
            }
            return v
        case .file(let path):
            let url = URL(fileURLWithPath: path, relativeTo: base).standardizedFileURL
            guard let data = FileManager.default.contents(atPath: url.path), var v = String(data: data, encoding: .utf8) else {
                throw SecretError(message: "cannot read secret file \(url.path)")
            }
            if v.hasSuffix("\n") { v.removeLast() }
            if v.hasSuffix("\r") { v.removeLast() }
            guard !v.isEmpty else { throw SecretError(message: "secret file \(url.path) is empty") }
            return v
        }
    }
}

public struct SecretError: Error, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}
