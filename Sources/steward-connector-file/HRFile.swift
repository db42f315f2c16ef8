import Foundation
import StewardProtocol

/// An HR export read whole and checked whole: either every row is a valid person, or the read
/// fails with every problem found (file, line, field), never a partial population.
struct HRFile {
    var persons: [Person]

    /// Steward's person fields and the column each is read from by default.
    static let defaultColumns: [(field: String, column: String)] = [
        ("id", "employee_id"), ("email", "email"), ("firstName", "first_name"), ("lastName", "last_name"),
        ("displayName", "display_name"), ("department", "department"), ("title", "title"),
        ("managerId", "manager_id"), ("location", "location"), ("employmentType", "employment_type"),
        ("costCenter", "cost_center"), ("status", "status"), ("startDate", "start_date"), ("endDate", "end_date"),
    ]

    enum Format: String {
        case csv, json
    }

    struct Problem: CustomStringConvertible {
        var line: Int?
        var field: String?
        var message: String

        var description: String {
            var s = ""
            if let line { s += "line \(line): " }
            if let field { s += "\(field): " }
            return s + message
        }

        /// Every problem of a file as one error: the first 20 in the message, 100 in the details,
        /// and word that nothing of the file was read.
        static func error(_ problems: [Problem], in file: String, reading what: String) -> ConnectorError {
            let shown = problems.prefix(20).map { "\(file): \($0)" }
            let more = problems.count > 20 ? "\n(and \(problems.count - 20) more)" : ""
            return ConnectorError(
                .invalidArgument,
                "\(what) has \(problems.count) problem\(problems.count == 1 ? "" : "s"); nothing was read:\n" + shown.joined(separator: "\n") + more,
                details: .array(problems.prefix(100).map { p in
                    var b = JSONObjectBuilder()
                    b.set("file", file)
                    b.set("line", p.line)
                    b.set("field", p.field)
                    b.set("message", p.message)
                    return b.value
                }))
        }
    }

    /// Reads `path` as `format` with `columns` overriding the default column names.
    static func load(path: String, format: Format, columns: [String: String]) throws -> HRFile {
        let name = (path as NSString).lastPathComponent
        let bytes: [UInt8]
        do {
            bytes = Array(try Data(contentsOf: URL(fileURLWithPath: path)))
        } catch {
            throw ConnectorError(.configuration, "cannot read the HR file \(path): \((error as NSError).localizedDescription)")
        }
        var mapping: [String: String] = [:]
        for (field, column) in defaultColumns { mapping[field] = columns[field] ?? column }
        let rows: [(line: Int?, values: [String: String])]
        switch format {
        case .csv: rows = try csvRows(bytes, name: name)
        case .json: rows = try jsonRows(bytes, name: name)
        }
        var problems: [Problem] = []
        var persons: [Person] = []
        persons.reserveCapacity(rows.count)
        var firstLineOfId: [String: Int] = [:]
        let mappedColumns = Set(mapping.values)
        for (index, row) in rows.enumerated() {
            let where_ = row.line ?? (index + 1)
            func value(_ field: String) -> String? {
                guard let column = mapping[field], let v = row.values[column] else { return nil }
                let t = v.trimmingCharacters(in: .whitespaces)
                return t.isEmpty ? nil : t
            }
            func problem(_ field: String?, _ message: String) {
                problems.append(Problem(line: row.line, field: field.map { mapping[$0] ?? $0 }, message: message))
            }
            guard let id = value("id") else {
                problem("id", "required (the employee id)")
                continue
            }
            if let earlier = firstLineOfId[id] {
                problem("id", "employee id \"\(id)\" repeats the one on line \(earlier)")
                continue
            }
            firstLineOfId[id] = where_
            let email = value("email")
            if email == nil { problem("email", "required") }
            if let email, !email.contains("@") { problem("email", "\"\(email)\" is not an email address") }
            var status = PersonStatus.active
            if let raw = value("status") {
                if let s = parseStatus(raw) { status = s } else {
                    problem("status", "unknown status \"\(raw)\" (expected active, leave, terminated or pending)")
                }
            }
            for dateField in ["startDate", "endDate"] {
                if let d = value(dateField), !isValidDate(d) {
                    problem(dateField, "\"\(d)\" is not a date (YYYY-MM-DD)")
                }
            }
            var attributes: [String: String] = [:]
            for (column, v) in row.values where !mappedColumns.contains(column) && !v.isEmpty {
                attributes[column] = v
            }
            persons.append(Person(
                id: id, email: email ?? "", firstName: value("firstName"), lastName: value("lastName"),
                displayName: value("displayName"), department: value("department"), title: value("title"),
                managerId: value("managerId"), location: value("location"), employmentType: value("employmentType"),
                costCenter: value("costCenter"), status: status, startDate: value("startDate"),
                endDate: value("endDate"), attributes: attributes))
        }
        if !problems.isEmpty { throw Problem.error(problems, in: name, reading: "the HR file") }
        return HRFile(persons: persons)
    }

    private static func csvRows(_ bytes: [UInt8], name: String) throws -> [(line: Int?, values: [String: String])] {
        do {
            return try CSVTable.read(bytes, name: name).rows.map { (Optional($0.line), $0.values) }
        } catch {
            throw ConnectorError(.invalidArgument, error.message)
        }
    }

    private static func jsonRows(_ bytes: [UInt8], name: String) throws -> [(line: Int?, values: [String: String])] {
        let parsed: (value: JSONValue, lines: [String: Int])
        do {
            parsed = try JSONParser.parseWithLines(bytes, options: .init(recordLines: true))
        } catch {
            throw ConnectorError(.invalidArgument, "\(name): \(error)")
        }
        guard case .array(let items) = parsed.value else {
            throw ConnectorError(.invalidArgument, "\(name): expected a JSON array of people, got \(parsed.value.typeName)")
        }
        var rows: [(line: Int?, values: [String: String])] = []
        for (i, item) in items.enumerated() {
            guard case .object(let o) = item else {
                throw ConnectorError(.invalidArgument, "\(name): line \(parsed.lines["[\(i)]"] ?? 0): element \(i) is not an object")
            }
            var values: [String: String] = [:]
            for (k, v) in o {
                switch v {
                case .string(let s): values[k] = s
                case .null: continue
                case .int, .double, .bool: values[k] = JSONWriter.string(v)
                default:
                    throw ConnectorError(.invalidArgument, "\(name): line \(parsed.lines["[\(i)].\(k)"] ?? 0): \(k) must be a string, not \(v.typeName)")
                }
            }
            rows.append((parsed.lines["[\(i)]"], values))
        }
        return rows
    }

    static func parseStatus(_ raw: String) -> PersonStatus? {
        switch raw.lowercased().replacingOccurrences(of: "_", with: " ").replacingOccurrences(of: "-", with: " ") {
        case "active", "employed", "current": return .active
        case "leave", "on leave", "onleave", "loa", "leave of absence": return .leave
        case "terminated", "inactive", "former", "left", "departed", "separated": return .terminated
        case "pending", "hired", "preboarding", "pre hire", "prehire": return .pending
        default: return nil
        }
    }

    static func isValidDate(_ text: String) -> Bool {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0].count == 4, parts[1].count == 2, parts[2].count == 2,
              let y = Int(parts[0]), let m = Int(parts[1]), let d = Int(parts[2]), (1...12).contains(m), d >= 1 else { return false }
        let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
        let days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
        return d <= days[m - 1]
    }
}
