/// What a connector can do, declared in its `initialize` answer and never guessed.
///
/// ```json
/// {"persons": {"list": true},
///  "accounts": {"list": true, "get": true, "create": true, "disable": true},
///  "entitlementTypes": [{"type": "role", "cardinality": "single", "list": true, "grant": true}],
///  "grants": {"list": true}, "notify": {"send": true}, "validate": true}
/// ```
/// Unknown members are ignored, so later minor versions can add capabilities.
public struct Capabilities: JSONConvertible, Hashable {
    public var personsList: Bool
    public var accounts: Set<AccountOperation>
    public var entitlementTypes: [EntitlementTypeCapability]
    public var grantsList: Bool
    public var notifySend: Bool
    public var validate: Bool
    /// `{"evidence": {"list": true}}`: a discovery source.
    public var evidenceList: Bool

    public init(personsList: Bool = false, accounts: Set<AccountOperation> = [],
                entitlementTypes: [EntitlementTypeCapability] = [], grantsList: Bool = false,
                notifySend: Bool = false, validate: Bool = false, evidenceList: Bool = false) {
        self.personsList = personsList
        self.accounts = accounts
        self.entitlementTypes = entitlementTypes
        self.grantsList = grantsList
        self.notifySend = notifySend
        self.validate = validate
        self.evidenceList = evidenceList
    }

    public func entitlementType(_ type: String) -> EntitlementTypeCapability? {
        entitlementTypes.first { $0.type == type }
    }

    /// Whether a request for `method` is covered by these capabilities. Lifecycle methods are
    /// always supported; `entitlements/list` and grant changes need a type that allows them.
    public func supports(method: String) -> Bool {
        switch method {
        case Method.initialize, Method.shutdown, Method.ping: return true
        case Method.validate: return validate
        case Method.personsList: return personsList
        case Method.entitlementsList: return entitlementTypes.contains { $0.list }
        case Method.grantsList: return grantsList
        case Method.grantsAdd: return entitlementTypes.contains { $0.grant }
        case Method.grantsRemove: return entitlementTypes.contains { $0.revoke }
        case Method.notifySend: return notifySend
        case Method.evidenceList: return evidenceList
        default:
            if let op = AccountOperation(method: method) { return accounts.contains(op) }
            return false
        }
    }

    /// Every method these capabilities cover, sorted, for `plugins list` and conformance checks.
    public var methods: [String] {
        let all = [Method.validate, Method.personsList, Method.entitlementsList, Method.grantsList, Method.grantsAdd,
                   Method.grantsRemove, Method.notifySend, Method.evidenceList] + AccountOperation.allCases.map(\.method)
        return all.filter { supports(method: $0) }.sorted()
    }

    public init(json: JSONValue, path: String) throws {
        let f = try JSONFields(json, path: path)
        personsList = try JSONFields(f.object["persons"] ?? [:], path: f.childPath("persons")).bool("list", default: false)
        let accountFields = try JSONFields(f.object["accounts"] ?? [:], path: f.childPath("accounts"))
        var ops: Set<AccountOperation> = []
        for op in AccountOperation.allCases where try accountFields.bool(op.rawValue, default: false) { ops.insert(op) }
        accounts = ops
        entitlementTypes = try f.decodeArray("entitlementTypes", of: EntitlementTypeCapability.self)
        grantsList = try JSONFields(f.object["grants"] ?? [:], path: f.childPath("grants")).bool("list", default: false)
        notifySend = try JSONFields(f.object["notify"] ?? [:], path: f.childPath("notify")).bool("send", default: false)
        validate = try f.bool("validate", default: false)
        evidenceList = try JSONFields(f.object["evidence"] ?? [:], path: f.childPath("evidence")).bool("list", default: false)
    }

    public var json: JSONValue {
        var b = JSONObjectBuilder()
        if personsList { b.set("persons", ["list": true]) }
        if !accounts.isEmpty {
            b.set("accounts", .object(Dictionary(uniqueKeysWithValues: accounts.map { ($0.rawValue, JSONValue.bool(true)) })))
        }
        if !entitlementTypes.isEmpty { b.set("entitlementTypes", .array(entitlementTypes.map(\.json))) }
        if grantsList { b.set("grants", ["list": true]) }
        if notifySend { b.set("notify", ["send": true]) }
        if validate { b.set("validate", true) }
        if evidenceList { b.set("evidence", ["list": true]) }
        return b.value
    }
}

/// The account operations a connector may offer.
public enum AccountOperation: String, Sendable, CaseIterable, Hashable {
    case list, get, create, update, disable, enable, delete

    public var method: String { "accounts/" + rawValue }

    public init?(method: String) {
        guard method.hasPrefix("accounts/") else { return nil }
        self.init(rawValue: String(method.dropFirst("accounts/".count)))
    }
}

/// One kind of entitlement an app has and what can be done with it.
public struct EntitlementTypeCapability: JSONConvertible, Hashable {
    public var type: String
    public var cardinality: Cardinality
    public var list: Bool
    public var grant: Bool
    public var revoke: Bool
    /// For single-valued types with a fixed set of values: their names, most privileged first.
    public var values: [String]?

    public enum Cardinality: String, Sendable {
        /// One value per account, like a role tier: granting a new value replaces the old.
        case single
        /// Any number per account, like groups or licenses.
        case multi
    }

    public init(type: String, cardinality: Cardinality, list: Bool = true, grant: Bool = true, revoke: Bool = true, values: [String]? = nil) {
        self.type = type
        self.cardinality = cardinality
        self.list = list
        self.grant = grant
        self.revoke = revoke
        self.values = values
    }

    public init(json: JSONValue, path: String) throws {
        let f = try JSONFields(json, path: path)
        type = try f.nonEmptyString("type")
        let c = try f.optionalString("cardinality") ?? "multi"
        guard let cardinality = Cardinality(rawValue: c) else {
            throw ConnectorError(.invalidArgument, "\(f.childPath("cardinality")): expected \"single\" or \"multi\", got \"\(c)\"")
        }
        self.cardinality = cardinality
        list = try f.bool("list", default: false)
        grant = try f.bool("grant", default: false)
        revoke = try f.bool("revoke", default: false)
        values = f.has("values") ? try f.stringArray("values") : nil
    }

    public var json: JSONValue {
        var b = JSONObjectBuilder()
        b.set("type", type)
        b.set("cardinality", cardinality.rawValue)
        b.set("list", list)
        b.set("grant", grant)
        b.set("revoke", revoke)
        if let values { b.set("values", .array(values.map { .string($0) })) }
        return b.value
    }
}
