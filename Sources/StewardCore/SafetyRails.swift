import StewardProtocol

/// The checks that keep one bad input from doing mass damage: a plan that would disable or
/// delete more than an app's `deprovision.maxPercent` of its accounts, or that follows an HR
/// feed which lost more than `source.maxShrinkPercent` of its people, is blocked.
public enum SafetyRails {
    /// Rails `actions` trip. Observe-mode actions never run, so they never count. One account
    /// alone never counts as mass deprovisioning, so small apps can still lose a leaver.
    public static func violations(actions: [PlanAction], apps: [(settings: AppSettings, accountCount: Int)],
                                  lifecycle: LifecycleChanges?, source: SourceSettings) -> [RailViolation] {
        var violations: [RailViolation] = []
        if let lifecycle, lifecycle.previousCount > 0, lifecycle.shrinkPercent > source.maxShrinkPercent {
            violations.append(RailViolation(rail: .sourceShrink, count: lifecycle.shrinkCount, total: lifecycle.previousCount,
                                            limitPercent: source.maxShrinkPercent))
        }
        var removedAccounts: [String: Set<String>] = [:]
        for action in actions where action.operation.isDeprovisioning && !action.observeOnly {
            removedAccounts[action.app, default: []].insert(action.accountId ?? "")
        }
        for (settings, total) in apps {
            let count = removedAccounts[settings.id]?.count ?? 0
            guard count > 1 else { continue }
            let allowed = Int((Double(total) * settings.deprovision.maxPercent / 100).rounded(.down))
            if count > allowed {
                violations.append(RailViolation(rail: .massDeprovision, app: settings.id, count: count, total: total,
                                                limitPercent: settings.deprovision.maxPercent))
            }
        }
        return violations
    }
}
