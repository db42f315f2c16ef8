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
        origin: String? = nil, maxLineBytes: Int = 1 << 20
    ) -> VerificationReport {
        let started = Date()
        var run = VerificationRun(layout: JournalLayout(directory: directory), key: key, origin: origin, maxLineBytes: maxLineBytes)
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
        do {
            files = try layout.segments()
        } catch {
            fail(.unreadable, seq: 1, error.description)
            return false
        }
        let leafIndex = try? FileDescriptor(path: layout.leavesPath, flags: O_RDONLY)
        let indexedLeaves = ((try? leafIndex?.size) ?? 0) / SHA256Digest.byteCount
        var indexBlock: [UInt8] = []
        var indexBlockStart = 0
        var nextTarget = targets.firstIndex { !$0.matched } ?? targets.count
        var expected = 1

        for (fileIndex, segment) in files.enumerated() {
            guard segment.firstSeq == expected else {
                let reason = segment.firstSeq > expected
                    ? "segment starts at seq \(segment.firstSeq) but the previous one ends at seq \(expected - 1): events are missing"
                    : "segment starts at seq \(segment.firstSeq), which an earlier segment already holds"
                fail(.segmentMismatch, seq: expected, file: segment.path, offset: 0, reason)
                return false
            }
            let handle: FileDescriptor
            let length: Int
            do {
                handle = try FileDescriptor(path: segment.path, flags: O_RDONLY)
                length = try handle.size
            } catch {
                fail(.unreadable, seq: expected, file: segment.path, error.description)
                return false
            }
            var stop = false
            let end: LineScanner.End
            do {
                end = try LineScanner(file: handle, maxLineBytes: maxLineBytes).scan(from: 0, to: length) { offset, line in
                    if unconfirmedFrom == nil { unconfirmedFrom = (expected, segment.path, offset) }
                    switch EventLineCheck.check(line) {
                    case .failure(let error):
                        fail(.malformedLine, seq: expected, file: segment.path, offset: offset, "not a valid event line: \(error.reason)")
                        stop = true
                        return false
                    case .success(let seq) where seq > expected:
                        fail(.sequenceGap, seq: expected, file: segment.path, offset: offset,
                             "found seq \(seq) where seq \(expected) belongs: " + (seq == expected + 1 ? "event \(expected) was removed or moved" : "events \(expected) to \(seq - 1) were removed or moved"))
                        stop = true
                        return false
                    case .success(let seq) where seq < expected:
                        fail(.outOfOrder, seq: expected, file: segment.path, offset: offset, "found seq \(seq) where seq \(expected) belongs: lines were moved or repeated")
                        stop = true
                        return false
                    case .success:
                        break
                    }
                    let leaf = Merkle.leafHash(rawBytes: line)
                    let leafIndexPosition = expected - 1
                    if leafIndexPosition < indexedLeaves, let leafIndex {
                        if leafIndexPosition >= indexBlockStart + indexBlock.count / 32 || leafIndexPosition < indexBlockStart {
                            indexBlockStart = leafIndexPosition
                            indexBlock = (try? leafIndex.read(count: min(4096, indexedLeaves - leafIndexPosition) * 32, at: leafIndexPosition * 32)) ?? []
                        }
                        let slot = (leafIndexPosition - indexBlockStart) * 32
                        let recorded = indexBlock.withUnsafeBytes { raw -> SHA256Digest? in
                            guard slot + 32 <= raw.count, let base = raw.baseAddress else { return nil }
                            return SHA256Digest(loading: base + slot)
                        }
                        if let recorded {
                            if recorded != leaf {
                                fail(.alteredEvent, seq: expected, file: segment.path, offset: offset,
                                     "the event's bytes differ from those hashed when it was appended (leaf hash \(leaf.base64), index has \(recorded.base64))")
                                stop = true
                                return false
                            }
                        }
                    }
                    let chunk = leafIndexPosition >> TreeIndex.storedLevel
                    if chunksToRetain.contains(chunk) { retainedChunks[chunk, default: []].append(leaf) }
                    frontier.append(leaf) { level, node in
                        guard level >= TreeIndex.storedLevel else { return }
                        let slot = level - TreeIndex.storedLevel
                        if slot == upperLevels.count { upperLevels.append([]) }
                        upperLevels[slot].append(node)
                    }
                    report.events = expected
                    report.bytes += line.count + 1
                    expected += 1
                    while nextTarget < targets.count, targets[nextTarget].size == frontier.size {
                        let target = targets[nextTarget]
                        let root = frontier.root
                        if root != target.root {
                            let from = unconfirmedFrom ?? (1, segment.path, 0)
                            fail(.checkpointMismatch, seq: from.seq, file: from.file, offset: from.offset, exact: false,
                                 "the log does not hash to the root signed for size \(target.size) (it hashes to \(root.base64)): an event from seq \(from.seq) to \(target.size) was altered, inserted, removed or reordered",
                                 checkpoint: target.label, checkpointSize: target.size)
                            stop = true
                            return false
                        }
                        targets[nextTarget].matched = true
                        report.checkpointsChecked += 1
                        unconfirmedFrom = nil
                        nextTarget += 1
                    }
                    return true
                }
            } catch {
                fail(.unreadable, seq: expected, file: segment.path, error.description)
                return false
            }
            if stop { return false }
            let tailOffset: Int?
            switch end {
            case .partialLine(let offset, _), .overlong(let offset): tailOffset = offset
            case .complete, .stopped: tailOffset = nil
            }
            if let offset = tailOffset {
                let isLast = fileIndex == files.count - 1
                let covered = targets.last.map { $0.size >= expected } ?? false
                if isLast && !covered {
                    report.warnings.append("\(segment.path) ends with \(length - offset) bytes of an incomplete event at byte \(offset) (a torn write; the next writable open removes it)")
                } else {
                    fail(.truncatedLine, seq: expected, file: segment.path, offset: offset,
                         isLast ? "the event at byte \(offset) is cut short, and a checkpoint covers it" : "the event at byte \(offset) is cut short inside a sealed segment")
                    return false
                }
            }
        }

        if let beyond = targets.first(where: { !$0.matched }) {
            let lastFile = files.last?.path
            let length = lastFile.flatMap { try? FileDescriptor(path: $0, flags: O_RDONLY).size }
            fail(.missingEvents, seq: expected, file: lastFile, offset: length, exact: true,
                 "the checkpoint signed \(beyond.size) events but the journal ends at seq \(expected - 1): events were removed from the end",
                 checkpoint: beyond.label, checkpointSize: beyond.size)
            return false
        }
        return true
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
