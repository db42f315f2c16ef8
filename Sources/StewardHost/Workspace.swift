import Foundation
import StewardCore
import StewardJournal
import StewardProtocol

/// An open Steward folder: its config, its journal, and the connectors for its source and apps.
///
/// Commands open one, do their work, and `close()` it (which stops the connectors and signs a
/// final checkpoint).
public final class Workspace: Sendable {
    public let config: StewardConfig
    public let journal: Journal
    public let recovery: RecoveryReport
    public let registry: PluginRegistry
    /// Who the journal records as acting (`steward sync`, `steward apply`).
    public let actor: String
    private let connectors: [String: SupervisedConnector]
    private let problems: [String: String]
    private let folded = LockedValue<GovernanceState?>(nil)
    /// Recipe drift the connectors reported (`recipe.fallback` logs), until journaled.
    private let drift = LockedValue<[RecipeDrift]>([])

    /// Opens the folder described by the config at `configPath`. `readOnly` opens the journal
    /// without its writer lock, so questions (`status`, `person show`) can be answered while
    /// another command writes; recording then fails.
    public static func open(configPath: String, actor: String, readOnly: Bool = false,
                            events: ConnectorEvents = ConnectorEvents()) throws -> Workspace {
        let config = try StewardConfig.load(configPath)
        let registry = PluginRegistry(configDirectory: config.directory)
        try SettingsCheck(registry: registry).check(config)
        try FileManager.default.createDirectory(at: config.stateDirectory, withIntermediateDirectories: true)
        var options = JournalOptions()
        if let key = try config.resolvedCheckpointKey() {
            options.checkpointKey = key
            options.checkpointEveryEvents = 10_000
        }
        let journalDirectory = config.stateDirectory.appendingPathComponent("journal")
        // A folder with no journal yet gets one: there is nothing to read without it.
        options.readOnly = readOnly && FileManager.default.fileExists(atPath: journalDirectory.appendingPathComponent("segments").path)
        let (journal, recovery) = try Journal.open(directory: journalDirectory, options: options)
        return Workspace(config: config, registry: registry, journal: journal, recovery: recovery, actor: actor, events: events)
    }

    private init(config: StewardConfig, registry: PluginRegistry, journal: Journal, recovery: RecoveryReport, actor: String,
                 events: ConnectorEvents) {
        self.config = config
        self.journal = journal
        self.recovery = recovery
        self.actor = actor
        self.registry = registry
        var connectors: [String: SupervisedConnector] = [:]
        var problems: [String: String] = [:]
        var events = events
        let log = events.log, drift = self.drift
        events.log = { record in
            if let report = RecipeDrift(record) { drift.withLock { $0.append(report) } }
            log(record)
        }
        for entry in [config.source] + config.apps + config.notifiers + config.discoverySources {
            switch Self.launch(for: entry, config: config, registry: registry, events: events) {
            case .success(let launch): connectors[entry.id] = SupervisedConnector(launch)
            case .failure(let message): problems[entry.id] = message.message
            }
        }
        self.connectors = connectors
        self.problems = problems
    }

    /// The connector serving `id` (an app id, or the source's id), or an error saying why there
    /// is none (unknown plugin, executable not found, a secret that cannot be resolved).
    public func connector(_ id: String) throws -> SupervisedConnector {
        if let c = connectors[id] { return c }
        throw WorkspaceError(message: problems[id] ?? "no app \"\(id)\" in \(config.file.lastPathComponent)")
    }

    public var sourceConnector: SupervisedConnector {
        get throws { try connector(config.source.id) }
    }

    /// Journals the recipe drift reported since the last call, once per app, step and fallback
    /// (`recipe.drift`), so `steward status` can say an app's UI changed before it breaks.
    @discardableResult
    public func recordDrift() async throws -> Int {
        let reports = drift.withLock { reports -> [RecipeDrift] in
            defer { reports.removeAll() }
            return reports
        }
        guard !reports.isEmpty else { return 0 }
        let known = try state().recipeDrift
        var seen: Set<String> = []
        let drafts = reports.filter { known[$0.key] == nil && seen.insert($0.key).inserted }.map { r in
            event(EventType.recipeDrift, subjects: ["app": r.app], data: [
                "step": .string(r.step), "fallback": .int(r.fallback), "selector": .string(r.selector),
            ])
        }
        try await record(drafts)
        return drafts.count
    }

    /// Stops every connector and closes the journal (signing a final checkpoint).
    public func close() async {
        await withTaskGroup(of: Void.self) { group in
            for c in connectors.values { group.addTask { await c.stop() } }
        }
        try? journal.close()
    }

    /// Appends events, stamped with this workspace's actor.
    @discardableResult
    public func record(_ drafts: [EventDraft]) async throws -> [StoredEvent] {
        guard !drafts.isEmpty else { return [] }
        return try await journal.append(drafts)
    }

    public func event(_ type: String, subjects: [String: String] = [:], data: JSONValue = [:]) -> EventDraft {
        EventDraft(type: type, actor: actor, subjects: subjects, data: data)
    }

    /// The state folded from the journal, up to its head. The first call folds (from the saved
    /// snapshot); later calls fold only the events appended since, so a command that reads the
    /// state at several steps folds each event once.
    public func state() throws -> GovernanceState {
        try folded.withLock { cached in
            var state: GovernanceState
            if let cached = cached {
                state = cached
                try journal.forEachEvent(from: state.lastSeq + 1) { event in
                    state.apply(event)
                    return true
                }
            } else {
                state = try GovernanceState.loadFast(from: journal)
            }
            cached = state
            return state
        }
    }

    /// The journal head as text (`size:root`), the staleness stamp of plan files.
    public var journalHead: String {
        let head = journal.treeHead
        return "\(head.size):\(head.root.base64)"
    }

    private struct LaunchProblem: Error { let message: String }

    private static func launch(for entry: ConnectorConfig, config: StewardConfig, registry: PluginRegistry,
                               events: ConnectorEvents) -> Result<ConnectorLaunch, LaunchProblem> {
        guard let manifest = registry.manifest(named: entry.plugin) else {
            return .failure(LaunchProblem(message: "\(entry.path).plugin: no plugin \"\(entry.plugin)\" (searched \(registry.searchPath.map(\.path).joined(separator: ", ")))"))
        }
        let settings: JSONValue
        do {
            settings = try manifest.resolvingSettingFiles(entry.settings, configDirectory: config.directory, path: "\(entry.path).settings")
        } catch {
            return .failure(LaunchProblem(message: "\(error)"))
        }
        guard let command = manifest.resolvedCommand() else {
            return .failure(LaunchProblem(message: "plugin \(manifest.name): executable \(manifest.command[0]) not found (beside steward or on PATH)"))
        }
        var secrets: [String: String] = [:]
        for (name, ref) in entry.secrets {
            guard let reference = SecretReference(ref) else { continue }
            do {
                secrets[name] = try reference.resolve(base: config.directory)
            } catch {
                return .failure(LaunchProblem(message: "\(entry.path).secrets.\(name): \(error)"))
            }
        }
        let stateDir = config.stateDirectory.appendingPathComponent("apps").appendingPathComponent(entry.id)
        try? FileManager.default.createDirectory(at: stateDir, withIntermediateDirectories: true)
        var options = ConnectorConnection.Options()
        options.requestTimeout = entry.requestTimeout
        options.maxInFlight = entry.concurrency
        return .success(ConnectorLaunch(appId: entry.id, command: command, settings: settings, secrets: secrets,
                                        stateDirectory: stateDir.path, baseDirectory: config.directory.path,
                                        passEnvironment: manifest.environment, options: options, events: events))
    }
}

/// A fallback selector rescued a browser recipe's step: the app's UI has changed.
struct RecipeDrift: Sendable, Hashable {
    var app: String
    var step: String
    var fallback: Int
    var selector: String

    init?(_ record: LogRecord) {
        guard record.code == "recipe.fallback", let data = record.data, let step = data["step"].stringValue,
              let fallback = data["fallback"].intValue else { return nil }
        app = record.appId
        self.step = step
        self.fallback = fallback
        selector = data["selector"].stringValue ?? ""
    }

    var key: String { GovernanceState.driftKey(app: app, step: step, fallback: fallback) }
}

public struct WorkspaceError: Error, CustomStringConvertible {
    public var message: String
    public init(message: String) { self.message = message }
    public var description: String { message }
}

/// `file:relative` made absolute against the config's directory; other references unchanged.
func absoluteReference(_ ref: String, base: URL) -> String {
    guard ref.hasPrefix("file:") else { return ref }
    let path = String(ref.dropFirst(5))
    if path.hasPrefix("/") { return ref }
    return "file:" + URL(fileURLWithPath: path, relativeTo: base).standardizedFileURL.path
}

/// A value behind a lock, for the little mutable state a shared `Workspace` keeps.
final class LockedValue<Value>: @unchecked Sendable {  // every access to `value` holds `lock`
    private let lock = NSLock()
    private var value: Value

    init(_ value: Value) { self.value = value }

    func withLock<R>(_ body: (inout Value) throws -> R) rethrows -> R {
        lock.lock()
        defer { lock.unlock() }
        return try body(&value)
    }
}
