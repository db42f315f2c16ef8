import Foundation
import StewardHost
import StewardJournal
import StewardProtocol

// steward audit verify|log|checkpoint|proof|verify-proof: what an auditor runs against the journal.

let auditCommand = Command(
    name: "audit",
    summary: "Verify the journal, query it, and export checkpoints and proofs for auditors.",
    subcommands: [auditVerifyCommand, auditLogCommand, auditCheckpointCommand, auditProofCommand, auditVerifyProofCommand])

let auditVerifyCommand = Command(
    name: "verify",
    summary: "Recompute every leaf and tree head and check every checkpoint; exit 4 if the journal is not intact.",
    usage: "[--checkpoint FILE ...] [--json]",
    discussion: """
    Re-reads every event line, checks its form and sequence number, re-hashes it into the RFC 6962
    tree, and compares the tree with every stored checkpoint and with each --checkpoint FILE (one
    exported earlier to a witness). Reports the first divergent sequence number and the file and
    byte offset where it starts. Needs no lock, so it can run while another steward command is writing.
    Exit 0 when intact, 4 when not.
    """,
    options: [.value("--checkpoint", "FILE", "Also check this exported checkpoint; repeatable.")],
    run: { inv in
        let context = try AuditContext(inv)
        var external: [(source: String, checkpoint: SignedCheckpoint)] = []
        for file in inv.allValues("--checkpoint") { external.append((file, try readCheckpoint(file))) }
        guard FileManager.default.fileExists(atPath: context.journal.path) else {
            printError("no journal at \(context.journal.path)")
            return ExitCode.failure
        }
        let report = JournalVerifier.verify(directory: context.journal, key: context.key, external: external)
        if inv.json {
            printJSON(report.json)
        } else {
            print(report.text)
        }
        return report.intact ? ExitCode.ok : ExitCode.notIntact
    })

let auditLogCommand = Command(
    name: "log",
    summary: "List journal events, filtered by person, app, type and time.",
    usage: "[--person ID] [--app ID] [--type TYPE] [--since T] [--until T] [--json]",
    discussion: """
    Times are RFC 3339 (2026-11-27, 2026-11-27T10:00:00Z, or with an offset); --since is
    inclusive, --until exclusive. --type matches exactly, or a prefix with a trailing * (person.*).
    With --json each event is printed as stored: one canonical JSON line, byte for byte the line
    that is hashed into the journal's tree.
    """,
    options: [
        .value("--person", "ID", "Events whose subjects name this person."),
        .value("--app", "ID", "Events whose subjects name this app."),
        .value("--type", "TYPE", "Events of this type (a trailing * matches a prefix)."),
        .value("--since", "T", "Events at or after this time."),
        .value("--until", "T", "Events before this time."),
    ],
    run: { inv in
        let context = try AuditContext(inv)
        let filter = EventFilter(person: inv.value("--person"), app: inv.value("--app"), type: inv.value("--type"),
                                 since: try timeOption(inv, "--since"), until: try timeOption(inv, "--until"))
        let journal = try context.openReadOnly()
        try journal.forEachEvent(matching: filter) { event in
            print(inv.json ? event.lineText : describe(event))
            return true
        }
        return ExitCode.ok
    })

let auditCheckpointCommand = Command(
    name: "checkpoint",
    summary: "Sign a checkpoint of the journal now and print or save it for a witness.",
    usage: "[--out FILE] [--json]",
    discussion: """
    Writes a signed tree head (C2SP tlog-checkpoint form, HMAC-SHA-256 with the config's
    checkpointKey) to the journal's checkpoints and prints it, or saves it to FILE. Give that
    file to someone outside (an auditor, another system): `steward audit verify --checkpoint FILE`
    later proves the journal was not rewritten since. Needs the journal's write lock.
    """,
    options: [.value("--out", "FILE", "Save the checkpoint to this file.")],
    run: { inv in
        let context = try AuditContext(inv)
        guard let key = context.key else {
            throw UsageError("no checkpointKey in \(context.configFile): add \"checkpointKey\": \"file:PATH\" (a file outside the state directory) or \"env:NAME\"")
        }
        let (journal, _) = try Journal.open(directory: context.journal, options: JournalOptions(checkpointKey: key))
        let checkpoint: SignedCheckpoint
        do {
            checkpoint = try journal.checkpoint()
            try journal.close()
        } catch {
            try? journal.close()
            throw error
        }
        let out = inv.value("--out")
        if let out { try writeAtomically(checkpoint.serialized, to: out) }
        if inv.json {
            var o = JSONObjectBuilder()
            o.set("origin", checkpoint.origin)
            o.set("size", checkpoint.size)
            o.set("root", checkpoint.root.base64)
            o.set("time", checkpoint.time?.rfc3339)
            o.set("checkpoint", checkpoint.serialized)
            o.set("out", out)
            printJSON(o.value)
        } else if let out {
            print("Signed checkpoint of \(checkpoint.size) events (root \(checkpoint.root.base64)) saved to \(out).")
        } else {
            print(checkpoint.serialized, terminator: "")
        }
        return ExitCode.ok
    })

let auditProofCommand = Command(
    name: "proof",
    summary: "Write an inclusion proof of one event against a checkpoint.",
    usage: "--seq N [--checkpoint FILE] [--out FILE] [--json]",
    discussion: """
    The proof holds the event line, the signed checkpoint and the audit path (field names as in
    the RFC 6962 test vectors: leafIdx, treeSize, leafHash, root, proof). Without --checkpoint the
    latest stored checkpoint is used. Check it anywhere with `steward audit verify-proof FILE`.
    """,
    options: [
        .value("--seq", "N", "The event's sequence number."),
        .value("--checkpoint", "FILE", "Prove against this checkpoint instead of the latest stored one."),
        .value("--out", "FILE", "Save the proof to this file."),
    ],
    run: { inv in
        guard let text = inv.value("--seq") else { throw UsageError("missing --seq N") }
        guard let seq = Int(text), seq >= 1 else { throw UsageError("--seq: \"\(text)\" is not a sequence number (1 or more)") }
        let context = try AuditContext(inv)
        let checkpoint = try inv.value("--checkpoint").map(readCheckpoint)
        let journal = try context.openReadOnly()
        let proof = try AuditProof.make(journal: journal, seq: seq, checkpoint: checkpoint)
        if let out = inv.value("--out") {
            try writeAtomically(JSONWriter.pretty(proof.json), to: out)
            if inv.json {
                printJSON(["seq": .int(seq), "treeSize": .int(proof.treeSize), "out": .string(out)])
            } else {
                print("Proof of seq \(seq) in the tree of \(proof.treeSize) events saved to \(out).")
            }
        } else if inv.json {
            printJSON(proof.json)
        } else {
            print(JSONWriter.pretty(proof.json), terminator: "")
        }
        return ExitCode.ok
    })

let auditVerifyProofCommand = Command(
    name: "verify-proof",
    summary: "Check an inclusion proof file with nothing but the file; exit 4 if it does not hold.",
    usage: "FILE [--key REF] [--json]",
    discussion: """
    Checks that the event line hashes to the leaf, that the audit path leads from it to the root,
    and that the root is the one in the checkpoint. The checkpoint's signature is checked with
    --key (env:NAME or file:PATH), else with the config's checkpointKey when there is a config;
    without either it is reported as not checked. Exit 0 when the proof holds, 4 when not.
    """,
    options: [.value("--key", "REF", "The checkpoint key, env:NAME or file:PATH.")],
    run: { inv in
        let file = try inv.positional(0, "FILE")
        guard let data = FileManager.default.contents(atPath: file) else { throw UsageError("\(file): cannot read the file") }
        let json: JSONValue
        do {
            json = try JSONParser.parse(Array(data))
        } catch {
            throw UsageError("\(file): not JSON (\(error))")
        }
        let proof: AuditProof
        do {
            proof = try AuditProof(json: json, source: file)
        } catch {
            throw UsageError("\(error)")
        }
        var key: CheckpointKey?
        if let reference = inv.value("--key") {
            do {
                key = try CheckpointKey.resolve(reference, stateDirectory: nil)
            } catch {
                throw UsageError("--key: \(error)")
            }
        } else if FileManager.default.fileExists(atPath: inv.configPath) {
            key = try AuditContext(inv).key
        }
        let result = proof.verify(key: key)
        if inv.json {
            printJSON(result.json)
        } else {
            print(result.text)
        }
        return result.valid ? ExitCode.ok : ExitCode.notIntact
    })

// MARK: - Helpers

/// The journal and checkpoint key named by the config, without starting any connector.
private struct AuditContext {
    var configFile: String
    var journal: URL
    var key: CheckpointKey?

    init(_ inv: Invocation) throws {
        let config: StewardConfig
        do {
            config = try StewardConfig.load(inv.configPath)
        } catch let e as ConfigFileError {
            throw UsageError("\(e)")
        }
        configFile = config.file.path
        journal = config.stateDirectory.appendingPathComponent("journal")
        do {
            key = try config.resolvedCheckpointKey()
        } catch {
            throw UsageError("\(config.file.path): checkpointKey: \(error)")
        }
    }

    func openReadOnly() throws -> Journal {
        guard FileManager.default.fileExists(atPath: journal.path) else {
            throw UsageError("no journal at \(journal.path) (nothing has been recorded yet)")
        }
        return try Journal.open(directory: journal, options: JournalOptions(readOnly: true, checkpointKey: key)).0
    }
}

private func readCheckpoint(_ file: String) throws -> SignedCheckpoint {
    guard let data = FileManager.default.contents(atPath: file) else { throw UsageError("\(file): cannot read the checkpoint file") }
    guard let text = String(data: data, encoding: .utf8) else { throw UsageError("\(file): not UTF-8 text") }
    do {
        return try SignedCheckpoint.parse(text, source: file)
    } catch {
        throw UsageError("\(error)")
    }
}

private func timeOption(_ inv: Invocation, _ name: String) throws -> Timestamp? {
    guard let text = inv.value(name) else { return nil }
    guard let time = Timestamp(rfc3339: text) else {
        throw UsageError("\(name): \"\(text)\" is not an RFC 3339 time (2026-11-27 or 2026-11-27T10:00:00Z)")
    }
    return time
}

/// One event as a text line: seq, time, type, actor, subjects, data.
private func describe(_ event: StoredEvent) -> String {
    let subjects = event.subjects.keys.sorted().map { "\($0)=\(event.subjects[$0] ?? "")" }.joined(separator: " ")
    let data = JSONWriter.string(event.data, sortedKeys: true)
    return "\(event.seq)\t\(event.time.rfc3339)\t\(event.type)\t\(event.actor)\t\(subjects)\t\(data)"
}
