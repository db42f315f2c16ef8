import StewardProtocol

/// What each person should hold in each app, and which rules say so: the result of policies,
/// roles and approved exceptions over the HR feed.
///
/// Policies are evaluated once per distinct combination of the attributes they look at (a
/// "profile": department, title, ... and standing), not once per person, and people with the
/// same profile share one stored answer per app. A person with an exception gets their own.
public struct DesiredState: Sendable {
    /// App ids in config order; app parameters below are positions in it.
    public let appIds: [String]
    public let directory: PersonDirectory
    /// Problems met while resolving rules: unknown entitlement names, tiers without an order,
    /// exceptions for unknown people or past their date.
    public let findings: [PlanFinding]
    /// Per app, the entitlements it lists (empty without an inventory).
    let catalogs: [[Entitlement]]
    /// Per person: profile, or nil when they should have nothing anywhere (left, or not in scope).
    let personProfile: [Int32?]
    let tables: [AppTable]
    /// Per app: people whose exceptions or review decisions give them their own answer; nil:
    /// no account there (a review revoked it).
    let personal: [[Int32: AppDesire?]]
    /// Per app, the entitlement types Steward manages (see `AppSettings.manage`).
    public let managedTypes: [Set<String>]

    /// One person's access in one app: an account, these entitlements (sorted indices into the
    /// app inventory's `entitlements`), and the rules behind each.
    public struct AppDesire: Sendable, Hashable {
        public var accountJustifications: [Justification]
        public var entitlements: [Int32]
        /// Parallel to `entitlements`.
        public var justifications: [[Justification]]

        public func contains(_ entitlement: Int32) -> Bool { binarySearch(entitlements, entitlement) }

    }

    /// Entitlement index with the rules granting it, named for people reading.
    public struct DesiredEntitlement: Sendable, Hashable {
        public var entitlement: EntitlementRef
        public var justifications: [Justification]
    }

    struct AppTable: Sendable {
        var desires: [AppDesire] = []
        /// Per profile, index into `desires`, or nil: no account in this app.
        var byProfile: [Int32?] = []
    }

    public init(config: GovernanceConfig, directory: PersonDirectory, inventories: [AppInventory], today: CalendarDay,
                extraExceptions: [AccessException] = [], reviewDecisions: [ReviewDecisionOverride] = []) {
        var inventoryById: [String: AppInventory] = [:]
        for inventory in inventories { inventoryById[inventory.appId] = inventory }
        var compiler = RuleCompiler(config: config, inventories: config.apps.map { inventoryById[$0.id] })

        let profiles = Profiles(directory: directory, attributes: config.policies.flatMap(\.when.attributes))

        // Evaluate every policy once per profile, on a person who has it.
        let appCount = config.apps.count
        var tables = [AppTable](repeating: AppTable(), count: appCount)
        // Many profiles match the same rules in an app (everyone's birthright, a department's
        // role): resolve each distinct set of grants once.
        var resolved = [[[Int]: Int32]](repeating: [:], count: appCount)
        var profileGrants: [[Int]] = []
        profileGrants.reserveCapacity(profiles.count)
        for t in tables.indices { tables[t].byProfile = [Int32?](repeating: nil, count: profiles.count) }
        for (profileId, representative) in profiles.representatives.enumerated() {
            let person = directory.people[representative]
            var matched: [Int] = []
            for (p, policy) in config.policies.enumerated() {
                if !policy.when.mentionsStatus && profiles.isPending[profileId] { continue }
                if policy.when.matches(person) { matched.append(contentsOf: compiler.grantsOfPolicy[p]) }
            }
            profileGrants.append(matched)
            for (app, grantIndices) in groupByApp(matched, compiler.grants) {
                let index: Int32
                if let existing = resolved[app][grantIndices] {
                    index = existing
                } else {
                    index = Int32(tables[app].desires.count)
                    tables[app].desires.append(compiler.resolve(grantIndices.map { compiler.grants[$0] }, app: app))
                    resolved[app][grantIndices] = index
                }
                tables[app].byProfile[profileId] = index
            }
        }

        // Exceptions: the person's policy grants in that app plus the exception, resolved together.
        var personal = [[Int32: AppDesire?]](repeating: [:], count: appCount)
        let appPosition = Dictionary(uniqueKeysWithValues: config.apps.enumerated().map { ($1.id, $0) })
        var exceptionGrants: [PersonApp: [CompiledGrant]] = [:]
        for exception in config.exceptions + extraExceptions {
            guard let app = appPosition[exception.app] else { continue }
            guard let p = directory.index(of: exception.personId) else {
                compiler.findings.append(PlanFinding(.unknownPerson, severity: .warning, app: exception.app, personId: exception.personId,
                                                     message: "exception \(exception.id) names person \(exception.personId), who is not in the HR feed"))
                continue
            }
            guard exception.isValid(on: today) else {
                compiler.findings.append(PlanFinding(.expiredException, severity: .info, app: exception.app, personId: exception.personId,
                                                     message: "exception \(exception.id) ended on \(exception.until.map(String.init(describing:)) ?? "?"); it grants nothing now"))
                continue
            }
            if directory.standings[p].hasLeft { continue }
            let grant = compiler.compile(GrantRule(app: exception.app, entitlements: exception.entitlements, source: exception.source),
                                         justification: .exception(exception.id, until: exception.until),
                                         rule: "exception \(exception.id)")
            exceptionGrants[PersonApp(person: Int32(p), app: app), default: []].append(grant)
        }
        for (key, extra) in exceptionGrants {
            let base = profiles.ofPerson[Int(key.person)].map { profile in
                profileGrants[Int(profile)].map { compiler.grants[$0] }.filter { $0.app == key.app }
            } ?? []
            personal[key.app][key.person] = compiler.resolve(base + extra, app: key.app)
        }

        // Review decisions: applied to whatever the rules gave the person, kept until reviewed again.
        var decisions: [PersonApp: [ReviewDecisionOverride]] = [:]
        for d in reviewDecisions {
            guard let app = appPosition[d.app], let p = directory.index(of: d.personId), !directory.standings[p].hasLeft else { continue }
            decisions[PersonApp(person: Int32(p), app: app), default: []].append(d)
        }
        for (key, overrides) in decisions {
            let current = personal[key.app][key.person].flatMap { $0 }
                ?? profiles.ofPerson[Int(key.person)].flatMap { tables[key.app].byProfile[Int($0)] }.map { tables[key.app].desires[Int($0)] }
                ?? DesiredState.AppDesire(accountJustifications: [], entitlements: [], justifications: [])
            let inventory = compiler.inventories[key.app]
            let desire = current.applying(overrides, inventory: inventory)
            personal[key.app][key.person] = .some(desire.flatMap { $0.accountJustifications.isEmpty && $0.entitlements.isEmpty ? nil : $0 })
        }

        self.appIds = config.apps.map(\.id)
        self.directory = directory
        self.catalogs = compiler.inventories.map { $0?.entitlements ?? [] }
        self.personProfile = profiles.ofPerson
        self.tables = tables
        self.personal = personal
        self.managedTypes = config.apps.map { app in app.manage.map(Set.init) ?? compiler.mentionedTypes[app.id] ?? [] }
        self.findings = compiler.findings
    }

    /// What person `person` (directory index) should have in app `app` (position); nil: no account.
    public func desire(person: Int, app: Int) -> AppDesire? {
        if !personal[app].isEmpty, let own = personal[app][Int32(person)] { return own }
        guard let profile = personProfile[person], let index = tables[app].byProfile[Int(profile)] else { return nil }
        return tables[app].desires[Int(index)]
    }

    /// Every app where the person should have an account, with named entitlements and their
    /// rules: for `steward person show`.
    public func desiredAccess(ofPerson id: String) -> [(app: String, account: [Justification], entitlements: [DesiredEntitlement])] {
        guard let p = directory.index(of: id) else { return [] }
        return appIds.indices.compactMap { a in
            guard let desire = desire(person: p, app: a) else { return nil }
            let named = zip(desire.entitlements, desire.justifications).map { e, j in
                DesiredEntitlement(entitlement: EntitlementRef(catalogs[a][Int(e)]), justifications: j)
            }
            return (appIds[a], desire.accountJustifications, named)
        }
    }

    /// How many distinct attribute combinations the policies had to be evaluated for.
    public var profileCount: Int { tables.first?.byProfile.count ?? 0 }

    /// App `app`'s desired state flattened for one planning worker (see `AppDesireView`).
    func view(app: Int) -> AppDesireView {
        var desires = tables[app].desires
        let byProfile = tables[app].byProfile
        var personDesire = personProfile.map { profile in profile.flatMap { byProfile[Int($0)] } }
        for (p, own) in personal[app].sorted(by: { $0.key < $1.key }) {
            guard let own else {
                personDesire[Int(p)] = nil
                continue
            }
            personDesire[Int(p)] = Int32(desires.count)
            desires.append(own)
        }
        var start: [Int32] = [0]
        var flat: [Int32] = []
        start.reserveCapacity(desires.count + 1)
        for d in desires {
            flat.append(contentsOf: d.entitlements)
            start.append(Int32(flat.count))
        }
        return AppDesireView(desires: desires, personDesire: personDesire, entitlementStart: start, entitlements: flat)
    }
}

/// One app's desired state as a planning worker reads it: per person an index into `desires`
/// (nil: no account), and every desire's entitlements in arrays the worker owns, so the per-person
/// loop touches no reference counts shared with other workers.
struct AppDesireView {
    let desires: [DesiredState.AppDesire]
    let personDesire: [Int32?]
    let entitlementStart: [Int32]
    let entitlements: [Int32]

    func entitlements(of desire: Int) -> ArraySlice<Int32> {
        entitlements[Int(entitlementStart[desire])..<Int(entitlementStart[desire + 1])]
    }
}

/// People grouped by everything policies can see of them: their standing and the values of the
/// attributes any `when` reads. Everyone in a group gets the same policy answers.
struct Profiles {
    /// Per person: profile, or nil for people who have left.
    private(set) var ofPerson: [Int32?]
    /// Per profile: a person who has it, to evaluate policies on.
    private(set) var representatives: [Int] = []
    /// Per profile: the standing is pending (out of scope for policies that ignore status).
    private(set) var isPending: [Bool] = []

    var count: Int { representatives.count }

    init(directory: PersonDirectory, attributes: [String]) {
        let fields = Array(Set(attributes)).sorted().map(PersonField.init)
        // Values are interned per attribute, so a profile key is a few integers.
        var columns = fields.map { _ in KeyTable<Int32>(ignoresCase: false) }
        var ids: [[Int32]: Int32] = [:]
        var key = [Int32](repeating: 0, count: fields.count + 1)
        ofPerson = [Int32?](repeating: nil, count: directory.count)
        let people = directory.people
        for i in people.indices {
            switch directory.standings[i] {
            case .left: continue
            case .active: key[0] = 0
            case .onLeave: key[0] = 1
            case .pending: key[0] = 2
            }
            for (c, field) in fields.enumerated() {
                guard let value = field.value(in: people[i]) else {
                    key[c + 1] = 0
                    continue
                }
                let next = Int32(columns[c].count)
                key[c + 1] = 1 + columns[c].findOrInsert(value, next)
            }
            if let id = ids[key] {
                ofPerson[i] = id
            } else {
                let id = Int32(representatives.count)
                ids[key] = id
                representatives.append(i)
                isPending.append(key[0] == 2)
                ofPerson[i] = id
            }
        }
    }
}

struct PersonApp: Hashable {
    var person: Int32
    var app: Int
}

/// A grant rule resolved against an app's inventory.
struct CompiledGrant: Sendable {
    /// Position of the app in the config; nil when the rule names an app the config lacks.
    var app: Int?
    var entitlements: [Int32]
    var pinned: Bool
    var justification: Justification
}

/// Grant indices by app, in app order.
private func groupByApp(_ indices: [Int], _ grants: [CompiledGrant]) -> [(Int, [Int])] {
    var byApp: [Int: [Int]] = [:]
    for i in indices {
        if let app = grants[i].app { byApp[app, default: []].append(i) }
    }
    return byApp.sorted { $0.key < $1.key }
}

/// Turns configured names into inventory indices once, and merges grants into one app desire.
struct RuleCompiler {
    let config: GovernanceConfig
    let inventories: [AppInventory?]
    let appPosition: [String: Int]
    /// All compiled grants; `grantsOfPolicy[p]` indexes into it.
    var grants: [CompiledGrant] = []
    var grantsOfPolicy: [[Int]] = []
    var findings: [PlanFinding] = []
    /// Per app id, entitlement types any rule names.
    var mentionedTypes: [String: Set<String>] = [:]
    /// Per app, per entitlement: privilege (higher wins) or nil when the app declares no order.
    var privilege: [[Int?]]
    /// App and name → index into `unknownNames`.
    private var reportedUnknown: [String: Int] = [:]
    private var unknownNames: [UnknownName] = []
    private var reportedUnordered: Set<String> = []

    init(config: GovernanceConfig, inventories: [AppInventory?]) {
        self.config = config
        self.inventories = inventories
        appPosition = Dictionary(uniqueKeysWithValues: config.apps.enumerated().map { ($1.id, $0) })
        privilege = inventories.map { inventory in
            guard let inventory else { return [] }
            return inventory.entitlements.map { e in
                if let rank = e.rank { return rank }
                guard let values = inventory.capability(ofType: e.type)?.values,
                      let position = values.firstIndex(where: { $0.equalsIgnoringCase(e.name) }) else { return nil }
                return values.count - position
            }
        }
        for role in config.roles { for g in role.grants { mention(g) } }
        for policy in config.policies { for g in policy.grants { mention(g) } }
        for e in config.exceptions { mention(GrantRule(app: e.app, entitlements: e.entitlements, source: e.source)) }
        for policy in config.policies {
            var mine: [Int] = []
            for rule in policy.grants {
                mine.append(grants.count)
                grants.append(compile(rule, justification: .policy(policy.id), rule: "policy \(policy.id)"))
            }
            for roleName in policy.roles {
                for rule in config.role(named: roleName)?.grants ?? [] {
                    mine.append(grants.count)
                    grants.append(compile(rule, justification: .role(roleName, policy: policy.id), rule: "role \(roleName)"))
                }
            }
            grantsOfPolicy.append(mine)
        }
    }

    private mutating func mention(_ rule: GrantRule) {
        mentionedTypes[rule.app, default: []].formUnion(rule.entitlements.map(\.type))
    }

    /// Resolves names; an unknown one is reported once per app and name (with every rule that
    /// names it, where each is written, and the closest known values) and left out.
    mutating func compile(_ rule: GrantRule, justification: Justification, rule described: String) -> CompiledGrant {
        let app = appPosition[rule.app]
        var resolved: [Int32] = []
        if let app, let inventory = inventories[app] {
            for (position, name) in rule.entitlements.enumerated() {
                if let i = inventory.entitlementIndex(named: name) {
                    resolved.append(Int32(i))
                } else {
                    reportUnknown(name, in: inventory, by: described, at: rule.source.entitlement(position))
                }
            }
        }
        return CompiledGrant(app: app, entitlements: resolved, pinned: rule.pin, justification: justification)
    }

    private mutating func reportUnknown(_ name: EntitlementName, in inventory: AppInventory, by rule: String, at path: String?) {
        let key = inventory.appId + "\u{0}" + name.description
        if let at = reportedUnknown[key] {
            var unknown = unknownNames[at]
            if !unknown.rules.contains(rule) { unknown.rules.append(rule) }
            if let path, !unknown.paths.contains(path) { unknown.paths.append(path) }
            unknownNames[at] = unknown
            findings[unknown.finding].message = unknown.message
            findings[unknown.finding].configPaths = unknown.paths
            return
        }
        let unknown = UnknownName(finding: findings.count, app: inventory.appId, name: name, rules: [rule],
                                  paths: path.map { [$0] } ?? [], hint: Self.hint(for: name, in: inventory))
        reportedUnknown[key] = unknownNames.count
        unknownNames.append(unknown)
        findings.append(PlanFinding(.unknownEntitlement, severity: .error, app: inventory.appId, message: unknown.message,
                                    configPaths: unknown.paths))
    }

    /// "did you mean role:Admin? known: Admin, User, Viewer", or the known types when the type
    /// itself is unknown.
    static func hint(for name: EntitlementName, in inventory: AppInventory) -> String {
        let values = Set(inventory.entitlements.filter { $0.type == name.type }.map(\.name)).sorted()
        let declared = inventory.entitlementTypes.contains { $0.type == name.type }
        if values.isEmpty && !declared {
            let types = Set(inventory.entitlementTypes.map(\.type) + inventory.entitlements.map(\.type)).sorted()
            guard let closest = closestName(to: name.type, among: types) else {
                return "\(inventory.appId) has no entitlement types at all"
            }
            return "there is no entitlement type \"\(name.type)\" in \(inventory.appId); did you mean \(closest):\(name.name)? known types: \(listing(types))"
        }
        guard let closest = topTier(for: name, in: inventory) ?? closestName(to: name.name, among: values) else {
            return "\(inventory.appId) lists no \(name.type) values"
        }
        return "did you mean \(name.type):\(closest)? known: \(listing(values))"
    }

    /// A word for "the most privileged" (Superuser, Root, Owner, Full access) typed for a tier
    /// type means its top tier, which spelling alone would not find (Superuser is closest to User).
    static func topTier(for name: EntitlementName, in inventory: AppInventory) -> String? {
        let typed = name.name.lowercased()
        guard inventory.isSingleValued(type: name.type),
              ["super", "root", "owner", "admin", "full", "all access"].contains(where: { typed.contains($0) }) else { return nil }
        let declared = inventory.capability(ofType: name.type)?.values ?? []
        func rank(_ e: Entitlement) -> Int? {
            e.rank ?? declared.firstIndex { $0.equalsIgnoringCase(e.name) }.map { declared.count - $0 }
        }
        return inventory.entitlements.filter { $0.type == name.type }
            .compactMap { e in rank(e).map { (e.name, $0) } }
            .max { $0.1 < $1.1 }?.0
    }

    /// An entitlement name no inventory has, and who names it.
    struct UnknownName {
        var finding: Int
        var app: String
        var name: EntitlementName
        var rules: [String]
        var paths: [String]
        var hint: String

        var message: String {
            "\(app) has no \(name) (named by \(rules.joined(separator: ", "))); \(hint). Nothing can be applied until it is fixed"
        }
    }

    /// Merges grants for one app: every rule justifies the account; a single-valued type keeps
    /// one value, pinned before unpinned, then the most privileged.
    mutating func resolve(_ grants: [CompiledGrant], app: Int) -> DesiredState.AppDesire {
        var accountJustifications: [Justification] = []
        var reasons: [Int32: [Justification]] = [:]
        var pinned = Set<Int32>()
        for g in grants {
            if !accountJustifications.contains(g.justification) { accountJustifications.append(g.justification) }
            for e in g.entitlements {
                if !(reasons[e]?.contains(g.justification) ?? false) { reasons[e, default: []].append(g.justification) }
                if g.pinned { pinned.insert(e) }
            }
        }
        if let inventory = inventories[app], reasons.count > 1 {
            var singles: [String: [Int32]] = [:]
            for e in reasons.keys {
                let type = inventory.entitlements[Int(e)].type
                if inventory.isSingleValued(type: type) { singles[type, default: []].append(e) }
            }
            for (type, candidates) in singles.sorted(by: { $0.key < $1.key }) where candidates.count > 1 {
                let pinnedOnes = candidates.filter { pinned.contains($0) }
                let pool = pinnedOnes.isEmpty ? candidates : pinnedOnes
                let winner = pickMostPrivileged(pool, app: app, type: type)
                for e in candidates where e != winner { reasons[e] = nil }
            }
        }
        let sorted = reasons.keys.sorted()
        return DesiredState.AppDesire(accountJustifications: accountJustifications, entitlements: sorted,
                                      justifications: sorted.map { reasons[$0] ?? [] })
    }

    private mutating func pickMostPrivileged(_ pool: [Int32], app: Int, type: String) -> Int32 {
        let ranks = privilege[app]
        let ordered = pool.sorted()
        if ordered.allSatisfy({ ranks[Int($0)] != nil }) {
            var best = ordered[0]
            for e in ordered.dropFirst() where (ranks[Int(e)] ?? .min) > (ranks[Int(best)] ?? .min) { best = e }
            return best
        }
        let appId = config.apps[app].id
        if reportedUnordered.insert(appId + "\u{0}" + type).inserted {
            findings.append(PlanFinding(.tierOrderUnknown, severity: .warning, app: appId,
                                        message: "\(appId) declares no order for \(type) values, yet rules grant several to one person; the first by name is used. Declare `values` (most privileged first) or `rank`, or pin one"))
        }
        let names = inventories[app]?.entitlements ?? []
        return ordered.min { (names[Int($0)].name, $0) < (names[Int($1)].name, $1) } ?? ordered[0]
    }
}

func binarySearch(_ sorted: [Int32], _ value: Int32) -> Bool {
    var lo = 0, hi = sorted.count
    while lo < hi {
        let mid = (lo + hi) / 2
        if sorted[mid] < value { lo = mid + 1 } else { hi = mid }
    }
    return lo < sorted.count && sorted[lo] == value
}
