import Foundation
import StewardCore
import StewardJournal
import StewardProtocol

/// The `steward-discovery-report/1` document: every open finding (as `steward discover --json`
/// gives it, with when it was first journaled) and every finding the journal records as
/// resolved, with when and how.
public struct DiscoveryReportBuilder: Sendable {
    public let workspace: Workspace
    public let now: Date

    public init(workspace: Workspace, now: Date = Date()) {
        self.workspace = workspace
        self.now = now
    }

    public func build() async throws -> JSONValue {
        let state = try workspace.state()
        let findings = try await DiscoveryEngine(workspace: workspace).findings(now: now)
        var open: [JSONValue] = []
        for f in findings {
            guard case .object(var o) = f.json else { continue }
            if let since = state.openFindings[f.key]?.since { o["openedAt"] = .string(since) }
            open.append(.object(o))
        }
        // Opened and resolved, from the journal: the history an auditor asks for.
        var opened: [String: (time: String, summary: String)] = [:]
        var resolved: [JSONValue] = []
        try workspace.journal.forEachEvent { event in
            switch event.type {
            case EventType.findingOpened:
                if let key = event.data["key"].stringValue { opened[key] = (event.time.description, event.data["summary"].stringValue ?? "") }
            case EventType.findingResolved:
                guard let key = event.data["key"].stringValue else { break }
                var b = JSONObjectBuilder()
                b.set("key", key)
                b.set("kind", event.data["kind"])
                b.set("app", event.subjects["app"])
                b.set("account", event.subjects["account"])
                b.set("person", event.subjects["person"])
                b.set("summary", opened[key]?.summary)
                b.set("openedAt", opened[key]?.time)
                b.set("resolvedAt", event.time.description)
                b.set("resolution", event.data["resolution"])
                b.set("resolvedBy", event.actor)
                b.set("seq", event.seq)
                resolved.append(b.value)
            default:
                break
            }
            return true
        }
        var counts: [String: JSONValue] = [:]
        for f in findings { counts[f.kind.rawValue] = .int((counts[f.kind.rawValue]?.intValue ?? 0) + 1) }
        var b = JSONObjectBuilder()
        b.set("format", "steward-discovery-report/1")
        b.set("generatedAt", Timestamp(now).rfc3339)
        b.set("config", workspace.config.file.path)
        b.set("journalHead", workspace.journalHead)
        b.set("counts", .object(counts))
        b.set("sources", .array(workspace.config.discoverySources.map { s in
            ["id": .string(s.id), "lastSync": state.discoverySync[s.id].map(JSONValue.string) ?? .null,
             "usage": .int(state.usage[s.id]?.count ?? 0)]
        }))
        b.set("findings", .array(open))
        b.set("resolved", .array(resolved))
        return b.value
    }
}
