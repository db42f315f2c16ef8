#if canImport(Glibc)
import Glibc
#endif

/// What opening the journal found and did.
public struct RecoveryReport: Sendable, Equatable {
    /// How the journal's own open-state snapshot was used.
    public enum SnapshotUse: Sendable, Equatable {
        case used(size: Int)
        case missing
        /// The snapshot did not match the log and was rebuilt from it.
        case stale(reason: String)
    }

    /// A damaged end of the last segment left by a crash during a write.
    public struct TornTail: Sendable, Equatable {
        public var file: String
        public var offset: Int
        public var bytes: Int
        /// The seq the damaged record would have had.
        public var seq: Int
        public var reason: String
        /// False when the journal was opened read-only: the tail is ignored, not removed.
        public var truncated: Bool
    }

    /// Events in the journal after recovery.
    public var size: Int
    public var snapshot: SnapshotUse
    /// Events read from the log because no snapshot covered them.
    public var scannedEvents: Int
    public var scannedBytes: Int
    public var tornTail: TornTail?
    public var latestCheckpointSize: Int?
}

/// Open-time recovery: rebuild what is derived, cut a torn tail, refuse anything else.
///
/// A record that cannot be read is a torn write only when it sits in the last segment, after
/// the last checkpoint and the last saved state, and nothing valid follows it (or the damage
/// holds zero bytes, the mark of blocks that never reached the disk). Anywhere else it is
/// corruption or tampering, and opening fails without changing a byte.
struct Recovery {
    let layout: JournalLayout
    let writable: Bool
    let maxLineBytes: Int
    let key: CheckpointKey?

    /// The journal's state after recovery.
    struct Result {
        var tree: TreeIndex
        var segments: [SegmentState]
        var chunkStarts: [JournalPosition]
        var lastTime: Timestamp
        var lastLine: JournalPosition
        var lastLeafHash: SHA256Digest
        var latestCheckpoint: StoredCheckpoint?
        var report: RecoveryReport
    }

    func run() throws(JournalError) -> Result {
        let checkpoints = try CheckpointFiles.load(layout)
        if let key {
            for (path, checkpoint) in checkpoints where checkpoint.signatureStatus(key: key) == .invalid {
                throw .badCheckpoint(source: path, reason: "signature does not verify with \(key.reference): forged or altered")
            }
        }
        let latest = checkpoints.last.map { StoredCheckpoint(path: $0.path, checkpoint: $0.checkpoint) }
        let files = try layout.segments()

        let leavesFile: FileDescriptor?
        if writable {
            leavesFile = try FileDescriptor(path: layout.leavesPath, flags: O_RDWR | O_CREAT)
        } else {
            leavesFile = FileSystem.exists(layout.leavesPath) ? try FileDescriptor(path: layout.leavesPath, flags: O_RDONLY) : nil
        }

        var snapshotUse = RecoveryReport.SnapshotUse.missing
        var saved: OpenState?
        // Even a stale state, if intact, says how many events were durable when it was saved.
        var recordedSize = 0
        if let bytes = try FileSystem.readFile(layout.statePath) {
            if let state = OpenState(decoding: bytes) {
                recordedSize = state.size
                if let problem = try mismatch(state, files: files, leavesFile: leavesFile) {
                    snapshotUse = .stale(reason: problem)
                } else {
                    saved = state
                    snapshotUse = .used(size: state.size)
                }
            } else {
                snapshotUse = .stale(reason: "index/state is damaged")
            }
        }

        var scan = Scan(files: files)
        if let saved {
            let leaves = LeafStore(file: leavesFile, writable: writable, trusted: saved.size)
            if writable { try leaves.truncate(to: saved.size) }
            scan.tree = TreeIndex(leaves: leaves, frontier: saved.frontier, upperLevels: saved.upperLevels)
            scan.chunkStarts = saved.chunkStarts
            scan.lastTime = saved.lastTime
            scan.lastLine = saved.lastLine
            scan.lastLeafHash = saved.lastLeafHash
            for (i, segment) in saved.segments.enumerated() { scan.segments[i].length = segment.length }
            scan.start = JournalPosition(segment: max(0, saved.segments.count - 1), offset: saved.segments.last?.length ?? 0)
        } else {
            let leaves = LeafStore(file: leavesFile, writable: writable, trusted: 0)
            if writable { try leaves.truncate(to: 0) }
            scan.tree = TreeIndex(leaves: leaves)
        }
        let protectedSize = max(latest?.checkpoint.size ?? 0, recordedSize)

        try scan.run(maxLineBytes: maxLineBytes)
        var tornTail: RecoveryReport.TornTail?
        if let bad = scan.bad {
            tornTail = try classify(bad, scan: scan, protectedSize: protectedSize, latest: latest)
        }

        let size = scan.tree.size
        guard size >= recordedSize else {
            throw .corrupt(file: layout.statePath, offset: 0, seq: size + 1,
                           reason: "the journal held \(recordedSize) durable events when this state was saved and now holds \(size): events were removed (delete index/ to accept the log as it is)")
        }
        if let latest {
            guard latest.checkpoint.size <= size else {
                throw .checkpointMismatch(size: latest.checkpoint.size, file: latest.path, reason: "the journal holds only \(size) events")
            }
            let root: SHA256Digest
            do {
                root = try scan.tree.root(size: latest.checkpoint.size)
            } catch {
                throw .checkpointMismatch(size: latest.checkpoint.size, file: latest.path, reason: error.description)
            }
            guard root == latest.checkpoint.root else {
                throw .checkpointMismatch(size: latest.checkpoint.size, file: latest.path,
                                          reason: "the log hashes to \(root.base64) at that size, not the signed root; run `steward audit verify` to find where")
            }
        }

        let report = RecoveryReport(size: size, snapshot: snapshotUse, scannedEvents: scan.scannedEvents, scannedBytes: scan.scannedBytes,
                                    tornTail: tornTail, latestCheckpointSize: latest?.checkpoint.size)
        return Result(tree: scan.tree, segments: scan.segments, chunkStarts: scan.chunkStarts, lastTime: scan.lastTime,
                      lastLine: scan.lastLine, lastLeafHash: scan.lastLeafHash, latestCheckpoint: latest, report: report)
    }

    /// Why a saved state cannot be used with the files on disk, or nil when it can.
    private func mismatch(_ state: OpenState, files: [SegmentFile], leavesFile: FileDescriptor?) throws(JournalError) -> String? {
        guard state.segments.count <= files.count else { return "it lists more segments than exist" }
        for (i, segment) in state.segments.enumerated() {
            guard files[i].firstSeq == segment.firstSeq else { return "segment \(i) is not the one it lists" }
            let length = try FileDescriptor(path: files[i].path, flags: O_RDONLY).size
            let sealed = i < state.segments.count - 1
            if sealed ? length != segment.length : length < segment.length {
                return "\(files[i].path) is \(length) bytes, the state says \(segment.length)"
            }
        }
        guard let leavesFile, try leavesFile.size >= state.size * SHA256Digest.byteCount else {
            return "index/leaves is shorter than the state"
        }
        guard state.chunkStarts.count == (state.size + 1023) / 1024 else { return "chunk offsets do not fit the size" }
        guard state.size > 0 else { return nil }
        guard state.lastLine.segment < state.segments.count else { return "last line is outside the segments" }
        let end = state.segments[state.lastLine.segment].length
        guard end > state.lastLine.offset, end - state.lastLine.offset <= maxLineBytes + 1 else { return "last line position is off" }
        let bytes = try FileDescriptor(path: files[state.lastLine.segment].path, flags: O_RDONLY)
            .read(count: end - state.lastLine.offset, at: state.lastLine.offset)
        guard bytes.last == 0x0A else { return "the last event it lists does not end a line" }
        let line = bytes.dropLast()
        let seq = line.withUnsafeBytes { EventLine.leadingSeq($0) }
        guard seq == state.size, Merkle.leafHash(Array(line)) == state.lastLeafHash else {
            return "the last event it lists has changed"
        }
        return nil
    }

    /// Decides whether the first unreadable record is a torn write (cut it) or damage (refuse).
    private func classify(_ bad: Scan.BadRecord, scan: Scan, protectedSize: Int, latest: StoredCheckpoint?) throws(JournalError) -> RecoveryReport.TornTail {
        let file = scan.files[bad.position.segment]
        let seq = scan.tree.size + 1
        guard bad.position.segment == scan.files.count - 1 else {
            throw .corrupt(file: file.path, offset: bad.position.offset, seq: seq, reason: "\(bad.reason), in a sealed segment")
        }
        guard seq > protectedSize else {
            let covered = latest.map { "checkpoint \($0.path) covers seq 1 to \($0.checkpoint.size)" } ?? "the saved state covers it"
            throw .corrupt(file: file.path, offset: bad.position.offset, seq: seq, reason: "\(bad.reason); \(covered), so this is damage or tampering, not a torn write")
        }
        let handle = try FileDescriptor(path: file.path, flags: writable ? O_RDWR : O_RDONLY)
        let length = try handle.size
        let tail = try handle.read(count: length - bad.position.offset, at: bad.position.offset)
        let validAfter = Self.countValidLines(after: tail, maxLineBytes: maxLineBytes)
        if validAfter > 0 && !tail.contains(0) {
            throw .corrupt(file: file.path, offset: bad.position.offset, seq: seq,
                           reason: "\(bad.reason), followed by \(validAfter) valid events: not a torn write, refusing to truncate")
        }
        if writable {
            try handle.truncate(to: bad.position.offset)
            try handle.sync()
        }
        return RecoveryReport.TornTail(file: file.path, offset: bad.position.offset, bytes: tail.count, seq: seq,
                                       reason: bad.reason, truncated: writable)
    }

    /// Valid event lines after the first line of `tail`.
    private static func countValidLines(after tail: [UInt8], maxLineBytes: Int) -> Int {
        guard let firstNewline = tail.firstIndex(of: 0x0A) else { return 0 }
        var count = 0
        for line in tail[(firstNewline + 1)...].split(separator: 0x0A) where line.count <= maxLineBytes {
            let valid = line.withUnsafeBytes { raw in
                if case .success = EventLineCheck.check(raw) { return true } else { return false }
            }
            if valid { count += 1 }
        }
        return count
    }
}

/// The recovery scan over the log: checks every line from `start` and folds it into the tree.
private struct Scan {
    struct BadRecord {
        var position: JournalPosition
        var reason: String
    }

    let files: [SegmentFile]
    var segments: [SegmentState]
    var tree = TreeIndex(leaves: LeafStore(file: nil, writable: false, trusted: 0))
    var chunkStarts: [JournalPosition] = []
    var lastTime = Timestamp(millisecondsSince1970: 0)
    var lastLine = JournalPosition(segment: 0, offset: 0)
    var lastLeafHash = Merkle.emptyRoot
    var start = JournalPosition(segment: 0, offset: 0)
    var bad: BadRecord?
    var scannedEvents = 0
    var scannedBytes = 0

    init(files: [SegmentFile]) {
        self.files = files
        self.segments = files.map { SegmentState(firstSeq: $0.firstSeq, path: $0.path, length: 0) }
    }

    mutating func run(maxLineBytes: Int) throws(JournalError) {
        guard !files.isEmpty else { return }
        var lengths: [Int] = []
        for file in files { lengths.append(try FileDescriptor(path: file.path, flags: O_RDONLY).size) }
        let ranges = (start.segment..<files.count).map { i in (files[i].path, i == start.segment ? start.offset : 0, lengths[i]) }
        let pieces = try LogHasher.pieces(ranges, firstSegment: start.segment, maxLineBytes: maxLineBytes)

        var expected = tree.size + 1
        var nextSegment = start.offset == 0 ? start.segment : start.segment + 1
        var failure: JournalError?
        var pending: [SHA256Digest] = []

        LogHasher.forEachInOrder(pieces, maxLineBytes: maxLineBytes) { hashed in
            let segment = hashed.piece.segment
            // Segments, empty ones included, must be named for the seq that comes next.
            while nextSegment <= segment {
                if files[nextSegment].firstSeq != expected {
                    failure = .corrupt(file: files[nextSegment].path, offset: 0, seq: expected,
                                       reason: "segment is named for seq \(files[nextSegment].firstSeq) but seq \(expected) comes next")
                    return false
                }
                nextSegment += 1
            }
            for (k, leaf) in hashed.leaves.enumerated() {
                let offset = hashed.offsets[k]
                if k == 0 && hashed.firstSeq != expected {
                    bad = BadRecord(position: JournalPosition(segment: segment, offset: offset),
                                    reason: "seq \(hashed.firstSeq) where seq \(expected) was expected")
                    return false
                }
                if (expected - 1) % 1024 == 0 { chunkStarts.append(JournalPosition(segment: segment, offset: offset)) }
                pending.append(leaf)
                lastLine = JournalPosition(segment: segment, offset: offset)
                lastLeafHash = leaf
                expected += 1
            }
            scannedEvents += hashed.leaves.count
            scannedBytes += hashed.bytes
            if pending.count >= 4096 {
                do throws(JournalError) {
                    try tree.append(pending)
                } catch {
                    failure = error
                    return false
                }
                pending.removeAll(keepingCapacity: true)
            }
            let position: (Int, String)?
            switch hashed.problem {
            case nil: position = nil
            case .malformed(let offset, let reason): position = (offset, reason)
            case .sequence(let offset, let found): position = (offset, "seq \(found) where seq \(expected) was expected")
            case .partialLine(let offset): position = (offset, "incomplete last line (no newline)")
            case .overlong(let offset): position = (offset, "line longer than \(maxLineBytes) bytes")
            case .unreadable(let reason):
                failure = .io(operation: "read", path: hashed.piece.path + " (\(reason))", errno: EIO)
                return false
            }
            if let (offset, reason) = position {
                bad = BadRecord(position: JournalPosition(segment: segment, offset: offset), reason: reason)
                return false
            }
            return true
        }
        if let failure { throw failure }
        try tree.append(pending)
        if bad == nil {
            while nextSegment < files.count {
                guard files[nextSegment].firstSeq == expected else {
                    throw .corrupt(file: files[nextSegment].path, offset: 0, seq: expected,
                                   reason: "segment is named for seq \(files[nextSegment].firstSeq) but seq \(expected) comes next")
                }
                nextSegment += 1
            }
        }
        for i in start.segment..<files.count {
            if let bad, bad.position.segment == i {
                segments[i].length = bad.position.offset
                break
            }
            segments[i].length = lengths[i]
        }
        if scannedEvents > 0 {
            let head = try FileDescriptor(path: files[lastLine.segment].path, flags: O_RDONLY).read(count: 96, at: lastLine.offset)
            lastTime = head.withUnsafeBytes { EventLine.time(of: $0) } ?? lastTime
        }
    }
}

/// A segment file and how many of its bytes are committed events.
struct SegmentState: Sendable, Equatable {
    var firstSeq: Int
    var path: String
    var length: Int
}

/// A checkpoint and the file it was read from.
struct StoredCheckpoint: Sendable, Equatable {
    var path: String
    var checkpoint: SignedCheckpoint
}
