import StewardJSON

/// A review report as the host built it, checked to be `steward-review-report/1`.
///
/// The renderers read the JSON through this view. They trust the shape the schema
/// (`schemas/review-report.schema.json`) describes, but never crash on a member that is missing
/// or of the wrong type: it shows as empty, so a damaged report still renders what it has.
public struct ReviewReport: Sendable {
    public static let format = "steward-review-report/1"

    public let json: JSONValue

    public init(_ json: JSONValue) throws(ReviewReportError) {
        guard json.objectValue != nil else { throw .notAReport("the value is \(json.typeName), not an object") }
        let format = json["format"]
        guard format.stringValue == Self.format else {
            throw .notAReport("format is \(format.isNull ? "missing" : format.description), expected \"\(Self.format)\"")
        }
        self.json = json
    }

    var campaign: JSONValue { json["campaign"] }
    var definition: JSONValue { json["campaign"]["definition"] }
    var population: JSONValue { json["population"] }
    var items: [JSONValue] { json["items"].arrayValue ?? [] }
    var reviewerActions: [JSONValue] { json["reviewerActions"].arrayValue ?? [] }
    var quality: JSONValue { json["quality"] }
    var summary: JSONValue { json["summary"] }
    var journal: JSONValue { json["journal"] }
    var proofs: [JSONValue] { json["proofs"].arrayValue ?? [] }
    var campaignID: String { campaign["id"].stringValue ?? "" }
}

public enum ReviewReportError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The value is not a review report this version can read.
    case notAReport(String)
    /// Printing to PDF failed: Chromium is missing, or it did not print.
    case pdfFailed(String)

    public var description: String {
        switch self {
        case .notAReport(let why): return "not a review report: \(why)"
        case .pdfFailed(let why): return "could not print the report to PDF: \(why)"
        }
    }
}
