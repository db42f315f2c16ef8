import StewardProtocol

/// The access rules in `steward.json`: per-app governance settings, roles, policies, approved
/// exceptions and the source feed's safety rail.
///
/// ```json5
/// apps: [ { id: "crm", mode: "enforce", correlate: ["employeeNumber", "email", "userName"],
///           deprovision: { action: "disable", deleteAfterDays: 30, maxPercent: 10 }, orphans: "report" } ],
/// roles: { "sales-rep": [ { app: "crm", entitlements: ["role:User", "group:sales"] } ] },
/// policies: [ { id: "sales", when: { department: ["Sales"] }, roles: ["sales-rep"] },
///             { id: "contractors", when: { employmentType: ["Contractor"] },
///               grant: [ { app: "crm", entitlements: ["role:Viewer"], pin: true } ] } ],
/// exceptions: [ { id: "CHG-1042", person: "E1001", app: "crm", entitlements: ["group:finance"],
///                 until: "2026-06-30", reason: "quarter close" } ],
/// source: { maxShrinkPercent: 20 }
/// ```
/// Reading never guesses: unknown keys inside rules, unknown apps and roles, and malformed
/// entitlement names are `ConfigError`s naming the key path.
public struct GovernanceConfig: Sendable, Hashable {
    public var apps: [AppSettings]
    /// Sorted by name.
    public var roles: [Role]
    public var policies: [Policy]
    public var exceptions: [AccessException]
    public var source: SourceSettings
    /// Access review campaigns that can be started by name.
    public var reviews: [ReviewDefinition]
    /// Named groups of reviewers (`group:NAME`), by e-mail.
    public var reviewerGroups: [String: [String]]
    /// `findings`: what plans do with discovery findings.
    public var findingActions = FindingActions()

    public init(apps: [AppSettings], roles: [Role] = [], policies: [Policy] = [], exceptions: [AccessException] = [],
                source: SourceSettings = SourceSettings(), reviews: [ReviewDefinition] = [], reviewerGroups: [String: [String]] = [:]) {
        self.apps = apps
        self.roles = roles.sorted { $0.name < $1.name }
        self.policies = policies
        self.exceptions = exceptions
        self.source = source
        self.reviews = reviews
        self.reviewerGroups = reviewerGroups
    }

    public func review(_ id: String) -> ReviewDefinition? { reviews.first { $0.id == id } }

    public func app(_ id: String) -> AppSettings? { apps.first { $0.id == id } }

    public func role(named name: String) -> Role? { roles.first { $0.name == name } }

    /// Reads the whole parsed `steward.json`; keys that are not about access rules are left to
    /// their readers.
    public init(json root: JSONValue) throws {
        let node = ConfigNode(root)
        guard case .object = root else { throw node.expected("an object") }

        var apps: [AppSettings] = []
        var firstPathOfApp: [String: String] = [:]
        for element in try node.child("apps").elements() {
            _ = try element.members()
            let settings = try AppSettings(config: element)
            if let earlier = firstPathOfApp[settings.id] {
                throw element.child("id").error("duplicate app id \"\(settings.id)\" (also \(earlier))")
            }
            firstPathOfApp[settings.id] = element.path
            apps.append(settings)
        }
        let knownApps = Set(apps.map(\.id))

        var roles: [Role] = []
        let rolesNode = node.child("roles")
        if !rolesNode.isMissing {
            for (name, roleNode) in try rolesNode.members() {
                if name.trimmingSpaces.isEmpty { throw roleNode.error("role name must not be empty") }
                guard case .array = roleNode.value else { throw roleNode.expected("a list of {app, entitlements}") }
                let grants = try roleNode.elements().map { try GrantRule(config: $0, knownApps: knownApps) }
                roles.append(Role(name: name, grants: grants))
            }
        }
        let knownRoles = Set(roles.map(\.name))

        var policies: [Policy] = []
        var firstPathOfPolicy: [String: String] = [:]
        for element in try node.child("policies").elements() {
            let policy = try Policy(config: element, knownApps: knownApps, knownRoles: knownRoles)
            if let earlier = firstPathOfPolicy[policy.id] {
                throw element.child("id").error("duplicate policy id \"\(policy.id)\" (also \(earlier))")
            }
            firstPathOfPolicy[policy.id] = element.path
            policies.append(policy)
        }

        let exceptions = try node.child("exceptions").elements().enumerated().map { i, element in
            try AccessException(config: element, index: i, knownApps: knownApps)
        }

        let sourceNode = node.child("source")
        if !sourceNode.isMissing { _ = try sourceNode.members() }
        let source = SourceSettings(maxShrinkPercent: try sourceNode.child("maxShrinkPercent").optionalNumber(in: 0...100)
            ?? SourceSettings.defaultMaxShrinkPercent)

        let groups = try StewardCore.reviewerGroups(config: node.child("reviewerGroups"))
        var reviews: [ReviewDefinition] = []
        for element in try node.child("reviews").elements() {
            let review = try ReviewDefinition(config: element, knownApps: knownApps, groups: groups)
            if reviews.contains(where: { $0.id == review.id }) { throw element.child("id").error("duplicate review id \"\(review.id)\"") }
            reviews.append(review)
        }

        self.init(apps: apps, roles: roles, policies: policies, exceptions: exceptions, source: source, reviews: reviews,
                  reviewerGroups: groups)
        findingActions = try FindingActions(config: node.child("findings"))
    }
}

/// Safety settings about the HR feed.
public struct SourceSettings: Sendable, Hashable {
    /// A plan following a feed that lost more than this share of its people since the last
    /// snapshot is blocked: a truncated HR export must never wipe a company.
    public var maxShrinkPercent: Double

    public static let defaultMaxShrinkPercent = 20.0

    public init(maxShrinkPercent: Double = SourceSettings.defaultMaxShrinkPercent) {
        self.maxShrinkPercent = maxShrinkPercent
    }
}
