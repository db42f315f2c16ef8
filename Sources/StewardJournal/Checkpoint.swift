import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A signed tree head in the C2SP tlog-checkpoint form (a signed note):
///
/// ```
/// steward.local/acme
/// 1000
/// 7W5i3UZYhM3u3Rl4BoZ6vD8GrdqWV8yEahbj4n6XkZc=
/// time 2026-11-27T10:00:00.123Z
///
/// — steward.local/acme q2FbQ0Ly7D0g…
/// ```
///
/// The note text is origin, tree size, base64 root, and one extension line with the time it
/// was signed. The signature is `key ID (4 bytes) || HMAC-SHA-256(key, note text)`; see
/// `CheckpointKey` for the key ID. A witness that keeps an exported checkpoint can later prove
/// the log was not rewritten: the log must still hash to this root at this size.
public struct SignedCheckpoint: Sendable, Equatable {
    public var origin: String
    public var size: Int
    public var root: SHA256Digest
    public var time: Timestamp?
    public var extensionLines: [String]
    /// The signed text: every line up to the blank line, each ending in a newline.
    public var text: String
    public var signatures: [NoteSignature]

    /// The whole note as it is written to files and exported.
    public var serialized: String {
        var out = text + "\n"
        for signature in signatures {
            out += "\u{2014} \(signature.keyName) \(Data(signature.bytes).base64EncodedString())\n"
        }
        return out
    }

    /// Signs a tree head. The key's name is the origin, as tlog-checkpoint recommends.
    public static func sign(origin: String, size: Int, root: SHA256Digest, time: Timestamp, key: CheckpointKey) throws(JournalError) -> SignedCheckpoint {
        try validateOrigin(origin)
        let text = "\(origin)\n\(size)\n\(root.base64)\ntime \(time.rfc3339)\n"
        let signature = NoteSignature(keyName: origin, bytes: key.keyID(name: origin) + HMACSHA256.authenticate(Array(text.utf8), key: key.material).bytes)
        return SignedCheckpoint(origin: origin, size: size, root: root, time: time, extensionLines: ["time \(time.rfc3339)"],
                                text: text, signatures: [signature])
    }

    /// Parses a signed note; `source` (a file name) is used in errors.
    public static func parse(_ note: String, source: String) throws(JournalError) -> SignedCheckpoint {
        func fail(_ reason: String) -> JournalError { .badCheckpoint(source: source, reason: reason) }
        guard !note.unicodeScalars.contains(where: { $0.value < 0x20 && $0 != "\n" }) else {
            throw fail("contains control characters")
        }
        guard note.hasSuffix("\n"), let split = note.range(of: "\n\n", options: .backwards) else {
            throw fail("is not a signed note (no blank line before the signatures)")
        }
        let text = String(note[..<split.lowerBound]) + "\n"
        let signatureBlock = note[split.upperBound...]

        var signatures: [NoteSignature] = []
        for line in signatureBlock.split(separator: "\n", omittingEmptySubsequences: false).dropLast() {
            guard line.hasPrefix("\u{2014} ") else { throw fail("signature line does not start with an em dash and a space") }
            let parts = line.dropFirst(2).split(separator: " ", omittingEmptySubsequences: false)
            guard parts.count == 2, !parts[0].isEmpty, !parts[0].contains("+"),
                  let bytes = Data(base64Encoded: String(parts[1])), bytes.count > 4 else {
                throw fail("malformed signature line")
            }
            signatures.append(NoteSignature(keyName: String(parts[0]), bytes: Array(bytes)))
        }
        guard !signatures.isEmpty else { throw fail("has no signature") }

        let lines = text.dropLast().split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        guard lines.count >= 3, !lines.contains(where: \.isEmpty) else {
            throw fail("needs origin, tree size and root hash lines, none empty")
        }
        guard let size = Int(lines[1]), size >= 0, lines[1] == String(size) else {
            throw fail("tree size \"\(lines[1])\" is not a decimal number without leading zeros")
        }
        guard let root = SHA256Digest(base64: lines[2]) else { throw fail("root hash is not base64 of 32 bytes") }
        let extensions = Array(lines.dropFirst(3))
        var time: Timestamp?
        for line in extensions where line.hasPrefix("time ") {
            guard let parsed = Timestamp(rfc3339: String(line.dropFirst(5))) else { throw fail("time line is not an RFC 3339 time") }
            time = parsed
        }
        return SignedCheckpoint(origin: lines[0], size: size, root: root, time: time, extensionLines: extensions,
                                text: text, signatures: signatures)
    }

    /// Checks this journal's signature. Signatures by other keys (a witness's cosignature) are
    /// ignored, as the signed-note spec requires.
    public func signatureStatus(key: CheckpointKey) -> SignatureStatus {
        let id = key.keyID(name: origin)
        var sawOurs = false
        for signature in signatures where signature.keyName == origin && Array(signature.bytes.prefix(4)) == id {
            sawOurs = true
            if HMACSHA256.isValid(signature.bytes.dropFirst(4), for: Array(text.utf8), key: key.material) { return .valid }
        }
        return sawOurs ? .invalid : .missing
    }

    static func validateOrigin(_ origin: String) throws(JournalError) {
        guard !origin.isEmpty, !origin.contains(where: { $0.isWhitespace || $0 == "+" }),
              !origin.unicodeScalars.contains(where: { $0.value < 0x20 }) else {
            throw .invalidOptions("checkpoint origin \"\(origin)\" must be non-empty, without spaces or '+'")
        }
    }
}

/// One `— name signature` line of a signed note.
public struct NoteSignature: Sendable, Equatable {
    public var keyName: String
    /// Key ID (4 bytes) followed by the signature.
    public var bytes: [UInt8]
}

public enum SignatureStatus: String, Sendable, Equatable {
    case valid
    /// A signature claims to be from this key but does not verify: forged or altered.
    case invalid
    /// No signature from this key at all.
    case missing
}

/// The secret that signs checkpoints, given as a reference so the value never sits in config.
///
/// `file:PATH` reads the file (one trailing newline is ignored); `env:NAME` reads an environment
/// variable. The key must live outside the state directory: whoever can rewrite the journal
/// must not also be able to re-sign it. Key material never appears in errors or descriptions.
public struct CheckpointKey: Sendable, CustomStringConvertible {
    /// The reference it was loaded from, such as `env:STEWARD_CHECKPOINT_KEY`; safe to print.
    public let reference: String
    let material: [UInt8]

    public static let minimumBytes = 16

    public init(material: [UInt8], reference: String = "inline key") throws(JournalError) {
        guard material.count >= Self.minimumBytes else {
            throw .badCheckpointKey(reference: reference, reason: "is \(material.count) bytes; use at least \(Self.minimumBytes) random bytes (32 recommended)")
        }
        self.material = material
        self.reference = reference
    }

    public var description: String { "checkpoint key \(reference)" }

    /// Loads a key from `file:PATH` or `env:NAME`, refusing a file inside `stateDirectory`.
    public static func resolve(
        _ reference: String, stateDirectory: URL?, environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws(JournalError) -> CheckpointKey {
        if reference.hasPrefix("env:") {
            let name = String(reference.dropFirst(4))
            guard !name.isEmpty else { throw .badCheckpointKey(reference: reference, reason: "names no environment variable") }
            guard let value = environment[name], !value.isEmpty else {
                throw .badCheckpointKey(reference: reference, reason: "environment variable \(name) is not set")
            }
            return try CheckpointKey(material: trimmingNewline(Array(value.utf8)), reference: reference)
        }
        if reference.hasPrefix("file:") {
            let path = String(reference.dropFirst(5))
            guard !path.isEmpty else { throw .badCheckpointKey(reference: reference, reason: "names no file") }
            guard let keyPath = realPath(path) else {
                throw .badCheckpointKey(reference: reference, reason: "file does not exist or cannot be read")
            }
            if let stateDirectory {
                let statePath = realPath(stateDirectory.path) ?? stateDirectory.standardizedFileURL.path
                if keyPath == statePath || keyPath.hasPrefix(statePath.hasSuffix("/") ? statePath : statePath + "/") {
                    throw .badCheckpointKey(reference: reference, reason: "is inside the state directory \(statePath); keep it elsewhere so whoever can rewrite the journal cannot re-sign it")
                }
            }
            let bytes: [UInt8]?
            do {
                bytes = try FileSystem.readFile(keyPath)
            } catch {
                throw .badCheckpointKey(reference: reference, reason: "cannot be read")
            }
            guard let bytes else { throw .badCheckpointKey(reference: reference, reason: "file does not exist") }
            return try CheckpointKey(material: trimmingNewline(bytes), reference: reference)
        }
        throw .badCheckpointKey(reference: reference, reason: "must be file:PATH or env:NAME")
    }

    /// The 4-byte key ID of the signed-note spec: SHA-256(name || 0x0A || 0xFF || type || public
    /// part)[:4]. An HMAC key has no public part, so a MAC of a fixed string stands in for it; it
    /// identifies the key without revealing it.
    func keyID(name: String) -> [UInt8] {
        var input = Array(name.utf8)
        input.append(0x0A)
        input.append(0xFF)
        input.append(contentsOf: "steward-hmac-sha256".utf8)
        input.append(contentsOf: HMACSHA256.authenticate(Array("steward checkpoint key id".utf8), key: material).bytes)
        return Array(SHA256.hash(input).bytes.prefix(4))
    }

    private static func trimmingNewline(_ bytes: [UInt8]) -> [UInt8] {
        var bytes = bytes
        if bytes.last == 0x0A { bytes.removeLast() }
        if bytes.last == 0x0D { bytes.removeLast() }
        return bytes
    }

    private static func realPath(_ path: String) -> String? {
        guard let resolved = Glibc.realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }
}

/// The checkpoints a journal has stored, one file per tree size.
enum CheckpointFiles {
    /// Every stored checkpoint in size order, or the first file that does not parse.
    static func load(_ layout: JournalLayout) throws(JournalError) -> [(path: String, checkpoint: SignedCheckpoint)] {
        var out: [(path: String, checkpoint: SignedCheckpoint)] = []
        for name in try FileSystem.list(layout.checkpointsDirectory) where name.hasSuffix(".checkpoint") {
            let path = layout.checkpointsDirectory + "/" + name
            guard let bytes = try FileSystem.readFile(path) else { continue }
            guard let text = String(validating: bytes, as: UTF8.self) else {
                throw .badCheckpoint(source: path, reason: "is not UTF-8")
            }
            let checkpoint = try SignedCheckpoint.parse(text, source: path)
            guard name == JournalLayout.paddedNumber(checkpoint.size) + ".checkpoint" else {
                throw .badCheckpoint(source: path, reason: "file name does not match its tree size \(checkpoint.size)")
            }
            out.append((path, checkpoint))
        }
        return out.sorted { $0.checkpoint.size < $1.checkpoint.size }
    }

    static func write(_ checkpoint: SignedCheckpoint, _ layout: JournalLayout) throws(JournalError) -> String {
        let path = layout.checkpointPath(size: checkpoint.size)
        try FileSystem.writeAtomically(Array(checkpoint.serialized.utf8), to: path)
        return path
    }
}
