import Foundation
import Synchronization
import Testing
@testable import StewardJournal
#if canImport(Glibc)
import Glibc
#endif

/// A child process appends from four threads and prints every acknowledged event; it is
/// killed with SIGKILL at a random moment, fifty times over the same journal. After each kill
/// the journal must reopen with every acknowledged event in place and verify intact.
@Suite struct CrashTests {
    private static let keyText = "crash-test-checkpoint-key-0123456789"

    @Test func killedAppendersLoseNothingAcknowledged() throws {
        let child = try #require(Self.crashChild(), "journal-crash-child was not built beside the test binary")
        let fixture = try JournalFixture()
        let key = try CheckpointKey(material: Array(Self.keyText.utf8))
        var generator = SystemRandomNumberGenerator()
        var previous = TreeHead(size: 0, root: Merkle.emptyRoot)
        var totalAcknowledged = 0
        var tornTails = 0

        for run in 0..<50 {
            let acks = try Self.runAndKill(child, directory: fixture.directory, run: run,
                                           afterFirstAck: .milliseconds(Int.random(in: 0...40, using: &generator)))
            totalAcknowledged += acks.count

            let (journal, report) = try Journal.open(directory: fixture.directory,
                                                     options: JournalOptions(checkpointKey: key, checkpointEveryEvents: 37, checkpointInterval: nil,
                                                                             segmentBytes: 64 << 10, maxEventBytes: 4096))
            if report.tornTail != nil { tornTails += 1 }
            // Everything that existed before this run is still there, byte for byte.
            #expect(journal.size >= previous.size)
            #expect(try journal.root(size: previous.size) == previous.root, "run \(run)")
            // Every event this run acknowledged is present, at the seq it was given, in order.
            var found: [Int: (run: Int, thread: Int, i: Int)] = [:]
            try journal.forEachEvent(from: previous.size + 1) { event in
                found[event.seq] = (event.data["run"].intValue ?? -1, event.data["thread"].intValue ?? -1, event.data["i"].intValue ?? -1)
                return true
            }
            for ack in acks {
                let stored = found[ack.seq]
                #expect(stored?.run == ack.run && stored?.thread == ack.thread && stored?.i == ack.i, "run \(run): acknowledged \(ack) missing")
            }
            for thread in 0..<4 {
                let order = found.filter { $0.value.run == run && $0.value.thread == thread }.sorted { $0.key < $1.key }.map(\.value.i)
                #expect(order == Array(0..<order.count), "run \(run), thread \(thread): events out of order or missing")
            }
            previous = journal.treeHead
            try journal.close()
            let verification = JournalVerifier.verify(directory: fixture.directory, key: key)
            #expect(verification.intact, "after run \(run): \(verification.text)")
        }
        #expect(totalAcknowledged > 50)
        print("crash test: \(totalAcknowledged) acknowledged events over 50 kills, \(tornTails) torn tails cut, \(previous.size) events in the journal")
    }

    struct Ack: CustomStringConvertible {
        var run: Int
        var thread: Int
        var i: Int
        var seq: Int
        var description: String { "run \(run) thread \(thread) i \(i) seq \(seq)" }
    }

    /// Starts the child, waits for its first acknowledgement, waits `afterFirstAck` more,
    /// kills it, and returns every acknowledgement it printed.
    private static func runAndKill(_ child: URL, directory: URL, run: Int, afterFirstAck: Duration) throws -> [Ack] {
        let process = Process()
        process.executableURL = child
        process.arguments = [directory.path, String(run)]
        process.environment = ["STEWARD_CRASH_KEY": keyText]
        let stdout = Pipe()
        let stderr = Pipe()
        process.standardOutput = stdout
        process.standardError = stderr
        let output = Mutex<[UInt8]>([])
        let reader = Thread {
            let fd = stdout.fileHandleForReading.fileDescriptor
            var buffer = [UInt8](repeating: 0, count: 65536)
            while true {
                let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
                if n <= 0 { break }
                output.withLock { $0.append(contentsOf: buffer[0..<n]) }
            }
        }
        try process.run()
        reader.start()
        let deadline = Date().addingTimeInterval(20)
        while output.withLock({ !$0.contains(0x0A) }) && process.isRunning && Date() < deadline { usleep(1000) }
        guard process.isRunning else {
            let message = String(decoding: stderr.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            throw ChildFailed(message: "journal-crash-child exited with \(process.terminationStatus): \(message)")
        }
        let (seconds, attoseconds) = afterFirstAck.components
        usleep(UInt32(seconds * 1_000_000 + attoseconds / 1_000_000_000_000))
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        while !reader.isFinished { usleep(1000) }

        let text = String(decoding: output.withLock { $0 }, as: UTF8.self)
        var acks: [Ack] = []
        for line in text.split(separator: "\n", omittingEmptySubsequences: true) where text.hasSuffix("\n") || line != text.split(separator: "\n").last {
            let fields = line.split(separator: " ").compactMap { Int($0) }
            guard fields.count == 4 else { continue }
            acks.append(Ack(run: fields[0], thread: fields[1], i: fields[2], seq: fields[3]))
        }
        return acks
    }

    struct ChildFailed: Error, CustomStringConvertible {
        var message: String
        var description: String { message }
    }

    /// The child executable, built beside this test binary.
    static func crashChild() -> URL? {
        var candidates: [URL] = []
        if let me = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
            var directory = URL(fileURLWithPath: me).deletingLastPathComponent()
            // Inside an .xctest bundle on some layouts; walk up a few levels.
            for _ in 0..<4 {
                candidates.append(directory.appendingPathComponent("journal-crash-child"))
                directory = directory.deletingLastPathComponent()
            }
        }
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0.path) }
    }
}
