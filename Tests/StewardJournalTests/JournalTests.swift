import Foundation
import StewardJSON
import Testing
@testable import StewardJournal

@Suite struct JournalTests {
    @Test func appendsCanonicalLinesAndReadsThemBack() async throws {
        let fixture = try JournalFixture()
        let (journal, report) = try fixture.open()
        #expect(report.size == 0)
        let first = try await journal.append(EventDraft(type: "person.joined", actor: "steward sync",
                                                        subjects: ["person": "E1001", "app": "crm", "account": "a-42"], data: ["title": "Engineer"]))
        #expect(first.seq == 1)
        let text = first.lineText
        #expect(text.hasPrefix(#"{"seq":1,"time":""#))
        #expect(text.hasSuffix(#"","type":"person.joined","actor":"steward sync","subjects":{"account":"a-42","app":"crm","person":"E1001"},"data":{"title":"Engineer"}}"#))
        let more = try await journal.append(drafts(2..<12))
        #expect(more.map(\.seq) == Array(2..<12))
        #expect(journal.size == 11)

        let file = try Data(contentsOf: URL(fileURLWithPath: try #require(try fixture.segmentPaths().first)))
        let stored = try lines(of: try fixture.segmentPaths()[0])
        #expect(stored.count == 11)
        #expect(stored[0].bytes == first.line)
        #expect(file.last == 0x0A)

        let read = try journal.events()
        #expect(read.map(\.seq) == Array(1...11))
        #expect(read[3].data["note"] == .string("line \"4\"\nwith escapes\t"))
        #expect(read[3].data["name"] == "Zoë Müller")
        #expect(read[3] == more[2])
        #expect(try journal.event(seq: 5).subjects["account"] == "a-5")
        #expect(throws: JournalError.self) { try journal.event(seq: 12) }
        try journal.close()
    }

    @Test func rejectsBadDraftsWithTheField() throws {
        let fixture = try JournalFixture()
        let (journal, _) = try fixture.open()
        #expect(throws: JournalError.invalidEvent(field: "type", reason: "must be 1 to 200 bytes")) {
            try journal.appendAndWait(EventDraft(type: "", actor: "a"))
        }
        #expect(throws: JournalError.invalidEvent(field: "data.x[1]", reason: "is not a finite number")) {
            try journal.appendAndWait(EventDraft(type: "t", actor: "a", data: ["x": [1, .double(.nan)]]))
        }
        #expect(throws: JournalError.self) {
            try journal.appendAndWait(EventDraft(type: "t", actor: "a", data: .string(String(repeating: "x", count: 2 << 20))))
        }
        #expect(journal.size == 0)
        try journal.close()
    }

    @Test func longEventsAreReadBackWhole() throws {
        let fixture = try JournalFixture()
        var options = fixture.options()
        options.maxEventBytes = 4 << 20
        let (journal, _) = try Journal.open(directory: fixture.directory, options: options)
        let big = String(repeating: "0123456789", count: 300_000)
        _ = try journal.appendAndWait([draft(1), EventDraft(type: "report.attached", actor: "a", data: ["body": .string(big)]), draft(3)])
        try journal.close()
        try FileManager.default.removeItem(at: fixture.directory.appendingPathComponent("index"))
        let (reopened, report) = try Journal.open(directory: fixture.directory, options: options)
        #expect(report.scannedEvents == 3)
        #expect(try reopened.event(seq: 2).data["body"] == .string(big))
        #expect(try reopened.event(seq: 3).seq == 3)
        try reopened.close()
        #expect(fixture.verify().intact)
    }

    @Test func concurrentAppendsShareCommitsAndKeepOrder() async throws {
        let fixture = try JournalFixture()
        let (journal, _) = try fixture.open()
        let results = try await withThrowingTaskGroup(of: [StoredEvent].self) { group in
            for task in 0..<16 {
                group.addTask {
                    var mine: [StoredEvent] = []
                    for i in 0..<25 {
                        mine.append(try await journal.append(draft(task * 1000 + i, person: "P\(task)")))
                    }
                    return mine
                }
            }
            var all: [[StoredEvent]] = []
            for try await events in group { all.append(events) }
            return all
        }
        let seqs = results.flatMap { $0.map(\.seq) }.sorted()
        #expect(seqs == Array(1...400))
        // Each task's events are in the journal in the order the task appended them.
        for events in results {
            #expect(events.map(\.seq) == events.map(\.seq).sorted())
            let stored = try journal.events(matching: EventFilter(person: events[0].subjects["person"]))
            #expect(stored.map(\.seq) == events.map(\.seq))
        }
        // Batches shared one time stamp each, so there were fewer distinct times than events.
        #expect(Set(results.flatMap { $0.map(\.time) }).count < 400)
        try journal.close()

        let (reopened, report) = try fixture.open()
        #expect(report.size == 400)
        #expect(try reopened.events().map(\.seq) == Array(1...400))
        try reopened.close()
    }

    @Test func reopensFromTheSavedStateAndRebuildsWhenItIsGone() throws {
        let fixture = try JournalFixture()
        let (journal, _) = try fixture.open(segmentBytes: 8192)
        for batch in 0..<30 { _ = try journal.appendAndWait(drafts((batch * 100)..<(batch * 100 + 100))) }
        let head = journal.treeHead
        try journal.close()
        #expect(try fixture.segmentPaths().count > 10)

        let (fast, fastReport) = try fixture.open(segmentBytes: 8192)
        #expect(fastReport.snapshot == .used(size: 3000))
        #expect(fastReport.scannedEvents == 0)
        #expect(fast.treeHead == head)
        try fast.close()

        try FileManager.default.removeItem(at: fixture.directory.appendingPathComponent("index"))
        let (rebuilt, rebuiltReport) = try fixture.open(segmentBytes: 8192)
        #expect(rebuiltReport.snapshot == .missing)
        #expect(rebuiltReport.scannedEvents == 3000)
        #expect(rebuilt.treeHead == head)
        _ = try rebuilt.appendAndWait(draft(3000))
        let grown = rebuilt.treeHead
        try rebuilt.close()

        // A damaged state file is stale, never trusted.
        let statePath = fixture.directory.appendingPathComponent("index/state")
        var state = Array(try Data(contentsOf: statePath))
        state[40] ^= 0xFF
        try Data(state).write(to: statePath)
        let (again, againReport) = try fixture.open(segmentBytes: 8192)
        #expect(againReport.snapshot == .stale(reason: "index/state is damaged"))
        #expect(again.treeHead == grown)
        try again.close()
    }

    @Test func readsFromAnySeqAcrossSegments() throws {
        let fixture = try JournalFixture()
        let (journal, _) = try fixture.open(segmentBytes: 4096)
        // A batch goes into one segment; many small batches make many segments.
        for start in stride(from: 1, to: 2501, by: 20) { _ = try journal.appendAndWait(drafts(start..<(start + 20))) }
        for seq in [1, 2, 1023, 1024, 1025, 2048, 2049, 2500] {
            let events = try journal.events(from: seq, limit: 2)
            #expect(events.first?.seq == seq)
            #expect(events.count == min(2, 2501 - seq))
        }
        #expect(try journal.events(from: 2501).isEmpty)
        try journal.close()
        #expect(try fixture.segmentPaths().count > 100)
        #expect(fixture.verify().intact)
        try FileManager.default.removeItem(at: fixture.directory.appendingPathComponent("index"))
        let (reopened, report) = try fixture.open(segmentBytes: 4096)
        #expect(report.scannedEvents == 2500)
        #expect(try reopened.events(from: 1999, limit: 1).first?.seq == 1999)
        try reopened.close()
    }

    @Test func largeLogsAreCheckedInParallelPiecesInOrder() throws {
        let fixture = try JournalFixture()
        let (journal, _) = try fixture.open(every: 10_000)
        for batch in 0..<6 { _ = try journal.appendAndWait(drafts((batch * 5000)..<(batch * 5000 + 5000))) }
        let head = journal.treeHead
        try journal.close()
        let path = try #require(try fixture.segmentPaths().first)
        let pieces = try LogHasher.pieces([(path, 0, try Data(contentsOf: URL(fileURLWithPath: path)).count)], firstSegment: 0, maxLineBytes: 1 << 20)
        #expect(pieces.count >= 2)
        #expect(zip(pieces, pieces.dropFirst()).allSatisfy { $0.end == $1.start })

        let report = fixture.verify()
        #expect(report.intact, "\(report.text)")
        #expect(report.events == 30_000)
        #expect(report.checkpointsChecked == 3)
        #expect(report.root == head.root)

        // A flip deep in the last piece is still pinned to its event.
        let target = try lines(of: path)[24_999]
        var bytes = Array(try Data(contentsOf: URL(fileURLWithPath: path)))
        bytes[target.offset + 30] ^= 0x01
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        let divergence = try #require(fixture.verify().divergence)
        #expect(divergence.seq == 25_000)
        #expect(divergence.offset == target.offset)
        bytes[target.offset + 30] ^= 0x01
        try Data(bytes).write(to: URL(fileURLWithPath: path))

        // Opening without the saved state rescans all pieces and lands on the same tree.
        try FileManager.default.removeItem(at: fixture.directory.appendingPathComponent("index"))
        let (reopened, reopenReport) = try fixture.open(every: 10_000)
        #expect(reopenReport.scannedEvents == 30_000)
        #expect(reopened.treeHead == head)
        #expect(try reopened.event(seq: 30_000).subjects["account"] == "a-29999")
        try reopened.close()
    }

    @Test func filtersByPersonAppTypeAndTime() throws {
        let fixture = try JournalFixture()
        let (journal, _) = try fixture.open()
        _ = try journal.appendAndWait([draft(1, person: "E1", app: "crm"), draft(2, person: "E2", app: "erp", type: "person.left"),
                                       draft(3, person: "E1", app: "erp", type: "access.granted")])
        let later = Timestamp(millisecondsSince1970: Timestamp.now().millisecondsSince1970 + 5)
        while Timestamp.now() <= later { usleep(1000) }
        _ = try journal.appendAndWait(draft(4, person: "E10", app: "crm"))
        #expect(try journal.events(matching: EventFilter(person: "E1")).map(\.seq) == [1, 3])
        #expect(try journal.events(matching: EventFilter(app: "erp")).map(\.seq) == [2, 3])
        #expect(try journal.events(matching: EventFilter(type: "person.*")).map(\.seq) == [1, 2, 4])
        #expect(try journal.events(matching: EventFilter(type: "person.left")).map(\.seq) == [2])
        #expect(try journal.events(matching: EventFilter(since: later)).map(\.seq) == [4])
        #expect(try journal.events(matching: EventFilter(until: later)).map(\.seq) == [1, 2, 3])
        #expect(try journal.events(matching: EventFilter(person: "E1", app: "crm")).map(\.seq) == [1])
        try journal.close()
    }

    @Test func proofsMatchAnInMemoryTreeOverTheLines() throws {
        let fixture = try JournalFixture()
        let (journal, _) = try fixture.open(segmentBytes: 1 << 16)
        _ = try journal.appendAndWait(drafts(0..<3100))
        let leaves = try fixture.segmentPaths().flatMap { try lines(of: $0) }.map { Merkle.leafHash($0.bytes) }
        let reference = MerkleTree(leafHashes: leaves)
        #expect(journal.treeHead.root == (try reference.root()))
        for size in [1, 2, 1023, 1024, 1025, 2047, 2048, 3000, 3100] {
            #expect(try journal.root(size: size) == reference.root(size: size), "root at \(size)")
        }
        for (seq, size) in [(1, 3100), (1024, 1025), (2049, 3100), (3100, 3100), (700, 2048), (5, 5)] {
            let proof = try journal.inclusionProof(seq: seq, treeSize: size)
            #expect(proof == (try reference.inclusionProof(leafIndex: seq - 1, treeSize: size)))
            try MerkleVerifier.verifyInclusion(proof, leafHash: leaves[seq - 1], root: try reference.root(size: size))
        }
        for (old, new) in [(1, 3100), (1024, 2048), (1000, 3000), (2049, 3001), (3100, 3100)] {
            let proof = try journal.consistencyProof(oldSize: old, newSize: new)
            #expect(proof == (try reference.consistencyProof(oldSize: old, newSize: new)))
        }
        try journal.close()
        // The same answers after a fast reopen from saved state.
        let (reopened, _) = try fixture.open(segmentBytes: 1 << 16)
        #expect(try reopened.inclusionProof(seq: 1500, treeSize: 2500) == (try reference.inclusionProof(leafIndex: 1499, treeSize: 2500)))
        try reopened.close()
    }

    @Test func oneWriterAtATimeAndReadersBeside() throws {
        let fixture = try JournalFixture()
        let (journal, _) = try fixture.open()
        _ = try journal.appendAndWait(drafts(0..<5))
        #expect(throws: JournalError.locked(path: fixture.directory.appendingPathComponent("lock").path)) { try fixture.open() }
        let (reader, _) = try fixture.open(readOnly: true)
        #expect(reader.size == 5)
        #expect(throws: JournalError.readOnly) { try reader.appendAndWait(draft(9)) }
        try journal.close()
        #expect(throws: JournalError.closed) { try journal.appendAndWait(draft(9)) }
        let (again, _) = try fixture.open()
        try again.close()
    }

    @Test func snapshotsComeBackUntilTheJournalUnderThemChanges() throws {
        let fixture = try JournalFixture()
        let (journal, _) = try fixture.open()
        #expect(try journal.loadSnapshot(name: "people") == nil)
        _ = try journal.appendAndWait(drafts(0..<10))
        try journal.saveSnapshot(name: "people", seq: 7, bytes: Array("derived state".utf8))
        let loaded = try #require(try journal.loadSnapshot(name: "people"))
        #expect(loaded.seq == 7)
        #expect(loaded.bytes == Array("derived state".utf8))
        #expect(throws: JournalError.invalidSnapshotName("../x")) { try journal.saveSnapshot(name: "../x", seq: 1, bytes: []) }
        #expect(throws: JournalError.self) { try journal.saveSnapshot(name: "late", seq: 11, bytes: []) }
        try journal.close()

        // A different history under the same snapshot file: the snapshot is stale.
        let other = try JournalFixture()
        let (otherJournal, _) = try other.open()
        _ = try otherJournal.appendAndWait(drafts(100..<110))
        try FileManager.default.createDirectory(at: other.directory.appendingPathComponent("snapshots"), withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: fixture.directory.appendingPathComponent("snapshots/people.snapshot"),
                                         to: other.directory.appendingPathComponent("snapshots/people.snapshot"))
        #expect(try otherJournal.loadSnapshot(name: "people") == nil)
        try otherJournal.close()

        // A damaged payload is treated as missing.
        let path = fixture.directory.appendingPathComponent("snapshots/people.snapshot")
        var bytes = Array(try Data(contentsOf: path))
        bytes[bytes.count - 1] ^= 1
        try Data(bytes).write(to: path)
        let (reopened, _) = try fixture.open()
        #expect(try reopened.loadSnapshot(name: "people") == nil)
        try reopened.close()
    }
}
