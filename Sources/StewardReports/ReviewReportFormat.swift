import StewardJSON

/// The formats an access review report is written in (`steward report review ID --format F`).
public enum ReviewReportFormat: String, Sendable, CaseIterable {
    /// One self-contained, printable page: no scripts, no fetches.
    case html
    /// One RFC 4180 file with a `part` column (see `CSVReport`).
    case csv
    /// The report as the host built it, pretty-printed with sorted keys.
    case json
    /// The HTML printed by headless Chromium.
    case pdf

    /// The usual file name extension.
    public var fileExtension: String { rawValue }
}

/// Writes `report` (a `steward-review-report/1` value) as `format`: the one call the CLI makes.
public func renderReport(_ report: JSONValue, as format: ReviewReportFormat) async throws -> [UInt8] {
    switch format {
    case .html: return try HTMLReport.render(report)
    case .csv: return try CSVReport.render(report)
    case .json: return try JSONReport.render(report)
    case .pdf: return try await PDFReport.render(report)
    }
}

/// The pretty JSON form: what the host built, checked to be a report, keys sorted for diffing.
public enum JSONReport {
    public static func render(_ report: JSONValue) throws -> [UInt8] {
        _ = try ReviewReport(report)
        return JSONWriter.prettyBytes(report)
    }
}
