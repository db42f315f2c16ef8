import Foundation
import Testing
@testable import StewardJournal

/// Every kind of tampering in the acceptance list must be found by the verifier, with the
/// sequence number and byte offset where the journal stops being what was signed.
@Suite struct TamperTests {
    /// 60 events in batches of 5, checkpoints signed at 20, 40 and 60, cleanly closed.
    private func signedJournal() throws -> (JournalFixture, path: String, original: [UInt8], lines: [(offset: Int, bytes: [UInt8])]) {
        let fixture = try JournalFixture()
        let (journal, _) = try fixture.open(every: 20)
        for batch in 0..<12 { _ = try journal.appendAndWait(drafts((batch * 5)..<(batch * 5 + 5))) }
        try journal.close()
        let path = try #require(try fixture.segmentPaths().first)
        let original = Array(try Data(contentsOf: URL(fileURLWithPath: path)))
        return (fixture, path, original, try lines(of: path))
    }

    @Test func anIntactJournalVerifies() throws {
        let (fixture, _, _, _) = try signedJournal()
        let report = fixture.verify()
        #expect(report.intact, "\(report.text)")
        #expect(report.events == 60)
        #expect(report.checkpointsChecked == 3)
        #expect(report.signaturesChecked)
        #expect(try fixture.open(readOnly: true).0.checkpoints().map(\.size) == [20, 40, 60])
    }

    @Test func flippingAnyByteIsFoundAtItsEvent() throws {
        let (fixture, path, original, lines) = try signedJournal()
        var generator = SystemRandomNumberGenerator()
        // Every line's first byte, its seq digits and its newline, plus random bytes anywhere.
        var positions: [Int] = []
        for line in lines { positions += [line.offset, line.offset + 7, line.offset + line.bytes.count] }
        for _ in 0..<150 { positions.append(Int.random(in: 0..<original.count, using: &generator)) }
        for position in positions {
            var bytes = original
            bytes[position] ^= UInt8.random(in: 1...255, using: &generator)
            try Data(bytes).write(to: URL(fileURLWithPath: path))
            let report = fixture.verify()
            let index = try #require(lines.lastIndex { $0.offset <= position })
            let divergence = try #require(report.divergence, "flip at byte \(position) went unnoticed")
            #expect(divergence.seq == index + 1, "flip at byte \(position): \(report.text)")
            #expect(divergence.offset == lines[index].offset, "flip at byte \(position): \(report.text)")
            #expect(divergence.file == path)
            #expect(divergence.exact)
        }
    }

    @Test func flipsAreFoundEvenWhenTheIndexIsDeletedToo() throws {
        let (fixture, path, original, lines) = try signedJournal()
        try FileManager.default.removeItem(at: fixture.directory.appendingPathComponent("index"))
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<60 {
            let position = Int.random(in: 0..<original.count, using: &generator)
            var bytes = original
            bytes[position] ^= UInt8.random(in: 1...255, using: &generator)
            try Data(bytes).write(to: URL(fileURLWithPath: path))
            let report = fixture.verify()
            let seq = try #require(lines.lastIndex { $0.offset <= position }) + 1
            let divergence = try #require(report.divergence, "flip at byte \(position) went unnoticed")
            if divergence.exact {
                #expect(divergence.seq == seq, "\(report.text)")
            } else {
                // Only the checkpoint's root was there to compare: the damage is in its range.
                #expect(divergence.seq <= seq && seq <= (divergence.checkpointSize ?? 0), "\(report.text)")
                #expect(divergence.kind == .checkpointMismatch)
            }
        }
    }

    @Test func deletingALineIsASequenceGap() throws {
        let (fixture, path, original, lines) = try signedJournal()
        let removed = lines[29]
        var bytes = original
        bytes.removeSubrange(removed.offset..<(removed.offset + removed.bytes.count + 1))
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        let divergence = try #require(fixture.verify().divergence)
        #expect(divergence.kind == .sequenceGap)
        #expect(divergence.seq == 30)
        #expect(divergence.offset == removed.offset)
    }

    @Test func swappingTwoLinesIsFound() throws {
        let (fixture, path, _, lines) = try signedJournal()
        var reordered = lines.map(\.bytes)
        reordered.swapAt(29, 30)
        try Data(reordered.flatMap { $0 + [0x0A] }).write(to: URL(fileURLWithPath: path))
        let divergence = try #require(fixture.verify().divergence)
        #expect(divergence.kind == .sequenceGap)
        #expect(divergence.seq == 30)
        #expect(divergence.offset == lines[29].offset)
    }

    @Test func truncatingMidLineIsFound() throws {
        let (fixture, path, original, lines) = try signedJournal()
        // The file cut inside event 45: a checkpoint covers it, so it is not a torn tail.
        let cut = lines[44].offset + 100
        try Data(original[..<cut]).write(to: URL(fileURLWithPath: path))
        let report = fixture.verify()
        let divergence = try #require(report.divergence)
        #expect(divergence.kind == .truncatedLine)
        #expect(divergence.seq == 45)
        #expect(divergence.offset == lines[44].offset)

        // Bytes cut out of the middle of event 45, the rest of the file left in place.
        var bytes = original
        bytes.removeSubrange((lines[44].offset + 80)..<(lines[44].offset + 120))
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        let inner = try #require(fixture.verify().divergence)
        #expect(inner.seq == 45)
        #expect(inner.offset == lines[44].offset)

        // Whole events cut from the end: the checkpoint at 60 names what is missing.
        try Data(original[..<lines[50].offset]).write(to: URL(fileURLWithPath: path))
        let end = try #require(fixture.verify().divergence)
        #expect(end.kind == .missingEvents)
        #expect(end.seq == 51)
        #expect(end.offset == lines[50].offset)
    }

    @Test func aForgedLineWithRecomputedHashesIsFoundByTheCheckpoint() throws {
        let (fixture, path, _, lines) = try signedJournal()
        // Insert a well-formed event after seq 45, renumber what follows, and rebuild the
        // derived index so nothing but the signed checkpoint can tell.
        var forged = lines.map(\.bytes)
        let template = try StoredEvent(line: forged[44])
        var fake = template.lineText.replacingOccurrences(of: #""type":"person.joined""#, with: #""type":"access.granted""#)
        fake = fake.replacingOccurrences(of: #"{"seq":45,"#, with: #"{"seq":46,"#)
        forged.insert(Array(fake.utf8), at: 45)
        for i in 46..<forged.count {
            forged[i] = Array(String(decoding: forged[i], as: UTF8.self)
                .replacingOccurrences(of: #"{"seq":\#(i),"#, with: #"{"seq":\#(i + 1),"#).utf8)
        }
        try Data(forged.flatMap { $0 + [0x0A] }).write(to: URL(fileURLWithPath: path))
        var index: [UInt8] = []
        for line in forged { Merkle.leafHash(line).append(to: &index) }
        try Data(index).write(to: fixture.directory.appendingPathComponent("index/leaves"))
        try FileManager.default.removeItem(at: fixture.directory.appendingPathComponent("index/state"))

        let report = fixture.verify()
        let divergence = try #require(report.divergence, "\(report.text)")
        #expect(divergence.kind == .checkpointMismatch)
        #expect(divergence.seq == 41)
        #expect(divergence.offset == lines[40].offset)
        #expect(divergence.checkpointSize == 60)
        #expect(!divergence.exact)
        #expect(report.text.contains("seq 41"))

        // Opening for writing refuses it too, and changes nothing.
        #expect(throws: JournalError.self) { try fixture.open() }
    }

    @Test func rewritingTheWholeLogIsCaughtByAnExportedCheckpoint() throws {
        let (fixture, _, _, _) = try signedJournal()
        let witness = try TemporaryDirectory()
        let exported = try #require(try fixture.open(readOnly: true).0.latestCheckpoint)
        let witnessFile = witness.url.appendingPathComponent("witness.checkpoint")
        try exported.serialized.write(to: witnessFile, atomically: true, encoding: .utf8)

        // Someone with the key rewrites everything, checkpoints included.
        try FileManager.default.removeItem(at: fixture.directory)
        let (rewritten, _) = try fixture.open(every: 20)
        for batch in 0..<12 { _ = try rewritten.appendAndWait(drafts((batch * 5 + 1000)..<(batch * 5 + 1005))) }
        try rewritten.close()
        #expect(fixture.verify().intact)

        let external = try SignedCheckpoint.parse(String(contentsOf: witnessFile, encoding: .utf8), source: witnessFile.path)
        let report = fixture.verify(external: [(witnessFile.path, external)])
        let divergence = try #require(report.divergence)
        #expect(divergence.kind == .checkpointMismatch)
        #expect(divergence.checkpoint == witnessFile.path)
        #expect(divergence.seq == 1)
        #expect(divergence.checkpointSize == 60)
    }

    @Test func aCheckpointWithAnAlteredRootFailsItsSignature() throws {
        let (fixture, _, _, _) = try signedJournal()
        let file = fixture.directory.appendingPathComponent("checkpoints/" + JournalLayout.paddedNumber(40) + ".checkpoint")
        let text = try String(contentsOf: file, encoding: .utf8)
        let original = try SignedCheckpoint.parse(text, source: "x")
        let altered = text.replacingOccurrences(of: original.root.base64, with: Merkle.emptyRoot.base64)
        try altered.write(to: file, atomically: true, encoding: .utf8)
        let divergence = try #require(fixture.verify().divergence)
        #expect(divergence.kind == .checkpointSignature)
        #expect(divergence.checkpointSize == 40)
        // Without the key the root itself still gives it away.
        let unsigned = try #require(fixture.verify(key: nil).divergence)
        #expect(unsigned.kind == .checkpointMismatch)
        #expect(unsigned.seq == 21)
    }
}
