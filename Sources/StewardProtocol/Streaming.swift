/// The fast path for the records that come by the million (accounts, people, grants,
/// entitlements): written straight to bytes and read straight from bytes, with no dictionary
/// in between. `JSONConvertible` stays the general path; both must agree, which the tests check.
public protocol JSONStreamable: JSONConvertible {
    init(scanning s: inout JSONScanner, path: String) throws
    func write(into out: inout [UInt8])
}

extension JSONStreamable {
    /// Decodes a whole buffer holding one value.
    public init(bytes: UnsafeBufferPointer<UInt8>, path: String) throws {
        var s = JSONScanner(bytes)
        self = try Self(scanning: &s, path: path)
        guard s.atEnd() else { throw ConnectorError(.invalidArgument, "\(path): unexpected data after the value") }
    }

    public func encoded() -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(256)
        write(into: &out)
        return out
    }
}

// MARK: - Records

extension Account: JSONStreamable {
    public init(scanning s: inout JSONScanner, path: String) throws {
        var id: String?, userName: String?
        var r = Account(id: "", userName: "")
        try scanMembers(&s, path) { s, key in
            if key.equals("id") { id = try s.readOptionalString() }
            else if key.equals("userName") { userName = try s.readOptionalString() }
            else if key.equals("email") { r.email = try s.readOptionalString() }
            else if key.equals("displayName") { r.displayName = try s.readOptionalString() }
            else if key.equals("givenName") { r.givenName = try s.readOptionalString() }
            else if key.equals("familyName") { r.familyName = try s.readOptionalString() }
            else if key.equals("externalId") { r.externalId = try s.readOptionalString() }
            else if key.equals("employeeNumber") { r.employeeNumber = try s.readOptionalString() }
            else if key.equals("status") {
                let name = try s.readOptionalString() ?? "active"
                guard let status = AccountStatus(rawValue: name) else {
                    throw ConnectorError(.invalidArgument, "\(path).status: unknown status \"\(name)\" (expected active, disabled or pending)")
                }
                r.status = status
            }
            else if key.equals("lastLoginAt") { r.lastLoginAt = try s.readOptionalString() }
            else if key.equals("createdAt") { r.createdAt = try s.readOptionalString() }
            else if key.equals("attributes") { r.attributes = try scanStringMap(&s, path + ".attributes") }
            else { try s.skipValue() }
        }
        guard let id, !id.isEmpty else { throw ConnectorError(.invalidArgument, "\(path).id: required, expected a non-empty string") }
        guard let userName else { throw ConnectorError(.invalidArgument, "\(path).userName: required, expected a string") }
        r.id = id
        r.userName = userName
        self = r
    }

    public func write(into out: inout [UInt8]) {
        var w = ObjectWriter(&out)
        w.field("id", id, into: &out)
        w.field("userName", userName, into: &out)
        w.field("email", email, into: &out)
        w.field("displayName", displayName, into: &out)
        w.field("givenName", givenName, into: &out)
        w.field("familyName", familyName, into: &out)
        w.field("externalId", externalId, into: &out)
        w.field("employeeNumber", employeeNumber, into: &out)
        w.field("status", status.rawValue, into: &out)
        w.field("lastLoginAt", lastLoginAt, into: &out)
        w.field("createdAt", createdAt, into: &out)
        w.map("attributes", attributes, into: &out)
        w.close(&out)
    }
}

extension Person: JSONStreamable {
    public init(scanning s: inout JSONScanner, path: String) throws {
        var id: String?, email: String?
        var p = Person(id: "", email: "")
        try scanMembers(&s, path) { s, key in
            if key.equals("id") { id = try s.readOptionalString() }
            else if key.equals("email") { email = try s.readOptionalString() }
            else if key.equals("firstName") { p.firstName = try s.readOptionalString() }
            else if key.equals("lastName") { p.lastName = try s.readOptionalString() }
            else if key.equals("displayName") { p.displayName = try s.readOptionalString() }
            else if key.equals("department") { p.department = try s.readOptionalString() }
            else if key.equals("title") { p.title = try s.readOptionalString() }
            else if key.equals("managerId") { p.managerId = try s.readOptionalString() }
            else if key.equals("location") { p.location = try s.readOptionalString() }
            else if key.equals("employmentType") { p.employmentType = try s.readOptionalString() }
            else if key.equals("costCenter") { p.costCenter = try s.readOptionalString() }
            else if key.equals("status") {
                let name = try s.readOptionalString() ?? "active"
                guard let status = PersonStatus(rawValue: name) else {
                    throw ConnectorError(.invalidArgument, "\(path).status: unknown status \"\(name)\" (expected one of \(PersonStatus.allCases.map(\.rawValue).joined(separator: ", ")))")
                }
                p.status = status
            }
            else if key.equals("startDate") { p.startDate = try s.readOptionalString() }
            else if key.equals("endDate") { p.endDate = try s.readOptionalString() }
            else if key.equals("attributes") { p.attributes = try scanStringMap(&s, path + ".attributes") }
            else { try s.skipValue() }
        }
        guard let id, !id.isEmpty else { throw ConnectorError(.invalidArgument, "\(path).id: required, expected a non-empty string") }
        guard let email else { throw ConnectorError(.invalidArgument, "\(path).email: required, expected a string") }
        p.id = id
        p.email = email
        self = p
    }

    public func write(into out: inout [UInt8]) {
        var w = ObjectWriter(&out)
        w.field("id", id, into: &out)
        w.field("email", email, into: &out)
        w.field("firstName", firstName, into: &out)
        w.field("lastName", lastName, into: &out)
        w.field("displayName", displayName, into: &out)
        w.field("department", department, into: &out)
        w.field("title", title, into: &out)
        w.field("managerId", managerId, into: &out)
        w.field("location", location, into: &out)
        w.field("employmentType", employmentType, into: &out)
        w.field("costCenter", costCenter, into: &out)
        w.field("status", status.rawValue, into: &out)
        w.field("startDate", startDate, into: &out)
        w.field("endDate", endDate, into: &out)
        w.map("attributes", attributes, into: &out)
        w.close(&out)
    }
}

extension Grant: JSONStreamable {
    public init(scanning s: inout JSONScanner, path: String) throws {
        var accountId: String?, type: String?, entitlementId: String?
        try scanMembers(&s, path) { s, key in
            if key.equals("accountId") { accountId = try s.readOptionalString() }
            else if key.equals("type") { type = try s.readOptionalString() }
            else if key.equals("entitlementId") { entitlementId = try s.readOptionalString() }
            else { try s.skipValue() }
        }
        guard let accountId, !accountId.isEmpty else { throw ConnectorError(.invalidArgument, "\(path).accountId: required, expected a non-empty string") }
        guard let type, !type.isEmpty else { throw ConnectorError(.invalidArgument, "\(path).type: required, expected a non-empty string") }
        guard let entitlementId, !entitlementId.isEmpty else { throw ConnectorError(.invalidArgument, "\(path).entitlementId: required, expected a non-empty string") }
        self.init(accountId: accountId, type: type, entitlementId: entitlementId)
    }

    public func write(into out: inout [UInt8]) {
        var w = ObjectWriter(&out)
        w.field("accountId", accountId, into: &out)
        w.field("type", type, into: &out)
        w.field("entitlementId", entitlementId, into: &out)
        w.close(&out)
    }
}

extension Entitlement: JSONStreamable {
    public init(scanning s: inout JSONScanner, path: String) throws {
        var type: String?, id: String?, name: String?, description: String?, rank: Int?
        try scanMembers(&s, path) { s, key in
            if key.equals("type") { type = try s.readOptionalString() }
            else if key.equals("id") { id = try s.readOptionalString() }
            else if key.equals("name") { name = try s.readOptionalString() }
            else if key.equals("description") { description = try s.readOptionalString() }
            else if key.equals("rank") { rank = s.consumeNull() ? nil : try s.readInt() }
            else { try s.skipValue() }
        }
        guard let type, !type.isEmpty else { throw ConnectorError(.invalidArgument, "\(path).type: required, expected a non-empty string") }
        guard let id, !id.isEmpty else { throw ConnectorError(.invalidArgument, "\(path).id: required, expected a non-empty string") }
        guard let name else { throw ConnectorError(.invalidArgument, "\(path).name: required, expected a string") }
        self.init(type: type, id: id, name: name, description: description, rank: rank)
    }

    public func write(into out: inout [UInt8]) {
        var w = ObjectWriter(&out)
        w.field("type", type, into: &out)
        w.field("id", id, into: &out)
        w.field("name", name, into: &out)
        w.field("description", description, into: &out)
        if let rank {
            w.key("rank", into: &out)
            JSONWriter.write(.int(rank), into: &out)
        }
        w.close(&out)
    }
}

extension Page: JSONStreamable where Item: JSONStreamable {
    public init(scanning s: inout JSONScanner, path: String) throws {
        var items: [Item] = []
        var next: String?
        try scanMembers(&s, path) { s, key in
            if key.equals("items") {
                if s.consumeNull() { return }
                do {
                    try s.forEachElement { s, i in
                        if i == 0 { items.reserveCapacity(64) }
                        items.append(try Item(scanning: &s, path: "\(path).items[\(i)]"))
                    }
                } catch let e as JSONScanner.Error {
                    throw ConnectorError(.invalidArgument, "\(path).items: \(e)")
                }
            } else if key.equals("nextCursor") {
                next = try s.readOptionalString()
            } else {
                try s.skipValue()
            }
        }
        self.init(items: items, nextCursor: next)
    }

    public func write(into out: inout [UInt8]) {
        out.append(contentsOf: Array("{\"items\":[".utf8))
        for (i, item) in items.enumerated() {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            item.write(into: &out)
        }
        out.append(UInt8(ascii: "]"))
        if let nextCursor {
            out.append(contentsOf: Array(",\"nextCursor\":".utf8))
            JSONWriter.writeString(nextCursor, into: &out)
        }
        out.append(UInt8(ascii: "}"))
    }
}

// MARK: - Helpers

/// Walks an object's members, turning scanner errors into errors that name `path`.
private func scanMembers(_ s: inout JSONScanner, _ path: String,
                         _ body: (inout JSONScanner, UnsafeBufferPointer<UInt8>) throws -> Void) throws {
    do {
        try s.forEachMember(body)
    } catch let e as JSONScanner.Error {
        throw ConnectorError(.invalidArgument, "\(path.isEmpty ? "value" : path): \(e)")
    }
}

private func scanStringMap(_ s: inout JSONScanner, _ path: String) throws -> [String: String] {
    if s.consumeNull() { return [:] }
    var result: [String: String] = [:]
    try scanMembers(&s, path) { s, key in
        let k = String(decoding: key, as: UTF8.self)
        switch s.peek() {
        case UInt8(ascii: "\""): result[k] = try s.readString()
        case UInt8(ascii: "n"): _ = s.consumeNull()
        default:
            let v = try s.readValue()
            switch v {
            case .int, .double, .bool: result[k] = JSONWriter.string(v)
            default: throw ConnectorError(.invalidArgument, "\(path).\(k): expected a string, got \(v.typeName)")
            }
        }
    }
    return result
}

/// Writes `{"a":...,"b":...}` member by member, skipping nil values.
private struct ObjectWriter {
    private var first = true

    init(_ out: inout [UInt8]) { out.append(UInt8(ascii: "{")) }

    mutating func key(_ key: StaticString, into out: inout [UInt8]) {
        if !first { out.append(UInt8(ascii: ",")) }
        first = false
        out.append(UInt8(ascii: "\""))
        out.append(contentsOf: UnsafeBufferPointer(start: key.utf8Start, count: key.utf8CodeUnitCount))
        out.append(contentsOf: [UInt8(ascii: "\""), UInt8(ascii: ":")])
    }

    mutating func field(_ key: StaticString, _ value: String?, into out: inout [UInt8]) {
        guard let value else { return }
        self.key(key, into: &out)
        JSONWriter.writeString(value, into: &out)
    }

    mutating func map(_ key: StaticString, _ value: [String: String], into out: inout [UInt8]) {
        guard !value.isEmpty else { return }
        self.key(key, into: &out)
        JSONWriter.write(value.json, into: &out)
    }

    func close(_ out: inout [UInt8]) { out.append(UInt8(ascii: "}")) }
}
