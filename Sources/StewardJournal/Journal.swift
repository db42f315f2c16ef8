import Dispatch
import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// The audit journal: Steward's source of truth, an append-only log of events that proves it
/// has not been altered.
///
/// Events are JSON lines in segment files under the state directory. The line with sequence
/// number `seq` (starting at 1) is leaf `seq - 1` of an RFC 6962 Merkle tree, so the tree over
/// the first `n` events has size `n`. Appends are group-committed: concurrent callers share
/// one write and one fsync, and every append returns only after its fsync.
///
/// ```swift
/// let (journal, report) = try Journal.open(directory: state.appendingPathComponent("journal"))
/// let event = try await journal.append(EventDraft(type: "person.joined", actor: "steward sync",
///                                                 subjects: ["person": "E1001"]))
/// try journal.close()
/// ```
///
/// One process writes at a time (a lock file enforces it); any number may open read-only.
public final class Journal: Sendable {
    public let directory: URL
    /// The first line of every checkpoint this journal signs.
    public let origin: String
    public let options: JournalOptions

    private let layout: JournalLayout
    let shared: JournalShared
    private let writer: JournalWriter?

    private init(directory: URL, origin: String, options: JournalOptions, layout: JournalLayout, shared: JournalShared, writer: JournalWriter?) {
        self.directory = directory
        self.origin = origin
        self.options = options
        self.layout = layout
        self.shared = shared
        self.writer = writer
    }

    /// Opens (creating when writable) the journal in `directory`, recovering from a crash.
    ///
    /// Throws when a record that was already durable is damaged or altered, or when the log no
    /// longer matches the latest checkpoint: the journal fails closed and never skips or
    /// truncates such records. A torn tail after the last checkpoint is cut and reported.
    public static func open(directory: URL, options: JournalOptions = JournalOptions()) throws(JournalError) -> (Journal, RecoveryReport) {
        try options.validate()
        let layout = JournalLayout(directory: directory)
        let origin = options.origin ?? "steward.local/" + directory.standardizedFileURL.deletingLastPathComponent().lastPathComponent
        try SignedCheckpoint.validateOrigin(origin)

        var lockFile: FileDescriptor?
        if options.readOnly {
            guard FileSystem.exists(layout.directory) else { throw .io(operation: "open journal", path: layout.directory, errno: ENOENT) }
        } else {
            try layout.create()
            let lock = try FileDescriptor(path: layout.lockPath, flags: O_RDWR | O_CREAT)
            try lock.lockExclusively()
            lockFile = lock
        }

        let recovered = try Recovery(layout: layout, writable: !options.readOnly, maxLineBytes: EventLine.maxReadableBytes, key: options.checkpointKey).run()
        let report = recovered.report
        let start = WriterStart(recovered)
        let shared = JournalShared(state: CommittedState(recovered))
        var writer: JournalWriter?
        if let lockFile {
            let w = try JournalWriter(layout: layout, options: options, origin: origin, shared: shared, lockFile: lockFile, start: start)
            if report.scannedEvents > 0 || report.tornTail != nil {
                try w.queue.syncThrowing { () throws(JournalError) in try w.saveOpenState() }
            }
            w.start()
            writer = w
        }
        let journal = Journal(directory: directory, origin: origin, options: options, layout: layout, shared: shared, writer: writer)
        return (journal, report)
    }

    // MARK: Appending

    /// Appends events in order and returns them as stored, after they are on disk.
    ///
    /// Concurrent calls are committed together. Once submitted, an append completes even if
    /// the calling task is cancelled.
    public func append(_ drafts: [EventDraft]) async throws -> [StoredEvent] {
        guard !drafts.isEmpty else { return [] }
        let request = try makeRequest(drafts)
        return try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<[StoredEvent], Error>) in
            submit(request.withCompletion { continuation.resume(with: $0.mapError { $0 as Error }) })
        }
    }

    public func append(_ draft: EventDraft) async throws -> StoredEvent {
        let stored = try await append([draft])
        guard let first = stored.first else { throw JournalError.writerFailed(reason: "append returned no event") }
        return first
    }

    /// The blocking form of `append`, for command-line use and threads outside Swift
    /// concurrency. Never call it from the journal's own callbacks.
    public func appendAndWait(_ drafts: [EventDraft]) throws(JournalError) -> [StoredEvent] {
        guard !drafts.isEmpty else { return [] }
        let request = try makeRequest(drafts)
        let done = DispatchSemaphore(value: 0)
        let outcome = Mutex<Result<[StoredEvent], JournalError>?>(nil)
        submit(request.withCompletion { result in
            outcome.withLock { $0 = result }
            done.signal()
        })
        done.wait()
        guard let result = outcome.withLock({ $0 }) else { throw .writerFailed(reason: "append finished without a result") }
        return try result.get()
    }

    public func appendAndWait(_ draft: EventDraft) throws(JournalError) -> StoredEvent {
        let stored = try appendAndWait([draft])
        guard let first = stored.first else { throw .writerFailed(reason: "append returned no event") }
        return first
    }

    private func makeRequest(_ drafts: [EventDraft]) throws(JournalError) -> AppendRequest {
        guard writer != nil else { throw .readOnly }
        var encoded: [EncodedDraft] = []
        encoded.reserveCapacity(drafts.count)
        for draft in drafts {
            let body = try EventLine.body(of: draft)
            // seq (up to 19 digits) and time add at most 64 bytes to the body.
            guard body.count + 64 <= options.maxEventBytes else { throw .eventTooLarge(bytes: body.count + 64, limit: options.maxEventBytes) }
            encoded.append(EncodedDraft(draft: draft, body: body))
        }
        return AppendRequest(drafts: encoded, completion: { _ in })
    }

    private func submit(_ request: AppendRequest) {
        guard let writer else {
            request.completion(.failure(.readOnly))
            return
        }
        let decision: (schedule: Bool, rejection: JournalError?) = shared.inbox.withLock { inbox in
            if inbox.closed { return (false, .closed) }
            inbox.requests.append(request)
            inbox.bytes += request.bytes
            if inbox.scheduled { return (false, nil) }
            inbox.scheduled = true
            return (true, nil)
        }
        if let rejection = decision.rejection {
            request.completion(.failure(rejection))
        } else if decision.schedule {
            writer.queue.async { writer.drain() }
        }
    }

    // MARK: Tree head, proofs, checkpoints

    /// The number of committed events, which is also the seq of the last one.
    public var size: Int { shared.state.withLock { $0.tree.size } }

    /// The committed tree size and root.
    public var treeHead: TreeHead { shared.state.withLock { TreeHead(size: $0.tree.size, root: $0.tree.root) } }

    /// The root of the tree over the first `size` events.
    public func root(size: Int) throws(JournalError) -> SHA256Digest {
        try shared.state.withLock { state throws(JournalError) in
            do throws(MerkleTreeError) { return try state.tree.root(size: size) } catch { throw .proof(error.description) }
        }
    }

    /// An inclusion proof of event `seq` in the tree of `treeSize` events (default: all).
    public func inclusionProof(seq: Int, treeSize: Int? = nil) throws(JournalError) -> InclusionProof {
        try shared.state.withLock { state throws(JournalError) in
            let size = treeSize ?? state.tree.size
            guard seq >= 1, seq <= size else { throw .seqOutOfRange(seq: seq, size: size) }
            do throws(MerkleTreeError) { return try state.tree.inclusionProof(leafIndex: seq - 1, treeSize: size) } catch { throw .proof(error.description) }
        }
    }

    /// A consistency proof that the first `oldSize` events are a prefix of the first `newSize`.
    public func consistencyProof(oldSize: Int, newSize: Int? = nil) throws(JournalError) -> ConsistencyProof {
        try shared.state.withLock { state throws(JournalError) in
            do throws(MerkleTreeError) {
                return try state.tree.consistencyProof(oldSize: oldSize, newSize: newSize ?? state.tree.size)
            } catch {
                throw .proof(error.description)
            }
        }
    }

    /// Signs and stores a checkpoint of the current tree head now. Refuses when the tree is
    /// not consistent with the latest stored checkpoint.
    public func checkpoint() throws(JournalError) -> SignedCheckpoint {
        guard let writer else { throw .readOnly }
        return try writer.queue.syncThrowing { () throws(JournalError) in try writer.signCheckpoint() }
    }

    /// The most recent checkpoint in `checkpoints/`.
    public var latestCheckpoint: SignedCheckpoint? { shared.state.withLock { $0.latestCheckpoint?.checkpoint } }

    /// Every stored checkpoint, by tree size.
    public func checkpoints() throws(JournalError) -> [SignedCheckpoint] {
        try CheckpointFiles.load(layout).map(\.checkpoint)
    }

    /// Why the last background work (an automatic checkpoint or state save) failed, if it
    /// did; appends are not failed for it.
    public var lastBackgroundError: JournalError? { shared.state.withLock { $0.lastBackgroundError } }

    // MARK: Reading

    /// Calls `body` with each committed event from `seq` on that matches `filter`, in order,
    /// until `body` returns false.
    public func forEachEvent(from seq: Int = 1, matching filter: EventFilter = EventFilter(), _ body: (StoredEvent) throws -> Bool) throws {
        let view = shared.state.withLock { state in ReadView(state) }
        try JournalReading(view: view, maxLineBytes: EventLine.maxReadableBytes).forEach(from: seq, matching: filter, body)
    }

    /// Committed events from `seq` on that match `filter`, at most `limit` of them.
    public func events(from seq: Int = 1, matching filter: EventFilter = EventFilter(), limit: Int = .max) throws -> [StoredEvent] {
        var out: [StoredEvent] = []
        try forEachEvent(from: seq, matching: filter) { event in
            out.append(event)
            return out.count < limit
        }
        return out
    }

    /// The event with sequence number `seq`.
    public func event(seq: Int) throws -> StoredEvent {
        let size = self.size
        guard seq >= 1, seq <= size, let event = try events(from: seq, limit: 1).first, event.seq == seq else {
            throw JournalError.seqOutOfRange(seq: seq, size: size)
        }
        return event
    }

    // MARK: Snapshots of derived state

    /// Stores `bytes` (a caller's derived state, reflecting events up to and including `seq`)
    /// under `name`, together with the tree root at `seq` so a later load can tell whether
    /// the journal under it is still the same.
    public func saveSnapshot(name: String, seq: Int, bytes: [UInt8]) throws(JournalError) {
        guard writer != nil else { throw .readOnly }
        let root = try self.root(size: seq)
        try Snapshots(layout: layout).save(name: name, seq: seq, root: root, bytes: bytes)
    }

    /// The snapshot saved under `name`, or nil when there is none, it is damaged, or the
    /// journal no longer has the same events up to its seq (the caller rebuilds from the log).
    public func loadSnapshot(name: String) throws(JournalError) -> (seq: Int, bytes: [UInt8])? {
        guard let snapshot = try Snapshots(layout: layout).load(name: name) else { return nil }
        guard snapshot.seq <= size, (try? root(size: snapshot.seq)) == snapshot.root else { return nil }
        return (snapshot.seq, snapshot.bytes)
    }

    // MARK: Closing

    /// Waits until the writer has finished the work it was given (a checkpoint or state save
    /// that follows a commit). Tests use it to drop a journal as a crash would, mid-stream.
    func waitUntilIdle() {
        writer?.queue.sync {}
    }

    /// Commits what is queued, signs a final checkpoint when events were added since the last
    /// one and a key is configured, saves the open-state snapshot, and releases the lock.
    public func close() throws(JournalError) {
        guard let writer else { return }
        let alreadyClosed = shared.inbox.withLock { inbox in
            defer { inbox.closed = true }
            return inbox.closed
        }
        if alreadyClosed { return }
        try writer.queue.syncThrowing { () throws(JournalError) in
            writer.drain()
            try writer.shutdown()
        }
    }
}

/// A tree size and the root of the tree over that many events.
public struct TreeHead: Sendable, Equatable {
    public var size: Int
    public var root: SHA256Digest
}

/// How a journal is opened and maintained.
public struct JournalOptions: Sendable {
    /// Open without the lock, never write; a torn tail is ignored rather than cut.
    public var readOnly: Bool
    /// Signs checkpoints; without it no checkpoints are written (and none are checked for
    /// forged signatures on open).
    public var checkpointKey: CheckpointKey?
    /// Checkpoint origin line; default `steward.local/<name of the state directory>`.
    public var origin: String?
    /// Sign a checkpoint when this many events were added since the last one.
    public var checkpointEveryEvents: Int?
    /// Sign a checkpoint this often when events were added.
    public var checkpointInterval: Duration?
    /// Save the open-state snapshot after this many events (and at close).
    public var stateSnapshotEveryEvents: Int
    /// Start a new segment file once the current one reaches this size.
    public var segmentBytes: Int
    /// The longest event line accepted for appending, in bytes (at most 16 MiB). Reading
    /// always accepts lines up to 16 MiB, so lowering this never makes old events unreadable.
    public var maxEventBytes: Int

    public init(
        readOnly: Bool = false, checkpointKey: CheckpointKey? = nil, origin: String? = nil,
        checkpointEveryEvents: Int? = 10_000, checkpointInterval: Duration? = .seconds(300),
        stateSnapshotEveryEvents: Int = 100_000, segmentBytes: Int = 64 << 20, maxEventBytes: Int = 1 << 20
    ) {
        self.readOnly = readOnly
        self.checkpointKey = checkpointKey
        self.origin = origin
        self.checkpointEveryEvents = checkpointEveryEvents
        self.checkpointInterval = checkpointInterval
        self.stateSnapshotEveryEvents = stateSnapshotEveryEvents
        self.segmentBytes = segmentBytes
        self.maxEventBytes = maxEventBytes
    }

    func validate() throws(JournalError) {
        if let every = checkpointEveryEvents, every < 1 { throw .invalidOptions("checkpointEveryEvents must be at least 1") }
        if let interval = checkpointInterval, interval <= .zero { throw .invalidOptions("checkpointInterval must be positive") }
        guard stateSnapshotEveryEvents >= 1 else { throw .invalidOptions("stateSnapshotEveryEvents must be at least 1") }
        guard segmentBytes >= 4096 else { throw .invalidOptions("segmentBytes must be at least 4096") }
        guard maxEventBytes >= 1024, maxEventBytes <= EventLine.maxReadableBytes else { throw .invalidOptions("maxEventBytes must be between 1 KiB and 16 MiB") }
    }
}

// MARK: - Shared state

/// What the writer and readers share, each behind its own lock.
final class JournalShared: Sendable {
    let inbox = Mutex(Inbox())
    let state: Mutex<CommittedState>

    init(state: sending CommittedState) {
        self.state = Mutex(state)
    }
}

/// Appends waiting for the writer.
struct Inbox {
    var requests: [AppendRequest] = []
    var bytes = 0
    var scheduled = false
    var closed = false
}

/// The committed journal as readers see it: only events that were fsynced.
final class CommittedState {
    let tree: TreeIndex
    var segments: [SegmentState]
    var chunkStarts: [JournalPosition]
    var lastTime: Timestamp
    var lastLine: JournalPosition
    var lastLeafHash: SHA256Digest
    var latestCheckpoint: StoredCheckpoint?
    var lastBackgroundError: JournalError?

    init(_ recovered: Recovery.Result) {
        tree = recovered.tree
        segments = recovered.segments
        chunkStarts = recovered.chunkStarts
        lastTime = recovered.lastTime
        lastLine = recovered.lastLine
        lastLeafHash = recovered.lastLeafHash
        latestCheckpoint = recovered.latestCheckpoint
    }

    func openState() -> OpenState {
        OpenState(size: tree.size, lastTime: lastTime, frontier: tree.frontier, upperLevels: tree.upperLevels,
                  segments: segments.map { OpenState.SegmentLength(firstSeq: $0.firstSeq, length: $0.length) },
                  chunkStarts: chunkStarts, lastLine: lastLine, lastLeafHash: lastLeafHash)
    }
}

/// A draft with its encoded line body.
struct EncodedDraft: Sendable {
    var draft: EventDraft
    var body: [UInt8]
}

/// One caller's append, waiting in the inbox.
struct AppendRequest: Sendable {
    var drafts: [EncodedDraft]
    var completion: @Sendable (Result<[StoredEvent], JournalError>) -> Void

    var bytes: Int { drafts.reduce(0) { $0 + $1.body.count + 64 } }

    func withCompletion(_ completion: @escaping @Sendable (Result<[StoredEvent], JournalError>) -> Void) -> AppendRequest {
        AppendRequest(drafts: drafts, completion: completion)
    }
}

extension DispatchQueue {
    /// `sync` for a body with typed throws.
    func syncThrowing<T>(_ body: () throws(JournalError) -> T) throws(JournalError) -> T {
        let result: Result<T, JournalError> = sync { Result { () throws(JournalError) in try body() } }
        return try result.get()
    }
}
