import StewardSystem
import Foundation
import StewardHTTP
import StewardJournal
import StewardProtocol
import Synchronization

/// `steward serve`: Steward running by itself. A scheduler syncs on `serve.schedule.sync`
/// (and, with `apply: "auto"`, plans and applies after each sync), `POST /hooks/source` lets HR
/// ask for a sync at once, and `/healthz` and `/metrics` tell monitoring how it goes.
///
/// One service per state directory: `serve.lock` there is held for the service's life and
/// names its pid, so a second one refuses to start and says which process has it.
public final class StewardService: Sendable {
    public let config: StewardConfig
    public let work: ServiceWork
    private let server: HTTPServer
    private let lock: ServiceLock
    private let scheduler = Mutex<Task<Void, Never>?>(nil)
    private let log: @Sendable (String) -> Void

    /// The address it listens on, for the ready line.
    public var baseURL: String { server.baseURL }

    /// Takes the state directory's service lock, resolves the webhook secret, and starts
    /// listening (`listen` overrides `serve.listen`). Nothing runs until `startScheduler`.
    public static func start(configPath: String, listen: (host: String, port: Int)? = nil,
                             log: @escaping @Sendable (String) -> Void) throws -> StewardService {
        let config = try StewardConfig.load(configPath)
        try FileManager.default.createDirectory(at: config.stateDirectory, withIntermediateDirectories: true)
        let lock = try ServiceLock.acquire(in: config.stateDirectory)
        let verifier: WebhookVerifier?
        if let ref = config.serve.webhookSecret, let reference = SecretReference(ref) {
            do {
                verifier = WebhookVerifier(secret: Array(try reference.resolve(base: config.directory).utf8), scheme: config.serve.webhookScheme)
            } catch {
                throw WorkspaceError(message: "serve.webhookSecret: \(error)")
            }
        } else {
            verifier = nil
        }
        let linkKey: [UInt8]?
        if let ref = config.serve.linkKey, let reference = SecretReference(ref) {
            do {
                linkKey = Array(try reference.resolve(base: config.directory).utf8)
            } catch {
                throw WorkspaceError(message: "serve.linkKey: \(error)")
            }
        } else {
            linkKey = nil
        }
        let work = ServiceWork(configPath: configPath, autoApply: config.serve.autoApply, log: log)
        var slack: SlackHook?
        if let ref = config.serve.slackSigningSecret, let reference = SecretReference(ref) {
            do {
                let secret = Array(try reference.resolve(base: config.directory).utf8)
                slack = SlackHook(verifier: WebhookVerifier(secret: secret, scheme: .slack), users: config.serve.slackUsers, work: work, log: log)
            } catch {
                throw WorkspaceError(message: "serve.slack.signingSecret: \(error)")
            }
        }
        var http = HTTPServer.Configuration()
        http.host = listen?.host ?? config.serve.host
        http.port = listen?.port ?? config.serve.port
        let router = ServiceRoutes(work: work, verifier: verifier, stateDirectory: config.stateDirectory, linkKey: linkKey,
                                   configPath: configPath, reviews: ReviewView(configPath: configPath, stateDirectory: config.stateDirectory), slack: slack,
                                   log: log).router()
        let server = try HTTPServer.start(router, configuration: http)
        return StewardService(config: config, work: work, server: server, lock: lock, log: log)
    }

    private init(config: StewardConfig, work: ServiceWork, server: HTTPServer, lock: ServiceLock, log: @escaping @Sendable (String) -> Void) {
        self.config = config
        self.work = work
        self.server = server
        self.lock = lock
        self.log = log
    }

    /// Syncs now (a slot missed while the service was down runs once, not once per slot), then
    /// every `serve.schedule.sync`; looks at the review calendar after each sync and every
    /// `reviewTick` seconds between.
    public func startScheduler(reviewTick: TimeInterval = 60) {
        let interval = config.serve.syncInterval
        let work = self.work
        let task = Task {
            var nextSync = Date()
            while !Task.isCancelled {
                if Date() >= nextSync {
                    await work.run(.scheduledSync)
                    nextSync = Date().addingTimeInterval(interval)
                }
                await work.run(.reviews)
                try? await Task.sleep(for: .seconds(max(1, min(reviewTick, nextSync.timeIntervalSinceNow))))
            }
        }
        scheduler.withLock { $0 = task }
    }

    /// Stops taking work and lets the job in progress wind down: actions in flight finish,
    /// nothing new starts (the rest are journaled as skipped), the folder is closed with a
    /// checkpoint and the connectors stopped. A job still running after `grace` seconds (one
    /// action stuck in a slow app) is left: its intent without an outcome is the in-doubt
    /// record the next run settles by reading the app. Releases the lock. Idempotent.
    public func shutdown(grace: Double = 8) async {
        work.stop()
        scheduler.withLock { $0?.cancel() }
        server.shutdown()
        let work = self.work
        let drained = await withCheckedContinuation { (continuation: CheckedContinuation<Bool, Never>) in
            let first = LockedValue(true)
            let finish: @Sendable (Bool) -> Void = { value in
                if first.withLock({ was in defer { was = false }; return was }) { continuation.resume(returning: value) }
            }
            Task { await work.drain(); finish(true) }
            Task { try? await Task.sleep(for: .seconds(grace)); finish(false) }
        }
        if !drained {
            log("stopping with a job still running after \(Int(grace)) s: an action in flight stays in doubt, and the next run settles it by reading the app")
        }
        lock.release()
        log("stopped")
    }
}

/// `serve.lock` in the state directory, held (flock) for the service's life, with its pid.
final class ServiceLock: Sendable {
    private let descriptor: OwnedDescriptor

    private init(descriptor: OwnedDescriptor) { self.descriptor = descriptor }

    static func acquire(in stateDirectory: URL) throws -> ServiceLock {
        let path = stateDirectory.appendingPathComponent("serve.lock").path
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw WorkspaceError(message: "cannot open \(path): \(String(cString: strerror(errno)))") }
        let owner = OwnedDescriptor(adopting: fd)
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            let pid = (try? String(contentsOfFile: path, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
            owner.close()
            throw WorkspaceError(message: "another steward serve\(pid.isEmpty ? "" : " (pid \(pid))") is running on \(stateDirectory.path)")
        }
        _ = ftruncate(fd, 0)
        let text = Array("\(getpid())\n".utf8)
        _ = text.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }
        return ServiceLock(descriptor: owner)
    }

    func release() { descriptor.close() }
}
