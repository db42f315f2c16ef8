import Foundation
import StewardHost
import StewardProtocol

let installCommand = Command(
    name: "install",
    summary: "Install steward, the first-party connectors, the sandbox and the plugins under a prefix.",
    usage: "[--prefix DIR] [--json]",
    discussion: """
    Copies steward, steward-connector-file, -scim, -rest, -browser and steward-sandbox into
    DIR/bin, and the plugins folder (manifests, REST app definitions, browser recipes) into
    DIR/share/steward/plugins, where an installed steward finds them. Run it from a build
    (`swift build -c release && .build/release/steward install --prefix DIR`); running it again
    replaces what an earlier install wrote. The default prefix is /usr/local.
    """,
    options: [.value("--prefix", "DIR", "Where to install (default /usr/local).")],
    run: { inv in
        let prefix = URL(fileURLWithPath: inv.value("--prefix") ?? "/usr/local", relativeTo: URL(fileURLWithPath: FileManager.default.currentDirectoryPath))
        let installer = try Installer.forThisBuild(prefix: prefix)
        let json = inv.json
        let written = try installer.run { path in if !json { print("wrote \(path)") } }
        if json {
            printJSON(["prefix": .string(installer.prefix.path), "written": .array(written.map(JSONValue.string))])
        } else {
            print("Installed into \(installer.prefix.path). Try: \(installer.prefix.appendingPathComponent("bin/steward").path) demo")
        }
        return ExitCode.ok
    })
