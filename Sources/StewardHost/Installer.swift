import Foundation

/// `steward install`: this build's programs into `PREFIX/bin` and the first-party plugins
/// (manifests, REST definitions, browser recipes) into `PREFIX/share/steward/plugins`, where
/// the plugin registry looks beside an installed `steward`. Running it again replaces what an
/// earlier install wrote and leaves everything else under the prefix alone.
public struct Installer: Sendable {
    /// The executables a working installation needs.
    public static let programs = ["steward", "steward-connector-file", "steward-connector-scim", "steward-connector-rest",
                                  "steward-connector-browser", "steward-connector-notify", "steward-sandbox"]

    public var prefix: URL
    /// Where the programs are: the running binary's directory.
    public var binaries: URL
    /// The plugins folder to copy.
    public var plugins: URL
    /// JSON Schemas for config and definitions, installed beside the plugins when found.
    public var schemas: URL?

    /// An installer for this build: programs beside the running `steward`, plugins from the
    /// source tree (when running from a build directory) or from the running installation.
    public static func forThisBuild(prefix: URL) throws -> Installer {
        guard let bin = currentExecutableDirectory() else { throw WorkspaceError(message: "cannot find the running steward binary") }
        let binURL = URL(fileURLWithPath: bin)
        let fm = FileManager.default
        var roots: [URL] = []
        if let tree = PluginRegistry.sourceTree(above: binURL) { roots.append(tree) }
        roots.append(binURL.deletingLastPathComponent().appendingPathComponent("share/steward"))
        guard let root = roots.first(where: { fm.fileExists(atPath: $0.appendingPathComponent("plugins").path) }) else {
            throw WorkspaceError(message: "cannot find the plugins folder to install (looked in \(roots.map { $0.appendingPathComponent("plugins").path }.joined(separator: ", ")))")
        }
        let schemas = root.appendingPathComponent("schemas")
        return Installer(prefix: prefix.standardizedFileURL, binaries: binURL, plugins: root.appendingPathComponent("plugins"),
                         schemas: fm.fileExists(atPath: schemas.path) ? schemas : nil)
    }

    /// Installs, reporting each file or folder as it is written; returns them.
    @discardableResult
    public func run(report: (String) -> Void = { _ in }) throws -> [String] {
        let fm = FileManager.default
        let bin = prefix.appendingPathComponent("bin")
        let share = prefix.appendingPathComponent("share/steward")
        var written: [String] = []
        for dir in [bin, share.appendingPathComponent("plugins")] {
            do { try fm.createDirectory(at: dir, withIntermediateDirectories: true) } catch {
                throw WorkspaceError(message: "cannot create \(dir.path): \(error.localizedDescription)")
            }
        }
        let missing = Self.programs.filter { !fm.isExecutableFile(atPath: binaries.appendingPathComponent($0).path) }
        guard missing.isEmpty else {
            throw WorkspaceError(message: "not built: \(missing.joined(separator: ", ")) (in \(binaries.path)); run `swift build -c release` first")
        }
        for program in Self.programs {
            let target = bin.appendingPathComponent(program)
            try replace(target, with: binaries.appendingPathComponent(program))
            written.append(target.path)
            report(target.path)
        }
        // Each first-party plugin folder is replaced whole; other plugins installed there stay.
        // `discovery` holds no plugin but the vendor catalogue discovery matches with.
        let pluginNames = ((try? fm.contentsOfDirectory(atPath: plugins.path)) ?? []).sorted()
            .filter { name in
                ["plugin.json", "catalogue.json"].contains { fm.fileExists(atPath: plugins.appendingPathComponent(name).appendingPathComponent($0).path) }
            }
        for name in pluginNames {
            let target = share.appendingPathComponent("plugins").appendingPathComponent(name)
            try replace(target, with: plugins.appendingPathComponent(name))
            written.append(target.path)
            report(target.path + "/")
        }
        if let schemas {
            let target = share.appendingPathComponent("schemas")
            try replace(target, with: schemas)
            written.append(target.path)
            report(target.path + "/")
        }
        return written
    }

    /// Copies `source` to a temporary name beside `target`, then renames it over `target`, so a
    /// running program or a reader never sees half a file. Installing onto itself is a no-op.
    private func replace(_ target: URL, with source: URL) throws {
        let fm = FileManager.default
        if target.resolvingSymlinksInPath().path == source.resolvingSymlinksInPath().path { return }
        let temporary = target.deletingLastPathComponent().appendingPathComponent(".\(target.lastPathComponent).installing-\(getpid())")
        try? fm.removeItem(at: temporary)
        do {
            try fm.copyItem(at: source, to: temporary)
            var isDirectory: ObjCBool = false
            if fm.fileExists(atPath: target.path, isDirectory: &isDirectory), isDirectory.boolValue {
                try fm.removeItem(at: target)
            }
            guard rename(temporary.path, target.path) == 0 else {
                throw WorkspaceError(message: String(cString: strerror(errno)))
            }
        } catch {
            try? fm.removeItem(at: temporary)
            throw WorkspaceError(message: "cannot install \(target.path): \(error)")
        }
    }
}
