// journal-crash-child DIRECTORY RUN
//
// Appends numbered events to the journal in DIRECTORY from several threads, forever, and
// prints "RUN THREAD I SEQ" for every event once `appendAndWait` has acknowledged it. The crash
// test kills it with SIGKILL at random moments and checks that every printed event survived.
// The checkpoint key comes from the STEWARD_CRASH_KEY environment variable.
import Foundation
import StewardJournal
#if canImport(Glibc)
import Glibc
#endif

let arguments = CommandLine.arguments
guard arguments.count == 3, let run = Int(arguments[2]) else {
    FileHandle.standardError.write(Data("usage: journal-crash-child DIRECTORY RUN\n".utf8))
    exit(2)
}

do {
    let key = try CheckpointKey.resolve("env:STEWARD_CRASH_KEY", stateDirectory: nil)
    let options = JournalOptions(checkpointKey: key, checkpointEveryEvents: 37, segmentBytes: 64 << 10, maxEventBytes: 4096)
    let (journal, _) = try Journal.open(directory: URL(fileURLWithPath: arguments[1]), options: options)
    let threads = 4
    for thread in 0..<threads {
        Thread {
            var i = 0
            var generator = SystemRandomNumberGenerator()
            while true {
                // Mostly small batches, sometimes large ones, so kills also land inside long writes.
                let count = Int.random(in: 0..<8, using: &generator) == 0 ? Int.random(in: 50...150, using: &generator) : Int.random(in: 1...12, using: &generator)
                let pad = Int.random(in: 50...2000, using: &generator)
                let drafts = (0..<count).map { k in
                    EventDraft(type: "test.numbered", actor: "crash child", subjects: ["person": "P\(thread)"],
                               data: ["run": .int(run), "thread": .int(thread), "i": .int(i + k), "pad": .string(String(repeating: "x", count: pad))])
                }
                do {
                    let stored = try journal.appendAndWait(drafts)
                    // One write per line, far below PIPE_BUF, so lines reach the pipe whole.
                    for (k, event) in stored.enumerated() {
                        let line = "\(run) \(thread) \(i + k) \(event.seq)\n"
                        _ = line.utf8CString.withUnsafeBufferPointer { write(1, $0.baseAddress, $0.count - 1) }
                    }
                    i += count
                } catch {
                    FileHandle.standardError.write(Data("append failed: \(error)\n".utf8))
                    exit(1)
                }
            }
        }.start()
    }
    while true { sleep(60) }
} catch {
    FileHandle.standardError.write(Data("journal-crash-child: \(error)\n".utf8))
    exit(1)
}
