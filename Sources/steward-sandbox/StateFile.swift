import Dispatch
import Foundation
import StewardJSON
#if canImport(Glibc)
import Glibc
#endif

/// The `--state` file: `{"version": 1, "apps": {"scim": {...}}}`, one section per app.
///
/// Saves are coalesced (at most one every 100 ms after a change) and atomic: the file is
/// written beside the target, synced and renamed over it, so a reader never sees half a file.
final class StateFile: @unchecked Sendable {  // mutable state is only touched on `queue`
    struct LoadError: Error, CustomStringConvertible {
        var description: String
    }

    let path: String
    private let queue = DispatchQueue(label: "steward-sandbox.state")
    private var sections: [(name: String, snapshot: @Sendable () -> JSONValue)] = []
    private var saveScheduled = false
    private var dirty = false

    init(path: String) { self.path = path }

    /// The saved sections by app name; empty when the file does not exist yet.
    func load() throws -> [String: JSONValue] {
        guard FileManager.default.fileExists(atPath: path) else { return [:] }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw LoadError(description: "state file \(path): cannot be read")
        }
        let document: JSONValue
        do {
            document = try data.withUnsafeBytes { bytes in try JSONParser.parse(bytes) }
        } catch {
            throw LoadError(description: "state file \(path): \(error)")
        }
        guard document["version"].intValue == 1 else {
            throw LoadError(description: "state file \(path): 'version' must be 1")
        }
        guard case .object(let apps) = document["apps"] else {
            throw LoadError(description: "state file \(path): 'apps' must be an object")
        }
        return apps
    }

    func register(_ name: String, snapshot: @escaping @Sendable () -> JSONValue) {
        queue.sync { sections.append((name, snapshot)) }
    }

    /// Notes a change; the file is rewritten shortly after.
    func changed() {
        queue.async { [self] in
            dirty = true
            guard !saveScheduled else { return }
            saveScheduled = true
            queue.asyncAfter(deadline: .now() + .milliseconds(100)) { [self] in
                saveScheduled = false
                saveIfDirty()
            }
        }
    }

    /// Writes pending changes now (at exit).
    func flush() {
        queue.sync { saveIfDirty() }
    }

    private func saveIfDirty() {
        guard dirty else { return }
        dirty = false
        var apps: [String: JSONValue] = [:]
        for section in sections { apps[section.name] = section.snapshot() }
        var bytes = JSONWriter.bytes(["version": 1, "apps": .object(apps)], sortedKeys: true)
        bytes.append(0x0A)
        do {
            try StateFile.writeAtomically(bytes, to: path)
        } catch {
            FileHandle.standardError.write(Data("steward-sandbox: could not save state to \(path): \(error)\n".utf8))
        }
    }

    static func writeAtomically(_ bytes: [UInt8], to path: String) throws {
        let temporary = "\(path).tmp-\(getpid())"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw LoadError(description: "cannot create \(temporary): \(String(cString: strerror(errno)))") }
        var written = 0
        while written < bytes.count {
            let n = bytes.withUnsafeBytes { buffer -> Int in
                guard let base = buffer.baseAddress else { return 0 }
                return write(fd, base + written, buffer.count - written)
            }
            if n < 0, errno == EINTR { continue }
            guard n > 0 else {
                let message = String(cString: strerror(errno))
                close(fd)
                unlink(temporary)
                throw LoadError(description: "cannot write \(temporary): \(message)")
            }
            written += n
        }
        guard fsync(fd) == 0 else {
            let message = String(cString: strerror(errno))
            close(fd)
            unlink(temporary)
            throw LoadError(description: "cannot sync \(temporary): \(message)")
        }
        close(fd)
        guard rename(temporary, path) == 0 else {
            let message = String(cString: strerror(errno))
            unlink(temporary)
            throw LoadError(description: "cannot rename \(temporary) to \(path): \(message)")
        }
    }
}
