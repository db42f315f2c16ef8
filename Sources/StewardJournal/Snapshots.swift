/// Callers' snapshots of derived state, one file each under `snapshots/`.
///
/// A file is a header line, `steward-snapshot 1 <seq> <root> <sha256 of payload> <length>`, then
/// the payload. The root is the journal's tree root at `seq`; a snapshot whose root no longer
/// matches was taken from a different history and is ignored.
struct Snapshots {
    let layout: JournalLayout

    struct Loaded {
        var seq: Int
        var root: SHA256Digest
        var bytes: [UInt8]
    }

    func save(name: String, seq: Int, root: SHA256Digest, bytes: [UInt8]) throws(JournalError) {
        try Self.validate(name)
        try FileSystem.createDirectory(layout.snapshotsDirectory)
        var file = Array("steward-snapshot 1 \(seq) \(root.base64) \(SHA256.hash(bytes).hex) \(bytes.count)\n".utf8)
        file.append(contentsOf: bytes)
        try FileSystem.writeAtomically(file, to: layout.snapshotPath(name: name))
    }

    /// The snapshot, or nil when it is missing or damaged.
    func load(name: String) throws(JournalError) -> Loaded? {
        try Self.validate(name)
        guard let file = try FileSystem.readFile(layout.snapshotPath(name: name)),
              let newline = file.firstIndex(of: 0x0A) else { return nil }
        let fields = String(decoding: file[..<newline], as: UTF8.self).split(separator: " ").map(String.init)
        guard fields.count == 6, fields[0] == "steward-snapshot", fields[1] == "1", let seq = Int(fields[2]), seq >= 0,
              let root = SHA256Digest(base64: fields[3]), let length = Int(fields[5]) else { return nil }
        let payload = Array(file[(newline + 1)...])
        guard payload.count == length, SHA256.hash(payload).hex == fields[4] else { return nil }
        return Loaded(seq: seq, root: root, bytes: payload)
    }

    static func validate(_ name: String) throws(JournalError) {
        let allowed = name.utf8.allSatisfy { c in
            (c >= UInt8(ascii: "a") && c <= UInt8(ascii: "z")) || (c >= UInt8(ascii: "A") && c <= UInt8(ascii: "Z"))
                || (c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9")) || c == UInt8(ascii: ".") || c == UInt8(ascii: "_") || c == UInt8(ascii: "-")
        }
        guard allowed, !name.isEmpty, name.utf8.count <= 100, !name.hasPrefix(".") else { throw .invalidSnapshotName(name) }
    }
}
