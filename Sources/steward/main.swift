import Foundation

// steward: the command line. Thin by design: parse, call StewardHost, print.

signal(SIGPIPE, SIG_IGN)

let root = Command(
    name: "steward",
    summary: "identity governance: keep everyone's access equal to what their job justifies, and prove it.",
    subcommands: [
        syncCommand,
        planCommand,
        applyCommand,
        statusCommand,
        personCommand,
        accountsCommand,
        discoverCommand,
        reviewCommand,
        reportCommand,
        linkCommand,
        ignoreCommand,
        serveCommand,
        demoCommand,
        auditCommand,
        pluginsCommand,
        connectorCommand,
        restCommand,
        installCommand,
    ])

exit(await runCLI(root, arguments: Array(CommandLine.arguments.dropFirst())))
