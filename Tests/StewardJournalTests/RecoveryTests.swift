import Foundation
import Testing
@testable import StewardJournal

/// What opening does with a damaged log: cut a torn tail after the last checkpoint, refuse
/// anything else without changing a byte.
@Suite struct RecoveryTests {
    /// 25 events in batches of 5 with checkpoints at 10 and 20, then the process "dies"
    /// (the journal is dropped without `close`, so no final checkpoint is signed).
    private func crashedJournal() throws -> (JournalFixture, path: String, length: Int) {
        let fixture = try JournalFixture()
        try {
            let (journal, _) = try fixture.open(every: 10)
            for batch in 0..<5 { _ = try journal.appendAndWait(drafts((batch * 5)..<(batch * 5 + 5))) }
            journal.waitUntilIdle()
            #expect(journal.latestCheckpoint?.size == 20)
        }()
        let path = try #require(try fixture.segmentPaths().last)
        let length = try Data(contentsOf: URL(fileURLWithPath: path)).count
        return (fixture, path, length)
    }

    private func append(_ bytes: [UInt8], to path: String) throws {
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(bytes))
        try handle.close()
    }

    @Test func aTornTailAfterTheLastCheckpointIsCutAndReported() throws {
        let (fixture, path, length) = try crashedJournal()
        try append(Array(#"{"seq":26,"time":"2026-11-27T10:00"#.utf8), to: path)
        let (journal, report) = try fixture.open(every: 10)
        let torn = try #require(report.tornTail)
        #expect(torn.offset == length)
        #expect(torn.seq == 26)
        #expect(torn.truncated)
        #expect(torn.reason.contains("incomplete"))
        #expect(report.size == 25)
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)).count == length)
        #expect(try journal.appendAndWait(draft(99)).seq == 26)
        try journal.close()
        #expect(fixture.verify().intact)
    }

    @Test func zerosLeftByALostWriteAreATornTailEvenBeforeValidLines() throws {
        let (fixture, path, length) = try crashedJournal()
        // Power loss: a block of zeros where an unsynced write never landed, then a line that did.
        let valid = Array(try lines(of: path)[24].bytes)
        let later = Array(String(decoding: valid, as: UTF8.self).replacingOccurrences(of: #"{"seq":25,"#, with: #"{"seq":27,"#).utf8)
        try append([UInt8](repeating: 0, count: 300) + [0x0A] + later + [0x0A], to: path)
        let (journal, report) = try fixture.open(every: 10)
        #expect(report.tornTail?.offset == length)
        #expect(report.size == 25)
        try journal.close()
    }

    @Test func readOnlyOpenIgnoresATornTailWithoutCuttingIt() throws {
        let (fixture, path, length) = try crashedJournal()
        try append(Array("garbage".utf8), to: path)
        let (journal, report) = try fixture.open(readOnly: true)
        #expect(report.tornTail?.truncated == false)
        #expect(report.size == 25)
        #expect(journal.size == 25)
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)).count == length + 7)
    }

    @Test func damageBeforeTheLastCheckpointFailsClosed() throws {
        let (fixture, path, _) = try crashedJournal()
        let target = try lines(of: path)[4]
        var bytes = Array(try Data(contentsOf: URL(fileURLWithPath: path)))
        bytes[target.offset + 20] = UInt8(ascii: "{")  // breaks the JSON of event 5
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        #expect {
            try fixture.open(every: 10)
        } throws: { error in
            guard case .corrupt(let file, let offset, let seq, _) = error as? JournalError else { return false }
            return file == path && offset == target.offset && seq == 5
        }
        #expect(Array(try Data(contentsOf: URL(fileURLWithPath: path))) == bytes, "nothing may be truncated")
    }

    @Test func anAlteredEventUnderACheckpointFailsClosedWhenTheIndexIsRebuilt() throws {
        let (fixture, path, _) = try crashedJournal()
        let target = try lines(of: path)[7]
        var bytes = Array(try Data(contentsOf: URL(fileURLWithPath: path)))
        let at = target.offset + target.bytes.count - 40
        bytes[at] = bytes[at] == UInt8(ascii: "a") ? UInt8(ascii: "b") : UInt8(ascii: "a")
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        try FileManager.default.removeItem(at: fixture.directory.appendingPathComponent("index"))
        #expect {
            try fixture.open(every: 10)
        } throws: { error in
            guard case .checkpointMismatch(let size, _, _) = error as? JournalError else { return false }
            return size == 20
        }
        let report = fixture.verify()
        #expect(report.divergence?.kind == .checkpointMismatch)
        #expect(report.divergence?.seq == 1)
    }

    @Test func damageFollowedByValidEventsIsNotATornWrite() throws {
        let (fixture, path, _) = try crashedJournal()
        // Event 22 is after the last checkpoint, but events 23 to 25 still follow it intact.
        var all = try lines(of: path).map(\.bytes)
        all[21] = Array("not an event".utf8)
        let bytes: [UInt8] = all.flatMap { $0 + [0x0A] }
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        #expect {
            try fixture.open(every: 10)
        } throws: { error in
            guard case .corrupt(_, _, let seq, let reason) = error as? JournalError else { return false }
            return seq == 22 && reason.contains("followed by 3 valid events")
        }
        #expect(Array(try Data(contentsOf: URL(fileURLWithPath: path))) == bytes)
    }

    @Test func eventsMissingUnderACheckpointFailClosed() throws {
        let (fixture, path, _) = try crashedJournal()
        let all = try lines(of: path)
        try Data(Array(try Data(contentsOf: URL(fileURLWithPath: path)))[..<all[15].offset]).write(to: URL(fileURLWithPath: path))
        #expect(throws: JournalError.self) { try fixture.open(every: 10) }
    }

    @Test func eventsRemovedBelowTheSavedStateFailClosedEvenWithoutCheckpoints() throws {
        let fixture = try JournalFixture()
        let (journal, _) = try fixture.open(key: nil)
        _ = try journal.appendAndWait(drafts(0..<25))
        try journal.close()
        let path = try #require(try fixture.segmentPaths().first)
        let all = try lines(of: path)
        try Data(Array(try Data(contentsOf: URL(fileURLWithPath: path)))[..<all[20].offset]).write(to: URL(fileURLWithPath: path))
        #expect {
            try fixture.open(key: nil)
        } throws: { error in
            guard case .corrupt(_, _, let seq, let reason) = error as? JournalError else { return false }
            return seq == 21 && reason.contains("held 25 durable events")
        }
        // Deleting the derived index is the explicit way to accept the shorter log.
        try FileManager.default.removeItem(at: fixture.directory.appendingPathComponent("index"))
        #expect(try fixture.open(key: nil).1.size == 20)
    }

    @Test func aForgedCheckpointSignatureFailsClosed() throws {
        let (fixture, _, _) = try crashedJournal()
        // Checkpoints signed by some other key (before a key rotation, say) are not forgeries.
        let otherKey = try CheckpointKey(material: Array("another key that nobody configured".utf8))
        #expect(try fixture.open(key: otherKey, readOnly: true).1.latestCheckpointSize == 20)
        #expect(fixture.verify(key: otherKey).divergence?.kind == .checkpointSignature)
        let file = fixture.directory.appendingPathComponent("checkpoints/" + JournalLayout.paddedNumber(20) + ".checkpoint")
        var text = try String(contentsOf: file, encoding: .utf8)
        text = text.replacingOccurrences(of: "\n20\n", with: "\n21\n")
        try text.write(to: file, atomically: true, encoding: .utf8)
        #expect(throws: JournalError.self) { try fixture.open(every: 10) }
    }
}

@Suite struct CheckpointTests {
    @Test func checkpointsAreSignedNotesThatRoundTrip() throws {
        let fixture = try JournalFixture()
        let (journal, _) = try fixture.open()
        _ = try journal.appendAndWait(drafts(0..<7))
        let checkpoint = try journal.checkpoint()
        #expect(checkpoint.size == 7)
        #expect(checkpoint.origin == "steward.local/test")
        #expect(checkpoint.root == journal.treeHead.root)
        let lines = checkpoint.serialized.split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines[0] == "steward.local/test")
        #expect(lines[1] == "7")
        #expect(lines[2] == Substring(checkpoint.root.base64))
        #expect(lines[3].hasPrefix("time 20"))
        #expect(lines[4] == "")
        #expect(lines[5].hasPrefix("\u{2014} steward.local/test "))
        let parsed = try SignedCheckpoint.parse(checkpoint.serialized, source: "test")
        #expect(parsed == checkpoint)
        #expect(parsed.signatureStatus(key: testKey) == .valid)
        let other = try CheckpointKey(material: Array("an entirely different key material".utf8))
        #expect(parsed.signatureStatus(key: other) == .missing)
        // A witness cosignature from an unknown key is ignored, not an error.
        let cosigned = checkpoint.serialized + "\u{2014} witness.example/w1 AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n"
        #expect(try SignedCheckpoint.parse(cosigned, source: "w").signatureStatus(key: testKey) == .valid)
        try journal.close()
        #expect(try fixture.open(readOnly: true).0.checkpoints().count == 1, "no new events, so close signs nothing new")
    }

    @Test func checkpointsComeEveryNEventsAndAtClose() throws {
        let fixture = try JournalFixture()
        let (journal, _) = try fixture.open(every: 10)
        for i in 0..<23 { _ = try journal.appendAndWait(draft(i)) }
        #expect(try journal.checkpoints().map(\.size) == [10, 20])
        try journal.close()
        #expect(try fixture.open(readOnly: true).0.checkpoints().map(\.size) == [10, 20, 23])
    }

    @Test func neverSignsARootInconsistentWithTheLastCheckpoint() throws {
        let fixture = try JournalFixture()
        let (journal, _) = try fixture.open()
        _ = try journal.appendAndWait(drafts(0..<10))
        let honest = try journal.checkpoint()
        _ = try journal.appendAndWait(drafts(10..<20))
        // Pretend the last checkpoint had signed a different history of the first 10 events.
        let other = try SignedCheckpoint.sign(origin: honest.origin, size: 10, root: Merkle.leafHash([1]), time: .now(), key: testKey)
        journal.shared.state.withLock { $0.latestCheckpoint = StoredCheckpoint(path: "the last checkpoint", checkpoint: other) }
        #expect {
            try journal.checkpoint()
        } throws: { error in
            guard case .checkpointRefused(let reason) = error as? JournalError else { return false }
            return reason.contains("not consistent")
        }
        #expect(try journal.checkpoints().map(\.size) == [10])
        journal.shared.state.withLock { $0.latestCheckpoint = StoredCheckpoint(path: "x", checkpoint: honest) }
        #expect(try journal.checkpoint().size == 20)
        try journal.close()
    }

    @Test func checkpointsNeedAKey() throws {
        let fixture = try JournalFixture()
        let (journal, _) = try fixture.open(key: nil)
        _ = try journal.appendAndWait(draft(1))
        #expect(throws: JournalError.noCheckpointKey) { try journal.checkpoint() }
        try journal.close()
    }

    @Test func malformedNotesAreRefusedWithAReason() {
        let root = Merkle.emptyRoot.base64
        let cases = [
            "steward.local/x\n5\n\(root)\n",
            "steward.local/x\n05\n\(root)\n\n\u{2014} steward.local/x AAAAAAAA\n",
            "steward.local/x\n5\nnot-base64\n\n\u{2014} steward.local/x AAAAAAAA\n",
            "steward.local/x\n5\n\(root)\n\n- steward.local/x AAAAAAAA\n",
            "steward.local/x\n\n\(root)\n\n\u{2014} steward.local/x AAAAAAAA\n",
        ]
        for note in cases {
            #expect(throws: JournalError.self, "\(note)") { try SignedCheckpoint.parse(note, source: "case") }
        }
    }

    @Test func keysResolveFromFilesAndEnvironmentButNotFromTheStateDirectory() throws {
        let state = try TemporaryDirectory()
        let elsewhere = try TemporaryDirectory()
        let secret = "0123456789abcdef0123456789abcdef"
        let outside = elsewhere.url.appendingPathComponent("checkpoint.key")
        try (secret + "\n").write(to: outside, atomically: true, encoding: .utf8)
        let fromFile = try CheckpointKey.resolve("file:" + outside.path, stateDirectory: state.url)
        let fromEnv = try CheckpointKey.resolve("env:STEWARD_KEY", stateDirectory: state.url, environment: ["STEWARD_KEY": secret])
        #expect(fromFile.material == fromEnv.material)
        #expect(!fromFile.description.contains(secret))

        let inside = state.url.appendingPathComponent("keys/checkpoint.key")
        try FileManager.default.createDirectory(at: inside.deletingLastPathComponent(), withIntermediateDirectories: true)
        try secret.write(to: inside, atomically: true, encoding: .utf8)
        #expect {
            try CheckpointKey.resolve("file:" + inside.path, stateDirectory: state.url)
        } throws: { error in
            guard case .badCheckpointKey(_, let reason) = error as? JournalError else { return false }
            return reason.contains("inside the state directory") && !"\(error)".contains(secret)
        }
        // A symlink from outside into the state directory is still inside.
        let link = elsewhere.url.appendingPathComponent("link.key")
        try FileManager.default.createSymbolicLink(at: link, withDestinationURL: inside)
        #expect(throws: JournalError.self) { try CheckpointKey.resolve("file:" + link.path, stateDirectory: state.url) }

        #expect(throws: JournalError.self) { try CheckpointKey.resolve("env:MISSING_KEY", stateDirectory: nil, environment: [:]) }
        #expect(throws: JournalError.self) { try CheckpointKey.resolve("env:SHORT", stateDirectory: nil, environment: ["SHORT": "tiny"]) }
        #expect(throws: JournalError.self) { try CheckpointKey.resolve("plain-secret", stateDirectory: nil) }
        #expect(throws: JournalError.self) { try CheckpointKey.resolve("file:/nonexistent/key", stateDirectory: nil) }
    }

    @Test func auditProofsVerifyWithoutTheJournal() throws {
        let fixture = try JournalFixture()
        let (journal, _) = try fixture.open()
        _ = try journal.appendAndWait(drafts(0..<1500))
        let checkpoint = try journal.checkpoint()
        _ = try journal.appendAndWait(drafts(1500..<1600))
        let proof = try AuditProof.make(journal: journal, seq: 1234, checkpoint: checkpoint)
        try journal.close()
        #expect(proof.leafIndex == 1233)
        #expect(proof.treeSize == 1500)

        let reread = try AuditProof(json: try JSONParserBridge.parse(proof.json), source: "proof.json")
        #expect(reread == proof)
        let result = reread.verify(key: testKey)
        #expect(result.valid, "\(result.text)")
        #expect(result.signatureChecked)
        #expect(!proof.verify().signatureChecked)

        var otherEvent = proof
        otherEvent.event = otherEvent.event.replacingOccurrences(of: "a-1233", with: "a-9999")
        #expect(!otherEvent.verify(key: testKey).valid)
        var otherLeaf = proof
        otherLeaf.leafHash = Merkle.leafHash(Array(otherEvent.event.utf8)).bytes
        otherLeaf.event = otherEvent.event
        #expect(otherLeaf.verify(key: testKey).checks.first { $0.name == "inclusion" }?.ok == false)
        var otherRoot = proof
        otherRoot.root = Merkle.emptyRoot.bytes
        #expect(!otherRoot.verify(key: testKey).valid)
        let wrongKey = try CheckpointKey(material: Array("not the key that signed this one".utf8))
        #expect(!proof.verify(key: wrongKey).valid)
    }
}
