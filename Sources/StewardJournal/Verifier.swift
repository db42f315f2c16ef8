import Foundation
import StewardJSON
#if canImport(Glibc)
import Glibc
#endif

/// Checks a journal directory from scratch, the way an auditor would: every line is re-read,
/// re-hashed and folded into the tree, and every checkpoint (stored, or supplied from a
/// witness) must match the recomputed root at its size and be consistent with the next.
///
/// It needs no lock and changes nothing, so it can run beside a writing `steward serve`.
public enum JournalVerifier {
    /// Verifies the journal in `directory`. `key` checks checkpoint signatures (without it the
    /// roots are still checked); `external` are checkpoints kept outside the state directory.
    public static func verify(
        directory: URL, key: CheckpointKey? = nil, external: [(source: String, checkpoint: SignedCheckpoint)] = [],
        origin: String? = nil
    ) -> VerificationReport {
        let started = Date()
        var run = VerificationRun(layout: JournalLayout(directory: directory), key: key, origin: origin, maxLineBytes: EventLine.maxReadableBytes)
        run.execute(external: external)
        var report = run.report
        report.seconds = Date().timeIntervalSince(started)
        return report
    }
}

/// The outcome of `JournalVerifier.verify`, for people (`text`) and programs (`json`).
public struct VerificationReport: Sendable, Equatable {
    public var intact: Bool { divergence == nil }
    /// Events read and checked before the first divergence (all of them when intact).
    public var events = 0
    public var bytes = 0
    /// The recomputed root over `events` events.
    public var root = Merkle.emptyRoot
    public var checkpointsChecked = 0
    /// Whether checkpoint signatures were checked (a key was available).
    public var signaturesChecked = false
    public var divergence: Divergence?
    public var warnings: [String] = []
    public var seconds = 0.0

    /// Where the journal first stops matching what it should be, and why.
    public struct Divergence: Sendable, Equatable {
        public enum Kind: String, Sendable {
            case malformedLine = "malformed-line"
            /// A seq is skipped: events were deleted or moved later.
            case sequenceGap = "sequence-gap"
            /// A seq repeats or goes back: events were moved earlier or duplicated.
            case outOfOrder = "out-of-order"
            /// The log ends before a checkpoint's size: events were cut from the end.
            case missingEvents = "missing-events"
            case truncatedLine = "truncated-line"
            case alteredEvent = "altered-event"
            case checkpointMismatch = "checkpoint-mismatch"
            case checkpointSignature = "checkpoint-signature"
            case checkpointMalformed = "checkpoint-malformed"
            case checkpointInconsistent = "checkpoint-inconsistent"
            case segmentMismatch = "segment-mismatch"
            case unreadable
        }

        public var kind: Kind
        /// The first divergent sequence number. When `exact` is false the damage lies somewhere
        /// from this seq up to `checkpointSize`; only a root was there to compare with.
        public var seq: Int
        public var file: String?
        /// Byte offset of event `seq` in `file`.
        public var offset: Int?
        public var exact: Bool
        public var reason: String
        /// The checkpoint involved, as a file path or the name it was supplied under.
        public var checkpoint: String?
        public var checkpointSize: Int?
    }

    public var json: JSONValue {
        var object: [String: JSONValue] = [
            "intact": .bool(intact), "events": .int(events), "bytes": .int(bytes), "root": .string(root.base64),
            "checkpointsChecked": .int(checkpointsChecked), "signaturesChecked": .bool(signaturesChecked),
            "warnings": .array(warnings.map { .string($0) }), "seconds": .double((seconds * 1000).rounded() / 1000),
        ]
        if let divergence {
            var d = JSONObjectBuilder()
            d.set("kind", divergence.kind.rawValue)
            d.set("seq", divergence.seq)
            d.set("file", divergence.file)
            d.set("offset", divergence.offset)
            d.set("exact", divergence.exact)
            d.set("reason", divergence.reason)
            d.set("checkpoint", divergence.checkpoint)
            d.set("checkpointSize", divergence.checkpointSize)
            object["divergence"] = d.value
        }
        return .object(object)
    }

    public var text: String {
        var lines: [String] = []
        if let d = divergence {
            let at = [d.file.map { "\($0)" }, d.offset.map { "byte \($0)" }].compactMap { $0 }.joined(separator: " ")
            let range = d.exact ? "seq \(d.seq)" : "seq \(d.seq) (or later, up to \(d.checkpointSize.map(String.init) ?? "?"))"
            lines.append("NOT INTACT: \(d.kind.rawValue) at \(range)\(at.isEmpty ? "" : ", \(at)")")
            lines.append("  \(d.reason)")
            if let checkpoint = d.checkpoint { lines.append("  checkpoint: \(checkpoint)") }
            lines.append("checked \(events) events (\(bytes) bytes) before the divergence")
        } else {
            lines.append("intact: \(events) events, \(bytes) bytes, root \(root.base64)")
            lines.append("\(checkpointsChecked) checkpoints match" + (signaturesChecked ? ", signatures valid" : " (signatures not checked: no key)"))
        }
        for warning in warnings { lines.append("warning: \(warning)") }
        return lines.joined(separator: "\n")
    }
}

// MARK: - The verification pass

/// A checkpoint the recomputed tree must match.
private struct Target {
    var size: Int
    var root: SHA256Digest
    var label: String
    var matched = false
}

private struct VerificationRun {
    let layout: JournalLayout
    let key: CheckpointKey?
    let origin: String?
    let maxLineBytes: Int
    var report = VerificationReport()

    private var targets: [Target] = []
    private var frontier = MerkleFrontier()
    private var upperLevels: [[SHA256Digest]] = []
    /// Leaf hashes of the 1,024-leaf chunks that hold a checkpoint's last leaf: enough, with
    /// `upperLevels`, to build the consistency proofs between checkpoints.
    private var retainedChunks: [Int: [SHA256Digest]] = [:]
    private var chunksToRetain: Set<Int> = []
    /// Where the first event after the last matched checkpoint starts.
    private var unconfirmedFrom: (seq: Int, file: String, offset: Int)?

    init(layout: JournalLayout, key: CheckpointKey?, origin: String?, maxLineBytes: Int) {
        self.layout = layout
        self.key = key
        self.origin = origin
        self.maxLineBytes = maxLineBytes
        report.signaturesChecked = key != nil
    }

    mutating func execute(external: [(source: String, checkpoint: SignedCheckpoint)]) {
        guard loadTargets(external: external) else { return }
        let scanned = scanSegments()
        report.root = frontier.root
        guard scanned else { return }
        checkConsistency()
    }

    private mutating func fail(_ kind: VerificationReport.Divergence.Kind, seq: Int, file: String? = nil, offset: Int? = nil,
                               exact: Bool = true, _ reason: String, checkpoint: String? = nil, checkpointSize: Int? = nil) {
        guard report.divergence == nil else { return }
        report.divergence = .init(kind: kind, seq: seq, file: file, offset: offset, exact: exact, reason: reason,
                                  checkpoint: checkpoint, checkpointSize: checkpointSize)
    }

    // MARK: Checkpoints

    private mutating func loadTargets(external: [(source: String, checkpoint: SignedCheckpoint)]) -> Bool {
        var found: [(String, SignedCheckpoint)] = []
        let names: [String]
        do {
            names = try FileSystem.list(layout.checkpointsDirectory)
        } catch {
            fail(.unreadable, seq: 1, error.description)
            return false
        }
        for name in names where name.hasSuffix(".checkpoint") {
            let path = layout.checkpointsDirectory + "/" + name
            let claimedSize = Int(name.prefix(20)) ?? 0
            do throws(JournalError) {
                guard let bytes = try FileSystem.readFile(path) else { continue }
                let checkpoint = try SignedCheckpoint.parse(String(decoding: bytes, as: UTF8.self), source: path)
                guard checkpoint.size == claimedSize else {
                    throw JournalError.badCheckpoint(source: path, reason: "file name says size \(claimedSize), the note says \(checkpoint.size)")
                }
                found.append((path, checkpoint))
            } catch {
                fail(.checkpointMalformed, seq: max(claimedSize, 1), exact: false, error.description, checkpoint: path, checkpointSize: claimedSize)
                return false
            }
        }
        found.append(contentsOf: external.map { ($0.source, $0.checkpoint) })
        if key == nil && !found.isEmpty {
            report.warnings.append("checkpoint signatures were not checked: no checkpoint key was given")
        }
        for (label, checkpoint) in found {
            if let key {
                switch checkpoint.signatureStatus(key: key) {
                case .valid:
                    break
                case .invalid:
                    fail(.checkpointSignature, seq: max(checkpoint.size, 1), exact: false, "signature does not verify with \(key.reference): forged or altered",
                         checkpoint: label, checkpointSize: checkpoint.size)
                    return false
                case .missing:
                    fail(.checkpointSignature, seq: max(checkpoint.size, 1), exact: false, "not signed by \(key.reference)",
                         checkpoint: label, checkpointSize: checkpoint.size)
                    return false
                }
            }
            if let origin, checkpoint.origin != origin {
                report.warnings.append("\(label) has origin \(checkpoint.origin), expected \(origin)")
            }
            targets.append(Target(size: checkpoint.size, root: checkpoint.root, label: label))
        }
        targets.sort { $0.size < $1.size }
        for target in targets where target.size > 0 { chunksToRetain.insert((target.size - 1) >> TreeIndex.storedLevel) }
        // The empty tree has a known root.
        for i in targets.indices where targets[i].size == 0 {
            guard targets[i].root == Merkle.emptyRoot else {
                fail(.checkpointMismatch, seq: 1, exact: false, "a checkpoint of the empty journal has a root other than the empty root",
                     checkpoint: targets[i].label, checkpointSize: 0)
                return false
            }
            targets[i].matched = true
        }
        return true
    }

    // MARK: The log

    private mutating func scanSegments() -> Bool {
        let files: [SegmentFile]
        let pieces: [LogHasher.Piece]
        var lengths: [Int] = []
        do {
            files = try layout.segments()
            for file in files { lengths.append(try FileDescriptor(path: file.path, flags: O_RDONLY).size) }
            pieces = try LogHasher.pieces(zip(files, lengths).map { ($0.path, 0, $1) }, firstSegment: 0, maxLineBytes: maxLineBytes)
        } catch {
            fail(.unreadable, seq: 1, error.description)
            return false
        }
        var index = LeafIndexReader(path: layout.leavesPath)
        var nextTarget = targets.firstIndex { !$0.matched } ?? targets.count
        var expected = 1
        var nextSegment = 0

        /// Segments (possibly empty ones) must start exactly where the previous one ended.
        func checkSegmentStart(_ segment: Int, _ run: inout VerificationRun) -> Bool {
            let file = files[segment]
            guard file.firstSeq != expected else { return true }
            let reason = file.firstSeq > expected
                ? "segment starts at seq \(file.firstSeq) but the previous one ends at seq \(expected - 1): events are missing"
                : "segment starts at seq \(file.firstSeq), which an earlier segment already holds"
            run.fail(.segmentMismatch, seq: expected, file: file.path, offset: 0, reason)
            return false
        }

        var ok = true
        LogHasher.forEachInOrder(pieces, maxLineBytes: maxLineBytes) { hashed in
            let piece = hashed.piece
            let path = piece.path
            while nextSegment <= piece.segment {
                guard checkSegmentStart(nextSegment, &self) else {
                    ok = false
                    return false
                }
                nextSegment += 1
            }
            for (k, leaf) in hashed.leaves.enumerated() {
                let offset = hashed.offsets[k]
                if k == 0 && hashed.firstSeq != expected {
                    sequenceBreak(found: hashed.firstSeq, expected: expected, path: path, offset: offset)
                    ok = false
                    return false
                }
                if unconfirmedFrom == nil { unconfirmedFrom = (expected, path, offset) }
                if let recorded = index.leaf(expected - 1), recorded != leaf {
                    fail(.alteredEvent, seq: expected, file: path, offset: offset,
                         "the event's bytes differ from those hashed when it was appended (leaf hash \(leaf.base64), index has \(recorded.base64))")
                    ok = false
                    return false
                }
                fold(leaf, seq: expected)
                report.events = expected
                report.bytes += (k + 1 < hashed.offsets.count ? hashed.offsets[k + 1] : offset + lineLength(hashed, k)) - offset
                expected += 1
                while nextTarget < targets.count, targets[nextTarget].size == frontier.size {
                    let target = targets[nextTarget]
                    let root = frontier.root
                    guard root == target.root else {
                        let from = unconfirmedFrom ?? (1, path, 0)
                        fail(.checkpointMismatch, seq: from.seq, file: from.file, offset: from.offset, exact: false,
                             "the log does not hash to the root signed for size \(target.size) (it hashes to \(root.base64)): an event from seq \(from.seq) to \(target.size) was altered, inserted, removed or reordered",
                             checkpoint: target.label, checkpointSize: target.size)
                        ok = false
                        return false
                    }
                    targets[nextTarget].matched = true
                    report.checkpointsChecked += 1
                    unconfirmedFrom = nil
                    nextTarget += 1
                }
            }
            switch hashed.problem {
            case nil:
                return true
            case .malformed(let offset, let reason):
                fail(.malformedLine, seq: expected, file: path, offset: offset, "not a valid event line: \(reason)")
            case .sequence(let offset, let found):
                sequenceBreak(found: found, expected: expected, path: path, offset: offset)
            case .partialLine(let offset), .overlong(let offset):
                let isLast = piece.segment == files.count - 1
                let covered = targets.last.map { $0.size >= expected } ?? false
                if isLast && !covered {
                    report.warnings.append("\(path) ends with \(lengths[piece.segment] - offset) bytes of an incomplete event at byte \(offset) (a torn write; the next writable open removes it)")
                    return true
                }
                fail(.truncatedLine, seq: expected, file: path, offset: offset,
                     isLast ? "the event at byte \(offset) is cut short, and a checkpoint covers it" : "the event at byte \(offset) is cut short inside a sealed segment")
            case .unreadable(let reason):
                fail(.unreadable, seq: expected, file: path, reason)
            }
            ok = false
            return false
        }
        guard ok else { return false }
        while nextSegment < files.count {
            guard checkSegmentStart(nextSegment, &self) else { return false }
            nextSegment += 1
        }

        if let beyond = targets.first(where: { !$0.matched }) {
            fail(.missingEvents, seq: expected, file: files.last?.path, offset: lengths.last, exact: true,
                 "the checkpoint signed \(beyond.size) events but the journal ends at seq \(expected - 1): events were removed from the end",
                 checkpoint: beyond.label, checkpointSize: beyond.size)
            return false
        }
        return true
    }

    private mutating func sequenceBreak(found: Int, expected: Int, path: String, offset: Int) {
        if found > expected {
            fail(.sequenceGap, seq: expected, file: path, offset: offset,
                 "found seq \(found) where seq \(expected) belongs: " + (found == expected + 1 ? "event \(expected) was removed or moved" : "events \(expected) to \(found - 1) were removed or moved"))
        } else {
            fail(.outOfOrder, seq: expected, file: path, offset: offset, "found seq \(found) where seq \(expected) belongs: lines were moved or repeated")
        }
    }

    private func lineLength(_ hashed: LogHasher.HashedPiece, _ k: Int) -> Int {
        // Only the last line of a piece gets here; the piece's byte count tells its length.
        let before = hashed.offsets[k] - hashed.piece.start
        return hashed.bytes - before
    }

    /// Folds a verified leaf into the tree, keeping what the consistency proofs will need.
    private mutating func fold(_ leaf: SHA256Digest, seq: Int) {
        let chunk = (seq - 1) >> TreeIndex.storedLevel
        if chunksToRetain.contains(chunk) { retainedChunks[chunk, default: []].append(leaf) }
        frontier.append(leaf) { level, node in
            guard level >= TreeIndex.storedLevel else { return }
            let slot = level - TreeIndex.storedLevel
            if slot == upperLevels.count { upperLevels.append([]) }
            upperLevels[slot].append(node)
        }
    }

    // MARK: Consistency between checkpoints

    /// Proves each checkpoint consistent with the next from the recomputed tree, as a
    /// witness holding only the two checkpoints would.
    private mutating func checkConsistency() {
        let upperLevels = self.upperLevels
        let retainedChunks = self.retainedChunks
        let builder = ProofBuilder { level, index throws(MerkleTreeError) in
            try Self.perfectSubtree(level: level, index: index, upperLevels: upperLevels, retainedChunks: retainedChunks)
        }
        let sized = targets.filter { $0.size > 0 }
        for (older, newer) in zip(sized, sized.dropFirst()) {
            do {
                let proof = try builder.consistencyProof(oldSize: older.size, newSize: newer.size)
                try MerkleVerifier.verifyConsistency(proof, oldRoot: older.root, newRoot: newer.root)
            } catch {
                fail(.checkpointInconsistent, seq: older.size + 1, exact: false,
                     "\(older.label) (size \(older.size)) and \(newer.label) (size \(newer.size)) are not consistent: \(error)",
                     checkpoint: newer.label, checkpointSize: newer.size)
                return
            }
        }
    }

    private static func perfectSubtree(
        level: Int, index: Int, upperLevels: [[SHA256Digest]], retainedChunks: [Int: [SHA256Digest]]
    ) throws(MerkleTreeError) -> SHA256Digest {
        if level >= TreeIndex.storedLevel {
            let slot = level - TreeIndex.storedLevel
            if slot < upperLevels.count, index < upperLevels[slot].count { return upperLevels[slot][index] }
        }
        let start = index << level
        let chunk = start >> TreeIndex.storedLevel
        guard let leaves = retainedChunks[chunk] else { throw .unreadable("leaves of chunk \(chunk) were not kept") }
        let from = start - (chunk << TreeIndex.storedLevel)
        let to = from + (1 << level)
        guard to <= leaves.count else { throw .unreadable("subtree \(level)/\(index) is beyond the verified leaves") }
        return Merkle.root(of: leaves[from..<to])
    }
}

/// Reads `index/leaves` in blocks as the verifier walks forward; nil past its end.
private struct LeafIndexReader {
    let file: FileDescriptor?
    let count: Int
    var block: [UInt8] = []
    var blockStart = 0

    init(path: String) {
        file = try? FileDescriptor(path: path, flags: O_RDONLY)
        count = ((try? file?.size) ?? 0) / SHA256Digest.byteCount
    }

    mutating func leaf(_ index: Int) -> SHA256Digest? {
        guard index < count, let file else { return nil }
        if index < blockStart || index >= blockStart + block.count / 32 {
            blockStart = index
            block = (try? file.read(count: min(4096, count - index) * 32, at: index * 32)) ?? []
        }
        let slot = (index - blockStart) * 32
        return block.withUnsafeBytes { raw -> SHA256Digest? in
            guard slot + 32 <= raw.count, let base = raw.baseAddress else { return nil }
            return SHA256Digest(loading: base + slot)
        }
    }
}
