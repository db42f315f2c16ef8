import Foundation
import StewardHost
import StewardProtocol

let pluginsCommand = Command(
    name: "plugins",
    summary: "Connector plugins: what is installed and what each can do.",
    subcommands: [
        Command(
            name: "list",
            summary: "List plugin manifests, their versions, capabilities, and whether their executables exist.",
            usage: "[--json]",
            discussion: """
            Manifests are plugins/<name>/plugin.json, searched in $STEWARD_PLUGIN_PATH, the config's
            directory, the working directory, the source tree and beside the steward binary.
            Each connector found is started briefly with empty settings to ask for its capabilities;
            connectors that need settings to answer show the capabilities their manifest lists.
            """,
            run: listPlugins),
    ])

private func listPlugins(_ inv: Invocation) async throws -> Int32 {
    let configDir = URL(fileURLWithPath: inv.configPath).deletingLastPathComponent()
    let registry = PluginRegistry(configDirectory: configDir)
    let manifests = registry.manifests.values.sorted { $0.name < $1.name }
    var rows: [JSONValue] = []
    await withTaskGroup(of: (String, JSONValue).self) { group in
        for manifest in manifests {
            group.addTask { (manifest.name, await describe(manifest)) }
        }
        var byName: [String: JSONValue] = [:]
        for await (name, row) in group { byName[name] = row }
        rows = manifests.compactMap { byName[$0.name] }
    }
    if inv.json {
        printJSON(["plugins": .array(rows), "problems": .array(registry.problems.map { .string($0) }),
                   "searchPath": .array(registry.searchPath.map { .string($0.path) })])
        return ExitCode.ok
    }
    if rows.isEmpty {
        print("No plugins found. Searched: \(registry.searchPath.map(\.path).joined(separator: ", "))")
    }
    for row in rows {
        let found = row["executableFound"].boolValue == true
        print("\(row["name"].stringValue ?? "?") \(row["version"].stringValue ?? "?") (protocol \(row["protocol"].stringValue ?? "?"))")
        print("  executable: \(row["executable"].stringValue ?? "?")\(found ? "" : "  [NOT FOUND]")")
        let methods = row["capabilities"].arrayValue?.compactMap(\.stringValue) ?? []
        print("  capabilities: \(methods.isEmpty ? "(unknown until configured)" : methods.joined(separator: ", "))")
        if let note = row["note"].stringValue { print("  note: \(note)") }
    }
    for problem in registry.problems { printError(problem) }
    return ExitCode.ok
}

/// One manifest as a row, with capabilities asked of the connector itself when it can answer
/// without settings, else taken from the manifest's optional `capabilities` list.
private func describe(_ manifest: PluginManifest) async -> JSONValue {
    var b = JSONObjectBuilder()
    b.set("name", manifest.name)
    b.set("version", manifest.version)
    b.set("protocol", manifest.protocolVersion.description)
    b.set("manifest", manifest.file.path)
    b.set("description", manifest.description)
    b.set("secrets", .array(manifest.secrets.map { .string($0) }))
    let resolved = manifest.resolvedCommand()
    b.set("executable", resolved?.joined(separator: " ") ?? manifest.command.joined(separator: " "))
    b.set("executableFound", resolved != nil)
    var methods: [String] = []
    if let resolved {
        var options = ConnectorConnection.Options()
        options.requestTimeout = 5
        let connector = SupervisedConnector(ConnectorLaunch(
            appId: "plugins-list", command: resolved, options: options,
            restart: RestartPolicy(crashBudget: 1), events: ConnectorEvents(log: { _ in })))
        do {
            let handshake = try await connector.start()
            methods = handshake.capabilities.methods
            b.set("connector", handshake.connector.json)
        } catch {
            b.set("note", "capabilities from the manifest; the connector needs settings to report its own")
        }
        await connector.stop(grace: 2)
    }
    if methods.isEmpty, let declared = try? manifestCapabilities(manifest) {
        methods = declared
    }
    b.set("capabilities", .array(methods.map { .string($0) }))
    return b.value
}

private func manifestCapabilities(_ manifest: PluginManifest) throws -> [String] {
    let json = try JSONParser.parse(Data(contentsOf: manifest.file))
    return json["capabilities"].arrayValue?.compactMap(\.stringValue) ?? []
}
