import Dispatch
import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Checks and hashes the log on every core, handing the results back in log order.
///
/// Hashing every line is most of the work of verifying a journal or opening one without its
/// saved state. Lines hash independently, so the log is cut into line-aligned pieces of a few
/// MiB that worker threads check (`EventLineCheck`) and hash (`Merkle.leafHash`); the caller
/// folds the pieces into the tree, in order, on its own thread while the workers go on ahead.
enum LogHasher {
    /// A line-aligned byte range of one segment file.
    struct Piece: Sendable {
        var segment: Int
        var path: String
        var start: Int
        var end: Int
    }

    /// One piece's lines: their offsets and leaf hashes, up to the first line that is not a
    /// canonical event continuing the piece's sequence.
    struct HashedPiece: Sendable {
        var piece: Piece
        var offsets: [Int] = []
        var leaves: [SHA256Digest] = []
        /// The seq of the piece's first line; the rest follow one by one.
        var firstSeq = 0
        var problem: Problem?
        var bytes = 0
    }

    enum Problem: Sendable, Equatable {
        case malformed(offset: Int, reason: String)
        /// A canonical line whose seq does not follow the previous one.
        case sequence(offset: Int, found: Int)
        /// The piece ends inside a line (only the last piece of a segment can).
        case partialLine(offset: Int)
        case overlong(offset: Int)
        case unreadable(reason: String)
    }

    static let pieceBytes = 4 << 20

    /// Cuts the byte ranges `[from, length)` of the given segments into pieces that start at
    /// line starts.
    static func pieces(_ segments: [(path: String, from: Int, length: Int)], firstSegment: Int, maxLineBytes: Int) throws(JournalError) -> [Piece] {
        var out: [Piece] = []
        for (i, segment) in segments.enumerated() {
            var start = segment.from
            guard start < segment.length else { continue }
            let file = try FileDescriptor(path: segment.path, flags: O_RDONLY)
            while start < segment.length {
                var end = min(segment.length, start + pieceBytes)
                if end < segment.length {
                    end = try nextLineStart(in: file, from: end, limit: min(segment.length, end + maxLineBytes + 1))
                }
                out.append(Piece(segment: firstSegment + i, path: segment.path, start: start, end: end))
                start = end
            }
        }
        return out
    }

    /// The offset just past the first newline at or after `from`, looking in small windows up
    /// to `limit` (where the cut falls when no newline comes first).
    private static func nextLineStart(in file: FileDescriptor, from: Int, limit: Int) throws(JournalError) -> Int {
        var position = from
        while position < limit {
            let window = try file.read(count: min(64 << 10, limit - position), at: position)
            if let newline = window.firstIndex(of: 0x0A) { return position + newline + 1 }
            if window.isEmpty { break }
            position += window.count
        }
        return limit
    }

    /// Hashes `pieces` on `workers` threads and calls `body` with each result in order, on the
    /// calling thread, until it returns false.
    static func forEachInOrder(_ pieces: [Piece], maxLineBytes: Int, workers: Int = ProcessInfo.activeProcessorCountOrOne,
                               _ body: (HashedPiece) -> Bool) {
        guard !pieces.isEmpty else { return }
        if pieces.count == 1 || workers <= 1 {
            for piece in pieces where !body(hash(piece, maxLineBytes: maxLineBytes)) { return }
            return
        }
        let slots = pieces.map { _ in ResultSlot() }
        let permits = DispatchSemaphore(value: workers * 2)
        let stop = Atomic<Bool>(false)
        let work = DispatchQueue(label: "steward.journal.hash", attributes: .concurrent)
        // Permits are taken in piece order, so the piece the caller waits for always has one.
        Thread {
            for (i, piece) in pieces.enumerated() {
                permits.wait()
                if stop.load(ordering: .relaxed) {
                    slots[i].put(nil)
                    continue
                }
                let slot = slots[i]
                work.async { slot.put(hash(piece, maxLineBytes: maxLineBytes)) }
            }
        }.start()
        for slot in slots {
            let result = slot.take()
            permits.signal()
            guard let result, body(result) else {
                // Let the dispatcher run through the rest without starting more work.
                stop.store(true, ordering: .relaxed)
                for _ in pieces.indices { permits.signal() }
                return
            }
        }
    }

    /// Checks and hashes one piece.
    static func hash(_ piece: Piece, maxLineBytes: Int) -> HashedPiece {
        var result = HashedPiece(piece: piece)
        let expectedLines = (piece.end - piece.start) / 200 + 16
        result.offsets.reserveCapacity(expectedLines)
        result.leaves.reserveCapacity(expectedLines)
        do {
            let file = try FileDescriptor(path: piece.path, flags: O_RDONLY)
            var previous = 0
            let end = try LineScanner(file: file, maxLineBytes: maxLineBytes).scan(from: piece.start, to: piece.end) { offset, line in
                switch EventLineCheck.check(line) {
                case .failure(let error):
                    result.problem = .malformed(offset: offset, reason: error.reason)
                    return false
                case .success(let seq):
                    if result.leaves.isEmpty {
                        result.firstSeq = seq
                    } else if seq != previous + 1 {
                        result.problem = .sequence(offset: offset, found: seq)
                        return false
                    }
                    previous = seq
                }
                result.offsets.append(offset)
                result.leaves.append(Merkle.leafHash(rawBytes: line))
                result.bytes += line.count + 1
                return true
            }
            switch end {
            case .partialLine(let offset, _): result.problem = result.problem ?? .partialLine(offset: offset)
            case .overlong(let offset): result.problem = result.problem ?? .overlong(offset: offset)
            case .complete, .stopped: break
            }
        } catch {
            result.problem = .unreadable(reason: error.description)
        }
        return result
    }
}

/// One result handed from a worker to the ordered consumer.
private final class ResultSlot: Sendable {
    private let value = Mutex<LogHasher.HashedPiece?>(nil)
    private let ready = DispatchSemaphore(value: 0)

    func put(_ result: LogHasher.HashedPiece?) {
        value.withLock { $0 = result }
        ready.signal()
    }

    func take() -> LogHasher.HashedPiece? {
        ready.wait()
        return value.withLock { slot in
            defer { slot = nil }
            return slot
        }
    }
}

extension ProcessInfo {
    /// Cores available to this process, at least one.
    static var activeProcessorCountOrOne: Int { max(1, processInfo.activeProcessorCount) }
}
