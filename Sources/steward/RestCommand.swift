import Foundation
import StewardHost
import StewardProtocol

let restCommand = Command(
    name: "rest",
    summary: "Write and debug REST app definitions (plugins/rest/apps/*.json).",
    subcommands: [
        Command(
            name: "try",
            summary: "Run one operation of an app definition and show every HTTP request and response.",
            usage: "DEFINITION --op OPERATION [--settings FILE] [--secret NAME=VALUE ...] [--arg NAME=VALUE ...] [--json]",
            discussion: """
            Loads DEFINITION (checking it first: a mistake is reported with its file, line, key path
            and reason), starts steward-connector-rest with it, runs OPERATION once and prints each
            HTTP exchange, credentials and secret values redacted, then the operation's result.
            Listings return one page; pass the printed nextCursor back with --arg cursor=...

            OPERATION is a protocol method: validate, persons/list, accounts/list, accounts/get,
            accounts/create, accounts/update, accounts/disable, accounts/enable, accounts/delete,
            entitlements/list, grants/list, grants/add, grants/remove.

            --arg sets a parameter of the request, with dots for nested ones. For accounts/create,
            names other than idempotencyKey go into the account (userName, email, givenName...,
            attributes.X); for accounts/update, names other than id go into the changes.
            Mutations get an idempotency key unless you give one.

            Examples:
              steward rest try plugins/rest/apps/github.json --op accounts/list \\
                  --settings github-settings.json --secret token=$GITHUB_TOKEN --arg pageSize=5
              steward rest try plugins/rest/apps/github.json --op grants/add --settings github-settings.json \\
                  --secret token=$GITHUB_TOKEN --arg accountId=octocat --arg type=team --arg entitlementId=platform
            """,
            options: [
                .value("--op", "OPERATION", "The operation to run, e.g. accounts/list."),
                .value("--settings", "FILE", "JSON (or JSON5) file with the app's settings (baseURL, and what the definition declares)."),
                .value("--secret", "NAME=VALUE", "A secret for the definition's auth; repeatable. Never printed."),
                .value("--arg", "NAME=VALUE", "A parameter of the operation; repeatable."),
                .value("--timeout", "SECONDS", "Time the operation may take (default 60)."),
            ],
            run: tryRestOperation),
    ])

private func tryRestOperation(_ inv: Invocation) async throws -> Int32 {
    let definition = try inv.positional(0, "DEFINITION (an app definition file)")
    guard let method = inv.value("--op") else { throw UsageError("give the operation with --op, e.g. --op accounts/list") }
    let known = [Method.validate, Method.personsList, Method.entitlementsList, Method.grantsList, Method.grantsAdd, Method.grantsRemove]
        + AccountOperation.allCases.map(\.method)
    guard known.contains(method) else {
        throw UsageError("--op: unknown operation '\(method)' (expected one of \(known.sorted().joined(separator: ", ")))")
    }
    let cwd = URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
    let definitionPath = URL(fileURLWithPath: definition, relativeTo: cwd).standardizedFileURL.path
    guard FileManager.default.fileExists(atPath: definitionPath) else { throw UsageError("no app definition at \(definition)") }

    var settings: [String: JSONValue] = [:]
    var baseDirectory = cwd.path
    if let file = inv.value("--settings") {
        guard let data = FileManager.default.contents(atPath: file) else { throw UsageError("cannot read settings file \(file)") }
        do {
            guard case .object(let o) = try JSONParser.parse(data, options: .init(json5: true)) else {
                throw UsageError("\(file): the settings must be a JSON object")
            }
            settings = o
        } catch let e as JSONParseError {
            throw UsageError("\(file): \(e)")
        }
        baseDirectory = URL(fileURLWithPath: file, relativeTo: cwd).deletingLastPathComponent().standardizedFileURL.path
    }
    settings["definition"] = .string(definitionPath)
    settings["trace"] = true

    var secrets: [String: String] = [:]
    for pair in inv.allValues("--secret") {
        let (name, value) = try splitPair(pair, option: "--secret")
        secrets[name] = value
    }
    let params = try restParams(method: method, args: inv.allValues("--arg"))
    var timeout = 60.0
    if let t = inv.value("--timeout") {
        guard let v = Double(t), v > 0 else { throw UsageError("--timeout takes a positive number of seconds") }
        timeout = v
    }

    let registry = PluginRegistry(configDirectory: URL(fileURLWithPath: baseDirectory))
    guard let command = registry.manifest(named: "rest")?.resolvedCommand()
            ?? resolveExecutable("steward-connector-rest", relativeTo: nil).map({ [$0] }) else {
        throw UsageError("steward-connector-rest not found (no plugins/rest/plugin.json, and not beside steward or on PATH)")
    }

    let json = inv.json
    let trace = TraceCollector(secrets: Array(secrets.values), echo: !json)
    var options = ConnectorConnection.Options()
    options.requestTimeout = timeout
    let connector = SupervisedConnector(ConnectorLaunch(
        appId: "try", command: command, settings: .object(settings), secrets: secrets, baseDirectory: baseDirectory,
        options: options, restart: RestartPolicy(crashBudget: 1), events: ConnectorEvents(log: { trace.add($0) })))
    defer { Task { await connector.stop() } }

    let outcome: Result<JSONValue, Error>
    do {
        try await connector.start()
        outcome = .success(try await connector.call(method, params: params, timeout: timeout))
    } catch {
        outcome = .failure(error)
    }
    await connector.stop()

    switch outcome {
    case .success(let result):
        if json {
            printJSON(["exchanges": .array(trace.exchanges.map(JSONValue.string)), "result": result])
        } else {
            print("result:")
            print(trace.redact(JSONWriter.pretty(result)))
        }
        return ExitCode.ok
    case .failure(let error):
        let failure = error as? ConnectorFailure
        let message = trace.redact(failure?.connectorError.map { "\($0.kind.rawValue): \($0.message)" } ?? "\(error)")
        if json {
            var o: [String: JSONValue] = ["exchanges": .array(trace.exchanges.map(JSONValue.string)), "error": .string(message)]
            if let kind = failure?.connectorError?.kind { o["kind"] = .string(kind.rawValue) }
            printJSON(.object(o))
        } else {
            printError(message)
        }
        // A definition the connector refuses is a configuration problem, like a bad config file.
        return failure?.connectorError?.kind == .configuration ? ExitCode.usage : ExitCode.failure
    }
}

/// The params of `method` from `--arg NAME=VALUE` pairs (dots nest).
private func restParams(method: String, args: [String]) throws -> JSONValue {
    var params: JSONValue = [:]
    for pair in args {
        let (name, text) = try splitPair(pair, option: "--arg")
        var path = name.split(separator: ".").map(String.init)
        if method == Method.accountsCreate, path.first != "account", path.first != "idempotencyKey" { path.insert("account", at: 0) }
        if method == Method.accountsUpdate, path.first != "changes", !["id", "idempotencyKey"].contains(path[0]) { path.insert("changes", at: 0) }
        let value: JSONValue
        if path == ["pageSize"] {
            guard let n = Int(text) else { throw UsageError("--arg pageSize takes a number") }
            value = .int(n)
        } else if method == Method.accountsUpdate, path.first == "changes", text == "null" {
            value = .null
        } else {
            value = .string(text)
        }
        params = setting(params, path[...], value)
    }
    if Method.mutations.contains(method), params["idempotencyKey"].isNull {
        params = setting(params, ["idempotencyKey"], .string("steward-rest-try-\(UUID().uuidString.prefix(8).lowercased())"))
    }
    return params
}

private func setting(_ object: JSONValue, _ path: ArraySlice<String>, _ value: JSONValue) -> JSONValue {
    guard let key = path.first else { return value }
    var o = object.objectValue ?? [:]
    o[key] = setting(o[key] ?? [:], path.dropFirst(), value)
    return .object(o)
}

private func splitPair(_ pair: String, option: String) throws -> (String, String) {
    guard let eq = pair.firstIndex(of: "="), eq != pair.startIndex else { throw UsageError("\(option) takes NAME=VALUE, not '\(pair)'") }
    return (String(pair[..<eq]), String(pair[pair.index(after: eq)...]))
}

/// The connector's trace of HTTP exchanges, printed as they arrive (unless `--json`), with
/// every secret value hidden once more before it reaches the terminal.
private final class TraceCollector: @unchecked Sendable {  // `items` is guarded by `lock`
    private let lock = NSLock()
    private var items: [String] = []
    private let secrets: [String]
    private let echo: Bool

    init(secrets: [String], echo: Bool) {
        self.secrets = secrets.filter { $0.count >= 4 }.sorted { $0.count > $1.count }
        self.echo = echo
    }

    func add(_ record: LogRecord) {
        let text = redact(record.message)
        let isExchange = text.hasPrefix("→ ") || text.hasPrefix("← ")
        if isExchange { lock.withLock { items.append(text) } }
        guard echo else { return }
        if isExchange {
            print(text + (text.hasPrefix("← ") ? "\n" : ""))
        } else if record.fromStderr || record.level >= .info {
            FileHandle.standardError.write(Data("[connector] \(record.level.rawValue): \(text)\n".utf8))
        }
    }

    var exchanges: [String] { lock.withLock { items } }

    func redact(_ text: String) -> String {
        secrets.reduce(text) { $0.replacingOccurrences(of: $1, with: "***") }
    }
}
