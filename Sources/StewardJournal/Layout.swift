import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Where the journal keeps its files under its directory (`<state>/journal`).
///
/// ```
/// segments/00000000000000000001.jsonl   event lines; named by the seq of their first line
/// checkpoints/00000000000000001000.checkpoint   signed tree heads, named by tree size
/// index/leaves                           32-byte leaf hashes in seq order (derived)
/// index/state                            frontier and offsets for a fast open (derived)
/// snapshots/<name>.snapshot              callers' derived state (derived)
/// lock                                   held by the one process writing
/// ```
/// Only `segments/` and `checkpoints/` are evidence; everything else is rebuilt from them.
struct JournalLayout: Sendable {
    let directory: String

    init(directory: URL) {
        var path = directory.standardizedFileURL.path
        while path.count > 1 && path.hasSuffix("/") { path.removeLast() }
        self.directory = path
    }

    var segmentsDirectory: String { directory + "/segments" }
    var checkpointsDirectory: String { directory + "/checkpoints" }
    var indexDirectory: String { directory + "/index" }
    var snapshotsDirectory: String { directory + "/snapshots" }
    var leavesPath: String { indexDirectory + "/leaves" }
    var statePath: String { indexDirectory + "/state" }
    var lockPath: String { directory + "/lock" }

    func segmentPath(firstSeq: Int) -> String {
        segmentsDirectory + "/" + Self.paddedNumber(firstSeq) + ".jsonl"
    }

    func checkpointPath(size: Int) -> String {
        checkpointsDirectory + "/" + Self.paddedNumber(size) + ".checkpoint"
    }

    func snapshotPath(name: String) -> String {
        snapshotsDirectory + "/" + name + ".snapshot"
    }

    /// Segment files in seq order. A file in `segments/` that is not named like a segment is
    /// refused: something put it there, and the journal will not guess what it means.
    func segments() throws(JournalError) -> [SegmentFile] {
        var files: [SegmentFile] = []
        for name in try FileSystem.list(segmentsDirectory) {
            guard name.hasSuffix(".jsonl"), name.count == 26, let firstSeq = Int(name.prefix(20)), firstSeq >= 1 else {
                if name.hasSuffix(".tmp") { continue }
                throw .corrupt(file: segmentsDirectory + "/" + name, offset: 0, seq: nil, reason: "unexpected file among the segments")
            }
            files.append(SegmentFile(firstSeq: firstSeq, path: segmentsDirectory + "/" + name))
        }
        return files.sorted { $0.firstSeq < $1.firstSeq }
    }

    /// Creates the directories a writable journal needs.
    func create() throws(JournalError) {
        for path in [directory, segmentsDirectory, checkpointsDirectory, indexDirectory, snapshotsDirectory] {
            try FileSystem.createDirectory(path)
        }
    }

    static func paddedNumber(_ n: Int) -> String {
        let digits = String(n)
        return String(repeating: "0", count: max(0, 20 - digits.count)) + digits
    }
}

/// One segment file and the seq of its first line.
struct SegmentFile: Sendable, Equatable {
    var firstSeq: Int
    var path: String
}

/// A byte position in the journal: which segment, and where in it.
struct JournalPosition: Sendable, Equatable {
    var segment: Int
    var offset: Int
}

/// Reads a file's lines in large blocks, without an allocation per line.
///
/// Calls `body` with each complete line (newline stripped) and its byte offset; stops when
/// `body` returns false. Reports what is left after the last newline.
struct LineScanner {
    /// How a scan ended.
    enum End: Equatable {
        /// Every byte up to the limit was part of a complete line.
        case complete
        /// Bytes after the last newline: `count` of them, starting at `offset`.
        case partialLine(offset: Int, count: Int)
        /// A line longer than the limit starts at `offset`.
        case overlong(offset: Int)
        /// `body` asked to stop.
        case stopped
    }

    let file: FileDescriptor
    let maxLineBytes: Int

    func scan(from start: Int, to end: Int, _ body: (_ offset: Int, _ line: UnsafeRawBufferPointer) -> Bool) throws(JournalError) -> End {
        // Starts at 1 MiB and doubles while a single line does not fit, up to the line limit.
        var capacity = min(1 << 20, max(4096, end - start))
        var buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: capacity, alignment: 16)
        defer { buffer.deallocate() }
        guard var base = buffer.baseAddress else { return .complete }

        var fileOffset = start      // file offset of buffer[0]
        var filled = 0              // valid bytes in the buffer
        var consumed = 0            // bytes of the buffer already handed out as lines
        while true {
            let want = min(capacity - filled, end - (fileOffset + filled))
            var read = 0
            if want > 0 {
                read = try file.read(into: UnsafeMutableRawBufferPointer(start: base + filled, count: want), at: fileOffset + filled)
                filled += read
            }
            while consumed < filled {
                guard let newline = memchr(base + consumed, 0x0A, filled - consumed) else { break }
                let lineEnd = base.distance(to: UnsafeMutableRawPointer(newline))
                let line = UnsafeRawBufferPointer(start: base + consumed, count: lineEnd - consumed)
                if line.count > maxLineBytes { return .overlong(offset: fileOffset + consumed) }
                if !body(fileOffset + consumed, line) { return .stopped }
                consumed = lineEnd + 1
            }
            let rest = filled - consumed
            if read == 0 || fileOffset + filled >= end {
                if rest == 0 { return .complete }
                return rest > maxLineBytes ? .overlong(offset: fileOffset + consumed) : .partialLine(offset: fileOffset + consumed, count: rest)
            }
            if rest > maxLineBytes { return .overlong(offset: fileOffset + consumed) }
            // Move the unfinished line to the front and read more behind it.
            if consumed > 0 {
                memmove(base, base + consumed, rest)
                fileOffset += consumed
                filled = rest
                consumed = 0
            } else if filled == capacity {
                let larger = UnsafeMutableRawBufferPointer.allocate(byteCount: capacity * 2, alignment: 16)
                guard let newBase = larger.baseAddress else { return .overlong(offset: fileOffset) }
                newBase.copyMemory(from: base, byteCount: filled)
                buffer.deallocate()
                buffer = larger
                base = newBase
                capacity *= 2
            }
        }
    }
}
