import StewardProtocol

/// Where each of Steward's account fields lives in a SCIM User, after the app's
/// `attributeMapping` overrides.
///
/// Steward field names are those of `AccountSpec` and `Account` (`email`, `employeeNumber`,
/// `managerId`, `lastLoginAt`, ...). A mapping to `null` or `""` unmaps a field; a key that is
/// not a Steward field adds an attribute read into `Account.attributes` and writable through
/// `accounts/update` and the create spec's `attributes`.
struct UserMapping: Sendable {
    static let coreURN = "urn:ietf:params:scim:schemas:core:2.0:User"
    static let enterpriseURN = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"

    /// Steward's own account fields and their default paths; `lastLoginAt` has no standard home.
    static let defaults: [(field: String, path: String?)] = [
        ("userName", "userName"),
        ("email", "emails[type eq \"work\"].value"),
        ("displayName", "displayName"),
        ("givenName", "name.givenName"),
        ("familyName", "name.familyName"),
        ("externalId", "externalId"),
        ("employeeNumber", enterpriseURN + ":employeeNumber"),
        ("department", enterpriseURN + ":department"),
        ("title", "title"),
        ("managerId", enterpriseURN + ":manager.value"),
        ("createdAt", "meta.created"),
        ("lastLoginAt", nil),
    ]
    /// Fields reported in `Account.attributes` because `Account` has no member for them.
    static let attributeFields = ["department", "title", "managerId"]
    static let readOnlyFields: Set<String> = ["createdAt", "lastLoginAt"]

    private(set) var paths: [String: AttributePath] = [:]
    /// Mapped keys that are not Steward fields.
    private(set) var extraFields: [String] = []
    /// Whether `email` uses the default rule: the primary email, else the work one, else the first.
    private(set) var defaultEmailRule = true

    init(overrides: [String: JSONValue] = [:]) throws {
        let known = Set(Self.defaults.map(\.field))
        for (field, path) in Self.defaults {
            if let path { paths[field] = try AttributePath(parsing: path, field: "default mapping of \(field)") }
        }
        for (field, value) in overrides.sorted(by: { $0.key < $1.key }) {
            let setting = "settings.attributeMapping.\(field)"
            switch value {
            case .null:
                paths[field] = nil
            case .string(let text) where text.trimmingCharacters(in: .whitespaces).isEmpty:
                paths[field] = nil
            case .string(let text):
                paths[field] = try AttributePath(parsing: text, field: setting)
            default:
                throw ConnectorError(.configuration, "\(setting): expected a SCIM attribute path (a string) or null, got \(value.typeName)")
            }
            if field == "userName", paths[field] == nil {
                throw ConnectorError(.configuration, "\(setting): userName cannot be unmapped")
            }
            if field == "email" { defaultEmailRule = false }
            if !known.contains(field) { extraFields.append(field) }
        }
    }

    func path(_ field: String) -> AttributePath? { paths[field] }

    /// The field's value in a SCIM User.
    func value(_ field: String, in user: [String: JSONValue]) -> String? {
        if field == "email", defaultEmailRule { return Self.defaultEmail(user) }
        return paths[field]?.read(user)
    }

    private static func defaultEmail(_ user: [String: JSONValue]) -> String? {
        guard let emails = AttributePath.member(user, "emails")?.arrayValue, !emails.isEmpty else { return nil }
        func value(_ e: JSONValue) -> String? { e.objectValue.flatMap { AttributePath.member($0, "value")?.stringValue } }
        func isTrue(_ e: JSONValue, _ key: String) -> Bool { e.objectValue.flatMap { AttributePath.member($0, key)?.boolValue } == true }
        func typeIs(_ e: JSONValue, _ type: String) -> Bool {
            e.objectValue.flatMap { AttributePath.member($0, "type")?.stringValue?.lowercased() } == type
        }
        return emails.first { isTrue($0, "primary") }.flatMap(value)
            ?? emails.first { typeIs($0, "work") }.flatMap(value)
            ?? emails.lazy.compactMap(value).first
    }

    /// The account a SCIM User describes; nil when it has no id.
    func account(from user: [String: JSONValue]) -> Account? {
        guard let id = user["id"]?.stringValue ?? AttributePath.member(user, "id")?.stringValue, !id.isEmpty else { return nil }
        var account = Account(id: id, userName: value("userName", in: user) ?? "")
        account.email = value("email", in: user)
        account.displayName = value("displayName", in: user)
        account.givenName = value("givenName", in: user)
        account.familyName = value("familyName", in: user)
        account.externalId = value("externalId", in: user)
        account.employeeNumber = value("employeeNumber", in: user)
        account.createdAt = value("createdAt", in: user)
        account.lastLoginAt = value("lastLoginAt", in: user)
        let active = user["active"] ?? AttributePath.member(user, "active")
        switch active {
        case .bool(false)?: account.status = .disabled
        case .string(let s)? where s.lowercased() == "false": account.status = .disabled
        default: account.status = .active
        }
        for field in Self.attributeFields + extraFields {
            if let v = value(field, in: user) { account.attributes[field] = v }
        }
        return account
    }

    /// The SCIM User to create for `spec`. Enterprise-extension fields are left out when the
    /// provider does not support the extension (`dropped` lists them).
    func user(for spec: AccountSpec, enterpriseSupported: Bool) throws -> (user: [String: JSONValue], dropped: [String]) {
        var user: [String: JSONValue] = ["schemas": [.string(Self.coreURN)]]
        var dropped: [String] = []
        var fields: [(String, String?)] = [
            ("userName", spec.userName), ("displayName", spec.displayName), ("givenName", spec.givenName),
            ("familyName", spec.familyName), ("externalId", spec.externalId), ("employeeNumber", spec.employeeNumber),
            ("department", spec.department), ("title", spec.title), ("managerId", spec.managerId),
        ]
        for (key, value) in spec.attributes.sorted(by: { $0.key < $1.key }) {
            guard extraFields.contains(key) || (paths[key] != nil && !Self.readOnlyFields.contains(key)) else {
                throw ConnectorError(.invalidArgument, "params.account.attributes.\(key): no SCIM attribute is mapped for it (add settings.attributeMapping.\(key))")
            }
            fields.append((key, value))
        }
        for (field, value) in fields {
            guard let value, let path = paths[field] else { continue }
            if path.schema?.lowercased() == Self.enterpriseURN.lowercased(), !enterpriseSupported {
                dropped.append(field)
                continue
            }
            path.write(.string(value), into: &user)
        }
        if let email = spec.email {
            if defaultEmailRule {
                user["emails"] = [["value": .string(email), "type": "work", "primary": true]]
            } else if let path = paths["email"] {
                path.write(.string(email), into: &user)
            }
        }
        user["active"] = true
        return (user, dropped)
    }

    /// The changes an `accounts/update` asks for, checked: each key must be a writable mapped
    /// field and each value a string or null.
    func requestedChanges(_ changes: [String: JSONValue]) throws -> [(field: String, path: AttributePath, value: String?)] {
        var result: [(String, AttributePath, String?)] = []
        for (field, value) in changes.sorted(by: { $0.key < $1.key }) {
            let setting = "params.changes.\(field)"
            if Self.readOnlyFields.contains(field) {
                throw ConnectorError(.invalidArgument, "\(setting): \(field) is read-only in SCIM")
            }
            guard let path = paths[field] else {
                throw ConnectorError(.invalidArgument, "\(setting): no SCIM attribute is mapped for \(field) (see settings.attributeMapping)")
            }
            switch value {
            case .null: result.append((field, path, nil))
            case .string(let s): result.append((field, path, s))
            case .int, .double, .bool: result.append((field, path, JSONWriter.string(value)))
            default: throw ConnectorError(.invalidArgument, "\(setting): expected a string or null, got \(value.typeName)")
            }
        }
        return result
    }

    /// The PATCH operations that turn `user` into one with `changes` applied; empty when it
    /// already has them.
    func patchOperations(_ changes: [(field: String, path: AttributePath, value: String?)], current user: [String: JSONValue]) -> [PatchOperation] {
        var operations: [PatchOperation] = []
        for change in changes where value(change.field, in: user) != change.value {
            if change.field == "email", defaultEmailRule, let newValue = change.value {
                operations.append(emailOperation(newValue, current: user))
            } else {
                operations.append(change.path.patchOperation(setting: change.value.map { .string($0) }, current: user))
            }
        }
        return operations
    }

    /// Applies `changes` to a whole resource, for providers that only accept PUT. Returns
    /// whether anything changed.
    func apply(_ changes: [(field: String, path: AttributePath, value: String?)], to user: inout [String: JSONValue]) -> Bool {
        var changed = false
        for change in changes where value(change.field, in: user) != change.value {
            changed = true
            if change.field == "email", defaultEmailRule, let newValue = change.value {
                setDefaultEmail(newValue, in: &user)
            } else {
                change.path.write(change.value.map { .string($0) }, into: &user)
            }
        }
        return changed
    }

    /// The default email rule's write: the primary email if there is one, else the work one,
    /// else a new work email that becomes primary.
    private func emailOperation(_ newValue: String, current user: [String: JSONValue]) -> PatchOperation {
        let emails = AttributePath.member(user, "emails")?.arrayValue ?? []
        let work = AttributePath.ValueFilter(attribute: "type", value: "work")
        let primary = emails.first { $0.objectValue.flatMap { AttributePath.member($0, "primary")?.boolValue } == true }
        if let primary, !AttributePath.matches(primary, work),
           let old = primary.objectValue.flatMap({ AttributePath.member($0, "value")?.stringValue }) {
            return PatchOperation(op: "replace", path: "emails[value eq \(JSONWriter.string(.string(old)))].value", value: .string(newValue))
        }
        if emails.contains(where: { AttributePath.matches($0, work) }) {
            return PatchOperation(op: "replace", path: "emails[type eq \"work\"].value", value: .string(newValue))
        }
        return PatchOperation(op: "add", path: "emails", value: [["value": .string(newValue), "type": "work", "primary": true]])
    }

    private func setDefaultEmail(_ newValue: String, in user: inout [String: JSONValue]) {
        var emails = AttributePath.member(user, "emails")?.arrayValue ?? []
        let index = emails.firstIndex { $0.objectValue.flatMap { AttributePath.member($0, "primary")?.boolValue } == true }
            ?? emails.firstIndex { AttributePath.matches($0, .init(attribute: "type", value: "work")) }
        if let index, var element = emails[index].objectValue {
            element["value"] = .string(newValue)
            emails[index] = .object(element)
        } else {
            emails.append(["value": .string(newValue), "type": "work", "primary": true])
        }
        let key = user.keys.first { $0.lowercased() == "emails" } ?? "emails"
        user[key] = .array(emails)
    }

    /// The `attributes=` parameter that asks the provider for just what the mapping reads, so
    /// pages are smaller to send and to parse; nil when a mapped attribute is not one the
    /// provider's schemas declare (asking for it would be refused).
    func selection(_ features: ProviderFeatures) -> String? {
        var names = ["active"]
        for (field, path) in paths.sorted(by: { $0.key < $1.key }) {
            if field == "email", defaultEmailRule {
                names.append("emails")
                continue
            }
            // The common attributes (RFC 7643 §3.1) are in no schema's attribute list.
            if path.schema == nil, ["id", "externalid", "meta"].contains(path.attribute.lowercased()) {
                names.append(path.selection)
                continue
            }
            switch path.schema?.lowercased() {
            case nil where features.userHas(path.attribute): break
            case UserMapping.enterpriseURN.lowercased()? where features.enterpriseExtension: break
            default: return nil
            }
            names.append(path.selection)
        }
        return names.joined(separator: ",")
    }

    /// The filter that finds users whose `field` equals `value`.
    func equalityFilter(_ field: String, _ value: String) -> String? {
        if field == "email", defaultEmailRule { return "emails.value eq \(JSONWriter.string(.string(value)))" }
        return paths[field]?.equalityFilter(value)
    }
}
