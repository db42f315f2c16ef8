import Foundation
import StewardHost
import StewardProtocol

let connectorCommand = Command(
    name: "connector",
    summary: "Work with connector executables directly.",
    subcommands: [
        Command(
            name: "check",
            summary: "Run protocol conformance checks against any connector command.",
            usage: "[--settings FILE] [--secret NAME=VALUE ...] [--timeout SECONDS] [--writes] [--json] -- COMMAND [ARGS...]",
            discussion: """
            Starts COMMAND as a connector and checks the handshake and version negotiation, that
            declared capabilities answer and undeclared methods give method-not-found, that paging
            ends, honours pageSize and gives the same page for the same cursor, that accounts/get
            finds a listed account by id, userName and email, that a write to an unknown id answers
            notFound, that a cancelled request is still answered, that malformed requests get
            JSON-RPC errors, and that it shuts down cleanly.

            Without --writes it never changes the app: writes are only sent with params that must
            be refused. With --writes it creates a throwaway account steward-check-<random>, grants
            and revokes entitlements, disables and enables it, reads each effect back, and deletes
            it (or, with no accounts/delete, leaves it disabled and says so).

            One line per check: ok, FAIL, skip (with the reason), or the checks not run after the
            connector exited. Exit 0 when none failed, 1 otherwise.

            Example:
              steward connector check --settings hr-settings.json -- .build/debug/steward-connector-file
            """,
            options: [
                .value("--settings", "FILE", "JSON (or JSON5) file with the connector's settings object."),
                .value("--secret", "NAME=VALUE", "A secret to pass in initialize; repeatable. Never printed."),
                .value("--timeout", "SECONDS", "Per-request timeout (default 10)."),
                .flag("--writes", "Also check writes on a throwaway account (this changes the app)."),
            ],
            run: checkConnector),
    ])

private func checkConnector(_ inv: Invocation) async throws -> Int32 {
    guard let program = inv.passthrough.first else {
        throw UsageError("give the connector command after --, e.g. steward connector check -- steward-connector-file")
    }
    guard let resolved = resolveExecutable(program, relativeTo: URL(fileURLWithPath: FileManager.default.currentDirectoryPath)) else {
        throw UsageError("connector executable '\(program)' not found (looked beside steward and on PATH)")
    }
    var settings: JSONValue = [:]
    var baseDirectory = FileManager.default.currentDirectoryPath
    if let file = inv.value("--settings") {
        let url = URL(fileURLWithPath: file)
        guard let data = FileManager.default.contents(atPath: file) else { throw UsageError("cannot read settings file \(file)") }
        do {
            settings = try JSONParser.parse(data, options: .init(json5: true))
        } catch {
            throw UsageError("\(file): \(error)")
        }
        guard case .object = settings else { throw UsageError("\(file): the settings must be a JSON object") }
        baseDirectory = url.deletingLastPathComponent().path
    }
    var secrets: [String: String] = [:]
    for pair in inv.allValues("--secret") {
        guard let eq = pair.firstIndex(of: "="), eq != pair.startIndex else {
            throw UsageError("--secret takes NAME=VALUE")
        }
        secrets[String(pair[..<eq])] = String(pair[pair.index(after: eq)...])
    }
    var timeout = 10.0
    if let t = inv.value("--timeout") {
        guard let v = Double(t), v > 0 else { throw UsageError("--timeout takes a positive number of seconds") }
        timeout = v
    }
    let check = ConformanceCheck(command: [resolved] + inv.passthrough.dropFirst(), settings: settings, secrets: secrets,
                                 baseDirectory: baseDirectory, timeout: timeout, writes: inv.flag("--writes"))
    let json = inv.json
    let passed = await check.run { result in
        if json {
            printJSON(result.json)
        } else {
            print("\(label(result.status)) \(result.name): \(result.detail)")
        }
    }
    return passed ? ExitCode.ok : ExitCode.failure
}

/// Four letters, so the names line up.
private func label(_ status: ConformanceCheck.Result.Status) -> String {
    switch status {
    case .passed: return "ok  "
    case .failed: return "FAIL"
    case .skipped: return "skip"
    case .notRun: return "----"
    case .warning: return "warn"
    }
}
