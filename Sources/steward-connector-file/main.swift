import ConnectorKit
import Foundation
import StewardProtocol

// steward-connector-file: the HR source read from an export file (CSV or JSON).
//
// Settings: `path` (required), `format` (`csv` or `json`; from the extension by default),
// `columns` (Steward field name → the file's column name).

let connector = Connector(name: "file", version: "1.0.0") { setup in
    let f = try setup.settingsFields
    guard let rawPath = try f.optionalString("path") else {
        throw ConnectorError(.configuration, "settings.path: required (the HR export file)")
    }
    let path = setup.resolvePath(rawPath)
    let formatName = try f.optionalString("format") ?? (path.lowercased().hasSuffix(".json") ? "json" : "csv")
    guard let format = HRFile.Format(rawValue: formatName.lowercased()) else {
        throw ConnectorError(.configuration, "settings.format: \"\(formatName)\" is not csv or json")
    }
    let columns = try f.stringMap("columns")
    let known = Set(HRFile.defaultColumns.map(\.field))
    for key in columns.keys where !known.contains(key) {
        throw ConnectorError(.configuration, "settings.columns.\(key): not a person field (expected one of \(known.sorted().joined(separator: ", ")))")
    }
    let source = Snapshots(path: path, format: format, columns: columns)

    var handlers = Handlers()
    handlers.validate = { _ in
        let file = try await source.current()
        return ValidateResult(ok: true, message: "\(file.persons.count) people in \(path)")
    }
    handlers.listPersons = { params, ctx in
        let pageSize = min(params.pageSize ?? 1000, 10_000)
        let (generation, file, offset) = try await source.page(cursor: params.cursor)
        let end = min(offset + pageSize, file.persons.count)
        if offset == 0 { ctx.progress("reading \(file.persons.count) people", completed: 0, total: file.persons.count) }
        let next = end < file.persons.count ? "\(generation).\(end)" : nil
        return Page(items: Array(file.persons[offset..<end]), nextCursor: next)
    }
    return handlers
}

/// Reads the file at the start of a listing and serves later pages from that same snapshot, so
/// a listing never mixes two versions of the file.
actor Snapshots {
    let path: String
    let format: HRFile.Format
    let columns: [String: String]
    private var generation = 0
    /// The last few listings' snapshots, so concurrent listings do not disturb each other.
    private var snapshots: [Int: HRFile] = [:]

    init(path: String, format: HRFile.Format, columns: [String: String]) {
        self.path = path
        self.format = format
        self.columns = columns
    }

    func current() throws -> HRFile {
        try HRFile.load(path: path, format: format, columns: columns)
    }

    /// The snapshot and offset a cursor points at; no cursor reads the file afresh.
    func page(cursor: String?) throws -> (Int, HRFile, Int) {
        guard let cursor else {
            let file = try current()
            generation += 1
            snapshots[generation] = file
            snapshots[generation - 4] = nil
            return (generation, file, 0)
        }
        let parts = cursor.split(separator: ".")
        guard parts.count == 2, let g = Int(parts[0]), let offset = Int(parts[1]), offset >= 0 else {
            throw ConnectorError(.invalidArgument, "params.cursor: not a cursor this connector issued")
        }
        guard let snapshot = snapshots[g], offset <= snapshot.persons.count else {
            throw ConnectorError(.preconditionFailed, "params.cursor: the listing was restarted meanwhile; list again from the start")
        }
        return (g, snapshot, offset)
    }
}

await connector.run()
