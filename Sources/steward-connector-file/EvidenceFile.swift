import Foundation
import StewardProtocol

/// A discovery export read whole and checked whole, like `HRFile`: either every line becomes
/// evidence, or the read fails naming the file, line and field of each problem, and nothing from
/// the file is imported.
///
/// Each `kind` knows the layouts it reads: the vendors' own JSON where one exists (Google's
/// token audit, Entra's sign-ins and permission grants) and a CSV whose columns can be renamed.
struct EvidenceFile {
    var records: [EvidenceRecord]

    enum Kind: String, CaseIterable {
        case expenses
        case oauthGrants = "oauth-grants"
        case ssoSignins = "sso-signins"
        case browserDomains = "browser-domains"

        /// Field → default column of the kind's CSV layout; the required ones first.
        var columns: [(field: String, column: String, required: Bool)] {
            switch self {
            case .expenses:
                return [("date", "date", true), ("amount", "amount", true), ("vendor", "vendor", false),
                        ("description", "description", false), ("currency", "currency", false),
                        ("user", "employee_email", false)]
            case .oauthGrants:
                return [("app", "app_name", true), ("user", "user_email", true), ("clientId", "client_id", false),
                        ("date", "date", false), ("action", "event", false), ("scope", "scope", false)]
            case .ssoSignins:
                return [("app", "app", true), ("user", "user_email", true), ("date", "date", false)]
            case .browserDomains:
                return [("domain", "domain", true), ("user", "user_email", true), ("firstSeen", "first_seen", false),
                        ("lastSeen", "last_seen", false)]
            }
        }
    }

    enum Format: String {
        case csv, json
    }

    /// How dates are written in the export when they are not ISO 8601.
    enum DateOrder: String {
        case iso = "YYYY-MM-DD", monthFirst = "MM/DD/YYYY", dayFirst = "DD/MM/YYYY"
    }

    struct Options: Sendable {
        var kind: Kind
        var format: Format
        var columns: [String: String] = [:]
        var dateOrder: DateOrder = .iso
        /// The currency of expense lines without one.
        var currency: String?
    }

    static func load(path: String, options: Options) throws -> EvidenceFile {
        let name = (path as NSString).lastPathComponent
        let bytes: [UInt8]
        do {
            bytes = Array(try Data(contentsOf: URL(fileURLWithPath: path)))
        } catch {
            throw ConnectorError(.configuration, "cannot read the \(options.kind.rawValue) export \(path): \((error as NSError).localizedDescription)")
        }
        var reader = EvidenceReader(name: name, options: options)
        switch options.format {
        case .csv: try reader.readRows(try EvidenceReader.csvRows(bytes, name: name))
        case .json: try reader.readJSON(bytes)
        }
        try reader.finish()
        return EvidenceFile(records: reader.records)
    }
}

/// The work of one read: rows in, records and problems out.
struct EvidenceReader {
    let name: String
    let options: EvidenceFile.Options
    var records: [EvidenceRecord] = []
    var problems: [HRFile.Problem] = []

    init(name: String, options: EvidenceFile.Options) {
        self.name = name
        self.options = options
    }

    typealias Row = (line: Int?, values: [String: String])

    /// Fails with every problem found (see `HRFile.Problem.error`).
    func finish() throws {
        guard !problems.isEmpty else { return }
        throw HRFile.Problem.error(problems, in: name, reading: "the \(options.kind.rawValue) export")
    }

    private mutating func problem(_ line: Int?, _ field: String?, _ message: String) {
        problems.append(HRFile.Problem(line: line, field: field, message: message))
    }

    private func location(_ line: Int?) -> String { line.map { "\(name):\($0)" } ?? name }

    // MARK: Rows (CSV, or a JSON array of flat objects)

    /// Reads rows in the kind's column layout. A required column missing from the header is
    /// one problem, not one per line.
    mutating func readRows(_ rows: (header: Set<String>, headerLine: Int?, rows: [Row])) throws {
        var column: [String: String] = [:]
        for c in options.kind.columns { column[c.field] = options.columns[c.field] ?? c.column }
        for c in options.kind.columns where c.required && !rows.header.contains(column[c.field] ?? c.column) {
            problem(rows.headerLine, column[c.field], "column missing (\(options.kind.rawValue) needs \(options.kind.columns.filter(\.required).map { column[$0.field] ?? $0.column }.joined(separator: ", ")); map another name with settings.columns.\(c.field))")
        }
        if options.kind == .expenses, !rows.header.contains(column["vendor"] ?? ""), !rows.header.contains(column["description"] ?? "") {
            problem(rows.headerLine, column["vendor"], "column missing: an expense export needs a vendor or a description column")
        }
        guard problems.isEmpty else { return }
        records.reserveCapacity(rows.rows.count)
        for row in rows.rows {
            func value(_ field: String) -> String? {
                guard let c = column[field], let v = row.values[c] else { return nil }
                let t = v.trimmingCharacters(in: .whitespaces)
                return t.isEmpty ? nil : t
            }
            readRow(row.line, value)
        }
    }

    private mutating func readRow(_ line: Int?, _ value: (String) -> String?) {
        let options = self.options
        let column = { (field: String) in options.columns[field] ?? options.kind.columns.first { $0.field == field }?.column ?? field }
        let before = problems.count
        func date(_ field: String, required: Bool) -> String? {
            guard let raw = value(field) else {
                if required { problem(line, column(field), "required (a date)") }
                return nil
            }
            guard let d = EvidenceDates.normalize(raw, order: options.dateOrder) else {
                problem(line, column(field), "\"\(raw)\" is not a date (\(options.dateOrder.rawValue) or an RFC 3339 time; set settings.dateFormat for another order)")
                return nil
            }
            return d
        }
        func email(_ field: String, required: Bool) -> String? {
            guard let raw = value(field) else {
                if required { problem(line, column(field), "required (the user's e-mail address)") }
                return nil
            }
            guard raw.contains("@") else {
                problem(line, column(field), "\"\(raw)\" is not an e-mail address")
                return nil
            }
            return raw
        }
        let source = location(line)
        switch options.kind {
        case .expenses:
            let at = date("date", required: true)
            var amount: Double?
            if let raw = value("amount") {
                amount = EvidenceAmounts.parse(raw)
                if amount == nil { problem(line, column("amount"), "\"\(raw)\" is not an amount") }
            } else {
                problem(line, column("amount"), "required (the amount charged)")
            }
            let vendor = value("vendor"), description = value("description")
            if vendor == nil && description == nil { problem(line, column("vendor"), "required: a vendor or a description") }
            let user = email("user", required: false)
            guard problems.count == before else { return }
            var r = EvidenceRecord(kind: .expense, user: user, app: vendor ?? description, at: at, amount: amount,
                                   currency: value("currency") ?? options.currency, source: source)
            if vendor != nil, let description { r.detail = description }
            records.append(r)
        case .oauthGrants:
            let at = date("date", required: false)
            let user = email("user", required: true)
            let action = value("action")?.lowercased() ?? "authorize"
            if action != "authorize" && action != "revoke" {
                problem(line, column("action"), "\"\(action)\" is not authorize or revoke")
            }
            guard problems.count == before else { return }
            records.append(EvidenceRecord(kind: .oauthGrant, user: user, app: value("app"), appRef: value("clientId"), at: at,
                                          action: action, scopes: value("scope").map(Self.scopes), source: source))
        case .ssoSignins:
            let at = date("date", required: false)
            let user = email("user", required: true)
            guard problems.count == before else { return }
            records.append(EvidenceRecord(kind: at == nil ? .assignment : .signIn, user: user, app: value("app"), at: at, source: source))
        case .browserDomains:
            let first = date("firstSeen", required: false), last = date("lastSeen", required: false)
            let user = email("user", required: true)
            let domain = value("domain")?.lowercased()
            if let domain, domain.contains(" ") || !domain.contains(".") { problem(line, column("domain"), "\"\(domain)\" is not a domain") }
            guard problems.count == before else { return }
            records.append(EvidenceRecord(kind: .browserVisit, user: user, domain: domain, at: first ?? last, lastAt: last ?? first,
                                          source: source))
        }
    }

    static func scopes(_ text: String) -> [String] {
        text.split(whereSeparator: { $0 == " " || $0 == "," || $0 == ";" }).map(String.init)
    }

    static func csvRows(_ bytes: [UInt8], name: String) throws -> (header: Set<String>, headerLine: Int?, rows: [Row]) {
        do {
            let table = try CSVTable.read(bytes, name: name)
            return (Set(table.columns), table.headerLine, table.rows.map { (Optional($0.line), $0.values) })
        } catch {
            throw ConnectorError(.invalidArgument, error.message + "; nothing was read")
        }
    }

    // MARK: JSON

    /// The vendors' JSON layouts, told apart by their shape; a plain array of flat objects is
    /// read as rows with the CSV's column names.
    mutating func readJSON(_ bytes: [UInt8]) throws {
        let parsed: (value: JSONValue, lines: [String: Int])
        do {
            parsed = try JSONParser.parseWithLines(bytes, options: .init(recordLines: true))
        } catch {
            throw ConnectorError(.invalidArgument, "\(name): \(error); nothing was read")
        }
        let root = parsed.value, lines = parsed.lines
        switch options.kind {
        case .oauthGrants where root["items"].arrayValue != nil:
            readGoogleTokenAudit(root["items"].arrayValue ?? [], prefix: "items", lines)
        case .oauthGrants where root["value"].arrayValue != nil:
            readEntraGrants(root["value"].arrayValue ?? [], prefix: "value", lines)
        case .ssoSignins where root["value"].arrayValue != nil:
            readEntraSignIns(root["value"].arrayValue ?? [], prefix: "value", lines)
        default:
            guard case .array(let items) = root else {
                throw ConnectorError(.invalidArgument, "\(name): not a layout the \(options.kind.rawValue) kind reads (see docs/discovery.md); got a JSON \(root.typeName)")
            }
            var header: Set<String> = []
            var rows: [Row] = []
            for (i, item) in items.enumerated() {
                guard case .object(let o) = item else {
                    problem(lines["[\(i)]"], nil, "element \(i) is not an object")
                    continue
                }
                var values: [String: String] = [:]
                for (k, v) in o {
                    switch v {
                    case .string(let s): values[k] = s
                    case .int, .double, .bool: values[k] = JSONWriter.string(v)
                    case .null: continue
                    default: problem(lines["[\(i)].\(k)"], k, "must be a string, not \(v.typeName)")
                    }
                    header.insert(k)
                }
                rows.append((lines["[\(i)]"], values))
            }
            guard problems.isEmpty else { return }
            // Every row of a JSON array has the columns any row has.
            try readRows((header, lines["[0]"], rows))
        }
    }

    /// Google Workspace's token audit activities (Admin SDK Reports, applicationName=token):
    /// each item an actor and events named `authorize` or `revoke` with the app's parameters.
    private mutating func readGoogleTokenAudit(_ items: [JSONValue], prefix: String, _ lines: [String: Int]) {
        for (i, item) in items.enumerated() {
            let path = "\(prefix)[\(i)]"
            let line = lines[path]
            guard let email = item["actor"]["email"].stringValue, email.contains("@") else {
                problem(lines["\(path).actor"] ?? line, "\(path).actor.email", "required (the user who granted access)")
                continue
            }
            let time = item["id"]["time"].stringValue
            if let time, EvidenceDates.normalize(time, order: .iso) == nil {
                problem(lines["\(path).id.time"] ?? line, "\(path).id.time", "\"\(time)\" is not an RFC 3339 time")
                continue
            }
            for (j, event) in (item["events"].arrayValue ?? []).enumerated() {
                let name = event["name"].stringValue ?? ""
                guard name == "authorize" || name == "revoke" else { continue }
                var parameters: [String: JSONValue] = [:]
                for p in event["parameters"].arrayValue ?? [] {
                    if let key = p["name"].stringValue {
                        parameters[key] = p["multiValue"].isNull ? p["value"] : p["multiValue"]
                    }
                }
                let appName = parameters["app_name"]?.stringValue
                let clientId = parameters["client_id"]?.stringValue
                guard appName != nil || clientId != nil else {
                    problem(lines["\(path).events[\(j)]"] ?? line, "\(path).events[\(j)].parameters", "needs app_name or client_id")
                    continue
                }
                let scopes = parameters["scope"]?.arrayValue?.compactMap(\.stringValue) ?? parameters["scope"]?.stringValue.map(Self.scopes)
                records.append(EvidenceRecord(kind: .oauthGrant, user: email, app: appName, appRef: clientId, at: time,
                                              action: name, scopes: scopes, source: location(lines["\(path).events[\(j)]"] ?? line)))
            }
        }
    }

    /// Microsoft Graph's `oauth2PermissionGrants`: `clientId` is the app's service principal;
    /// the user and app names come from the export's joined columns when it has them
    /// (`userPrincipalName`, `clientDisplayName`). An admin's consent for everyone has no user.
    private mutating func readEntraGrants(_ items: [JSONValue], prefix: String, _ lines: [String: Int]) {
        for (i, item) in items.enumerated() {
            let path = "\(prefix)[\(i)]", line = lines[path]
            guard let clientId = item["clientId"].stringValue, !clientId.isEmpty else {
                problem(line, "\(path).clientId", "required (the app's service principal id)")
                continue
            }
            let user = item["userPrincipalName"].stringValue ?? item["principalUserPrincipalName"].stringValue
            if item["consentType"].stringValue == "Principal", user == nil {
                problem(line, "\(path).userPrincipalName", "a grant for one user needs the user's userPrincipalName in the export")
                continue
            }
            let at = item["startTime"].stringValue ?? item["createdDateTime"].stringValue
            if let at, EvidenceDates.normalize(at, order: .iso) == nil {
                problem(line, "\(path).startTime", "\"\(at)\" is not an RFC 3339 time")
                continue
            }
            let app = item["clientDisplayName"].stringValue ?? item["appDisplayName"].stringValue
            records.append(EvidenceRecord(kind: .oauthGrant, user: user, app: app, appRef: clientId, at: at, action: "authorize",
                                          scopes: item["scope"].stringValue.map(Self.scopes), source: location(line)))
        }
    }

    /// Microsoft Graph's `auditLogs/signIns`: failed sign-ins (`status.errorCode` not 0) are
    /// not use and are left out.
    private mutating func readEntraSignIns(_ items: [JSONValue], prefix: String, _ lines: [String: Int]) {
        for (i, item) in items.enumerated() {
            let path = "\(prefix)[\(i)]", line = lines[path]
            guard let user = item["userPrincipalName"].stringValue, user.contains("@") else {
                problem(lines["\(path).userPrincipalName"] ?? line, "\(path).userPrincipalName", "required (the user's sign-in name)")
                continue
            }
            guard let created = item["createdDateTime"].stringValue, EvidenceDates.normalize(created, order: .iso) != nil else {
                problem(lines["\(path).createdDateTime"] ?? line, "\(path).createdDateTime", "required: an RFC 3339 time")
                continue
            }
            let app = item["appDisplayName"].stringValue, appId = item["appId"].stringValue
            guard app != nil || appId != nil else {
                problem(line, "\(path).appDisplayName", "needs appDisplayName or appId")
                continue
            }
            if let code = item["status"]["errorCode"].intValue, code != 0 { continue }
            records.append(EvidenceRecord(kind: .signIn, user: user, app: app, appRef: appId, at: created, source: location(line)))
        }
    }
}

/// Dates as exports write them, made ISO: `2026-11-03`, an RFC 3339 time (kept whole), or the
/// configured day/month order with `/`, `-` or `.`.
enum EvidenceDates {
    static func normalize(_ raw: String, order: EvidenceFile.DateOrder) -> String? {
        let text = raw.trimmingCharacters(in: .whitespaces)
        if text.count >= 10, HRFile.isValidDate(String(text.prefix(10))) {
            if text.count == 10 { return text }
            let rest = text.dropFirst(10)
            // 2026-11-03T09:14:00Z, with optional fraction and offset; a space is accepted for the T.
            guard let t = rest.first, t == "T" || t == " ", rest.count >= 6 else { return nil }
            let clock = rest.dropFirst().prefix(8)
            let parts = clock.split(separator: ":")
            guard parts.count >= 2, let h = Int(parts[0]), let m = Int(parts[1]), h < 24, m < 60 else { return nil }
            return text
        }
        guard order != .iso else { return nil }
        let parts = text.split(whereSeparator: { $0 == "/" || $0 == "-" || $0 == "." })
        guard parts.count == 3, parts[2].count == 4, let a = Int(parts[0]), let b = Int(parts[1]) else { return nil }
        let (month, day) = order == .monthFirst ? (a, b) : (b, a)
        let iso = "\(parts[2])-\(month < 10 ? "0" : "")\(month)-\(day < 10 ? "0" : "")\(day)"
        return HRFile.isValidDate(iso) ? iso : nil
    }
}

/// Amounts as card exports write them: `12.00`, `$1,234.56`, `-9.99`, `(9.99)` for a refund.
enum EvidenceAmounts {
    static func parse(_ raw: String) -> Double? {
        var text = raw.trimmingCharacters(in: .whitespaces)
        var negative = false
        if text.hasPrefix("("), text.hasSuffix(")") {
            negative = true
            text = String(text.dropFirst().dropLast())
        }
        let symbols: Set<Character> = ["$", "€", "£", "¥", " ", ","]
        text = String(text.filter { !symbols.contains($0) })
        if text.hasPrefix("-") {
            negative.toggle()
            text.removeFirst()
        }
        guard !text.isEmpty, text.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == ".") }), let value = Double(text) else { return nil }
        return negative ? -value : value
    }
}
