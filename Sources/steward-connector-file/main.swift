import ConnectorKit
import Foundation
import StewardProtocol

// steward-connector-file: the HR source read from an export file (CSV or JSON), or, with a
// `kind` setting, a discovery source: an expense, OAuth-grant, sign-in or browser export.
//
// Settings: `path` (required), `format` (`csv` or `json`; from the extension by default),
// `columns` (Steward field name → the file's column name); for discovery sources `kind`
// (expenses, oauth-grants, sso-signins, browser-domains), `dateFormat`, `currency`.

let connector = Connector(name: "file", version: "1.1.0") { setup in
    let f = try setup.settingsFields
    guard let rawPath = try f.optionalString("path") else {
        throw ConnectorError(.configuration, "settings.path: required (the \(f.has("kind") ? "discovery" : "HR") export file)")
    }
    let path = setup.resolvePath(rawPath)
    if let kind = try f.optionalString("kind") {
        return try evidenceHandlers(path: path, kind: kind, settings: f)
    }
    let formatName = try f.optionalString("format") ?? (path.lowercased().hasSuffix(".json") ? "json" : "csv")
    guard let format = HRFile.Format(rawValue: formatName.lowercased()) else {
        throw ConnectorError(.configuration, "settings.format: \"\(formatName)\" is not csv or json")
    }
    let columns = try f.stringMap("columns")
    let known = Set(HRFile.defaultColumns.map(\.field))
    for key in columns.keys where !known.contains(key) {
        throw ConnectorError(.configuration, "settings.columns.\(key): not a person field (expected one of \(known.sorted().joined(separator: ", ")))")
    }
    let source = Snapshots(load: { try HRFile.load(path: path, format: format, columns: columns).persons })

    var handlers = Handlers()
    handlers.validate = { _ in
        let file = try HRFile.load(path: path, format: format, columns: columns)
        return ValidateResult(ok: true, message: "\(file.persons.count) people in \(path)")
    }
    handlers.listPersons = { params, ctx in
        let pageSize = min(params.pageSize ?? 1000, 10_000)
        let (generation, persons, offset) = try await source.page(cursor: params.cursor)
        let end = min(offset + pageSize, persons.count)
        if offset == 0 { ctx.progress("reading \(persons.count) people", completed: 0, total: persons.count) }
        let next = end < persons.count ? "\(generation).\(end)" : nil
        return Page(items: Array(persons[offset..<end]), nextCursor: next)
    }
    return handlers
}

/// A discovery source: `evidence/list` over the export, read whole at the start of a listing.
func evidenceHandlers(path: String, kind rawKind: String, settings f: JSONFields) throws -> Handlers {
    guard let kind = EvidenceFile.Kind(rawValue: rawKind) else {
        throw ConnectorError(.configuration, "settings.kind: \"\(rawKind)\" is not one of \(EvidenceFile.Kind.allCases.map(\.rawValue).joined(separator: ", "))")
    }
    let formatName = try f.optionalString("format") ?? (path.lowercased().hasSuffix(".json") ? "json" : "csv")
    guard let format = EvidenceFile.Format(rawValue: formatName.lowercased()) else {
        throw ConnectorError(.configuration, "settings.format: \"\(formatName)\" is not csv or json")
    }
    var options = EvidenceFile.Options(kind: kind, format: format)
    options.columns = try f.stringMap("columns")
    let known = Set(kind.columns.map(\.field))
    for key in options.columns.keys.sorted() where !known.contains(key) {
        throw ConnectorError(.configuration, "settings.columns.\(key): not a field of \(kind.rawValue) (expected one of \(known.sorted().joined(separator: ", ")))")
    }
    if let order = try f.optionalString("dateFormat") {
        guard let o = EvidenceFile.DateOrder(rawValue: order.uppercased()) else {
            throw ConnectorError(.configuration, "settings.dateFormat: \"\(order)\" is not YYYY-MM-DD, MM/DD/YYYY or DD/MM/YYYY")
        }
        options.dateOrder = o
    }
    options.currency = try f.optionalString("currency")
    let fixed = options
    let snapshots = Snapshots(load: { try EvidenceFile.load(path: path, options: fixed).records })
    var handlers = Handlers()
    handlers.validate = { _ in
        let file = try EvidenceFile.load(path: path, options: fixed)
        return ValidateResult(ok: true, message: "\(file.records.count) \(kind.rawValue) records in \(path)")
    }
    handlers.listEvidence = { params, ctx in
        let pageSize = min(params.pageSize ?? 1000, 10_000)
        let (generation, records, offset) = try await snapshots.page(cursor: params.cursor)
        if offset == 0 { ctx.progress("reading \(records.count) records", completed: 0, total: records.count) }
        let end = min(offset + pageSize, records.count)
        return Page(items: Array(records[offset..<end]), nextCursor: end < records.count ? "\(generation).\(end)" : nil)
    }
    return handlers
}

/// Reads the file at the start of a listing and serves later pages from that same snapshot, so
/// a listing never mixes two versions of the file.
actor Snapshots<Item: Sendable> {
    private let load: @Sendable () throws -> [Item]
    private var generation = 0
    /// The last few listings' snapshots, so concurrent listings do not disturb each other.
    private var snapshots: [Int: [Item]] = [:]

    init(load: @escaping @Sendable () throws -> [Item]) {
        self.load = load
    }

    /// The snapshot and offset a cursor points at; no cursor reads the file afresh.
    func page(cursor: String?) throws -> (Int, [Item], Int) {
        guard let cursor else {
            let items = try load()
            generation += 1
            snapshots[generation] = items
            snapshots[generation - 4] = nil
            return (generation, items, 0)
        }
        let parts = cursor.split(separator: ".")
        guard parts.count == 2, let g = Int(parts[0]), let offset = Int(parts[1]), offset >= 0 else {
            throw ConnectorError(.invalidArgument, "params.cursor: not a cursor this connector issued")
        }
        guard let snapshot = snapshots[g], offset <= snapshot.count else {
            throw ConnectorError(.preconditionFailed, "params.cursor: the listing was restarted meanwhile; list again from the start")
        }
        return (g, snapshot, offset)
    }
}

await connector.run()
