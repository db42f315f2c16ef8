import Foundation
import StewardProtocol

/// The settings of the HR source and every app, checked against their plugin manifest's
/// `settingsSchema` when a workspace opens, before any connector starts.
///
/// A problem fails the open with the config's file, line and key path
/// (`steward.json:14: apps[1].settings.bogus: not allowed by the scim plugin's settings
/// schema`), so nothing is synced or sent with settings the plugin never promised to read.
/// An entry whose plugin is not found is left to the launch, which reports it.
struct SettingsCheck {
    let registry: PluginRegistry

    func check(_ config: StewardConfig) throws {
        for entry in [config.source] + config.apps + config.notifiers + config.discoverySources {
            try check(entry, in: config)
        }
    }

    private func check(_ entry: ConnectorConfig, in config: StewardConfig) throws {
        let settingsPath = entry.path + ".settings"
        func error(_ path: String, _ message: String) -> ConfigFileError {
            ConfigFileError(file: config.file, line: lineOf(path, in: config.keyLines), message: "\(path): \(message)")
        }
        guard let manifest = registry.manifest(named: entry.plugin) else {
            if let failure = registry.failures.first(where: { $0.file.deletingLastPathComponent().lastPathComponent == entry.plugin }) {
                throw error(entry.path + ".plugin", "the \(entry.plugin) plugin cannot be loaded: \(failure)")
            }
            return
        }
        guard let settingsSchema = manifest.settingsSchema else { return }
        let schema: JSONSchema
        do {
            schema = try JSONSchema(settingsSchema)
        } catch {
            throw ConfigFileError(file: config.file, line: lineOf(entry.path + ".plugin", in: config.keyLines),
                                  message: "\(entry.path).plugin: the \(manifest.name) plugin's settings schema cannot be checked: \(manifest.file.path): settingsSchema\(error)")
        }
        let problems = schema.problems(entry.settings).map { problem -> (path: String, problem: JSONSchemaProblem) in
            let path = problem.path.isEmpty ? settingsPath : problem.path.hasPrefix("[") ? settingsPath + problem.path : settingsPath + "." + problem.path
            return (path, problem)
        }.sorted { (lineOf($0.path, in: config.keyLines) ?? 0, $0.path) < (lineOf($1.path, in: config.keyLines) ?? 0, $1.path) }
        guard let (path, first) = problems.first else { return }
        throw error(path, describe(first, manifest: manifest) + moreProblems(problems.count - 1))
    }

    /// The problem in words that say whose rule it is; a member the schema does not allow
    /// names the ones it does, when it is a top-level setting.
    private func describe(_ problem: JSONSchemaProblem, manifest: PluginManifest) -> String {
        let whose = "the \(manifest.name) plugin's settings schema"
        guard problem.isUnexpectedMember else { return "\(problem.message) (\(whose))" }
        var text = "not allowed by \(whose)"
        let isTopLevel = !problem.path.contains(".") && !problem.path.contains("[")
        if isTopLevel, let known = manifest.settingsSchema?["properties"].objectValue?.keys.sorted(), !known.isEmpty {
            text += " (it has \(known.joined(separator: ", ")))"
        }
        return text
    }
}
