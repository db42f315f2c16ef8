import Dispatch
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Writes, commits and signs. Everything here runs on `queue`, one batch at a time.
///
/// Group commit: appends pile up in the inbox while a batch is being written and synced;
/// the next turn of `drain` takes all of them as one batch with one write and one fsync.
final class JournalWriter: @unchecked Sendable { // Safe: all mutable state is touched only on `queue`.
    let queue = DispatchQueue(label: "steward.journal.writer", qos: .userInitiated)

    private let layout: JournalLayout
    private let options: JournalOptions
    private let origin: String
    private let shared: JournalShared
    private var lockFile: FileDescriptor?
    private var segment: FileDescriptor?
    private var segmentIndex: Int
    private var segmentLength: Int
    private var nextSeq: Int
    private var lastTime: Timestamp
    private var eventsSinceStateSave = 0
    private var failure: String?
    private var timer: DispatchSourceTimer?

    /// The most bytes taken into one batch; more waits for the next turn.
    private static let batchBytes = 32 << 20

    init(layout: JournalLayout, options: JournalOptions, origin: String, shared: JournalShared, lockFile: FileDescriptor,
         start: WriterStart) throws(JournalError) {
        self.layout = layout
        self.options = options
        self.origin = origin
        self.shared = shared
        self.lockFile = lockFile
        self.nextSeq = start.nextSeq
        self.lastTime = start.lastTime
        if let last = start.lastSegment {
            segment = try FileDescriptor(path: last.path, flags: O_RDWR)
            segmentIndex = start.segmentCount - 1
            segmentLength = last.length
        } else {
            segmentIndex = -1
            segmentLength = 0
        }
    }

    deinit { timer?.cancel() }

    /// Starts the timer that signs a checkpoint every `checkpointInterval` when events arrived.
    func start() {
        guard options.checkpointKey != nil, let interval = options.checkpointInterval else { return }
        let (seconds, attoseconds) = interval.components
        let nanoseconds = Int(min(seconds, 10_000_000)) * 1_000_000_000 + Int(attoseconds / 1_000_000_000)
        let timer = DispatchSource.makeTimerSource(queue: queue)
        timer.schedule(deadline: .now() + .nanoseconds(nanoseconds), repeating: .nanoseconds(nanoseconds))
        timer.setEventHandler { [weak self] in self?.checkpointIfDue(force: true) }
        timer.resume()
        self.timer = timer
    }

    // MARK: Group commit

    func drain() {
        while let batch = takeBatch() { commit(batch) }
    }

    private func takeBatch() -> [AppendRequest]? {
        shared.inbox.withLock { inbox -> [AppendRequest]? in
            guard !inbox.requests.isEmpty else {
                inbox.scheduled = false
                return nil
            }
            var count = 0
            var bytes = 0
            for request in inbox.requests {
                count += 1
                bytes += request.bytes
                if bytes >= Self.batchBytes { break }
            }
            let batch = Array(inbox.requests.prefix(count))
            inbox.requests.removeFirst(count)
            inbox.bytes -= bytes
            return batch
        }
    }

    private func commit(_ batch: [AppendRequest]) {
        if let failure {
            for request in batch { request.completion(.failure(.writerFailed(reason: failure))) }
            return
        }
        let firstSeq = nextSeq
        let time = max(Timestamp.now(), lastTime)
        let count = batch.reduce(0) { $0 + $1.drafts.count }
        var timeBytes: [UInt8] = []
        time.write(into: &timeBytes)
        var buffer: [UInt8] = []
        buffer.reserveCapacity(batch.reduce(0) { $0 + $1.bytes })
        var lineEnds: [Int] = []
        lineEnds.reserveCapacity(count)
        var seq = firstSeq
        for request in batch {
            for encoded in request.drafts {
                EventLine.appendLine(seq: seq, timeBytes: timeBytes, body: encoded.body, into: &buffer)
                lineEnds.append(buffer.count)
                seq += 1
            }
        }
        let leaves = Self.leafHashes(of: buffer, lineEnds: lineEnds)

        let offset: Int
        do throws(JournalError) {
            try rollSegmentIfNeeded()
            guard let segment else { throw JournalError.writerFailed(reason: "no segment to write to") }
            offset = segmentLength
            do throws(JournalError) {
                try segment.write(buffer, at: offset)
                try segment.sync()
            } catch {
                // The file may hold part of the batch; cut it back so the log stays clean.
                try? segment.truncate(to: offset)
                throw error
            }
        } catch {
            failure = error.description
            for request in batch { request.completion(.failure(error)) }
            return
        }

        // Durable from here on. Publish to readers, then answer the callers.
        segmentLength += buffer.count
        nextSeq = seq
        lastTime = time
        let segmentIndex = self.segmentIndex
        let publishError: JournalError? = shared.state.withLock { state in
            var start = offset
            for (i, end) in lineEnds.enumerated() {
                if (firstSeq + i - 1) % 1024 == 0 { state.chunkStarts.append(JournalPosition(segment: segmentIndex, offset: start)) }
                if i == lineEnds.count - 1 { state.lastLine = JournalPosition(segment: segmentIndex, offset: start) }
                start = offset + end
            }
            state.segments[segmentIndex].length = segmentLength
            state.lastTime = time
            state.lastLeafHash = leaves[leaves.count - 1]
            do throws(JournalError) {
                try state.tree.append(leaves)
                return nil
            } catch {
                return error
            }
        }
        if let publishError {
            // The events are durable, so the callers get them; the index is reopened later.
            failure = "leaf index: \(publishError.description)"
        }

        var index = 0
        var lineStart = 0
        for request in batch {
            var stored: [StoredEvent] = []
            stored.reserveCapacity(request.drafts.count)
            for encoded in request.drafts {
                let end = lineEnds[index]
                let draft = encoded.draft
                stored.append(StoredEvent(seq: firstSeq + index, time: time, type: draft.type, actor: draft.actor,
                                          subjects: draft.subjects, data: draft.data, line: Array(buffer[lineStart..<(end - 1)])))
                lineStart = end
                index += 1
            }
            request.completion(.success(stored))
        }

        eventsSinceStateSave += count
        checkpointIfDue(force: false)
        if eventsSinceStateSave >= options.stateSnapshotEveryEvents {
            do throws(JournalError) {
                try saveOpenState()
            } catch {
                shared.state.withLock { $0.lastBackgroundError = error }
            }
        }
    }

    /// The leaf hash of every line in `buffer`; a large batch is split across the cores.
    private static func leafHashes(of buffer: [UInt8], lineEnds: [Int]) -> [SHA256Digest] {
        let count = lineEnds.count
        let workers = count >= 512 ? ProcessInfo.activeProcessorCountOrOne : 1
        return [SHA256Digest](unsafeUninitializedCapacity: count) { out, initialized in
            guard let destination = out.baseAddress else { return }
            let shared = UncheckedPointer(destination)
            DispatchQueue.concurrentPerform(iterations: workers) { worker in
                buffer.withUnsafeBytes { raw in
                    for i in (count * worker / workers)..<(count * (worker + 1) / workers) {
                        let start = i == 0 ? 0 : lineEnds[i - 1]
                        let leaf = Merkle.leafHash(rawBytes: UnsafeRawBufferPointer(rebasing: raw[start..<(lineEnds[i] - 1)]))
                        (shared.pointer + i).initialize(to: leaf)
                    }
                }
            }
            initialized = count
        }
    }

    /// Starts a new segment when there is none or the current one is full. The directory is
    /// synced before any event goes in, so an acknowledged event never sits in a file whose
    /// name could vanish in a crash.
    private func rollSegmentIfNeeded() throws(JournalError) {
        if segment != nil && segmentLength < options.segmentBytes { return }
        if segment != nil && segmentLength == 0 { return }
        let path = layout.segmentPath(firstSeq: nextSeq)
        let file = try FileDescriptor(path: path, flags: O_RDWR | O_CREAT | O_EXCL)
        try FileSystem.syncDirectory(layout.segmentsDirectory)
        segment = file
        segmentLength = 0
        let firstSeq = nextSeq
        segmentIndex = shared.state.withLock { state in
            state.segments.append(SegmentState(firstSeq: firstSeq, path: path, length: 0))
            return state.segments.count - 1
        }
    }

    // MARK: Checkpoints and saved state

    /// Signs a checkpoint when enough events arrived since the last one (or any, when forced
    /// by the timer). Failures are kept for `Journal.lastBackgroundError`, not thrown at appenders.
    private func checkpointIfDue(force: Bool) {
        guard options.checkpointKey != nil, failure == nil else { return }
        let (size, signed) = shared.state.withLock { ($0.tree.size, $0.latestCheckpoint?.checkpoint.size ?? 0) }
        guard size > signed else { return }
        if !force {
            guard let every = options.checkpointEveryEvents, size - signed >= every else { return }
        }
        do throws(JournalError) {
            _ = try signCheckpoint()
        } catch {
            shared.state.withLock { $0.lastBackgroundError = error }
        }
    }

    /// Signs the current tree head after proving it consistent with the latest checkpoint.
    func signCheckpoint() throws(JournalError) -> SignedCheckpoint {
        guard let key = options.checkpointKey else { throw .noCheckpointKey }
        if let failure { throw .writerFailed(reason: failure) }
        let head = try shared.state.withLock { state throws(JournalError) -> TreeHead in
            let head = TreeHead(size: state.tree.size, root: state.tree.root)
            guard let latest = state.latestCheckpoint, latest.checkpoint.size > 0 else { return head }
            guard latest.checkpoint.size <= head.size else {
                throw .checkpointRefused(reason: "the journal has \(head.size) events but \(latest.path) signed \(latest.checkpoint.size)")
            }
            do throws(any Error) {
                let proof = try state.tree.consistencyProof(oldSize: latest.checkpoint.size, newSize: head.size)
                try MerkleVerifier.verifyConsistency(proof, oldRoot: latest.checkpoint.root, newRoot: head.root)
            } catch {
                throw .checkpointRefused(reason: "the journal is not consistent with \(latest.path) (\(error)); run `steward audit verify`")
            }
            return head
        }
        let checkpoint = try SignedCheckpoint.sign(origin: origin, size: head.size, root: head.root, time: .now(), key: key)
        let path = try CheckpointFiles.write(checkpoint, layout)
        shared.state.withLock { state in
            state.latestCheckpoint = StoredCheckpoint(path: path, checkpoint: checkpoint)
            state.lastBackgroundError = nil
        }
        return checkpoint
    }

    /// Saves the frontier, offsets and leaf index so the next open does not rescan the log.
    func saveOpenState() throws(JournalError) {
        let encoded = try shared.state.withLock { state throws(JournalError) -> [UInt8] in
            try state.tree.leaves.sync()
            return state.openState().encoded()
        }
        try FileSystem.writeAtomically(encoded, to: layout.statePath)
        eventsSinceStateSave = 0
    }

    /// The last work before the journal closes: the saved state and a final checkpoint.
    /// Releases the files and the lock whatever happens.
    func shutdown() throws(JournalError) {
        timer?.cancel()
        timer = nil
        defer {
            failure = "the journal is closed"
            segment = nil
            lockFile = nil
        }
        if let failure { throw .writerFailed(reason: failure) }
        try saveOpenState()
        guard options.checkpointKey != nil else { return }
        let (size, signed) = shared.state.withLock { ($0.tree.size, $0.latestCheckpoint?.checkpoint.size ?? 0) }
        if size > signed { _ = try signCheckpoint() }
    }
}

/// Where the writer picks up after recovery.
struct WriterStart: Sendable {
    var nextSeq: Int
    var lastTime: Timestamp
    var lastSegment: SegmentState?
    var segmentCount: Int

    init(_ recovered: Recovery.Result) {
        nextSeq = recovered.tree.size + 1
        lastTime = recovered.lastTime
        lastSegment = recovered.segments.last
        segmentCount = recovered.segments.count
    }
}

/// A pointer handed to `concurrentPerform` workers that each write their own disjoint range.
private struct UncheckedPointer: @unchecked Sendable { // Safe: workers write disjoint slots and the caller waits for all.
    let pointer: UnsafeMutablePointer<SHA256Digest>

    init(_ pointer: UnsafeMutablePointer<SHA256Digest>) {
        self.pointer = pointer
    }
}
