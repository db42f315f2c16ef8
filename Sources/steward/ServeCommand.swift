import Foundation
import StewardHost
import StewardJournal
import StewardProtocol
import Synchronization

// steward serve: the long-running service.

let serveCommand = Command(
    name: "serve",
    summary: "Run Steward as a service: scheduled syncs, the HR webhook, /healthz and /metrics.",
    usage: "[--listen HOST:PORT] [--json-logs]",
    discussion: """
    Configured under `serve` in steward.json: `listen` (default 127.0.0.1:8470; port 0 picks a free
    one), `webhookSecret` (env:NAME or file:PATH; without it there is no webhook), and `schedule`
    ({ sync: "15m", apply: "manual" | "auto" }). The first line on stdout is
    `serving on http://HOST:PORT`. It syncs at start and then on the schedule; with apply "auto" it
    plans and applies after each sync, and after each HR webhook for the people it names.

    POST /hooks/source takes {"people": ["E1003", ...]} (or {} for everyone) with
    X-Steward-Timestamp: <unix seconds> and X-Steward-Signature: v1=<hex HMAC-SHA256(secret,
    "<timestamp>.<raw body>")>; older than 5 minutes, replayed or badly signed requests get 401 and
    are journaled. The source is read again either way: the body is only a hint.

    Each job holds the journal's writer lock only while it runs, so `steward apply` and the other
    commands work beside the service. SIGTERM or SIGINT stops it: no new work, the job in progress
    finishes (an action cut short stays in doubt for the next run to settle), exit 0.
    """,
    options: [
        .value("--listen", "HOST:PORT", "Where to listen (overrides serve.listen)."),
        .flag("--json-logs", "Log lines as JSON objects on stderr."),
    ],
    run: { inv in
        var listen: (host: String, port: Int)?
        if let text = inv.value("--listen") {
            guard let parsed = ServeConfig.parseListen(text) else { throw UsageError("--listen: expected HOST:PORT, got \(text)") }
            listen = (parsed.0, parsed.1)
        }
        let json = inv.flag("--json-logs")
        let log: @Sendable (String) -> Void = { line in
            let text = json
                ? String(decoding: JSONWriter.bytes(["at": .string(Timestamp(Date()).rfc3339), "message": .string(line)]), as: UTF8.self)
                : "\(Timestamp(Date()).rfc3339) \(line)"
            FileHandle.standardError.write(Data((text + "\n").utf8))
        }
        let service: StewardService
        do {
            service = try StewardService.start(configPath: inv.configPath, listen: listen, log: log)
        } catch let error as WorkspaceError {
            printError(error.message)
            return ExitCode.failure
        }
        // Written straight to the descriptor: a script waits for this line on a pipe.
        FileHandle.standardOutput.write(Data("serving on \(service.baseURL)\n".utf8))
        service.startScheduler()
        await waitForTermination()
        log("stopping: finishing the job in progress")
        await service.shutdown()
        return ExitCode.ok
    })

/// Returns on the first SIGTERM or SIGINT.
func waitForTermination() async {
    signal(SIGTERM, SIG_IGN)
    signal(SIGINT, SIG_IGN)
    let sources = [SIGTERM, SIGINT].map { DispatchSource.makeSignalSource(signal: $0) }
    await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
        let once = OnceFlag()
        for source in sources {
            source.setEventHandler { if once.take() { continuation.resume() } }
            source.resume()
        }
    }
    for source in sources { source.cancel() }
}

/// True exactly once, from any thread.
private final class OnceFlag: Sendable {
    private let taken = Mutex(false)
    func take() -> Bool { taken.withLock { was in defer { was = true }; return !was } }
}
