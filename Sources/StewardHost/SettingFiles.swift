import Foundation
import StewardProtocol

/// Settings that name a file the plugin ships (`definition: "github"`, `recipe: "legacy"`).
///
/// A manifest declares them as `"settingFiles": {"definition": "apps"}`: a bare name (no slash)
/// that is not a file beside the config is looked up as `<plugin folder>/apps/<name>.json`, so
/// a config written on one machine works wherever Steward is installed. Paths keep working as
/// before, relative to the config file.
extension PluginManifest {
    /// `settings` with each bare name resolved to its file in the plugin's folder.
    public func resolvingSettingFiles(_ settings: JSONValue, configDirectory: URL, path: String) throws -> JSONValue {
        guard !settingFiles.isEmpty, case .object(var o) = settings else { return settings }
        let fm = FileManager.default
        for (key, folder) in settingFiles.sorted(by: { $0.key < $1.key }) {
            guard case .string(let value)? = o[key], !value.isEmpty, !value.contains("/") else { continue }
            if fm.fileExists(atPath: configDirectory.appendingPathComponent(value).path) { continue }
            let dir = directory.appendingPathComponent(folder)
            let candidates = [value, value + ".json"].map { dir.appendingPathComponent($0) }
            if let found = candidates.first(where: { fm.fileExists(atPath: $0.path) }) {
                o[key] = .string(found.standardizedFileURL.path)
                continue
            }
            throw WorkspaceError(message: "\(path).\(key): \"\(value)\" is neither a file beside the config nor one of the \(name) plugin's \(folder) (\(dir.path)); known: \(knownNames(in: dir).joined(separator: ", "))")
        }
        return .object(o)
    }

    /// The names a setting of folder `folder` may take.
    public func knownNames(in dir: URL) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? [])
            .filter { $0.hasSuffix(".json") }.map { String($0.dropLast(5)) }.sorted()
    }
}
