import StewardProtocol

/// How Steward governs one app: the per-app keys of `apps[i]` in `steward.json` that the
/// planner needs (the host reads `plugin`, `settings` and `secrets`).
public struct AppSettings: Sendable, Hashable {
    public var id: String
    public var mode: Mode
    /// Rules tried in order to link an account to a person.
    public var correlate: [CorrelationRule]
    public var deprovision: DeprovisionSettings
    public var orphans: OrphanHandling
    /// Entitlement types Steward owns in this app: only these are revoked when nothing grants
    /// them. Nil means the types that roles, policies and exceptions name for the app, so an app
    /// whose licenses no rule mentions keeps its licenses.
    public var manage: [String]?
    /// What a new account's `userName` is.
    public var userName: UserNameSource
    /// Account attributes kept equal to HR. Only attributes the app reports are compared, so an
    /// app that does not return one is not updated forever.
    public var updateAttributes: [AccountAttribute]
    /// Who answers for the app (an e-mail): the `appOwner` reviewer.
    public var owner: String?
    /// Who answers for particular entitlements: the `entitlementOwner` reviewer, first match wins.
    public var entitlementOwners: [EntitlementOwner] = []
    /// Entitlements that count as privileged access (`role:admin`, `group:prod-*`).
    public var privileged: [EntitlementPattern] = []
    /// What `steward discover` looks for in this app's accounts.
    public var discovery = DiscoverySettings()

    /// Whether `type:name` is privileged here.
    public func isPrivileged(type: String, name: String) -> Bool {
        privileged.contains { $0.matches(type: type, name: name) }
    }

    /// The entitlement owner of `type:name`, if the app names one.
    public func entitlementOwner(type: String, name: String) -> String? {
        entitlementOwners.first { $0.pattern.matches(type: type, name: name) }?.owner
    }

    public enum Mode: String, Sendable, CaseIterable {
        /// Plans are applied.
        case enforce
        /// Plans show what would change; nothing is ever applied.
        case observe
    }

    public enum OrphanHandling: String, Sendable, CaseIterable {
        /// Accounts linked to nobody are listed as findings and left alone.
        case report
        /// They are disabled (then deleted after `deleteAfterDays`).
        case disable
    }

    public enum UserNameSource: String, Sendable, CaseIterable {
        case email
        case emailLocalPart
        /// The HR employee id.
        case id
    }

    public init(id: String, mode: Mode = .enforce, correlate: [CorrelationRule] = CorrelationRule.defaultOrder,
                deprovision: DeprovisionSettings = DeprovisionSettings(), orphans: OrphanHandling = .report,
                manage: [String]? = nil, userName: UserNameSource = .email,
                updateAttributes: [AccountAttribute] = AccountAttribute.allCases) {
        self.id = id
        self.mode = mode
        self.correlate = correlate
        self.deprovision = deprovision
        self.orphans = orphans
        self.manage = manage
        self.userName = userName
        self.updateAttributes = updateAttributes
    }
}

/// Who answers for the entitlements a pattern names, in reviews.
public struct EntitlementOwner: Sendable, Hashable {
    public var pattern: EntitlementPattern
    /// An e-mail address.
    public var owner: String
}

/// What happens to accounts nobody should have any more.
public struct DeprovisionSettings: Sendable, Hashable {
    public var action: Action
    /// Delete an account this many days after it was disabled; nil never deletes.
    public var deleteAfterDays: Int?
    /// Safety rail: a plan disabling or deleting more than this share of the app's accounts is
    /// blocked. One account alone never trips it.
    public var maxPercent: Double

    public enum Action: String, Sendable, CaseIterable {
        case disable
        /// Delete at once, for apps where a disabled account still costs a seat.
        case delete
    }

    public static let defaultMaxPercent = 10.0

    public init(action: Action = .disable, deleteAfterDays: Int? = nil, maxPercent: Double = DeprovisionSettings.defaultMaxPercent) {
        self.action = action
        self.deleteAfterDays = deleteAfterDays
        self.maxPercent = maxPercent
    }
}

/// How an account is linked to a person, tried in the order an app lists them.
public enum CorrelationRule: String, Sendable, CaseIterable {
    /// The account's `employeeNumber` is the person's id.
    case employeeNumber
    /// The account's `externalId` is the person's id.
    case externalId
    /// The account's email is the person's, ignoring case.
    case email
    /// The account's `userName` is the person's email or its local part, ignoring case.
    case userName

    public static let defaultOrder: [CorrelationRule] = [.employeeNumber, .externalId, .email, .userName]
}

/// An account attribute Steward can keep equal to HR.
public enum AccountAttribute: String, Sendable, CaseIterable {
    case email, displayName, givenName, familyName, department, title
}

// MARK: - Reading from config

extension AppSettings {
    /// Keys of an app entry the planner reads; the host reads the rest.
    static let plannerKeys = ["mode", "correlate", "deprovision", "orphans", "manage", "userName", "updateAttributes",
                              "owner", "entitlementOwners", "privileged", "dormantAfterDays", "licence", "serviceAccounts"]

    init(config node: ConfigNode) throws {
        id = try node.child("id").nonEmptyString()
        mode = try node.child("mode").optionalChoice(Mode.self) ?? .enforce
        let correlateNode = node.child("correlate")
        if correlateNode.isMissing {
            correlate = CorrelationRule.defaultOrder
        } else {
            correlate = try correlateNode.elements().map { element in
                guard let rule = try element.optionalChoice(CorrelationRule.self) else { throw element.error("required, expected a string") }
                return rule
            }
            if correlate.isEmpty { throw correlateNode.error("needs at least one rule, or leave it out for the default order") }
        }
        deprovision = try DeprovisionSettings(config: node.child("deprovision"))
        orphans = try node.child("orphans").optionalChoice(OrphanHandling.self) ?? .report
        let manageNode = node.child("manage")
        manage = manageNode.isMissing ? nil : try manageNode.elements().map { try $0.nonEmptyString() }
        userName = try node.child("userName").optionalChoice(UserNameSource.self) ?? .email
        let updateNode = node.child("updateAttributes")
        if updateNode.isMissing {
            updateAttributes = AccountAttribute.allCases
        } else {
            updateAttributes = try updateNode.elements().map { element in
                guard let a = try element.optionalChoice(AccountAttribute.self) else { throw element.error("required, expected a string") }
                return a
            }
        }
        let ownerNode = node.child("owner")
        owner = try ownerNode.optionalString().map { try reviewerEmail($0, at: ownerNode) }
        for (key, child) in try node.child("entitlementOwners").optionalMembers() {
            guard let pattern = EntitlementPattern(key) else { throw child.error("expected \"type:name\" (a * matches anything), got \"\(key)\"") }
            entitlementOwners.append(EntitlementOwner(pattern: pattern, owner: try reviewerEmail(try child.nonEmptyString(), at: child)))
        }
        privileged = try node.child("privileged").elements().map { element in
            let text = try element.nonEmptyString()
            guard let pattern = EntitlementPattern(text) else { throw element.error("expected \"type:name\" (a * matches anything), got \"\(text)\"") }
            return pattern
        }
        discovery = try DiscoverySettings(config: node)
    }
}

extension DeprovisionSettings {
    init(config node: ConfigNode) throws {
        try node.requireObject(allowedKeys: ["action", "deleteAfterDays", "maxPercent"])
        action = try node.child("action").optionalChoice(Action.self) ?? .disable
        deleteAfterDays = try node.child("deleteAfterDays").optionalInt(in: 0...36_500)
        maxPercent = try node.child("maxPercent").optionalNumber(in: 0...100) ?? DeprovisionSettings.defaultMaxPercent
    }
}
