import Foundation
import StewardHost
import StewardProtocol
import Testing

/// Where the build put the executables this test binary was built with.
enum Products {
    static var directory: URL {
        let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        return URL(fileURLWithPath: exe).deletingLastPathComponent()
    }

    static func executable(_ name: String) throws -> String {
        let path = directory.appendingPathComponent(name).path
        try #require(FileManager.default.isExecutableFile(atPath: path), "\(name) was not built next to the tests (\(path))")
        return path
    }

    /// The repository root (this file is Tests/StewardHostTests/TestSupport.swift).
    static var repoRoot: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }
}

/// A fresh temporary directory, removed by `cleanup()`.
struct TempDir {
    let url: URL

    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("steward-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    func write(_ name: String, _ text: String) throws -> URL {
        let file = url.appendingPathComponent(name)
        try Data(text.utf8).write(to: file)
        return file
    }

    func cleanup() { try? FileManager.default.removeItem(at: url) }
}

/// Collects log records for assertions.
final class LogCollector: @unchecked Sendable {  // `records` is guarded by `lock`
    private let lock = NSLock()
    private var records: [LogRecord] = []

    var events: ConnectorEvents { ConnectorEvents(log: { [self] r in lock.withLock { records.append(r) } }) }
    var all: [LogRecord] { lock.withLock { records } }
}

/// True while a process with this pid exists (and is not a zombie we could still reap).
func processExists(_ pid: pid_t) -> Bool {
    kill(pid, 0) == 0
}

/// A quick restart policy so crash tests do not wait long.
let fastRestart = RestartPolicy(crashBudget: 5, window: 180, initialBackoff: 0.01, maxBackoff: 0.05)
