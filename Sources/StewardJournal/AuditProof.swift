import Foundation
import StewardJSON

/// A self-contained proof that one event is in the journal as of a checkpoint.
///
/// It carries the event line, the signed checkpoint and the audit path, so an auditor can
/// check it with nothing else (`steward audit verify-proof FILE`). The JSON uses the field
/// names of the transparency-dev/merkle test vectors: `leafIdx`, `treeSize`, `leafHash`,
/// `root`, `proof`; hashes are standard base64. The leaf index is `seq - 1`.
public struct AuditProof: Sendable, Equatable {
    public var event: String
    public var leafIndex: Int
    public var treeSize: Int
    public var leafHash: [UInt8]
    public var root: [UInt8]
    public var path: [[UInt8]]
    public var checkpoint: String

    public static let format = "steward-inclusion-proof/1"

    /// A proof of event `seq` against `checkpoint` (default: the latest stored one).
    public static func make(journal: Journal, seq: Int, checkpoint: SignedCheckpoint? = nil) throws -> AuditProof {
        guard let checkpoint = checkpoint ?? journal.latestCheckpoint else {
            throw JournalError.proof("no checkpoint to prove against; run `steward audit checkpoint` first")
        }
        guard seq >= 1, seq <= checkpoint.size else { throw JournalError.seqOutOfRange(seq: seq, size: checkpoint.size) }
        let root = try journal.root(size: checkpoint.size)
        guard root == checkpoint.root else {
            throw JournalError.checkpointMismatch(size: checkpoint.size, file: "the checkpoint", reason: "the journal no longer hashes to its root")
        }
        let event = try journal.event(seq: seq)
        let proof = try journal.inclusionProof(seq: seq, treeSize: checkpoint.size)
        // Refuse to hand out a proof that cannot hold: the line on disk is not the one hashed
        // when it was appended.
        do {
            try MerkleVerifier.verifyInclusion(proof, leafHash: event.leafHash, root: root)
        } catch {
            throw JournalError.proof("event \(seq) on disk is not the event hashed when it was appended: the journal was altered; run `steward audit verify`")
        }
        return AuditProof(event: event.lineText, leafIndex: seq - 1, treeSize: checkpoint.size, leafHash: event.leafHash.bytes,
                          root: root.bytes, path: proof.hashes.map(\.bytes), checkpoint: checkpoint.serialized)
    }

    public var json: JSONValue {
        [
            "format": .string(Self.format),
            "seq": .int(leafIndex + 1),
            "leafIdx": .int(leafIndex),
            "treeSize": .int(treeSize),
            "leafHash": .string(Data(leafHash).base64EncodedString()),
            "root": .string(Data(root).base64EncodedString()),
            "proof": .array(path.map { .string(Data($0).base64EncodedString()) }),
            "event": .string(event),
            "checkpoint": .string(checkpoint),
        ]
    }

    public init(event: String, leafIndex: Int, treeSize: Int, leafHash: [UInt8], root: [UInt8], path: [[UInt8]], checkpoint: String) {
        self.event = event
        self.leafIndex = leafIndex
        self.treeSize = treeSize
        self.leafHash = leafHash
        self.root = root
        self.path = path
        self.checkpoint = checkpoint
    }

    /// Reads a proof file's JSON, naming the field that is wrong.
    public init(json: JSONValue, source: String) throws(JournalError) {
        func fail(_ field: String, _ reason: String) -> JournalError { .proof("\(source): \(field) \(reason)") }
        func base64(_ field: String, _ value: JSONValue) throws(JournalError) -> [UInt8] {
            guard let text = value.stringValue, let data = Data(base64Encoded: text) else { throw fail(field, "is not base64") }
            return Array(data)
        }
        guard json.objectValue != nil else { throw fail("the file", "is not a JSON object") }
        if let format = json["format"].stringValue, format != Self.format { throw fail("format", "is \(format), expected \(Self.format)") }
        guard let leafIndex = json["leafIdx"].intValue else { throw fail("leafIdx", "is missing or not an integer") }
        guard let treeSize = json["treeSize"].intValue else { throw fail("treeSize", "is missing or not an integer") }
        guard let event = json["event"].stringValue else { throw fail("event", "is missing or not a string") }
        guard let checkpoint = json["checkpoint"].stringValue else { throw fail("checkpoint", "is missing or not a string") }
        guard let proof = json["proof"].arrayValue ?? (json["proof"].isNull ? [] : nil) else { throw fail("proof", "is not an array") }
        var path: [[UInt8]] = []
        for (i, element) in proof.enumerated() { path.append(try base64("proof[\(i)]", element)) }
        self.init(event: event, leafIndex: leafIndex, treeSize: treeSize, leafHash: try base64("leafHash", json["leafHash"]),
                  root: try base64("root", json["root"]), path: path, checkpoint: checkpoint)
    }

    /// Checks the proof with no access to the journal. Without a key the checkpoint's
    /// signature cannot be checked, and the result says so.
    public func verify(key: CheckpointKey? = nil) -> ProofVerification {
        var checks: [ProofVerification.Check] = []
        func check(_ name: String, _ ok: Bool, _ detail: String) { checks.append(.init(name: name, ok: ok, detail: detail)) }

        let line = Array(event.utf8)
        do {
            let stored = try StoredEvent(line: line)
            check("event", stored.seq == leafIndex + 1,
                  stored.seq == leafIndex + 1 ? "seq \(stored.seq), \(stored.type)" : "event has seq \(stored.seq) but the proof is for leaf \(leafIndex) (seq \(leafIndex + 1))")
        } catch {
            check("event", false, "not a canonical event line: \(error.reason)")
        }
        let computedLeaf = Merkle.leafHash(line)
        check("leafHash", computedLeaf.bytes == leafHash, computedLeaf.bytes == leafHash ? "SHA-256(0x00 || event) matches" : "SHA-256(0x00 || event) is \(computedLeaf.base64), not the leafHash given")

        var signed: SignedCheckpoint?
        do {
            signed = try SignedCheckpoint.parse(checkpoint, source: "checkpoint")
        } catch {
            check("checkpoint", false, error.description)
        }
        if let signed {
            let sameHead = signed.size == treeSize && signed.root.bytes == root
            check("checkpoint", sameHead, sameHead ? "\(signed.origin) at size \(signed.size)" : "the checkpoint is for size \(signed.size) with root \(signed.root.base64), not treeSize and root of the proof")
            if let key {
                let status = signed.signatureStatus(key: key)
                check("signature", status == .valid, status == .valid ? "signed with \(key.reference)" : "signature \(status.rawValue) for \(key.reference)")
            }
        }
        do {
            try MerkleVerifier.verifyInclusion(leafIndex: leafIndex, treeSize: treeSize, leafHash: leafHash, proof: path, root: root)
            check("inclusion", true, "the audit path of \(path.count) hashes leads to the root")
        } catch {
            check("inclusion", false, error.description)
        }
        return ProofVerification(checks: checks, signatureChecked: key != nil && signed != nil)
    }
}

/// The result of checking an `AuditProof`, step by step.
public struct ProofVerification: Sendable, Equatable {
    public struct Check: Sendable, Equatable {
        public var name: String
        public var ok: Bool
        public var detail: String
    }

    public var checks: [Check]
    public var signatureChecked: Bool

    public var valid: Bool { checks.allSatisfy(\.ok) }

    public var json: JSONValue {
        [
            "valid": .bool(valid),
            "signatureChecked": .bool(signatureChecked),
            "checks": .array(checks.map { ["name": .string($0.name), "ok": .bool($0.ok), "detail": .string($0.detail)] }),
        ]
    }

    public var text: String {
        var lines = checks.map { "\($0.ok ? "ok  " : "FAIL") \($0.name): \($0.detail)" }
        if !signatureChecked { lines.append("note: the checkpoint signature was not checked (no key given)") }
        lines.append(valid ? "proof valid" : "proof NOT valid")
        return lines.joined(separator: "\n")
    }
}
