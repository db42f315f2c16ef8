import StewardProtocol

/// Birthright access: the people a policy's `when` matches get its grants and roles.
///
/// Scope: a policy whose `when` does not mention `status` applies to people who are active or on
/// leave. A policy that mentions `status` decides its scope itself, for example
/// `status: ["pending", "active"]` to provision before the start date. People who have left get
/// nothing from any policy.
public struct Policy: Sendable, Hashable {
    public var id: String
    public var when: Condition
    public var grants: [GrantRule]
    /// Names of roles in `PolicySet.roles`.
    public var roles: [String]

    public init(id: String, when: Condition = .everyone, grants: [GrantRule] = [], roles: [String] = []) {
        self.id = id
        self.when = when
        self.grants = grants
        self.roles = roles
    }
}

/// A named bundle of app entitlements, so policies speak in jobs (`sales-rep`) instead of groups.
public struct Role: Sendable, Hashable {
    public var name: String
    public var grants: [GrantRule]

    public init(name: String, grants: [GrantRule]) {
        self.name = name
        self.grants = grants
    }
}

/// Access in one app: an account, holding these entitlements (none means just the account).
public struct GrantRule: Sendable, Hashable {
    public var app: String
    public var entitlements: [EntitlementName]
    /// Pinned single-valued entitlements (role tiers) win over unpinned ones even when less
    /// privileged, for rules like "contractors are always Viewer". Among pinned values the most
    /// privileged wins.
    public var pin: Bool
    /// Where the rule is written in the config (`policies[1].grant[0]`), for errors.
    public var source: RuleSource

    public init(app: String, entitlements: [EntitlementName], pin: Bool = false, source: RuleSource = RuleSource()) {
        self.app = app
        self.entitlements = entitlements
        self.pin = pin
        self.source = source
    }
}

/// The config path a rule was read from. Equality ignores it on purpose: moving a rule within
/// the file changes no access, so it must not read as a policy change.
public struct RuleSource: Sendable, Hashable {
    public var path: String?

    public init(_ path: String? = nil) { self.path = path }

    /// The path of the `index`th entitlement name of the rule.
    public func entitlement(_ index: Int) -> String? { path.map { "\($0).entitlements[\(index)]" } }

    public static func == (_: RuleSource, _: RuleSource) -> Bool { true }
    public func hash(into hasher: inout Hasher) {}
}

/// An approved grant outside the policies for one person, optionally until a day (inclusive):
/// time-bound access that lapses by itself.
public struct AccessException: Sendable, Hashable {
    public var id: String
    public var personId: String
    public var app: String
    public var entitlements: [EntitlementName]
    public var until: CalendarDay?
    public var reason: String?
    /// Who approved it and where (a ticket), for the auditor.
    public var approvedBy: String?
    public var ticket: String?
    /// Where it is written in the config (`exceptions[0]`), for errors.
    public var source: RuleSource

    public init(id: String, personId: String, app: String, entitlements: [EntitlementName], until: CalendarDay? = nil,
                reason: String? = nil, approvedBy: String? = nil, ticket: String? = nil, source: RuleSource = RuleSource()) {
        self.id = id
        self.personId = personId
        self.app = app
        self.entitlements = entitlements
        self.until = until
        self.reason = reason
        self.approvedBy = approvedBy
        self.ticket = ticket
        self.source = source
    }

    /// Whether it still grants access on `day`.
    public func isValid(on day: CalendarDay) -> Bool { until.map { day <= $0 } ?? true }
}

// MARK: - Reading from config

extension GrantRule {
    static let keys = ["app", "entitlements", "pin"]

    init(config node: ConfigNode, knownApps: Set<String>?) throws {
        _ = try node.members(allowedKeys: GrantRule.keys)
        let appNode = node.child("app")
        app = try appNode.nonEmptyString()
        if let knownApps, !knownApps.contains(app) {
            throw appNode.error("unknown app \"\(app)\" (configured apps: \(knownApps.sorted().joined(separator: ", ")))")
        }
        entitlements = try parseEntitlementNames(node.child("entitlements"))
        pin = try node.child("pin").optionalBool() ?? false
        source = RuleSource(node.path)
    }
}

/// `["role:Admin", "group:sales"]`, each checked for the `type:name` form.
func parseEntitlementNames(_ node: ConfigNode) throws -> [EntitlementName] {
    try node.elements().map { element in
        let text = try element.string()
        guard let name = EntitlementName(parsing: text) else {
            throw element.error("expected \"type:name\" (like \"role:Admin\" or \"group:sales\"), got \"\(text)\"")
        }
        return name
    }
}

extension Policy {
    static let keys = ["id", "description", "when", "grant", "roles"]

    init(config node: ConfigNode, knownApps: Set<String>?, knownRoles: Set<String>) throws {
        _ = try node.members(allowedKeys: Policy.keys)
        id = try node.child("id").nonEmptyString()
        _ = try node.child("description").optionalString()
        when = try Condition(config: node.child("when"))
        grants = try node.child("grant").elements().map { try GrantRule(config: $0, knownApps: knownApps) }
        let rolesNode = node.child("roles")
        if case .string = rolesNode.value { throw rolesNode.expected("a list of role names") }
        roles = try rolesNode.elements().map { element in
            let name = try element.nonEmptyString()
            guard knownRoles.contains(name) else {
                throw element.error("unknown role \"\(name)\"" + (knownRoles.isEmpty ? " (no roles are defined)" : " (defined roles: \(knownRoles.sorted().joined(separator: ", ")))"))
            }
            return name
        }
        if grants.isEmpty && roles.isEmpty { throw node.error("policy \"\(id)\" grants nothing: add \"grant\" or \"roles\"") }
    }
}

extension AccessException {
    static let keys = ["id", "person", "app", "entitlements", "until", "reason", "approvedBy", "ticket"]

    init(config node: ConfigNode, index: Int, knownApps: Set<String>?) throws {
        _ = try node.members(allowedKeys: AccessException.keys)
        id = try node.child("id").optionalString() ?? "exceptions[\(index)]"
        personId = try node.child("person").nonEmptyString()
        let appNode = node.child("app")
        app = try appNode.nonEmptyString()
        if let knownApps, !knownApps.contains(app) { throw appNode.error("unknown app \"\(app)\"") }
        entitlements = try parseEntitlementNames(node.child("entitlements"))
        let untilNode = node.child("until")
        if let text = try untilNode.optionalString() {
            guard let day = CalendarDay(iso: text) else { throw untilNode.error("expected a date like \"2026-06-30\", got \"\(text)\"") }
            until = day
        } else {
            until = nil
        }
        reason = try node.child("reason").optionalString()
        approvedBy = try node.child("approvedBy").optionalString()
        ticket = try node.child("ticket").optionalString()
        source = RuleSource(node.path)
    }
}
