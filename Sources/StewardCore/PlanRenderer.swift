import StewardProtocol

/// The plan as people read it: grouped by person and app, each action with its cause and the
/// rule behind it.
///
/// ```
/// E1001 Ada Lovelace <ada@example.com> (mover)
///   crm: account ada@example.com
///     - group engineering                     mover · nothing grants it
///     ~ role Admin → Viewer                   mover · policy everyone-crm
///     + group sales                           mover · role sales-rep (policy sales)
///   wiki [observe]: account ada
///     - disable account                       mover · nothing grants it
/// ```
public enum PlanRenderer {
    /// Findings of one kind shown before the rest are summarized (the JSON form has them all).
    public static let findingsPerKind = 20

    public static func text(_ plan: Plan) -> String {
        var out = headline(plan) + "\n"
        if !plan.rails.isEmpty {
            out += "\n"
            out += plan.isBlocked
                ? "BLOCKED by safety rails: nothing in this plan will be applied unless mass deprovisioning is explicitly allowed.\n"
                : "Safety rails tripped, and overridden (mass deprovisioning allowed):\n"
            for rail in plan.rails { out += "  ! \(rail.message)\n" }
        }
        for group in personGroups(plan.actions) {
            out += "\n" + personHeader(group.personId, plan) + "\n"
            for (app, actions) in appGroups(group.actions) {
                out += "  " + appHeader(app, actions) + "\n"
                for action in actions { out += "    " + line(action) + "\n" }
            }
        }
        out += findingsText(plan.findings)
        return out
    }

    static func headline(_ plan: Plan) -> String {
        var s = "Plan computed \(plan.computedAt)"
        if let head = plan.journalHead { s += " against journal head \(head)" }
        if plan.actions.isEmpty { return s + ": no changes; every app matches the desired state." }
        let people = Set(plan.actions.compactMap(\.personId)).count
        let apps = Set(plan.actions.map(\.app)).count
        let observe = plan.actions.filter(\.observeOnly).count
        s += ": \(plural(plan.actions.count, "action")) for \(plural(people, "person", "people")) in \(plural(apps, "app"))"
        if observe > 0 { s += " (\(observe) in observe mode, never applied)" }
        return s + "."
    }

    static func personHeader(_ personId: String?, _ plan: Plan) -> String {
        guard let id = personId else { return "Accounts linked to nobody" }
        guard let person = plan.people[id] else { return id }
        var s = "\(id) \(person.name)"
        if !person.email.isEmpty { s += " <\(person.email)>" }
        if let event = person.event { s += " (\(event.rawValue))" }
        return s
    }

    static func appHeader(_ app: String, _ actions: [PlanAction]) -> String {
        let observe = actions.contains(where: \.observeOnly) ? " [observe]" : ""
        let creates = actions.contains { if case .createAccount = $0.operation { return true } else { return false } }
        let name = actions.first?.accountName ?? "?"
        if creates { return "\(app)\(observe): new account \(name)" }
        let id = actions.first?.accountId.map { $0 == name ? "" : " (\($0))" } ?? ""
        return "\(app)\(observe): account \(name)\(id)"
    }

    /// `+ group sales` padded, then `cause · rules`.
    public static func line(_ action: PlanAction) -> String {
        let what = describe(action.operation)
        let why = action.cause.rawValue + (action.justifications.isEmpty ? "" : " · " + action.justifications.map(describe).joined(separator: ", "))
        let padding = max(2, 40 - what.unicodeScalars.count)
        return what + String(repeating: " ", count: padding) + why
    }

    public static func describe(_ operation: PlanOperation) -> String {
        switch operation {
        case .createAccount: return "+ create account"
        case .enableAccount: return "+ enable account"
        case .updateAccount(let changes):
            return "~ update " + changes.map { "\($0.attribute) \(quoted($0.before)) → \(quoted($0.after))" }.joined(separator: ", ")
        case .grant(let e): return "+ \(e.type) \(e.name)"
        case .changeTier(let from, let to): return "~ \(to.type) \(from.name) → \(to.name)"
        case .revoke(let e): return "- \(e.type) \(e.name)"
        case .disableAccount: return "- disable account"
        case .deleteAccount(let days): return days.map { "- delete account (disabled \(plural($0, "day")))" } ?? "- delete account"
        }
    }

    /// The action as a sentence for history: "created account ben.lopez", "revoked group
    /// sales"; in the imperative ("create account ben.lopez") when it did not happen.
    public static func sentence(_ operation: PlanOperation, account: String?, done: Bool) -> String {
        let name = account.map { " " + $0 } ?? ""
        switch operation {
        case .createAccount(let spec): return (done ? "created account " : "create account ") + spec.userName
        case .enableAccount: return (done ? "enabled account" : "enable account") + name
        case .updateAccount(let changes):
            return (done ? "updated account" : "update account") + name + ": "
                + changes.map { "\($0.attribute) \(quoted($0.before)) → \(quoted($0.after))" }.joined(separator: ", ")
        case .grant(let e): return (done ? "granted " : "grant ") + "\(e.type) \(e.name)"
        case .changeTier(let from, let to): return (done ? "changed " : "change ") + "\(to.type) \(from.name) → \(to.name)"
        case .revoke(let e): return (done ? "revoked " : "revoke ") + "\(e.type) \(e.name)"
        case .disableAccount: return (done ? "disabled account" : "disable account") + name
        case .deleteAccount: return (done ? "deleted account" : "delete account") + name
        }
    }

    public static func describe(_ justification: Justification) -> String {
        switch justification {
        case .policy(let id): return "policy \(id)"
        case .role(let role, let policy): return "role \(role) (policy \(policy))"
        case .exception(let id, let until): return "exception \(id)" + (until.map { " until \($0)" } ?? "")
        case .notGranted: return "nothing grants it"
        case .personLeft(.terminated): return "left (terminated)"
        case .personLeft(.endDatePassed): return "left (end date passed)"
        case .personLeft(.goneFromFeed): return "left (gone from the HR feed)"
        case .noPerson: return "linked to nobody"
        case .finding(let kind): return "discovery finding (\(kind))"
        case .hrRecord: return "HR record"
        case .review(let campaign): return "review \(campaign)"
        }
    }

    static func findingsText(_ findings: [PlanFinding]) -> String {
        guard !findings.isEmpty else { return "" }
        var out = "\nFindings:\n"
        for severity in [PlanFinding.Severity.error, .warning, .info] {
            let ofSeverity = findings.filter { $0.severity == severity }
            var shownPerKind: [PlanFinding.Kind: Int] = [:]
            var hidden: [PlanFinding.Kind: Int] = [:]
            for finding in ofSeverity {
                if shownPerKind[finding.kind, default: 0] < findingsPerKind {
                    shownPerKind[finding.kind, default: 0] += 1
                    out += "  \(severity.rawValue): \(finding.message)\n"
                } else {
                    hidden[finding.kind, default: 0] += 1
                }
            }
            for (kind, count) in hidden.sorted(by: { $0.key.rawValue < $1.key.rawValue }) {
                out += "  \(severity.rawValue): … and \(count) more \(kind.rawValue) findings (the JSON plan lists them all)\n"
            }
        }
        return out
    }

    /// Actions by person in order of first appearance; orphans (no person) last.
    static func personGroups(_ actions: [PlanAction]) -> [(personId: String?, actions: [PlanAction])] {
        var order: [String] = []
        var byPerson: [String: [PlanAction]] = [:]
        var orphans: [PlanAction] = []
        for action in actions {
            guard let id = action.personId else {
                orphans.append(action)
                continue
            }
            if byPerson[id] == nil { order.append(id) }
            byPerson[id, default: []].append(action)
        }
        var groups: [(personId: String?, actions: [PlanAction])] = order.map { ($0, byPerson[$0] ?? []) }
        if !orphans.isEmpty { groups.append((nil, orphans)) }
        return groups
    }

    /// Actions by change set (one person's or orphan's account in one app), in plan order.
    static func appGroups(_ actions: [PlanAction]) -> [(app: String, actions: [PlanAction])] {
        var order: [String] = []
        var byChangeSet: [String: [PlanAction]] = [:]
        for action in actions {
            if byChangeSet[action.changeSet] == nil { order.append(action.changeSet) }
            byChangeSet[action.changeSet, default: []].append(action)
        }
        return order.compactMap { key in byChangeSet[key].flatMap { list in list.first.map { ($0.app, list) } } }
    }
}

private func quoted(_ s: String?) -> String { s.map { "\"\($0)\"" } ?? "(none)" }

private func plural(_ n: Int, _ singular: String, _ pluralForm: String? = nil) -> String {
    "\(n) " + (n == 1 ? singular : pluralForm ?? singular + "s")
}
