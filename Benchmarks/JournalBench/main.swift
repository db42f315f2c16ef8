// JournalBench: `swift run -c release JournalBench [EVENTS]`
//
// Measures what issue 3 sets targets for, on this machine:
//   SHA-256 MB/s beside `openssl speed -evp sha256` (target >= 250 MB/s; the ratio is printed),
//   appends/s of 300-byte events with group commit (target >= 100,000),
//   full verify MB/s (target >= 150), and the time to open a 1,000,000-event journal with
//   and without its open-state snapshot (target with snapshot <= 1 s).
import Foundation
import StewardJournal

let eventCount = CommandLine.arguments.dropFirst().first.flatMap(Int.init) ?? 1_000_000
let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("journal-bench-\(getpid())")
let state = scratch.appendingPathComponent("state")
let journalDirectory = state.appendingPathComponent("journal")
defer { try? FileManager.default.removeItem(at: scratch) }

func seconds(_ body: () throws -> Void) rethrows -> Double {
    let start = DispatchTime.now().uptimeNanoseconds
    try body()
    return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
}

func format(_ value: Double, _ digits: Int = 1) -> String { String(format: "%.\(digits)f", value) }

/// A 300-byte event line once stamped (seq and time add about 55 bytes to the body).
func benchDraft(_ i: Int) -> EventDraft {
    EventDraft(type: "access.granted", actor: "steward apply", subjects: ["person": "E\(100_000 + i % 50_000)", "app": "crm", "account": "a-\(i)"],
               data: ["entitlement": "role:Viewer", "change": "plan-2026-11-27", "reason": "birthright: department Sales, title Account Executive, Berlin"])
}

let key = try CheckpointKey(material: Array("journal-bench-checkpoint-key-0123456789".utf8), reference: "bench key")
let options = JournalOptions(checkpointKey: key, checkpointEveryEvents: 100_000, checkpointInterval: nil)

// MARK: SHA-256

let shaInput = [UInt8](repeating: 0x5A, count: 64 << 20)
var shaBest = Double.infinity
var sink = Merkle.emptyRoot
for _ in 0..<3 { shaBest = min(shaBest, seconds { sink = SHA256.hash(shaInput) }) }
let shaMBps = Double(shaInput.count) / shaBest / 1e6

func opensslSHA256() -> Double? {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["openssl", "speed", "-evp", "sha256", "-bytes", "16384", "-seconds", "2"]
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = FileHandle.nullDevice
    guard (try? process.run()) != nil else { return nil }
    let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    process.waitUntilExit()
    // The last line reads "sha256  1780547.58k": thousands of bytes per second.
    guard let line = output.split(separator: "\n").last(where: { $0.hasPrefix("sha256") }),
          let field = line.split(separator: " ").last, field.hasSuffix("k"), let kilo = Double(field.dropLast()) else { return nil }
    return kilo / 1000
}

print("SHA-256 (Swift, 64 MiB):        \(format(shaMBps)) MB/s  [target >= 250]")
if let openssl = opensslSHA256() {
    print("SHA-256 (openssl speed -evp):   \(format(openssl)) MB/s  -> Swift is \(format(shaMBps / openssl, 2))x openssl")
} else {
    print("SHA-256 (openssl speed -evp):   openssl not available")
}

// MARK: Appends with group commit

try FileManager.default.createDirectory(at: state, withIntermediateDirectories: true)
var (journal, _) = try Journal.open(directory: journalDirectory, options: options)
let lineBytes = try journal.appendAndWait(benchDraft(0)).line.count + 1
let appenders = 1000
let perAppender = 200
let appendSeconds = try await {
    let start = DispatchTime.now().uptimeNanoseconds
    try await withThrowingTaskGroup(of: Void.self) { group in
        for task in 0..<appenders {
            group.addTask {
                for i in 0..<perAppender { _ = try await journal.append(benchDraft(task * perAppender + i)) }
            }
        }
        try await group.waitForAll()
    }
    return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
}()
let appendRate = Double(appenders * perAppender) / appendSeconds
print("appends, \(lineBytes)-byte events:   \(format(appendRate, 0)) events/s with \(appenders) concurrent appenders, one event per call  [target >= 100,000]")

let batchSeconds = try seconds {
    for b in 0..<20 { _ = try journal.appendAndWait((0..<5000).map { benchDraft(b * 5000 + $0) }) }
}
print("appends, batches of 5,000:      \(format(100_000 / batchSeconds, 0)) events/s from one caller")

// MARK: A large journal: verify and open

let target = eventCount
let start = journal.size
let fillSeconds = try seconds {
    var next = start
    while next < target {
        let count = min(20_000, target - next)
        _ = try journal.appendAndWait((0..<count).map { benchDraft(next + $0) })
        next += count
    }
}
print("filled to \(journal.size) events in \(format(fillSeconds)) s")
try journal.close()

let bytes = try FileManager.default.contentsOfDirectory(atPath: journalDirectory.appendingPathComponent("segments").path)
    .reduce(0) { total, name in
        let attributes = try FileManager.default.attributesOfItem(atPath: journalDirectory.appendingPathComponent("segments/\(name)").path)
        return total + ((attributes[.size] as? Int) ?? 0)
    }

var verification: VerificationReport?
let verifySeconds = seconds { verification = JournalVerifier.verify(directory: journalDirectory, key: key) }
guard let report = verification, report.intact else {
    print("verify FAILED: \(verification?.text ?? "")")
    exit(1)
}
print("verify \(report.events) events (\(format(Double(bytes) / 1e6)) MB, \(report.checkpointsChecked) checkpoints): \(format(verifySeconds, 2)) s = \(format(Double(bytes) / verifySeconds / 1e6)) MB/s  [target >= 150]")

var openReport: RecoveryReport?
let withSnapshot = try seconds {
    let (opened, report) = try Journal.open(directory: journalDirectory, options: options)
    openReport = report
    try opened.close()
}
print("open \(openReport?.size ?? 0) events with snapshot:    \(format(withSnapshot, 3)) s (\(openReport.map { "\($0.snapshot)" } ?? ""))  [target <= 1 s]")

try FileManager.default.removeItem(at: journalDirectory.appendingPathComponent("index/state"))
let withoutSnapshot = try seconds {
    let (opened, report) = try Journal.open(directory: journalDirectory, options: options)
    openReport = report
    try opened.close()
}
print("open \(openReport?.size ?? 0) events without snapshot: \(format(withoutSnapshot, 3)) s (rescanned \(openReport?.scannedEvents ?? 0) events)")
if sink == Merkle.emptyRoot { print("") }
