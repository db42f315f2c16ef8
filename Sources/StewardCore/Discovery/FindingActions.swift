/// `findings: { leftover: "disable", dormant: "review", orphan: "review" }`: what `steward plan`
/// does with account findings. `disable` makes a plan action (held to the safety rails like any
/// other disable); `review` lists the finding in the plan for the next campaign whose scope takes
/// findings; `report` (the default) leaves it to `steward discover`.
public struct FindingActions: Sendable, Hashable {
    public enum Action: String, Sendable, CaseIterable {
        case disable, review, report
    }

    public var byKind: [AccountFinding.Kind: Action] = [:]

    public init(_ byKind: [AccountFinding.Kind: Action] = [:]) {
        self.byKind = byKind
    }

    public var isEmpty: Bool { byKind.values.allSatisfy { $0 == .report } }

    /// The kinds a campaign with `include: ["findings"]` reviews: those configured `review`, or
    /// every account kind when none is.
    public var reviewedKinds: Set<AccountFinding.Kind> {
        let configured = Set(byKind.filter { $0.value == .review }.keys)
        return configured.isEmpty ? Self.accountKinds : configured
    }

    /// Kinds whose findings are about one account (privileged access is reviewed per grant,
    /// with `scope: { privileged: true }`).
    public static let accountKinds: Set<AccountFinding.Kind> = [.orphan, .leftover, .dormant, .service]

    static let configurable: [AccountFinding.Kind] = [.leftover, .dormant, .orphan, .service, .privileged]

    init(config node: ConfigNode) throws {
        guard !node.isMissing else { return }
        for (key, child) in try node.members(allowedKeys: Self.configurable.map(\.rawValue)) {
            guard let kind = AccountFinding.Kind(rawValue: key), let action = try child.optionalChoice(Action.self) else { continue }
            if kind == .privileged, action == .disable {
                throw child.error("privileged access is not disabled wholesale: use review or report (a review revokes the grant)")
            }
            byKind[kind] = action
        }
    }

    /// The plan's part: disable actions for the kinds configured `disable` (an account the plan
    /// already disables or deletes is left to that action), and a plan finding for each one
    /// configured `review`.
    func plan(_ result: PlanResult, inventories: [AppInventory], config: GovernanceConfig, today: CalendarDay)
        -> (actions: [PlanAction], findings: [PlanFinding]) {
        let found = AccountFindings.find(result, inventories: inventories, config: config, today: today, candidates: false)
        var handled: Set<String> = []
        for a in result.plan.actions {
            if case .disableAccount = a.operation, let id = a.accountId { handled.insert(a.app + "\u{1}" + id) }
            if case .deleteAccount = a.operation, let id = a.accountId { handled.insert(a.app + "\u{1}" + id) }
        }
        let inventoryById = Dictionary(inventories.map { ($0.appId, $0) }, uniquingKeysWith: { first, _ in first })
        var actions: [PlanAction] = [], findings: [PlanFinding] = []
        for f in found {
            guard let action = byKind[f.kind], action != .report, let settings = config.app(f.app) else { continue }
            switch action {
            case .disable:
                guard let id = f.accountId, handled.insert(f.app + "\u{1}" + id).inserted,
                      let inventory = inventoryById[f.app], inventory.accountOperations.contains(.disable),
                      let account = inventory.accounts.first(where: { $0.id == id }), account.status != .disabled else { continue }
                actions.append(PlanAction(app: f.app, personId: f.personId, accountId: id, accountName: account.userName,
                                          operation: .disableAccount, cause: .discovery, justifications: [.finding(f.kind.rawValue)],
                                          changeSet: f.app + "/finding:" + id, observeOnly: settings.mode == .observe))
            case .review:
                findings.append(PlanFinding(.findingToReview, severity: .info, app: f.app, personId: f.personId, accountId: f.accountId,
                                            message: "\(f.app) \(f.accountName ?? f.accountId ?? ""): \(f.summary); to review (findings.\(f.kind.rawValue): review) in a campaign whose scope includes findings"))
            case .report:
                break
            }
        }
        return (actions, findings)
    }
}
