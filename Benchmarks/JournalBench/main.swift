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

/// Wall-clock and CPU time (user + system, all threads) of `body`. The machine is shared, so
/// both are printed: CPU time shows the cost even when other work competes for the cores.
struct Timing {
    var wall: Double
    var cpu: Double
}

func processCPUSeconds() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
}

func threadCPUSeconds() -> Double {
    var now = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now)
    return Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
}

func measure(_ body: () throws -> Void) rethrows -> Timing {
    let start = DispatchTime.now().uptimeNanoseconds
    let cpu = processCPUSeconds()
    try body()
    return Timing(wall: Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9, cpu: processCPUSeconds() - cpu)
}

func seconds(_ body: () throws -> Void) rethrows -> Double { try measure(body).wall }

func format(_ value: Double, _ digits: Int = 1) -> String { String(format: "%.\(digits)f", value) }

/// A 300-byte event line once stamped (seq and time add about 55 bytes to the body).
func benchDraft(_ i: Int) -> EventDraft {
    EventDraft(type: "access.granted", actor: "steward apply", subjects: ["person": "E\(100_000 + i % 50_000)", "app": "crm", "account": "a-\(i)"],
               data: ["entitlement": "role:Viewer", "change": "plan-2026-11-27", "reason": "birthright: department Sales, title Account Executive, Berlin office"])
}

let key = try CheckpointKey(material: Array("journal-bench-checkpoint-key-0123456789".utf8), reference: "bench key")
let options = JournalOptions(checkpointKey: key, checkpointEveryEvents: 100_000, checkpointInterval: nil)

// MARK: SHA-256

// Timed by this thread's CPU time, as `openssl speed` times by CPU time by default.
let shaInput = [UInt8](repeating: 0x5A, count: 64 << 20)
var shaBest = Double.infinity
var sink = Merkle.emptyRoot
for _ in 0..<3 {
    let start = threadCPUSeconds()
    sink = SHA256.hash(shaInput)
    shaBest = min(shaBest, threadCPUSeconds() - start)
}
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

let load = (try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8))?.split(separator: " ").first.map(String.init) ?? "?"
print("machine: \(ProcessInfo.processInfo.activeProcessorCount) cores, load average \(load) at start")
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
let appendCPU = processCPUSeconds()
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
let appendCPUSeconds = processCPUSeconds() - appendCPU
let appendRate = Double(appenders * perAppender) / appendSeconds
print("appends, \(lineBytes)-byte events:   \(format(appendRate, 0)) events/s with \(appenders) concurrent appenders, one event per call (\(format(appendSeconds, 2)) s wall, \(format(appendCPUSeconds, 2)) s CPU)  [target >= 100,000]")

let batch = try measure {
    for b in 0..<20 { _ = try journal.appendAndWait((0..<5000).map { benchDraft(b * 5000 + $0) }) }
}
print("appends, batches of 5,000:      \(format(100_000 / batch.wall, 0)) events/s from one caller (\(format(batch.wall, 2)) s wall, \(format(batch.cpu, 2)) s CPU)")

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
let verifyTiming = measure { verification = JournalVerifier.verify(directory: journalDirectory, key: key) }
let verifySeconds = verifyTiming.wall
guard let report = verification, report.intact else {
    print("verify FAILED: \(verification?.text ?? "")")
    exit(1)
}
print("verify \(report.events) events (\(format(Double(bytes) / 1e6)) MB, \(report.checkpointsChecked) checkpoints): \(format(verifySeconds, 2)) s = \(format(Double(bytes) / verifySeconds / 1e6)) MB/s (\(format(verifyTiming.cpu, 2)) s CPU on \(ProcessInfo.processInfo.activeProcessorCount) cores)  [target >= 150]")

var openReport: RecoveryReport?
let withSnapshot = try seconds {
    let (opened, report) = try Journal.open(directory: journalDirectory, options: options)
    openReport = report
    try opened.close()
}
print("open \(openReport?.size ?? 0) events with snapshot:    \(format(withSnapshot, 3)) s (\(openReport.map { "\($0.snapshot)" } ?? ""))  [target <= 1 s]")

try FileManager.default.removeItem(at: journalDirectory.appendingPathComponent("index/state"))
let withoutSnapshot = try measure {
    let (opened, report) = try Journal.open(directory: journalDirectory, options: options)
    openReport = report
    try opened.close()
}
print("open \(openReport?.size ?? 0) events without snapshot: \(format(withoutSnapshot.wall, 3)) s (\(format(withoutSnapshot.cpu, 2)) s CPU; rescanned \(openReport?.scannedEvents ?? 0) events)")
let endLoad = (try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8))?.split(separator: " ").first.map(String.init) ?? "?"
print("load average \(endLoad) at the end")
if sink == Merkle.emptyRoot { print("") }
