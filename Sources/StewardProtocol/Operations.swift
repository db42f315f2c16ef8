// Params and results of the data methods.

/// Params of every `*/list` method. The cursor is opaque: the host passes back exactly what the
/// previous page returned.
public struct ListParams: JSONConvertible, Hashable {
    public var cursor: String?
    public var pageSize: Int?
    /// `entitlements/list` and `grants/list`: only this entitlement type.
    public var type: String?
    /// `grants/list`: only this account's grants.
    public var accountId: String?

    public init(cursor: String? = nil, pageSize: Int? = nil, type: String? = nil, accountId: String? = nil) {
        self.cursor = cursor
        self.pageSize = pageSize
        self.type = type
        self.accountId = accountId
    }

    public init(json: JSONValue, path: String) throws {
        let f = try JSONFields(json, path: path)
        cursor = try f.optionalString("cursor")
        pageSize = try f.optionalInt("pageSize")
        if let p = pageSize, p < 1 { throw ConnectorError(.invalidArgument, "\(f.childPath("pageSize")): must be at least 1") }
        type = try f.optionalString("type")
        accountId = try f.optionalString("accountId")
    }

    public var json: JSONValue {
        var b = JSONObjectBuilder(capacity: 4)
        b.set("cursor", cursor)
        b.set("pageSize", pageSize)
        b.set("type", type)
        b.set("accountId", accountId)
        return b.value
    }
}

/// One page of a listing; no `nextCursor` means it was the last.
public struct Page<Item: JSONConvertible>: JSONConvertible {
    public var items: [Item]
    public var nextCursor: String?

    public init(items: [Item], nextCursor: String? = nil) {
        self.items = items
        self.nextCursor = nextCursor
    }

    public init(json: JSONValue, path: String) throws {
        let f = try JSONFields(json, path: path)
        items = try f.decodeArray("items", of: Item.self)
        nextCursor = try f.optionalString("nextCursor")
    }

    public var json: JSONValue {
        var b = JSONObjectBuilder(capacity: 2)
        b.set("items", .array(items.map(\.json)))
        b.set("nextCursor", nextCursor)
        return b.value
    }
}

/// `accounts/get`: find one account by id or by a unique attribute. The host uses it to read
/// the target before deciding about a write whose outcome is unknown.
public struct AccountGetParams: JSONConvertible, Hashable {
    public var id: String?
    public var userName: String?
    public var email: String?
    public var externalId: String?
    public var employeeNumber: String?

    public init(id: String? = nil, userName: String? = nil, email: String? = nil, externalId: String? = nil, employeeNumber: String? = nil) {
        self.id = id
        self.userName = userName
        self.email = email
        self.externalId = externalId
        self.employeeNumber = employeeNumber
    }

    public init(json: JSONValue, path: String) throws {
        let f = try JSONFields(json, path: path)
        id = try f.optionalString("id")
        userName = try f.optionalString("userName")
        email = try f.optionalString("email")
        externalId = try f.optionalString("externalId")
        employeeNumber = try f.optionalString("employeeNumber")
        if id == nil && userName == nil && email == nil && externalId == nil && employeeNumber == nil {
            throw ConnectorError(.invalidArgument, "\(path.isEmpty ? "params" : path): one of id, userName, email, externalId, employeeNumber is required")
        }
    }

    public var json: JSONValue {
        var b = JSONObjectBuilder(capacity: 5)
        b.set("id", id)
        b.set("userName", userName)
        b.set("email", email)
        b.set("externalId", externalId)
        b.set("employeeNumber", employeeNumber)
        return b.value
    }
}

/// `accounts/get` result: `account` is absent when nothing matches.
public struct AccountGetResult: JSONConvertible {
    public var account: Account?

    public init(account: Account?) { self.account = account }

    public init(json: JSONValue, path: String) throws {
        account = try JSONFields(json, path: path).decodeIfPresent("account", as: Account.self)
    }

    public var json: JSONValue { account.map { ["account": $0.json] } ?? [:] }
}

/// What a new account should look like.
public struct AccountSpec: JSONConvertible, Hashable {
    public var userName: String
    public var email: String?
    public var displayName: String?
    public var givenName: String?
    public var familyName: String?
    public var externalId: String?
    public var employeeNumber: String?
    public var department: String?
    public var title: String?
    /// The manager's account id in this app, when known.
    public var managerId: String?
    public var attributes: [String: String]

    public init(userName: String, email: String? = nil, displayName: String? = nil, givenName: String? = nil,
                familyName: String? = nil, externalId: String? = nil, employeeNumber: String? = nil,
                department: String? = nil, title: String? = nil, managerId: String? = nil, attributes: [String: String] = [:]) {
        self.userName = userName
        self.email = email
        self.displayName = displayName
        self.givenName = givenName
        self.familyName = familyName
        self.externalId = externalId
        self.employeeNumber = employeeNumber
        self.department = department
        self.title = title
        self.managerId = managerId
        self.attributes = attributes
    }

    public init(json: JSONValue, path: String) throws {
        let f = try JSONFields(json, path: path)
        userName = try f.nonEmptyString("userName")
        email = try f.optionalString("email")
        displayName = try f.optionalString("displayName")
        givenName = try f.optionalString("givenName")
        familyName = try f.optionalString("familyName")
        externalId = try f.optionalString("externalId")
        employeeNumber = try f.optionalString("employeeNumber")
        department = try f.optionalString("department")
        title = try f.optionalString("title")
        managerId = try f.optionalString("managerId")
        attributes = try f.stringMap("attributes")
    }

    public var json: JSONValue {
        var b = JSONObjectBuilder(capacity: 11)
        b.set("userName", userName)
        b.set("email", email)
        b.set("displayName", displayName)
        b.set("givenName", givenName)
        b.set("familyName", familyName)
        b.set("externalId", externalId)
        b.set("employeeNumber", employeeNumber)
        b.set("department", department)
        b.set("title", title)
        b.set("managerId", managerId)
        if !attributes.isEmpty { b.set("attributes", attributes.json) }
        return b.value
    }
}

/// `accounts/create` params.
public struct AccountCreateParams: JSONConvertible, Hashable {
    public var idempotencyKey: String
    public var account: AccountSpec

    public init(idempotencyKey: String, account: AccountSpec) {
        self.idempotencyKey = idempotencyKey
        self.account = account
    }

    public init(json: JSONValue, path: String) throws {
        let f = try JSONFields(json, path: path)
        idempotencyKey = try f.nonEmptyString("idempotencyKey")
        account = try f.decode("account", as: AccountSpec.self)
    }

    public var json: JSONValue { ["idempotencyKey": .string(idempotencyKey), "account": account.json] }
}

/// `accounts/create` result.
public struct AccountCreateResult: JSONConvertible {
    public enum Status: String, Sendable {
        case created
        /// The account was there already (found by its unique attributes); `account` is it.
        case alreadyExists
        /// Someone must act (accept an invitation, approve a seat); `message` says what.
        case actionRequired
        /// The app provisions asynchronously; a later listing will show the account.
        case inProgress
    }

    public var status: Status
    public var account: Account?
    public var message: String?

    /// True when nothing had to change.
    public var alreadyApplied: Bool { status == .alreadyExists }

    public init(status: Status, account: Account? = nil, message: String? = nil) {
        self.status = status
        self.account = account
        self.message = message
    }

    public init(json: JSONValue, path: String) throws {
        let f = try JSONFields(json, path: path)
        let s = try f.string("status")
        guard let status = Status(rawValue: s) else {
            throw ConnectorError(.invalidArgument, "\(f.childPath("status")): unknown create status \"\(s)\"")
        }
        self.status = status
        account = try f.decodeIfPresent("account", as: Account.self)
        message = try f.optionalString("message")
    }

    public var json: JSONValue {
        var b = JSONObjectBuilder(capacity: 4)
        b.set("status", status.rawValue)
        b.set("alreadyApplied", alreadyApplied)
        b.set("account", account?.json)
        b.set("message", message)
        return b.value
    }
}

/// `accounts/update` params: `changes` maps attribute names (those of `AccountSpec`) to new
/// values; `null` clears one.
public struct AccountUpdateParams: JSONConvertible, Hashable {
    public var idempotencyKey: String
    public var id: String
    public var changes: [String: JSONValue]

    public init(idempotencyKey: String, id: String, changes: [String: JSONValue]) {
        self.idempotencyKey = idempotencyKey
        self.id = id
        self.changes = changes
    }

    public init(json: JSONValue, path: String) throws {
        let f = try JSONFields(json, path: path)
        idempotencyKey = try f.nonEmptyString("idempotencyKey")
        id = try f.nonEmptyString("id")
        changes = try f.objectValue("changes")
    }

    public var json: JSONValue { ["idempotencyKey": .string(idempotencyKey), "id": .string(id), "changes": .object(changes)] }
}

/// `accounts/disable`, `accounts/enable`, `accounts/delete` params.
public struct AccountRefParams: JSONConvertible, Hashable {
    public var idempotencyKey: String
    public var id: String

    public init(idempotencyKey: String, id: String) {
        self.idempotencyKey = idempotencyKey
        self.id = id
    }

    public init(json: JSONValue, path: String) throws {
        let f = try JSONFields(json, path: path)
        idempotencyKey = try f.nonEmptyString("idempotencyKey")
        id = try f.nonEmptyString("id")
    }

    public var json: JSONValue { ["idempotencyKey": .string(idempotencyKey), "id": .string(id)] }
}

/// `grants/add` and `grants/remove` params. For a single-valued type, `grants/add` replaces the
/// account's current value.
public struct GrantChangeParams: JSONConvertible, Hashable {
    public var idempotencyKey: String
    public var accountId: String
    public var type: String
    public var entitlementId: String

    public init(idempotencyKey: String, accountId: String, type: String, entitlementId: String) {
        self.idempotencyKey = idempotencyKey
        self.accountId = accountId
        self.type = type
        self.entitlementId = entitlementId
    }

    public init(json: JSONValue, path: String) throws {
        let f = try JSONFields(json, path: path)
        idempotencyKey = try f.nonEmptyString("idempotencyKey")
        accountId = try f.nonEmptyString("accountId")
        type = try f.nonEmptyString("type")
        entitlementId = try f.nonEmptyString("entitlementId")
    }

    public var json: JSONValue {
        ["idempotencyKey": .string(idempotencyKey), "accountId": .string(accountId), "type": .string(type),
         "entitlementId": .string(entitlementId)]
    }

    public var grant: Grant { Grant(accountId: accountId, type: type, entitlementId: entitlementId) }
}

/// Result of every write but `accounts/create`.
public struct MutationResult: JSONConvertible, Hashable {
    /// True when the target was already in the requested state and nothing changed.
    public var alreadyApplied: Bool
    /// The account after the change, when the connector has it at hand.
    public var account: Account?

    public init(alreadyApplied: Bool, account: Account? = nil) {
        self.alreadyApplied = alreadyApplied
        self.account = account
    }

    public init(json: JSONValue, path: String) throws {
        let f = try JSONFields(json, path: path)
        alreadyApplied = try f.bool("alreadyApplied", default: false)
        account = try f.decodeIfPresent("account", as: Account.self)
    }

    public var json: JSONValue {
        var b = JSONObjectBuilder(capacity: 2)
        b.set("alreadyApplied", alreadyApplied)
        b.set("account", account?.json)
        return b.value
    }
}

/// `notify/send` params: one message to one recipient (a reviewer, an app owner).
///
/// `subject`, `text` and `links` are all a connector must use. `template` names the message
/// (`review.launched`, `review.reminder`, …) so a channel can shape it, and `actions` are buttons a
/// chat channel may offer (Slack posts the pressed button's `value` back to `steward serve`);
/// mail ignores them and relies on the links.
public struct NotifyParams: JSONConvertible, Hashable {
    public var idempotencyKey: String
    public var to: String
    public var subject: String
    public var text: String
    /// Links the recipient acts on (a signed review page), by label.
    public var links: [String: String]
    public var template: String?
    public var actions: [NotifyAction]

    public init(idempotencyKey: String, to: String, subject: String, text: String, links: [String: String] = [:],
                template: String? = nil, actions: [NotifyAction] = []) {
        self.idempotencyKey = idempotencyKey
        self.to = to
        self.subject = subject
        self.text = text
        self.links = links
        self.template = template
        self.actions = actions
    }

    public init(json: JSONValue, path: String) throws {
        let f = try JSONFields(json, path: path)
        idempotencyKey = try f.nonEmptyString("idempotencyKey")
        to = try f.nonEmptyString("to")
        subject = try f.string("subject")
        text = try f.string("text")
        links = try f.stringMap("links")
        template = try f.optionalString("template")
        actions = f.has("actions") ? try f.decodeArray("actions", of: NotifyAction.self) : []
    }

    public var json: JSONValue {
        var b = JSONObjectBuilder(capacity: 7)
        b.set("idempotencyKey", idempotencyKey)
        b.set("to", to)
        b.set("subject", subject)
        b.set("text", text)
        if !links.isEmpty { b.set("links", links.json) }
        b.set("template", template)
        if !actions.isEmpty { b.set("actions", .array(actions.map(\.json))) }
        return b.value
    }
}

/// A button in a chat message: `label` shown, `value` sent back when pressed (opaque to the
/// connector), `style` `primary` or `danger` where the channel has styles.
public struct NotifyAction: JSONConvertible, Hashable {
    public var id: String
    public var label: String
    public var value: String
    public var style: String?

    public init(id: String, label: String, value: String, style: String? = nil) {
        self.id = id
        self.label = label
        self.value = value
        self.style = style
    }

    public init(json: JSONValue, path: String) throws {
        let f = try JSONFields(json, path: path)
        id = try f.nonEmptyString("id")
        label = try f.nonEmptyString("label")
        value = try f.string("value")
        style = try f.optionalString("style")
    }

    public var json: JSONValue {
        var b = JSONObjectBuilder(capacity: 4)
        b.set("id", id)
        b.set("label", label)
        b.set("value", value)
        b.set("style", style)
        return b.value
    }
}

extension Page: Equatable where Item: Equatable {}
