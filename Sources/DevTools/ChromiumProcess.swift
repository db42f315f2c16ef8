import StewardSystem
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A Chromium process started with `--remote-debugging-pipe` in a process group of its own.
///
/// Foundation's `Process` closes every descriptor from 3 up in the child, so the pipe ends are
/// mapped to fds 3 and 4 with `posix_spawn`. Every descriptor this type creates is close-on-exec
/// in the parent, so when the owner dies, however it dies, the kernel closes the command pipe and
/// Chromium exits on its own. Our two ends are owned here and closed through their owners only.
final class ChromiumProcess: Sendable {
    let pid: pid_t
    /// Our end of Chromium's fd 3 (commands): the connection writes it and closes it to make
    /// Chromium exit.
    let commandPipe: OwnedDescriptor
    /// Our end of Chromium's fd 4 (replies and events): the connection's reader thread reads it
    /// and closes it at end of file.
    let eventPipe: OwnedDescriptor
    let profileDirectory: String
    private let status: Locked<ExitState>

    private struct ExitState {
        var exit: String?
        var terminated = false
        /// Crashpad handlers of this browser: they start in process groups of their own, so the
        /// group kill misses them, and as our orphans they would linger as zombies.
        var crashHandlers: Set<pid_t> = []
    }

    /// Starts `executable` with `arguments` and a fresh profile directory.
    static func spawn(executable: String, arguments: [String], environment: [String: String]?) throws -> ChromiumProcess {
        ignoreSIGPIPE
        becomeSubreaper
        let profile = try ProfileDirectory.create()
        do {
            // Every end is owned from the start, so whatever is thrown below closes what was opened.
            let command = try makePipe()  // Chromium reads, we write
            let events = try makePipe()   // Chromium writes, we read
            // Chromium's ends go above 9 first: dup2(3, 3) would keep close-on-exec set.
            let childRead = try duplicateAbove9(command.read)
            let childWrite = try duplicateAbove9(events.write)
            command.read.close()
            events.write.close()
            let argv = [executable, "--user-data-dir=\(profile)"] + arguments
            // Chromium's ends stay open until posix_spawn has duplicated them onto 3 and 4.
            let spawned = try OwnedDescriptor.withDescriptors([childRead, childWrite]) { ends in
                try posixSpawn(executable: executable, argv: argv, environment: environment,
                               commandFD: ends[0], eventFD: ends[1], logPath: profile + "/chromium.log")
            }
            childRead.close()
            childWrite.close()
            guard let pid = spawned else { throw DevToolsError.launchFailed("a pipe end was closed before Chromium started") }
            return ChromiumProcess(pid: pid, commandPipe: command.write, eventPipe: events.read, profileDirectory: profile)
        } catch {
            ProfileDirectory.remove(profile)
            throw error
        }
    }

    private init(pid: pid_t, commandPipe: OwnedDescriptor, eventPipe: OwnedDescriptor, profileDirectory: String) {
        self.pid = pid
        self.commandPipe = commandPipe
        self.eventPipe = eventPipe
        self.profileDirectory = profileDirectory
        self.status = Locked(ExitState())
    }

    /// How the browser process ended, or nil while it runs.
    var exitDescription: String? {
        status.withLock { state in
            if state.exit == nil { state.exit = Self.reap(pid) }
            return state.exit
        }
    }

    /// Waits up to `grace` for the browser to exit by itself, then kills its whole process
    /// group, reaps every member that is our child, and removes the profile. Idempotent.
    func terminate(grace: Duration) {
        let first = status.withLock { state -> Bool in
            defer { state.terminated = true }
            return !state.terminated
        }
        guard first else { return }
        noteCrashHandlers()
        let deadline = ContinuousClock.now + grace
        while exitDescription == nil, ContinuousClock.now < deadline { usleep(2_000) }
        kill(-pid, SIGKILL)
        reapGroup()
        reapCrashHandlers()
        ProfileDirectory.remove(profileDirectory)
    }

    /// Remembers the crash handlers whose output goes to this browser's log, which is how they
    /// can be told apart from those of other browsers. Call once the browser is up.
    func noteCrashHandlers() {
        let log = profileDirectory + "/chromium.log"
        let found = Self.crashHandlerProcesses().filter { Self.outputPath(of: $0) == log }
        status.withLock { $0.crashHandlers.formUnion(found) }
    }

    /// The last lines Chromium wrote to stderr, for launch and crash errors.
    func logTail(maxBytes: Int = 2_000) -> String {
        guard let data = FileManager.default.contents(atPath: profileDirectory + "/chromium.log") else { return "" }
        let tail = String(decoding: data.suffix(maxBytes), as: UTF8.self)
        return tail.split(separator: "\n").suffix(6).joined(separator: "\n")
    }

    /// Reaps the main process and any helper re-parented to us (we are a subreaper), so neither
    /// a Chromium process nor a zombie outlives the browser.
    private func reapGroup() {
        let deadline = ContinuousClock.now + .seconds(5)
        while ContinuousClock.now < deadline {
            var raw: Int32 = 0
            let reaped = waitpid(-pid, &raw, WNOHANG)
            if reaped == pid {
                let text = Self.describe(raw)
                status.withLock { if $0.exit == nil { $0.exit = text } }
            } else if reaped > 0 {
                continue
            } else if reaped == 0 {
                usleep(1_000)
            } else if errno != EINTR {
                break  // ECHILD: nothing of that group left to reap
            }
        }
        _ = exitDescription
    }

    /// Kills this browser's crash handlers if they outlived it and reaps them if they are ours.
    private func reapCrashHandlers() {
        let handlers = status.withLock { $0.crashHandlers }
        for handler in handlers where Self.isCrashHandler(handler) { kill(handler, SIGKILL) }
        let deadline = ContinuousClock.now + .seconds(2)
        var left = handlers
        while !left.isEmpty, ContinuousClock.now < deadline {
            for handler in left {
                var raw: Int32 = 0
                let result = waitpid(handler, &raw, WNOHANG)
                if result == handler || (result < 0 && errno == ECHILD) { left.remove(handler) }
            }
            if !left.isEmpty { usleep(1_000) }
        }
    }

    private static func crashHandlerProcesses() -> [pid_t] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return names.compactMap { pid_t($0) }.filter(isCrashHandler)
    }

    private static func isCrashHandler(_ pid: pid_t) -> Bool {
        let comm = (try? String(contentsOfFile: "/proc/\(pid)/comm", encoding: .utf8)) ?? ""
        return comm.hasPrefix("chrome_crashpad")
    }

    private static func outputPath(of pid: pid_t) -> String? {
        var buffer = [CChar](repeating: 0, count: 4096)
        let count = readlink("/proc/\(pid)/fd/1", &buffer, buffer.count - 1)
        guard count > 0 else { return nil }
        return String(decoding: buffer[0..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    private static func reap(_ pid: pid_t) -> String? {
        var raw: Int32 = 0
        let result = waitpid(pid, &raw, WNOHANG)
        if result == pid { return describe(raw) }
        if result < 0, errno == ECHILD { return "exited" }
        return nil
    }

    private static func describe(_ raw: Int32) -> String {
        let signal = raw & 0x7f
        if signal == 0 { return "exited with status \((raw >> 8) & 0xff)" }
        return "killed by signal \(signal)"
    }
}

// MARK: - Spawning

private func posixSpawn(executable: String, argv: [String], environment: [String: String]?,
                        commandFD: Int32, eventFD: Int32, logPath: String) throws -> pid_t {
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
    posix_spawn_file_actions_addopen(&actions, 1, logPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
    posix_spawn_file_actions_adddup2(&actions, 1, 2)
    posix_spawn_file_actions_adddup2(&actions, commandFD, 3)
    posix_spawn_file_actions_adddup2(&actions, eventFD, 4)
    if let closeFrom = addCloseFrom { _ = closeFrom(&actions, 5) }

    var attributes = posix_spawnattr_t()
    posix_spawnattr_init(&attributes)
    defer { posix_spawnattr_destroy(&attributes) }
    posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
    posix_spawnattr_setpgroup(&attributes, 0)
    var noSignals = sigset_t()
    sigemptyset(&noSignals)
    posix_spawnattr_setsigmask(&attributes, &noSignals)
    var defaults = sigset_t()
    sigfillset(&defaults)
    sigdelset(&defaults, SIGKILL)
    sigdelset(&defaults, SIGSTOP)
    posix_spawnattr_setsigdefault(&attributes, &defaults)

    let environmentLines = (environment ?? ProcessInfo.processInfo.environment).map { "\($0.key)=\($0.value)" }
    let cArguments = argv.map { strdup($0) } + [nil]
    let cEnvironment = environmentLines.map { strdup($0) } + [nil]
    defer {
        cArguments.forEach { free($0) }
        cEnvironment.forEach { free($0) }
    }
    var pid: pid_t = 0
    let result = posix_spawn(&pid, executable, &actions, &attributes, cArguments, cEnvironment)
    guard result == 0 else {
        throw DevToolsError.launchFailed("posix_spawn \(executable): \(String(cString: strerror(result)))")
    }
    return pid
}

/// A pipe whose both ends are close-on-exec from the start, so a process spawned concurrently by
/// another thread cannot inherit them.
private func makePipe() throws -> (read: OwnedDescriptor, write: OwnedDescriptor) {
    var fds: [Int32] = [0, 0]
    let result: Int32
    if let pipe2 = pipe2Function {
        result = pipe2(&fds, O_CLOEXEC)
    } else {
        result = pipe(&fds)
        if result == 0 { fds.forEach { _ = fcntl($0, F_SETFD, FD_CLOEXEC) } }
    }
    guard result == 0 else { throw DevToolsError.launchFailed("pipe: \(errnoText())") }
    return (OwnedDescriptor(adopting: fds[0]), OwnedDescriptor(adopting: fds[1]))
}

/// A close-on-exec copy of `end` numbered 10 or higher, owned by the caller.
private func duplicateAbove9(_ end: OwnedDescriptor) throws -> OwnedDescriptor {
    let copy = end.withDescriptor { fd -> Result<Int32, DevToolsError> in
        let number = fcntl(fd, F_DUPFD_CLOEXEC, 10)
        return number >= 0 ? .success(number) : .failure(.launchFailed("could not move the pipe descriptors: \(errnoText())"))
    }
    guard let copy else { throw DevToolsError.launchFailed("could not move the pipe descriptors: the pipe was closed") }
    return OwnedDescriptor(adopting: try copy.get())
}

func errnoText() -> String { String(cString: strerror(errno)) }

// MARK: - Process-wide setup, once

/// Writing to a pipe whose reader died must fail with EPIPE, not kill the host.
private let ignoreSIGPIPE: Void = { signal(SIGPIPE, SIG_IGN); return () }()

private let becomeSubreaper: Void = becomeChildSubreaper()

/// Chromium's helpers are re-parented when the browser dies; as a subreaper we inherit them and
/// can reap them with `waitpid(-pgid)` instead of leaving zombies in a container without an init.
func becomeChildSubreaper() {
    typealias Prctl = @convention(c) (Int32, UInt, UInt, UInt, UInt) -> Int32
    let prSetChildSubreaper: Int32 = 36
    if let prctl: Prctl = libcSymbol("prctl") { _ = prctl(prSetChildSubreaper, 1, 0, 0, 0) }
}

private typealias Pipe2 = @convention(c) (UnsafeMutablePointer<Int32>, Int32) -> Int32
private typealias AddCloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32

// Resolved once; these glibc functions are not exported by Swift's Glibc module.
private let pipe2Function: Pipe2? = libcSymbol("pipe2")
private let addCloseFrom: AddCloseFrom? = libcSymbol("posix_spawn_file_actions_addclosefrom_np")

private func libcSymbol<T>(_ name: String) -> T? {
    guard let handle = dlopen(nil, RTLD_NOW), let symbol = dlsym(handle, name) else { return nil }
    return unsafeBitCast(symbol, to: T.self)
}
