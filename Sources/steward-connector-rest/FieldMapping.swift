import Foundation
import StewardProtocol

/// How the fields of one Steward record (an account, a person, an entitlement, a grant) are
/// read from one record of the app's response.
///
/// ```json
/// "fields": {
///   "id": "/id", "userName": "profile.login",
///   "status": {"from": "/status", "values": {"ACTIVE": "active", "SUSPENDED": "disabled"}, "default": "disabled"},
///   "lastLoginAt": "/lastLogin",
///   "displayName": {"template": "{{record.profile.firstName}} {{record.profile.lastName}}"},
///   "attributes": {"department": "/profile/department"}
/// }
/// ```
struct FieldMap: Sendable {
    var fields: [(name: String, source: FieldSource)]
    var attributes: [(name: String, source: FieldSource)]

    /// The Steward record kinds and their field names.
    enum Target: String, Sendable {
        case account, person, entitlement, grant

        var fieldNames: [String] {
            switch self {
            case .account:
                return ["id", "userName", "email", "displayName", "givenName", "familyName", "externalId", "employeeNumber",
                        "status", "lastLoginAt", "createdAt"]
            case .person:
                return ["id", "email", "firstName", "lastName", "displayName", "department", "title", "managerId", "location",
                        "employmentType", "costCenter", "status", "startDate", "endDate"]
            case .entitlement: return ["id", "name", "description"]
            case .grant: return ["accountId", "entitlementId"]
            }
        }

        var hasAttributes: Bool { self == .account || self == .person }
    }

    init(_ node: DefinitionNode, target: Target) throws(DefinitionError) {
        let known = target.fieldNames + (target.hasAttributes ? ["attributes"] : [])
        var fields: [(name: String, source: FieldSource)] = []
        var attributes: [(name: String, source: FieldSource)] = []
        for (name, child) in try node.entries() {
            guard known.contains(name) else {
                throw child.error("unknown \(target.rawValue) field (expected one of \(known.joined(separator: ", ")))")
            }
            if name == "attributes" {
                for (attribute, source) in try child.entries() { attributes.append((attribute, try FieldSource(source))) }
            } else {
                fields.append((name, try FieldSource(child)))
            }
        }
        self.fields = fields
        self.attributes = attributes
    }

    init(fields: [(name: String, source: FieldSource)], attributes: [(name: String, source: FieldSource)] = []) {
        self.fields = fields
        self.attributes = attributes
    }

    func has(_ name: String) -> Bool { fields.contains { $0.name == name } }

    /// The mapped fields as a JSON object shaped like the Steward record. `scope` holds the
    /// operation's values; the record is added to it as `record`.
    func map(_ record: JSONValue, scope: JSONValue) throws -> JSONValue {
        var recordScope = scope.objectValue ?? [:]
        recordScope["record"] = record
        let fullScope = JSONValue.object(recordScope)
        var out: [String: JSONValue] = [:]
        for (name, source) in fields {
            if let v = try source.value(in: record, scope: fullScope, field: name) { out[name] = v }
        }
        if !attributes.isEmpty {
            var attrs: [String: JSONValue] = [:]
            for (name, source) in attributes {
                if let v = try source.value(in: record, scope: fullScope, field: "attributes.\(name)"), let text = v.scalarText {
                    attrs[name] = .string(text)
                }
            }
            if !attrs.isEmpty { out["attributes"] = .object(attrs) }
        }
        return .object(out)
    }

    /// Every template, for validation.
    func templates(at path: String) -> [(String, Template)] {
        fields.compactMap { f in f.source.template.map { ("\(path).\(f.name)", $0) } }
            + attributes.compactMap { a in a.source.template.map { ("\(path).attributes.\(a.name)", $0) } }
    }
}

/// Where one field's value comes from: a path into the record, a constant, or a template; then
/// optionally translated through `values`, defaulted, and converted from epoch time.
struct FieldSource: Sendable {
    enum Origin: Sendable {
        case path(ValuePath)
        case constant(JSONValue)
        case template(Template)
    }

    enum TimeFormat: String, Sendable, CaseIterable {
        case epochSeconds, epochMilliseconds
    }

    var origin: Origin
    /// Translation of the app's values (matched as text); unmatched values pass through
    /// unless `default` is set.
    var values: [String: JSONValue]?
    var defaultValue: JSONValue?
    var format: TimeFormat?

    var template: Template? { if case .template(let t) = origin { return t } else { return nil } }

    init(path: ValuePath) {
        origin = .path(path)
    }

    init(constant: JSONValue) {
        origin = .constant(constant)
    }

    init(_ node: DefinitionNode) throws(DefinitionError) {
        if case .string = node.value {
            origin = .path(try node.valuePath())
            return
        }
        let m = try node.members(known: ["from", "value", "template", "values", "default", "format"])
        let origins = ["from", "value", "template"].filter { m[$0] != nil }
        guard origins.count == 1 else {
            throw node.error("give one of \"from\" (a pointer or path), \"value\" (a constant) or \"template\"")
        }
        switch origins[0] {
        case "from": origin = .path(try node.child("from").valuePath())
        case "value": origin = .constant(node.value["value"])
        default: origin = .template(try node.child("template").template())
        }
        if let valuesNode = m["values"] {
            var values: [String: JSONValue] = [:]
            for (key, v) in try valuesNode.entries() { values[key] = v.value }
            self.values = values
        }
        defaultValue = m["default"]?.value
        if let formatNode = m["format"] {
            format = TimeFormat(rawValue: try formatNode.choice(TimeFormat.allCases.map(\.rawValue)))
        }
    }

    func value(in record: JSONValue, scope: JSONValue, field: String) throws -> JSONValue? {
        var v: JSONValue?
        switch origin {
        case .path(let p): v = p.resolve(in: record)
        case .constant(let c): v = c
        case .template(let t):
            do {
                let text = try t.render(scope)
                v = text.isEmpty ? nil : .string(text)
            } catch {
                throw ConnectorError(.internal, "\(field): \(error.description)")
            }
        }
        if let found = v, found.isNull { v = nil }
        if case .array(let items)? = v, values != nil || format != nil {
            // A list of values (a user's groups): translate each one.
            var single = self
            single.origin = .constant(.null)
            return .array(try items.compactMap { try single.translate($0, field: field) })
        }
        return try translate(v, field: field)
    }

    private func translate(_ found: JSONValue?, field: String) throws -> JSONValue? {
        var v = found
        if let values {
            if let key = v?.scalarText, let translated = values[key] {
                v = translated
            } else if v != nil, let defaultValue {
                v = defaultValue
            }
        }
        if v == nil { v = defaultValue }
        if let format, let raw = v {
            guard let number = raw.doubleValue ?? raw.scalarText.flatMap(Double.init) else {
                throw ConnectorError(.internal, "\(field): \"\(raw.scalarText ?? raw.typeName)\" is not a number of \(format == .epochSeconds ? "seconds" : "milliseconds") since 1970")
            }
            let seconds = format == .epochSeconds ? number : number / 1000
            v = .string(Self.iso8601(Date(timeIntervalSince1970: seconds)))
        }
        return v
    }

    static func iso8601(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.string(from: date)
    }
}
