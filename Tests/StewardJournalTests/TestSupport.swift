import Foundation
@testable import StewardJournal

/// A directory under the system temporary directory, removed when the value goes away.
final class TemporaryDirectory: Sendable {
    let url: URL

    init() throws {
        url = FileManager.default.temporaryDirectory
            .appendingPathComponent("steward-journal-tests-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(at: url) }
}

/// The `openssl` command line, used as an independent reference implementation.
enum OpenSSL {
    static let path: String? = ["/usr/bin/openssl", "/usr/local/bin/openssl", "/bin/openssl"]
        .first { FileManager.default.isExecutableFile(atPath: $0) }

    static var isAvailable: Bool { path != nil }

    static func sha256Hex(of file: URL) throws -> String {
        let output = try run(["dgst", "-sha256", "-r", file.path])
        return String(output.prefix(64))
    }

    static func run(_ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path ?? "openssl")
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: data, as: UTF8.self)
    }
}

/// A checkpoint key for tests (32 bytes, never printed).
let testKey: CheckpointKey = {
    do {
        return try CheckpointKey(material: Array("steward-test-checkpoint-key-0123".utf8), reference: "test key")
    } catch {
        fatalError("test key: \(error)")
    }
}()

/// A journal directory inside a temporary state directory.
struct JournalFixture {
    let state: TemporaryDirectory
    let directory: URL

    init() throws {
        state = try TemporaryDirectory()
        directory = state.url.appendingPathComponent("journal")
    }

    func options(key: CheckpointKey? = testKey, every: Int? = nil, segmentBytes: Int = 64 << 20, readOnly: Bool = false) -> JournalOptions {
        JournalOptions(readOnly: readOnly, checkpointKey: key, origin: "steward.local/test", checkpointEveryEvents: every,
                       checkpointInterval: nil, segmentBytes: segmentBytes)
    }

    func open(key: CheckpointKey? = testKey, every: Int? = nil, segmentBytes: Int = 64 << 20, readOnly: Bool = false) throws -> (Journal, RecoveryReport) {
        try Journal.open(directory: directory, options: options(key: key, every: every, segmentBytes: segmentBytes, readOnly: readOnly))
    }

    func segmentPaths() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: directory.appendingPathComponent("segments").path)
            .filter { $0.hasSuffix(".jsonl") }.sorted()
            .map { directory.appendingPathComponent("segments").appendingPathComponent($0).path }
    }

    func verify(key: CheckpointKey? = testKey, external: [(source: String, checkpoint: SignedCheckpoint)] = []) -> VerificationReport {
        JournalVerifier.verify(directory: directory, key: key, external: external)
    }
}

func draft(_ i: Int, person: String = "E1001", app: String = "crm", type: String = "person.joined") -> EventDraft {
    EventDraft(type: type, actor: "steward sync", subjects: ["person": person, "app": app, "account": "a-\(i)"],
               data: ["i": .int(i), "name": "Zoë Müller", "note": .string("line \"\(i)\"\nwith escapes\t"), "tags": ["a", "b"], "ok": true, "none": nil])
}

func drafts(_ range: Range<Int>) -> [EventDraft] { range.map { draft($0) } }

/// Reads a segment file's lines with the byte offset each starts at.
func lines(of path: String) throws -> [(offset: Int, bytes: [UInt8])] {
    let data = Array(try Data(contentsOf: URL(fileURLWithPath: path)))
    var out: [(Int, [UInt8])] = []
    var start = 0
    for (i, byte) in data.enumerated() where byte == 0x0A {
        out.append((start, Array(data[start..<i])))
        start = i + 1
    }
    return out
}

import StewardJSON

/// Round-trips a JSON value through its text, as a proof file would.
enum JSONParserBridge {
    static func parse(_ value: JSONValue) throws -> JSONValue {
        try JSONParser.parse(JSONWriter.bytes(value))
    }
}
