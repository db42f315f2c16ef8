import StewardProtocol

// Reading `reviews` and `reviewerGroups` from steward.json. Like the access rules, nothing is
// guessed: unknown keys, apps, groups and reviewer kinds are ConfigErrors naming the key path.

extension ReviewDefinition {
    static let keys = ["id", "description", "scope", "stages", "fallback", "days", "reminders", "escalateAfterDaysOverdue",
                       "defaultDecision", "recommend", "remediate", "maxSyncAgeHours", "every", "trigger",
                       "notify", "chatButtons"]

    init(config node: ConfigNode, knownApps: Set<String>, groups: [String: [String]]) throws {
        _ = try node.members(allowedKeys: Self.keys)
        let id = try node.child("id").nonEmptyString()
        guard id.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" || $0 == "." }) else {
            throw node.child("id").error("use letters, digits, -, _ and . only (it names campaigns and files)")
        }
        let scope = try ReviewScope(config: node.child("scope"), knownApps: knownApps)
        let stagesNode = node.child("stages")
        var stages = try stagesNode.elements().map { try ReviewStage(config: $0, groups: groups) }
        if stagesNode.isMissing { stages = [ReviewStage(reviewer: .manager)] }
        if stages.isEmpty { throw stagesNode.error("needs at least one stage, or leave it out for one stage reviewed by managers") }
        if stages.count > 5 { throw stagesNode.error("at most 5 stages") }
        let reminders = try ReminderLadder(config: node.child("reminders"))
        self.init(id: id, description: try node.child("description").optionalString(), scope: scope, stages: stages,
                  fallback: try node.child("fallback").optionalString().map { try reviewerRule($0, at: node.child("fallback"), groups: groups) },
                  days: try node.child("days").optionalInt(in: 1...365) ?? 14, reminders: reminders,
                  escalateAfterDaysOverdue: try node.child("escalateAfterDaysOverdue").optionalInt(in: 0...365),
                  defaultDecision: try node.child("defaultDecision").optionalChoice(DefaultDecision.self) ?? .none,
                  recommend: try RecommendationSettings(config: node.child("recommend")),
                  remediate: try node.child("remediate").optionalChoice(RemediationTiming.self) ?? .atClose,
                  maxSyncAgeHours: try node.child("maxSyncAgeHours").optionalNumber(in: 0...8760) ?? 24,
                  every: try node.child("every").optionalString())
        if let every {
            do { _ = try CampaignCalendar(every) } catch { throw node.child("every").error(error.description) }
        }
        notify = try node.child("notify").optionalString()
        chatButtons = try node.child("chatButtons").optionalChoice(ChatButtons.self) ?? .all
        let triggerNode = node.child("trigger")
        if !triggerNode.isMissing {
            _ = try triggerNode.members(allowedKeys: ["event", "days"])
            let event = try triggerNode.child("event").nonEmptyString()
            guard let trigger = ReviewTrigger(name: event, days: try triggerNode.child("days").optionalInt(in: 0...365)) else {
                throw triggerNode.child("event").error("unknown event \"\(event)\" (expected privilegedGrant, orphan, moverLeftovers or exceptionExpiring)")
            }
            self.trigger = trigger
        }
        let given = stages.compactMap(\.days).reduce(0, +)
        if given > days { throw node.child("days").error("the stages' days add up to \(given), more than the campaign's \(days)") }
    }
}

extension ReviewScope {
    static let keys = ["apps", "entitlements", "privileged", "people", "include", "findings"]

    /// An object, or `"everything"`.
    init(config node: ConfigNode, knownApps: Set<String>) throws {
        if case .string(let s) = node.value {
            guard s == "everything" else { throw node.error("expected \"everything\" or an object with \(Self.keys.joined(separator: ", "))") }
            self = .everything
            return
        }
        if node.isMissing {
            self.init()
            return
        }
        _ = try node.members(allowedKeys: Self.keys)
        let appsNode = node.child("apps")
        let apps = appsNode.isMissing ? nil : try appsNode.elements().map { element -> String in
            let app = try element.nonEmptyString()
            guard knownApps.contains(app) else {
                throw element.error("unknown app \"\(app)\" (configured apps: \(knownApps.sorted().joined(separator: ", ")))")
            }
            return app
        }
        let entitlements = try node.child("entitlements").elements().map { element -> EntitlementPattern in
            let text = try element.nonEmptyString()
            guard let pattern = EntitlementPattern(text) else { throw element.error("expected \"type:name\" (a * matches anything), got \"\(text)\"") }
            return pattern
        }
        let peopleNode = node.child("people")
        let includeNode = node.child("include")
        var include: Set<Include> = [.access]
        if !includeNode.isMissing {
            include = Set(try includeNode.elements().map { element in
                guard let i = try element.optionalChoice(Include.self) else { throw element.error("required, expected a string") }
                return i
            })
            if include.isEmpty { throw includeNode.error("includes nothing: list access, orphans, leavers or findings") }
        }
        let findingsNode = node.child("findings")
        var kinds: Set<AccountFinding.Kind>?
        if !findingsNode.isMissing {
            kinds = Set(try findingsNode.elements().map { element in
                guard let kind = try element.optionalChoice(AccountFinding.Kind.self), FindingActions.accountKinds.contains(kind) else {
                    throw element.error("expected one of \(FindingActions.accountKinds.map(\.rawValue).sorted().joined(separator: ", "))")
                }
                return kind
            })
            // Naming the kinds is asking for them; without an include list, they are the scope.
            if includeNode.isMissing { include = [.findings] } else { include.insert(.findings) }
        }
        self.init(apps: apps, entitlements: entitlements, privilegedOnly: try node.child("privileged").optionalBool() ?? false,
                  people: peopleNode.isMissing ? nil : try Condition(config: peopleNode), include: include)
        findingKinds = kinds
    }
}

extension ReviewStage {
    init(config node: ConfigNode, groups: [String: [String]]) throws {
        _ = try node.members(allowedKeys: ["reviewer", "fallback", "days"])
        let reviewerNode = node.child("reviewer")
        self.init(reviewer: try reviewerRule(try reviewerNode.nonEmptyString(), at: reviewerNode, groups: groups),
                  fallback: try node.child("fallback").optionalString().map { try reviewerRule($0, at: node.child("fallback"), groups: groups) },
                  days: try node.child("days").optionalInt(in: 1...365))
    }
}

extension ReminderLadder {
    init(config node: ConfigNode) throws {
        if node.isMissing {
            self.init()
            return
        }
        _ = try node.members(allowedKeys: ["before", "overdueEvery"])
        let before = try node.child("before").elements().map { element -> Int in
            guard let days = try element.optionalInt(in: 1...365) else { throw element.error("required, expected a number of days") }
            return days
        }
        self.init(before: before, overdueEvery: try node.child("overdueEvery").optionalInt(in: 1...365))
    }
}

extension RecommendationSettings {
    init(config node: ConfigNode) throws {
        if node.isMissing {
            self.init()
            return
        }
        _ = try node.members(allowedKeys: ["inactiveDays", "peerPercent"])
        self.init(inactiveDays: try node.child("inactiveDays").optionalInt(in: 1...3650) ?? 90,
                  peerPercent: try node.child("peerPercent").optionalNumber(in: 0...100) ?? 10)
    }
}

/// `manager`, `appOwner`, `entitlementOwner`, `group:NAME` (a defined group) or an e-mail.
func reviewerRule(_ text: String, at node: ConfigNode, groups: [String: [String]]) throws -> ReviewerRule {
    guard let rule = ReviewerRule(text) else {
        throw node.error("expected manager, appOwner, entitlementOwner, group:NAME or an e-mail address, got \"\(text)\"")
    }
    if case .group(let name) = rule, groups[name] == nil {
        throw node.error("unknown reviewer group \"\(name)\"" + (groups.isEmpty ? " (define it under reviewerGroups)" : " (defined: \(groups.keys.sorted().joined(separator: ", ")))"))
    }
    return rule
}

/// A reviewer's e-mail address, lowercased so decisions match it whatever case `--as` uses.
func reviewerEmail(_ text: String, at node: ConfigNode) throws -> String {
    guard case .person(let email)? = ReviewerRule(text) else { throw node.error("expected an e-mail address, got \"\(text)\"") }
    return email
}

/// `reviewerGroups: { security: ["ann@example.com", "bo@example.com"] }`.
func reviewerGroups(config node: ConfigNode) throws -> [String: [String]] {
    var groups: [String: [String]] = [:]
    for (name, members) in try node.optionalMembers() {
        let emails = try members.elements().map { try reviewerEmail(try $0.nonEmptyString(), at: $0) }
        if emails.isEmpty { throw members.error("a reviewer group needs at least one member") }
        groups[name] = emails
    }
    return groups
}
