import Foundation

/// A program run to completion: how it exited and everything it wrote.
public struct ProgramRun: Sendable {
    public var code: Int32
    public var out: String
    public var err: String

    /// Runs `program` (a path) with `arguments` in `directory` (default: this process's), with
    /// an empty stdin, and waits for it to exit. `environment` is laid over this process's
    /// environment; a nil value removes the variable.
    public init(_ program: String, _ arguments: [String], in directory: URL? = nil, environment: [String: String?] = [:]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: program)
        process.arguments = arguments
        if let directory { process.currentDirectoryURL = directory }
        var env = ProcessInfo.processInfo.environment
        for (name, value) in environment { env[name] = value }
        process.environment = env
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        try process.run()
        // Read stderr on another thread, so a program that fills one pipe while we wait on the
        // other cannot stall.
        let errText = PipeText(err.fileHandleForReading)
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        code = process.terminationStatus
        self.out = String(decoding: outData, as: UTF8.self)
        self.err = errText.wait()
    }

    /// The same, waited for on a thread of its own: an async test that runs a long program (the
    /// demo) this way does not hold one of the concurrency pool's few threads while it runs.
    public static func run(_ program: String, _ arguments: [String], in directory: URL? = nil,
                           environment: [String: String?] = [:]) async throws -> ProgramRun {
        try await withCheckedThrowingContinuation { continuation in
            Thread.detachNewThread {
                continuation.resume(with: Result { try ProgramRun(program, arguments, in: directory, environment: environment) })
            }
        }
    }
}

/// Everything a pipe delivers until its end, read on a thread of its own.
private final class PipeText: @unchecked Sendable {  // `data` is written once on the reader thread before `done` is signalled, read after
    private var data = Data()
    private let done = DispatchSemaphore(value: 0)

    init(_ handle: FileHandle) {
        Thread.detachNewThread { [self] in
            data = handle.readDataToEndOfFile()
            done.signal()
        }
    }

    func wait() -> String {
        done.wait()
        return String(decoding: data, as: UTF8.self)
    }
}
