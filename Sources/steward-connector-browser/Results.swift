import DevTools
import Foundation
import StewardJSON
import StewardProtocol

/// Turns what a flow read (tables, extracted text) into protocol records, following the flow's
/// `result` member. Column names are the tables' header texts.
enum Results {
    static func accounts(_ flow: Flow, _ outcome: AppSession.Outcome) throws -> [Account] {
        let (table, spec) = try tableAndSpec(flow, outcome, member: "account")
        return try table.records.enumerated().map { index, row in
            var fields: [String: String] = [:]
            let attributes = table.attributes(ofRow: index)
            for (name, column) in spec { fields[name] = try cell(row, attributes, column, at: "\(flow.path).result.account.\(name)") }
            return try account(fields, at: "\(flow.path): table row \(index + 1)")
        }
    }

    static func grants(_ flow: Flow, _ outcome: AppSession.Outcome) throws -> [Grant] {
        let at = "\(flow.path).result"
        let table = try self.table(flow, outcome)
        guard !flow.result["accountId"].isNull, let types = flow.result["grants"].objectValue else {
            throw ConnectorError(.configuration, "\(at): needs accountId (a column) and grants (type to column)")
        }
        var grants: [Grant] = []
        let idSpec = flow.result["accountId"]
        for (index, row) in table.records.enumerated() {
            let attributes = table.attributes(ofRow: index)
            guard let accountId = try cell(row, attributes, idSpec.stringValue.map(JSONValue.string) ?? idSpec, at: "\(at).accountId"),
                  !accountId.isEmpty else { continue }
            for (type, column) in types.sorted(by: { $0.key < $1.key }) {
                let text = try cell(row, attributes, column, at: "\(at).grants.\(type)") ?? ""
                let separator = column["split"].stringValue
                let values = separator.map { text.components(separatedBy: $0) } ?? [text]
                for value in values.map({ $0.trimmingCharacters(in: .whitespaces) }) where !value.isEmpty {
                    grants.append(Grant(accountId: accountId, type: type, entitlementId: value))
                }
            }
        }
        return grants
    }

    /// `ranked`: a single-valued type's values, most privileged first, which rank what is read.
    static func entitlements(_ flow: Flow, _ outcome: AppSession.Outcome, type: String, ranked: [String]? = nil) throws -> [Entitlement] {
        let (table, spec) = try tableAndSpec(flow, outcome, member: "entitlement")
        return try table.records.enumerated().compactMap { index, row in
            var fields: [String: String] = [:]
            let attributes = table.attributes(ofRow: index)
            for (name, column) in spec { fields[name] = try cell(row, attributes, column, at: "\(flow.path).result.entitlement.\(name)") }
            guard let id = fields["id"], !id.isEmpty else { return nil }
            let rank = ranked?.firstIndex(of: id).map { (ranked?.count ?? 0) - $0 }
            return Entitlement(type: type, id: id, name: fields["name"] ?? id, description: fields["description"], rank: rank)
        }
    }

    /// An account from templates over the flow's variables and arguments (create, get):
    /// each field is a template, or `{"value": template, "map": {...}}`.
    static func templatedAccount(_ flow: Flow, _ outcome: AppSession.Outcome) throws -> Account? {
        guard let spec = flow.result["account"].objectValue else { return nil }
        var fields: [String: String] = [:]
        for (name, value) in spec {
            let at = "\(flow.path).result.account.\(name)"
            guard let text = value.stringValue ?? value["value"].stringValue else {
                throw ConnectorError(.configuration, "\(at) must be a string template or {\"value\": template, \"map\": {...}}")
            }
            do {
                let rendered = try Template(text, at: at).render(outcome.scope)
                fields[name] = value["map"][rendered].stringValue ?? rendered
            } catch let error as RecipeError {
                throw ConnectorError(.configuration, error.description)
            } catch is TemplateMissing {
                continue
            }
        }
        return try account(fields, at: "\(flow.path).result")
    }

    // MARK: - Helpers

    private static func table(_ flow: Flow, _ outcome: AppSession.Outcome) throws -> Table {
        guard let name = flow.result["table"].stringValue else {
            throw ConnectorError(.configuration, "\(flow.path).result.table: name the table an extractTable step read (its \"into\")")
        }
        guard let table = outcome.tables[name] else {
            throw ConnectorError(.configuration, "\(flow.path).result.table: no extractTable step read a table into \"\(name)\"")
        }
        return table
    }

    private static func tableAndSpec(_ flow: Flow, _ outcome: AppSession.Outcome, member: String) throws -> (Table, [String: JSONValue]) {
        let table = try self.table(flow, outcome)
        guard let spec = flow.result[member].objectValue else {
            throw ConnectorError(.configuration, "\(flow.path).result.\(member): map field names to table columns")
        }
        for (name, column) in spec {
            let header = column.stringValue ?? column["column"].stringValue ?? ""
            if !table.headers.contains(header) {
                throw ConnectorError(.configuration, "\(flow.path).result.\(member).\(name): the table has no column \"\(header)\" (it has: \(table.headers.joined(separator: ", ")))")
            }
        }
        return (table, spec)
    }

    /// A cell by column name: its text, or with `attribute` that attribute of the cell or of the
    /// link or control in it; with `match`, the regular expression's first group (or the whole
    /// match) in it; then translated through `map` when there is one.
    private static func cell(_ row: [String: String], _ attributes: [String: [String: String]], _ column: JSONValue,
                             at path: String) throws -> String? {
        guard let header = column.stringValue ?? column["column"].stringValue else {
            throw ConnectorError(.configuration, "\(path): a column name, or {\"column\": ..., \"map\": {...}}")
        }
        var value: String?
        if let attribute = column["attribute"].stringValue {
            value = attributes[header]?[attribute]
        } else {
            value = row[header]
        }
        guard var text = value else { return nil }
        if let pattern = column["match"].stringValue {
            guard let captured = ValueMatch.first(pattern, in: text) else { return nil }
            text = captured
        }
        if let map = column["map"].objectValue {
            return map[text]?.stringValue ?? text
        }
        return text
    }

    private static let accountFields: Set<String> = ["id", "userName", "email", "displayName", "givenName", "familyName",
                                                     "externalId", "employeeNumber", "status"]

    private static func account(_ fields: [String: String], at path: String) throws -> Account {
        guard let id = fields["id"], !id.isEmpty, let userName = fields["userName"], !userName.isEmpty else {
            throw ConnectorError(.internal, "\(path): no id or userName (check the recipe's result mapping)")
        }
        let statusText = fields["status"] ?? "active"
        guard let status = AccountStatus(rawValue: statusText) else {
            throw ConnectorError(.internal, "\(path): status \"\(statusText)\" is not active, disabled or pending (map it in the recipe)")
        }
        var attributes: [String: String] = [:]
        for (name, value) in fields where !accountFields.contains(name) { attributes[name] = value }
        return Account(id: id, userName: userName, email: fields["email"].flatMap { $0.isEmpty ? nil : $0 },
                       displayName: fields["displayName"], givenName: fields["givenName"], familyName: fields["familyName"],
                       externalId: fields["externalId"], employeeNumber: fields["employeeNumber"], status: status,
                       attributes: attributes)
    }
}

/// A recipe's `match`: a regular expression whose first group (or whole match) is the value.
enum ValueMatch {
    static func first(_ pattern: String, in text: String) -> String? {
        guard let regex = try? NSRegularExpression(pattern: pattern),
              let m = regex.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)) else { return nil }
        let range = m.numberOfRanges > 1 ? m.range(at: 1) : m.range
        return Range(range, in: text).map { String(text[$0]) }
    }

    /// Checks a pattern when the recipe loads.
    static func check(_ pattern: String, at path: String) throws(RecipeError) {
        do {
            _ = try NSRegularExpression(pattern: pattern)
        } catch {
            throw RecipeError(path, "not a valid regular expression: \(pattern)")
        }
    }
}
