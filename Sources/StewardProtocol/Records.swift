/// A person as the HR source describes them. `id` is the employee id, stable for life.
public struct Person: JSONConvertible, Hashable {
    public var id: String
    public var email: String
    public var firstName: String?
    public var lastName: String?
    public var displayName: String?
    public var department: String?
    public var title: String?
    public var managerId: String?
    public var location: String?
    public var employmentType: String?
    public var costCenter: String?
    public var status: PersonStatus
    /// ISO 8601 calendar dates (`2026-03-01`).
    public var startDate: String?
    public var endDate: String?
    /// Any further columns, for policies that match on them.
    public var attributes: [String: String]

    public init(id: String, email: String, firstName: String? = nil, lastName: String? = nil, displayName: String? = nil,
                department: String? = nil, title: String? = nil, managerId: String? = nil, location: String? = nil,
                employmentType: String? = nil, costCenter: String? = nil, status: PersonStatus = .active,
                startDate: String? = nil, endDate: String? = nil, attributes: [String: String] = [:]) {
        self.id = id
        self.email = email
        self.firstName = firstName
        self.lastName = lastName
        self.displayName = displayName
        self.department = department
        self.title = title
        self.managerId = managerId
        self.location = location
        self.employmentType = employmentType
        self.costCenter = costCenter
        self.status = status
        self.startDate = startDate
        self.endDate = endDate
        self.attributes = attributes
    }

    public init(json: JSONValue, path: String) throws {
        let f = try JSONFields(json, path: path)
        id = try f.nonEmptyString("id")
        email = try f.string("email")
        firstName = try f.optionalString("firstName")
        lastName = try f.optionalString("lastName")
        displayName = try f.optionalString("displayName")
        department = try f.optionalString("department")
        title = try f.optionalString("title")
        managerId = try f.optionalString("managerId")
        location = try f.optionalString("location")
        employmentType = try f.optionalString("employmentType")
        costCenter = try f.optionalString("costCenter")
        let statusName = try f.optionalString("status") ?? "active"
        guard let s = PersonStatus(rawValue: statusName) else {
            throw ConnectorError(.invalidArgument, "\(f.childPath("status")): unknown status \"\(statusName)\" (expected one of \(PersonStatus.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        status = s
        startDate = try f.optionalString("startDate")
        endDate = try f.optionalString("endDate")
        attributes = try f.stringMap("attributes")
    }

    public var json: JSONValue {
        var b = JSONObjectBuilder(capacity: 16)
        b.set("id", id)
        b.set("email", email)
        b.set("firstName", firstName)
        b.set("lastName", lastName)
        b.set("displayName", displayName)
        b.set("department", department)
        b.set("title", title)
        b.set("managerId", managerId)
        b.set("location", location)
        b.set("employmentType", employmentType)
        b.set("costCenter", costCenter)
        b.set("status", status.rawValue)
        b.set("startDate", startDate)
        b.set("endDate", endDate)
        if !attributes.isEmpty { b.set("attributes", attributes.json) }
        return b.value
    }
}

/// Where a person is in their employment.
public enum PersonStatus: String, Sendable, CaseIterable {
    /// Hired, start date still ahead.
    case pending
    case active
    /// On leave: keeps accounts, may be treated specially by policy.
    case leave
    case terminated
}

/// An account in an app, whoever created it.
public struct Account: JSONConvertible, Hashable {
    public var id: String
    public var userName: String
    public var email: String?
    public var displayName: String?
    public var givenName: String?
    public var familyName: String?
    public var externalId: String?
    public var employeeNumber: String?
    public var status: AccountStatus
    /// ISO 8601 timestamps when the app offers them; `lastLoginAt` finds unused licenses.
    public var lastLoginAt: String?
    public var createdAt: String?
    public var attributes: [String: String]

    public init(id: String, userName: String, email: String? = nil, displayName: String? = nil, givenName: String? = nil,
                familyName: String? = nil, externalId: String? = nil, employeeNumber: String? = nil,
                status: AccountStatus = .active, lastLoginAt: String? = nil, createdAt: String? = nil,
                attributes: [String: String] = [:]) {
        self.id = id
        self.userName = userName
        self.email = email
        self.displayName = displayName
        self.givenName = givenName
        self.familyName = familyName
        self.externalId = externalId
        self.employeeNumber = employeeNumber
        self.status = status
        self.lastLoginAt = lastLoginAt
        self.createdAt = createdAt
        self.attributes = attributes
    }

    public init(json: JSONValue, path: String) throws {
        let f = try JSONFields(json, path: path)
        id = try f.nonEmptyString("id")
        userName = try f.string("userName")
        email = try f.optionalString("email")
        displayName = try f.optionalString("displayName")
        givenName = try f.optionalString("givenName")
        familyName = try f.optionalString("familyName")
        externalId = try f.optionalString("externalId")
        employeeNumber = try f.optionalString("employeeNumber")
        let statusName = try f.optionalString("status") ?? "active"
        guard let s = AccountStatus(rawValue: statusName) else {
            throw ConnectorError(.invalidArgument, "\(f.childPath("status")): unknown status \"\(statusName)\" (expected active, disabled or pending)")
        }
        status = s
        lastLoginAt = try f.optionalString("lastLoginAt")
        createdAt = try f.optionalString("createdAt")
        attributes = try f.stringMap("attributes")
    }

    public var json: JSONValue {
        var b = JSONObjectBuilder(capacity: 12)
        b.set("id", id)
        b.set("userName", userName)
        b.set("email", email)
        b.set("displayName", displayName)
        b.set("givenName", givenName)
        b.set("familyName", familyName)
        b.set("externalId", externalId)
        b.set("employeeNumber", employeeNumber)
        b.set("status", status.rawValue)
        b.set("lastLoginAt", lastLoginAt)
        b.set("createdAt", createdAt)
        if !attributes.isEmpty { b.set("attributes", attributes.json) }
        return b.value
    }
}

public enum AccountStatus: String, Sendable, CaseIterable {
    case active
    case disabled
    /// Invited or being provisioned; not yet usable.
    case pending
}

/// Something an app can grant: a role tier, a group, a license.
public struct Entitlement: JSONConvertible, Hashable {
    public var type: String
    public var id: String
    public var name: String
    public var description: String?
    /// For single-valued types: higher means more privilege (Admin above Viewer).
    public var rank: Int?

    public init(type: String, id: String, name: String, description: String? = nil, rank: Int? = nil) {
        self.type = type
        self.id = id
        self.name = name
        self.description = description
        self.rank = rank
    }

    public init(json: JSONValue, path: String) throws {
        let f = try JSONFields(json, path: path)
        type = try f.nonEmptyString("type")
        id = try f.nonEmptyString("id")
        name = try f.string("name")
        description = try f.optionalString("description")
        rank = try f.optionalInt("rank")
    }

    public var json: JSONValue {
        var b = JSONObjectBuilder(capacity: 5)
        b.set("type", type)
        b.set("id", id)
        b.set("name", name)
        b.set("description", description)
        b.set("rank", rank)
        return b.value
    }
}

/// One account holding one entitlement.
public struct Grant: JSONConvertible, Hashable {
    public var accountId: String
    public var type: String
    public var entitlementId: String

    public init(accountId: String, type: String, entitlementId: String) {
        self.accountId = accountId
        self.type = type
        self.entitlementId = entitlementId
    }

    public init(json: JSONValue, path: String) throws {
        let f = try JSONFields(json, path: path)
        accountId = try f.nonEmptyString("accountId")
        type = try f.nonEmptyString("type")
        entitlementId = try f.nonEmptyString("entitlementId")
    }

    public var json: JSONValue {
        ["accountId": .string(accountId), "type": .string(type), "entitlementId": .string(entitlementId)]
    }
}
