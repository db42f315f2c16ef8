/// The command line of `steward-sandbox`.
struct SandboxOptions {
    /// Apps named by flags (`--scim`); empty means every app.
    var apps: [String] = []
    var statePath: String?
    var port = 0
    var latencyMilliseconds = 0
    var failRate = 0.0
    /// Requests per second across the sandbox; nil for no limit.
    var rateLimit: Double?
    var seed: UInt64 = 0
    var token: String?
    /// Users to generate at startup, for demos and benchmarks.
    var generatedUsers = 0
    var exitWithStdin = false
    /// The legacy admin app's button layout (`--legacy-layout alt` moves and renames them).
    var legacyLayout = LegacyLayout.classic
    /// Base32 TOTP secret; when set, the legacy app asks for a one-time code after the password.
    var legacyTOTPSecret: String?
    /// How much of SCIM the SCIM app serves (`--scim-profile minimal` acts like many real providers).
    var scimProfile = SCIMProfile.full

    enum ParseError: Error {
        case help
        case invalid(String)
    }

    static func parse(_ arguments: [String], appNames: [String]) throws(ParseError) -> SandboxOptions {
        var options = SandboxOptions()
        var i = 0
        while i < arguments.count {
            var argument = arguments[i]
            var inlineValue: String?
            if argument.hasPrefix("--"), let eq = argument.firstIndex(of: "=") {
                inlineValue = String(argument[argument.index(after: eq)...])
                argument = String(argument[..<eq])
            }
            func value() throws(ParseError) -> String {
                if let inlineValue { return inlineValue }
                i += 1
                guard i < arguments.count else { throw .invalid("\(argument) needs a value") }
                return arguments[i]
            }
            let name = argument.hasPrefix("--") ? String(argument.dropFirst(2)) : ""
            switch argument {
            case "-h", "--help":
                throw .help
            case "--state":
                let path = try value()
                guard !path.isEmpty else { throw .invalid("--state needs a file path") }
                options.statePath = path
            case "--port":
                let text = try value()
                guard let port = Int(text), (0...65535).contains(port) else {
                    throw .invalid("--port must be a port number from 0 to 65535, not '\(text)'")
                }
                options.port = port
            case "--latency-ms":
                let text = try value()
                guard let ms = Int(text), (0...60_000).contains(ms) else {
                    throw .invalid("--latency-ms must be milliseconds from 0 to 60000, not '\(text)'")
                }
                options.latencyMilliseconds = ms
            case "--fail-rate":
                let text = try value()
                var number = Double(text)
                if number == nil, text.hasSuffix("%"), let percent = Double(text.dropLast()) { number = percent / 100 }
                guard let rate = number, rate >= 0, rate <= 1 else {
                    throw .invalid("--fail-rate must be a fraction from 0 to 1 (or a percentage), not '\(text)'")
                }
                options.failRate = rate
            case "--rate-limit":
                let text = try value()
                let digits = text.hasSuffix("/s") ? String(text.dropLast(2)) : text
                guard let rate = Double(digits), rate > 0, rate.isFinite else {
                    throw .invalid("--rate-limit must be requests per second such as 50/s, not '\(text)'")
                }
                options.rateLimit = rate
            case "--seed":
                let text = try value()
                guard let seed = UInt64(text) else { throw .invalid("--seed must be a non-negative integer, not '\(text)'") }
                options.seed = seed
            case "--token":
                let token = try value()
                guard !token.isEmpty, token.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else {
                    throw .invalid("--token must be non-empty printable ASCII without spaces")
                }
                options.token = token
            case "--users":
                let text = try value()
                guard let count = Int(text), (0...1_000_000).contains(count) else {
                    throw .invalid("--users must be a count from 0 to 1000000, not '\(text)'")
                }
                options.generatedUsers = count
            case "--exit-with-stdin":
                options.exitWithStdin = true
            case "--legacy-layout":
                let text = try value()
                guard let layout = LegacyLayout(rawValue: text) else {
                    throw .invalid("--legacy-layout must be \(LegacyLayout.allCases.map(\.rawValue).joined(separator: ", ")), not '\(text)'")
                }
                options.legacyLayout = layout
            case "--scim-profile":
                let text = try value()
                guard let profile = SCIMProfile(rawValue: text) else {
                    throw .invalid("--scim-profile must be \(SCIMProfile.allCases.map(\.rawValue).joined(separator: " or ")), not '\(text)'")
                }
                options.scimProfile = profile
            case "--legacy-totp-secret":
                let text = try value()
                guard LegacyTOTP(base32: text) != nil else { throw .invalid("--legacy-totp-secret must be a base32 secret") }
                options.legacyTOTPSecret = text
            default:
                guard appNames.contains(name), inlineValue == nil else {
                    throw .invalid("unknown option '\(arguments[i])' (see --help)")
                }
                if !options.apps.contains(name) { options.apps.append(name) }
            }
            i += 1
        }
        return options
    }

    static func help(apps: [SandboxApp]) -> String {
        let appLines = apps.map { app in
            let flag = "--\(app.name)"
            return "  \(flag.padded(to: 22))\(app.summary), under \(app.prefix)"
        }.joined(separator: "\n")
        return """
            steward-sandbox: stand-in SaaS apps on loopback for Steward's demo and tests.

            Usage: steward-sandbox [APP FLAGS] [OPTIONS]

            Starts the chosen apps (all of them without app flags) on one port of 127.0.0.1,
            each under its own path prefix. When ready it prints one JSON line to stdout:
              {"apps":{"scim":"http://127.0.0.1:PORT/scim/v2"},"token":"..."}
            The apps accept `Authorization: Bearer <token>`.

            Apps:
            \(appLines)

            Options:
              --port N              Port to bind; 0 (default) picks a free one
              --state FILE          Load state from FILE if it exists; save it there after changes
                                    (atomically, within a fraction of a second) and at exit
              --token T             Bearer token to accept (default: random per run)
              --latency-ms N        Delay every response by N milliseconds
              --fail-rate R         Answer a fraction R (0-1, or 20%) of requests with 500 or 503,
                                    decided before anything is applied
              --rate-limit N/s      Answer 429 with Retry-After above N requests per second
              --seed S              Seed for injected faults and generated ids (default 0)
              --users N             Start with N generated users (skipping taken userNames)
              --exit-with-stdin     Exit when stdin closes, so a parent's death ends the sandbox
              --scim-profile P      What the SCIM app supports: full (default, every feature) or
                                    minimal (like many real providers: User.groups declared but
                                    never filled, members without $ref and display, no filter on
                                    members, no value-filter PATCH paths, no ETags)
              --legacy-layout L     The legacy app's layout: classic (default), alt (moved,
                                    renamed buttons) or noid (no id on any page: only the
                                    user names' links and the user page's address hold it)
              --legacy-totp-secret S  Ask for a TOTP code (base32 secret S) after the legacy
                                    app's password (user admin, password = the token)
              -h, --help            Show this help

            Stop it with SIGTERM or SIGINT; with --state it saves before exiting.
            """
    }
}

extension String {
    func padded(to length: Int) -> String {
        count >= length ? self + " " : self + String(repeating: " ", count: length - count)
    }
}
