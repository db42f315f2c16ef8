import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Fresh, private Chromium profiles under the temporary directory.
///
/// Each profile records the pid of the process that made it, so a profile left behind by an
/// owner that was SIGKILLed is swept by the next launch instead of piling up in /tmp.
enum ProfileDirectory {
    static let prefix = "steward-chromium-"
    private static let ownerFile = "steward-owner.pid"

    static func create() throws -> String {
        sweepAbandoned()
        let base = NSTemporaryDirectory()
        var template = Array((base.hasSuffix("/") ? base : base + "/").utf8CString.dropLast()) + Array((prefix + "XXXXXX").utf8CString)
        guard let made = mkdtemp(&template) else {
            throw DevToolsError.launchFailed("could not create a profile directory in \(base): \(errnoText())")
        }
        let path = String(cString: made)
        try? "\(getpid())".write(toFile: path + "/" + ownerFile, atomically: false, encoding: .utf8)
        return path
    }

    static func remove(_ path: String) {
        try? FileManager.default.removeItem(atPath: path)
    }

    /// Removes profiles whose owning process no longer exists.
    private static func sweepAbandoned() {
        let base = NSTemporaryDirectory()
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: base) else { return }
        for name in names where name.hasPrefix(prefix) {
            let path = (base as NSString).appendingPathComponent(name)
            guard let text = try? String(contentsOfFile: path + "/" + ownerFile, encoding: .utf8),
                  let owner = pid_t(text.trimmingCharacters(in: .whitespacesAndNewlines)),
                  owner != getpid() else { continue }
            if kill(owner, 0) != 0, errno == ESRCH { remove(path) }
        }
    }
}
