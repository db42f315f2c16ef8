import StewardJSON

/// The report as one CSV file with a `part` column, for spreadsheets and scripts.
///
/// Every row has the same columns (`CSVReport.Column`); each row fills the ones its part uses
/// and leaves the rest empty, and a column means the same thing in every part. Filter on `part`
/// to get one table:
///
/// | part | one row per | columns used |
/// | --- | --- | --- |
/// | `report` | fact about the file | figure, value |
/// | `summary` | summary figure | figure, value |
/// | `check` | consistency check of the report | figure, value, detail |
/// | `campaign` | definition rule or campaign fact (dotted path) | stage, figure, value |
/// | `population` | population figure, or an app's figure | app, figure, value |
/// | `access` | item at launch (part 2) | item … recommendation_reason |
/// | `decision` | item and stage reached (part 3) | item, app, account, access, stage … late, seq |
/// | `action` | reviewer action, oldest first (part 3) | action, at, by, item, stage, detail, seq |
/// | `quality` | figure of a reviewer, or of `all reviewers` | reviewer, figure, value |
/// | `remediation` | revoked or undecided item (part 4) | item, app, account, access, status … seq |
/// | `journal` | checkpoint fact | figure, value |
/// | `proof` | inclusion proof | seq, value (the proof as JSON, as `steward audit proof` writes it) |
///
/// Empty means null or absent; lists of text are joined with "; ".
public enum CSVReport {
    /// The columns, in file order; the header names them in snake_case (`account_name`).
    public enum Column: Int, CaseIterable, Sendable {
        case part, item, app, account, accountName, person, access, entitlementId
        case kind, personName, email, department, title, manager, standing, justifications
        case lastLogin, privileged, peersHolding, peers, recommendation, recommendationReason
        case stage, reviewer, reassignment, selfReviewBlocked
        case action, decision, by, channel, at, comment, bulk, followedRecommendation, late
        case status, actionKey, verified, error, seq
        case figure, value, detail

        /// The header: the case name in snake_case.
        public var name: String { Self.names[rawValue] }

        private static let names: [String] = allCases.map { column in
            String(describing: column).reduce(into: "") { name, c in
                if c.isUppercase { name += "_" + c.lowercased() } else { name.append(c) }
            }
        }
    }

    public static func render(_ report: JSONValue) throws -> [UInt8] {
        let report = try ReviewReport(report)
        var row = Row(capacity: 64 * 1024 + report.items.count * 1500)
        facts(report, &row)
        access(report, &row)
        decisions(report, &row)
        actions(report, &row)
        quality(report, &row)
        remediation(report, &row)
        journal(report, &row)
        return row.finish()
    }

    // MARK: Parts

    private static func facts(_ report: ReviewReport, _ row: inout Row) {
        for key in ["format", "generatedAt", "generator"] {
            row.emit("report", [.figure: .string(key), .value: report.json[key]])
        }
        for (key, _) in ReportText.summaryFigures {
            row.emit("summary", [.figure: .string(key), .value: report.summary[key]])
        }
        for check in ReportChecks(report).checks {
            row.emit("check", [.figure: .string(check.name), .value: .string(check.ok ? "consistent" : "NOT CONSISTENT"), .detail: .string(check.detail)])
        }
        let campaign = report.campaign
        for key in ["id", "status", "stage", "launchedAt", "closedAt", "launchSeq"] {
            row.emit("campaign", [.figure: .string(key), .value: literal(campaign[key])])
        }
        for (i, deadline) in (campaign["deadlines"].arrayValue ?? []).enumerated() {
            row.emit("campaign", [.stage: .int(i + 1), .figure: "deadline", .value: deadline])
        }
        flatten(report.definition, path: "definition") { row.emit("campaign", [.figure: .string($0), .value: $1]) }

        let population = report.population
        for key in ["items", "sha256", "hrSync", "selfReviewsBlocked", "reassigned", "unassigned"] {
            row.emit("population", [.figure: .string(key), .value: literal(population[key])])
        }
        flatten(population["filters"], path: "filters") { row.emit("population", [.figure: .string($0), .value: $1]) }
        for app in population["apps"].arrayValue ?? [] {
            for key in ["items", "lastSync", "accounts", "grants", "sha256"] {
                row.emit("population", [.app: app["app"], .figure: .string(key), .value: literal(app[key])])
            }
        }
    }

    private static func access(_ report: ReviewReport, _ row: inout Row) {
        for item in report.items {
            let context = item["context"], recommendation = item["recommendation"]
            row.emit("access", [
                .item: item["id"], .app: item["app"], .account: item["account"], .accountName: item["accountName"],
                .person: item["person"], .access: item["access"], .entitlementId: item["entitlement"]["id"],
                .kind: context["kind"], .personName: context["name"], .email: context["email"],
                .department: context["department"], .title: context["title"], .manager: context["managerId"],
                .standing: context["standing"], .justifications: context["justifications"], .lastLogin: context["lastLoginAt"],
                .privileged: context["privileged"], .peersHolding: context["peersHolding"], .peers: context["peers"],
                .recommendation: recommendation["verdict"], .recommendationReason: recommendation["reason"],
            ])
        }
    }

    private static func decisions(_ report: ReviewReport, _ row: inout Row) {
        for item in report.items {
            for stage in item["stages"].arrayValue ?? [] {
                let decision = stage["decision"]
                row.emit("decision", [
                    .item: item["id"], .app: item["app"], .account: item["account"], .accountName: item["accountName"],
                    .access: item["access"], .stage: stage["stage"], .reviewer: stage["reviewer"],
                    .reassignment: stage["reassignment"], .selfReviewBlocked: stage["selfReviewBlocked"],
                    .decision: decision["decision"], .by: decision["by"], .channel: decision["channel"], .at: decision["at"],
                    .comment: decision["comment"], .bulk: decision["bulk"], .followedRecommendation: decision["followedRecommendation"],
                    .late: item["late"], .seq: decision["seq"],
                ])
            }
        }
    }

    private static func actions(_ report: ReviewReport, _ row: inout Row) {
        for action in report.reviewerActions {
            row.emit("action", [.action: action["type"], .at: action["at"], .by: action["by"], .item: action["item"],
                                .stage: action["stage"], .detail: action["detail"], .seq: action["seq"]])
        }
    }

    private static func quality(_ report: ReviewReport, _ row: inout Row) {
        let keys = ["decided", "kept", "revoked", "medianSeconds", "bulkShare", "followedRecommendationShare", "rubberStamp"]
        for q in (report.quality["reviewers"].arrayValue ?? []) + [report.quality["campaign"]] {
            for key in keys { row.emit("quality", [.reviewer: q["reviewer"], .figure: .string(key), .value: q[key]]) }
        }
    }

    private static func remediation(_ report: ReviewReport, _ row: inout Row) {
        for item in report.items {
            let status = item["status"].stringValue ?? ""
            let remediation = item["remediation"]
            guard !remediation.isNull || status != "kept" else { continue }
            row.emit("remediation", [
                .item: item["id"], .app: item["app"], .account: item["account"], .accountName: item["accountName"],
                .access: item["access"], .status: item["status"], .late: item["late"], .actionKey: remediation["actionKey"],
                .verified: remediation["verified"], .error: remediation["error"], .at: remediation["at"], .seq: remediation["seq"],
            ])
        }
    }

    private static func journal(_ report: ReviewReport, _ row: inout Row) {
        for key in ["treeSize", "root", "checkpoint"] {
            row.emit("journal", [.figure: .string(key), .value: report.journal[key]])
        }
        for proof in report.proofs {
            row.emit("proof", [.seq: proof["seq"], .figure: "inclusion proof", .value: .string(JSONWriter.string(proof, sortedKeys: true))])
        }
    }

    // MARK: Helpers

    /// Null written as the word, where an empty cell would be ambiguous (a fact's value).
    private static func literal(_ value: JSONValue) -> JSONValue { value.isNull ? "null" : value }

    /// Each scalar (or list of scalars) under `value`, with its dotted path: `definition.stages.1.reviewer`.
    private static func flatten(_ value: JSONValue, path: String, _ emit: (String, JSONValue) -> Void) {
        switch value {
        case .object(let members):
            for key in members.keys.sorted() { flatten(members[key] ?? .null, path: path + "." + key, emit) }
        case .array(let elements) where elements.contains(where: { $0.objectValue != nil }):
            for (i, element) in elements.enumerated() { flatten(element, path: "\(path).\(i + 1)", emit) }
        default:
            emit(path, literal(value))
        }
    }

    /// One row at a time: the columns a part sets, written in file order after the header.
    private struct Row {
        private var csv: CSVWriter
        private var cells: [JSONValue]

        init(capacity: Int) {
            csv = CSVWriter(capacity: capacity)
            for column in Column.allCases { csv.field(column.name) }
            csv.endRow()
            cells = Array(repeating: .null, count: Column.allCases.count)
        }

        mutating func emit(_ part: String, _ values: KeyValuePairs<Column, JSONValue>) {
            cells[0] = .string(part)
            for (column, value) in values { cells[column.rawValue] = value }
            for cell in cells { csv.field(cell) }
            csv.endRow()
            for (column, _) in values { cells[column.rawValue] = .null }
        }

        consuming func finish() -> [UInt8] { csv.bytes }
    }
}
