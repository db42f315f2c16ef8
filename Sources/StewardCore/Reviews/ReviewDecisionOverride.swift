import StewardProtocol

/// A review's final word on one piece of access, which the desired state then follows until a
/// later review decides it again: a kept grant no rule justifies is justified by the review
/// (the planner no longer revokes it), and a revoked grant stays revoked even where a policy
/// grants it (the planner no longer gives it back).
public struct ReviewDecisionOverride: Sendable, Hashable {
    public var personId: String
    public var app: String
    /// The entitlement (`type`, `id`); nil for the account itself.
    public var entitlement: EntitlementRef?
    public var verdict: Recommendation.Verdict
    public var campaign: String

    public init(personId: String, app: String, entitlement: EntitlementRef?, verdict: Recommendation.Verdict, campaign: String) {
        self.personId = personId
        self.app = app
        self.entitlement = entitlement
        self.verdict = verdict
        self.campaign = campaign
    }
}

extension DesiredState.AppDesire {
    /// This desire with review decisions applied.
    func applying(_ overrides: [ReviewDecisionOverride], inventory: AppInventory?) -> DesiredState.AppDesire? {
        var desire = self
        for o in overrides {
            guard let e = o.entitlement else {
                if o.verdict == .revoke { return nil }
                desire.accountJustifications.append(.review(o.campaign))
                continue
            }
            guard let index = inventory?.entitlementIndex(type: e.type, id: e.id).map(Int32.init) else { continue }
            let position = desire.entitlements.firstIndex(of: index)
            switch (o.verdict, position) {
            case (.revoke, let at?):
                desire.entitlements.remove(at: at)
                desire.justifications.remove(at: at)
            case (.keep, nil):
                let at = desire.entitlements.firstIndex { $0 > index } ?? desire.entitlements.count
                desire.entitlements.insert(index, at: at)
                desire.justifications.insert([.review(o.campaign)], at: at)
                if desire.accountJustifications.isEmpty { desire.accountJustifications.append(.review(o.campaign)) }
            default:
                break
            }
        }
        return desire
    }
}
