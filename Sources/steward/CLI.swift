import Foundation
import StewardHost
import StewardProtocol

/// A `steward` command: its name, help, options, and either subcommands or a `run` closure.
///
/// Commands are values, registered in `main.swift`'s tree. Every command gets `--help`,
/// `--json` and `--config FILE` for free; options are declared so the parser can reject typos
/// and the help can list them.
struct Command: Sendable {
    var name: String
    var summary: String
    /// The synopsis after `steward <path>`, e.g. `[--app ID ...] [--json]`.
    var usage: String = ""
    /// Longer help shown under the usage.
    var discussion: String = ""
    var options: [OptionSpec] = []
    var subcommands: [Command] = []
    /// Takes the parsed invocation, returns the exit code.
    var run: (@Sendable (Invocation) async throws -> Int32)?
}

/// A declared option. Flags take no value; options with `valueName` take one (as the next
/// argument or after `=`) and may repeat.
struct OptionSpec: Sendable {
    var name: String
    var valueName: String?
    var help: String

    static func flag(_ name: String, _ help: String) -> OptionSpec { OptionSpec(name: name, valueName: nil, help: help) }
    static func value(_ name: String, _ valueName: String, _ help: String) -> OptionSpec {
        OptionSpec(name: name, valueName: valueName, help: help)
    }
}

/// Stable exit codes; scripts depend on them.
enum ExitCode {
    static let ok: Int32 = 0
    static let failure: Int32 = 1
    static let usage: Int32 = 2
    /// A safety rail blocked the plan (`steward apply`).
    static let blocked: Int32 = 3
    /// The journal is not intact (`steward audit verify`).
    static let notIntact: Int32 = 4
}

/// A usage or configuration error: exit code 2, message on stderr.
struct UsageError: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
    init(_ message: String) { self.message = message }
}

/// A failure already explained to the user; exits with `code` without printing more.
struct ExitRequest: Error {
    var code: Int32
}

/// One parsed command line.
struct Invocation: Sendable {
    /// `["audit", "verify"]`.
    var path: [String]
    var flags: Set<String> = []
    var values: [String: [String]] = [:]
    var positionals: [String] = []
    /// Everything after `--`.
    var passthrough: [String] = []

    var json: Bool { flags.contains("--json") }

    func flag(_ name: String) -> Bool { flags.contains(name) }
    func value(_ name: String) -> String? { values[name]?.last }
    func allValues(_ name: String) -> [String] { values[name] ?? [] }

    /// The config file: `--config`, then `$STEWARD_CONFIG`, then `./steward.json`.
    var configPath: String {
        value("--config") ?? ProcessInfo.processInfo.environment["STEWARD_CONFIG"] ?? "steward.json"
    }

    func positional(_ index: Int, _ name: String) throws -> String {
        guard positionals.indices.contains(index) else { throw UsageError("missing argument \(name)") }
        return positionals[index]
    }
}

/// Options every command accepts.
let globalOptions: [OptionSpec] = [
    .flag("--json", "Machine-readable output: JSON (JSON lines for streams)."),
    .value("--config", "FILE", "Config file (default $STEWARD_CONFIG, else ./steward.json)."),
    .flag("--help", "Show help for this command."),
]

/// Parses `arguments` against the tree under `root` and runs the command found.
func runCLI(_ root: Command, arguments: [String]) async -> Int32 {
    if arguments.first == "--version" || arguments.first == "version" {
        print("steward \(stewardVersion) (connector protocol \(ProtocolVersion.current))")
        return ExitCode.ok
    }
    var command = root
    var path: [String] = []
    var rest = arguments[...]
    while let next = rest.first, !next.hasPrefix("-"), let sub = command.subcommands.first(where: { $0.name == next }) {
        command = sub
        path.append(next)
        rest = rest.dropFirst()
    }
    if command.run == nil {
        if let next = rest.first, !next.hasPrefix("-") {
            printError("unknown command '\(next)'\(path.isEmpty ? "" : " for 'steward \(path.joined(separator: " "))'")")
            printError("Run 'steward \((path + ["--help"]).joined(separator: " "))' to see the commands.")
            return ExitCode.usage
        }
        if rest.contains("--help") || rest.contains("-h") || rest.isEmpty {
            print(help(for: command, path: path))
            return rest.isEmpty && !path.isEmpty ? ExitCode.usage : ExitCode.ok
        }
    }
    do {
        let invocation = try parse(Array(rest), for: command, path: path)
        if invocation.flag("--help") {
            print(help(for: command, path: path))
            return ExitCode.ok
        }
        guard let run = command.run else {
            print(help(for: command, path: path))
            return ExitCode.usage
        }
        return try await run(invocation)
    } catch let e as UsageError {
        printError(e.message)
        printError("Run 'steward \((path + ["--help"]).joined(separator: " "))' for usage.")
        return ExitCode.usage
    } catch let e as ExitRequest {
        return e.code
    } catch {
        printError("\(error)")
        return ExitCode.failure
    }
}

private func parse(_ args: [String], for command: Command, path: [String]) throws -> Invocation {
    var inv = Invocation(path: path)
    let specs = command.options + globalOptions
    var i = 0
    while i < args.count {
        let arg = args[i]
        i += 1
        if arg == "--" {
            inv.passthrough = Array(args[i...])
            break
        }
        if arg == "-h" {
            inv.flags.insert("--help")
            continue
        }
        guard arg.hasPrefix("--"), arg.count > 2 else {
            inv.positionals.append(arg)
            continue
        }
        var name = arg
        var inlineValue: String?
        if let eq = arg.firstIndex(of: "=") {
            name = String(arg[..<eq])
            inlineValue = String(arg[arg.index(after: eq)...])
        }
        guard let spec = specs.first(where: { $0.name == name }) else {
            let known = specs.map(\.name).filter { $0.hasPrefix(String(name.prefix(4))) }
            throw UsageError("unknown option '\(name)'" + (known.isEmpty ? "" : " (did you mean \(known.joined(separator: " or "))?)"))
        }
        if spec.valueName == nil {
            if inlineValue != nil { throw UsageError("option '\(name)' takes no value") }
            inv.flags.insert(name)
        } else {
            let value: String
            if let inlineValue {
                value = inlineValue
            } else {
                guard i < args.count else { throw UsageError("option '\(name)' needs a value (\(spec.valueName ?? "VALUE"))") }
                value = args[i]
                i += 1
            }
            inv.values[name, default: []].append(value)
        }
    }
    return inv
}

/// The help text of a command.
func help(for command: Command, path: [String]) -> String {
    var lines: [String] = []
    let full = (["steward"] + path).joined(separator: " ")
    lines.append("\(full): \(command.summary)")
    lines.append("")
    if command.run != nil {
        lines.append("USAGE: \(full)\(command.usage.isEmpty ? "" : " " + command.usage)")
    } else {
        lines.append("USAGE: \(full) <command> [options]")
    }
    if !command.discussion.isEmpty {
        lines.append("")
        lines.append(command.discussion)
    }
    if !command.subcommands.isEmpty {
        lines.append("")
        lines.append("COMMANDS:")
        let width = (command.subcommands.map(\.name.count).max() ?? 0) + 2
        for sub in command.subcommands {
            lines.append("  " + sub.name.padding(toLength: width, withPad: " ", startingAt: 0) + sub.summary)
        }
    }
    let options = (command.run != nil ? command.options : []) + globalOptions
    lines.append("")
    lines.append("OPTIONS:")
    let labels = options.map { option in option.valueName.map { "\(option.name) \($0)" } ?? option.name }
    let width = (labels.map(\.count).max() ?? 0) + 2
    for (label, option) in zip(labels, options) {
        lines.append("  " + label.padding(toLength: width, withPad: " ", startingAt: 0) + option.help)
    }
    if path.isEmpty {
        lines.append("  --version".padding(toLength: width + 2, withPad: " ", startingAt: 0) + "Print the version.")
        lines.append("")
        lines.append("EXIT CODES: 0 ok, 1 failure, 2 usage or config error, 3 blocked by a safety rail, 4 journal not intact.")
    }
    return lines.joined(separator: "\n")
}

func printError(_ message: String) {
    FileHandle.standardError.write(Data(("steward: " + message + "\n").utf8))
}

/// Writes a JSON value as one line on stdout.
func printJSON(_ value: JSONValue) {
    print(JSONWriter.string(value, sortedKeys: true))
}
