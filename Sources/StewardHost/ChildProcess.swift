import StewardSystem
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A child process in its own process group, with its stdin, stdout and stderr on pipes.
///
/// Foundation's `Process` cannot put a child in a new process group, and killing the group is
/// what guarantees that a connector's own children (a browser, an ssh session) go with it.
/// Our ends of the pipes are `OwnedDescriptor`s: whoever reads or writes one closes it through
/// its owner (or lets it close when this object goes away), never with a raw `close`.
public final class ChildProcess: Sendable {
    public let pid: pid_t
    /// Write end of the child's stdin.
    public let input: OwnedDescriptor
    /// Read end of the child's stdout.
    public let output: OwnedDescriptor
    /// Read end of the child's stderr.
    public let errorOutput: OwnedDescriptor

    private init(pid: pid_t, input: OwnedDescriptor, output: OwnedDescriptor, errorOutput: OwnedDescriptor) {
        self.pid = pid
        self.input = input
        self.output = output
        self.errorOutput = errorOutput
    }

    /// The raw write end of the child's stdin, for code that closes it itself: reading this
    /// hands the descriptor over, and `input` no longer closes it.
    @available(*, deprecated, message: "takes ownership of the raw descriptor; use `input`, which closes it exactly once")
    public var stdin: Int32 { input.releaseOwnership() }
    /// The raw read end of the child's stdout; reading this hands it over (see `stdin`).
    @available(*, deprecated, message: "takes ownership of the raw descriptor; use `output`, which closes it exactly once")
    public var stdout: Int32 { output.releaseOwnership() }
    /// The raw read end of the child's stderr; reading this hands it over (see `stdin`).
    @available(*, deprecated, message: "takes ownership of the raw descriptor; use `errorOutput`, which closes it exactly once")
    public var stderr: Int32 { errorOutput.releaseOwnership() }

    /// Starts `argv[0]` (an absolute path) with exactly `environment`.
    public static func spawn(_ argv: [String], environment: [String: String]
    ) throws -> ChildProcess {
        guard let executable = argv.first else { throw SpawnError(message: "empty command") }
        spawnLock.lock()
        defer { spawnLock.unlock() }

        // Every end is owned from the start: an early throw closes what was opened.
        let inPipe = try makePipe(), outPipe = try makePipe(), errPipe = try makePipe()

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var noSignals = sigset_t()
        sigemptyset(&noSignals)
        var defaultSignals = sigset_t()
        sigemptyset(&defaultSignals)
        for s in [SIGPIPE, SIGTERM, SIGINT, SIGHUP, SIGCHLD] { sigaddset(&defaultSignals, s) }
        posix_spawnattr_setsigmask(&attributes, &noSignals)
        posix_spawnattr_setsigdefault(&attributes, &defaultSignals)
        posix_spawnattr_setpgroup(&attributes, 0)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        let cArgs = argv.map { strdup($0) } + [nil]
        let cEnv = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            for p in cArgs { free(p) }
            for p in cEnv { free(p) }
        }
        var pid: pid_t = 0
        // The child's ends stay open until posix_spawn has duplicated them onto 0, 1 and 2.
        let rc = OwnedDescriptor.withDescriptors([inPipe.read, outPipe.write, errPipe.write]) { ends in
            posix_spawn_file_actions_adddup2(&actions, ends[0], 0)
            posix_spawn_file_actions_adddup2(&actions, ends[1], 1)
            posix_spawn_file_actions_adddup2(&actions, ends[2], 2)
            return posix_spawn(&pid, executable, &actions, &attributes, cArgs, cEnv)
        }
        inPipe.read.close()
        outPipe.write.close()
        errPipe.write.close()
        guard rc == 0 else {
            throw SpawnError(message: "cannot start \(executable): \(rc.map { String(cString: strerror($0)) } ?? "a pipe end was closed")")
        }
        return ChildProcess(pid: pid, input: inPipe.write, output: outPipe.read, errorOutput: errPipe.read)
    }

    /// A pipe whose ends are owned and close-on-exec (set under `spawnLock`, so no child
    /// spawned meanwhile inherits them).
    private static func makePipe() throws -> (read: OwnedDescriptor, write: OwnedDescriptor) {
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else {
            throw SpawnError(message: "pipe() failed: \(String(cString: strerror(errno)))")
        }
        _ = fcntl(fds[0], F_SETFD, FD_CLOEXEC)
        _ = fcntl(fds[1], F_SETFD, FD_CLOEXEC)
        return (OwnedDescriptor(adopting: fds[0]), OwnedDescriptor(adopting: fds[1]))
    }

    /// Sends `signal` to the child's whole process group.
    public func signalGroup(_ signal: Int32) {
        _ = kill(-pid, signal)
    }

    /// Waits for the child to exit, for at most `timeout` seconds; nil if it is still running.
    /// Once it returns a status the child is reaped and its pid may be reused.
    public func wait(timeout: TimeInterval) -> ExitStatus? {
        let deadline = Date().addingTimeInterval(timeout)
        var delay: useconds_t = 1_000
        while true {
            var status: Int32 = 0
            let r = waitpid(pid, &status, WNOHANG)
            if r == pid { return ExitStatus(raw: status) }
            if r < 0 && errno != EINTR { return ExitStatus(raw: 0, unknown: true) }
            if Date() >= deadline { return nil }
            usleep(delay)
            delay = min(delay * 2, 50_000)
        }
    }

    /// How a child ended.
    public struct ExitStatus: Sendable, CustomStringConvertible {
        public let raw: Int32
        public let unknown: Bool

        init(raw: Int32, unknown: Bool = false) {
            self.raw = raw
            self.unknown = unknown
        }

        public var exited: Bool { !unknown && (raw & 0x7f) == 0 }
        public var exitCode: Int32 { (raw >> 8) & 0xff }
        public var signal: Int32? { !unknown && (raw & 0x7f) != 0 && (raw & 0x7f) != 0x7f ? raw & 0x7f : nil }

        public var description: String {
            if unknown { return "ended (status unknown)" }
            if let signal { return "was killed by signal \(signal)\(signal == SIGKILL ? " (SIGKILL)" : signal == SIGTERM ? " (SIGTERM)" : "")" }
            return "exited with status \(exitCode)"
        }
    }
}

public struct SpawnError: Error, CustomStringConvertible {
    public let message: String
    public var description: String { message }
}

/// Serializes pipe creation and spawning so no child inherits another child's pipe ends
/// between `pipe()` and `fcntl(FD_CLOEXEC)`.
private let spawnLock = NSLock()

/// Finds an executable: paths with a slash are taken relative to `base`; bare names are looked
/// up beside the running `steward` binary, then on `PATH`.
public func resolveExecutable(_ name: String, relativeTo base: URL?) -> String? {
    let fm = FileManager.default
    if name.contains("/") {
        let path = name.hasPrefix("/") ? name : (base?.appendingPathComponent(name).path ?? name)
        return fm.isExecutableFile(atPath: path) ? URL(fileURLWithPath: path).standardizedFileURL.path : nil
    }
    var candidates: [String] = []
    if let binDir = currentExecutableDirectory() { candidates.append(binDir + "/" + name) }
    for dir in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin").split(separator: ":") {
        candidates.append(String(dir) + "/" + name)
    }
    return candidates.first { fm.isExecutableFile(atPath: $0) }
}

/// The directory of the running executable (`/proc/self/exe` on Linux).
public func currentExecutableDirectory() -> String? {
    #if os(Linux)
    if let path = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
        return URL(fileURLWithPath: path).deletingLastPathComponent().path
    }
    #endif
    return Bundle.main.executableURL?.deletingLastPathComponent().path
}
