import Foundation
import StewardJournal
import StewardProtocol
import Testing

/// A temporary Steward folder driven through the real `steward` binary: write its files, run
/// `steward` commands in it, read its journal.
///
/// Open so a test can make a folder with its own config (a sandbox app, a test connector).
open class StewardFolder: @unchecked Sendable {  // `dir` is its only stored property and never changes; subclasses add only constants
    public let dir: URL

    /// The `steward` executable beside the tests.
    public static var stewardPath: String { Products.path("steward") }

    /// A new, empty folder under the temporary directory.
    public init() throws {
        dir = try TemporaryDirectory(prefix: "steward-lab").url
    }

    /// A folder some other step made (a demo's), used as it is.
    public init(existing dir: URL) throws {
        self.dir = dir
    }

    /// Writes `text` to `name`, a path relative to the folder; missing folders are created.
    public func write(_ name: String, _ text: String) throws {
        let url = dir.appendingPathComponent(name)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(text.utf8).write(to: url)
    }

    /// Writes the HR export: rows of (id, email, department, title, status).
    public func hr(_ rows: [(String, String, String, String, String)]) throws {
        var text = "employee_id,email,first_name,last_name,department,title,status\n"
        for r in rows { text += "\(r.0),\(r.1),F\(r.0),L\(r.0),\(r.2),\(r.3),\(r.4)\n" }
        try write("hr.csv", text)
    }

    /// Runs `steward ARGS` in the folder.
    @discardableResult
    public func steward(_ args: [String], environment: [String: String] = [:]) throws -> ProgramRun {
        try Self.steward(args, in: dir, environment: environment)
    }

    /// Runs `steward ARGS` in `dir` and waits for it to exit.
    public static func steward(_ args: [String], in dir: URL, environment: [String: String] = [:]) throws -> ProgramRun {
        try ProgramRun(stewardPath, args, in: dir, environment: environment.mapValues { Optional($0) })
    }

    /// `steward sync` then `steward apply --yes`, expecting both to succeed.
    public func converge(environment: [String: String] = [:], sourceLocation: SourceLocation = #_sourceLocation) throws {
        let s = try steward(["sync"], environment: environment)
        #expect(s.code == 0, "sync failed: \(s.out) \(s.err)", sourceLocation: sourceLocation)
        let a = try steward(["apply", "--yes"], environment: environment)
        #expect(a.code == 0, "apply failed: \(a.out) \(a.err)", sourceLocation: sourceLocation)
    }

    /// The journal's events of `type`, as `steward audit log` prints them.
    public func events(_ type: String) throws -> [JSONValue] {
        let r = try steward(["audit", "log", "--type", type, "--json"])
        return r.out.split(separator: "\n").compactMap { try? JSONParser.parse(String($0)) }
    }

    /// Whether the journal in `.steward` verifies with the folder's `checkpoint.key`.
    public func journalIntact() throws -> Bool {
        let key = try CheckpointKey.resolve("file:" + dir.appendingPathComponent("checkpoint.key").path, stateDirectory: dir.appendingPathComponent(".steward"))
        return JournalVerifier.verify(directory: dir.appendingPathComponent(".steward/journal"), key: key).intact
    }

    /// Deletes the folder.
    open func remove() {
        try? FileManager.default.removeItem(at: dir)
    }
}
