import Foundation
import StewardProtocol

/// Everything a plan is computed from. It is all data: the host reads the config, the HR feed,
/// the apps and the journal; the planner only compares.
public struct PlanRequest: Sendable {
    public var config: GovernanceConfig
    /// The current HR feed.
    public var people: [Person]
    /// People gone from the feed whose accounts may remain (from the previous snapshot or the
    /// journal): their accounts are residual access.
    public var formerPeople: [Person]
    /// Since the previous snapshot: gives joiner, mover and rehire causes and feeds the source rail.
    public var lifecycle: LifecycleChanges?
    public var inventories: [AppInventory]
    public var overrides: CorrelationOverrides
    /// The rules the last plan was computed with; when they differ, changes they explain are
    /// `policyChange` rather than `drift`.
    public var previousConfig: GovernanceConfig?
    /// Approved grants from outside the config file (access requests).
    public var extraExceptions: [AccessException]
    /// Review decisions the desired state follows (kept without a rule; revoked despite one).
    public var reviewDecisions: [ReviewDecisionOverride] = []
    /// Plan only these apps (`--app`); nil plans all.
    public var onlyApps: Set<String>?
    public var now: Date
    public var allowMassDeprovision: Bool

    public init(config: GovernanceConfig, people: [Person], inventories: [AppInventory], now: Date,
                formerPeople: [Person] = [], lifecycle: LifecycleChanges? = nil, overrides: CorrelationOverrides = CorrelationOverrides(),
                previousConfig: GovernanceConfig? = nil, extraExceptions: [AccessException] = [], onlyApps: Set<String>? = nil,
                allowMassDeprovision: Bool = false) {
        self.config = config
        self.people = people
        self.inventories = inventories
        self.now = now
        self.formerPeople = formerPeople
        self.lifecycle = lifecycle
        self.overrides = overrides
        self.previousConfig = previousConfig
        self.extraExceptions = extraExceptions
        self.onlyApps = onlyApps
        self.allowMassDeprovision = allowMassDeprovision
    }
}

/// A plan with the intermediate results it came from, for `status` and `person show`.
public struct PlanResult: Sendable {
    public var plan: Plan
    public var directory: PersonDirectory
    public var desired: DesiredState
    /// One per planned app with an inventory, in config order.
    public var correlations: [AppCorrelation]
}

/// `diff(desired, actual)`: correlates accounts, computes the desired state, compares, orders
/// the actions, and applies the safety rails. Apps are planned concurrently.
public enum Planner {
    public static func makePlan(_ request: PlanRequest) -> PlanResult {
        let today = CalendarDay(request.now)
        let config = request.config
        let directory = PersonDirectory(current: request.people, former: request.formerPeople, today: today)
        // The desired state and the correlation index only need the directory: build them side by side.
        let (desired, index) = concurrently({
            DesiredState(config: config, directory: directory, inventories: request.inventories, today: today,
                         extraExceptions: request.extraExceptions, reviewDecisions: request.reviewDecisions)
        }, {
            CorrelationIndex(directory: directory)
        })
        var previousDesired: DesiredState?
        if let previous = request.previousConfig, previous != config {
            previousDesired = DesiredState(config: previous, directory: directory, inventories: request.inventories, today: today,
                                           extraExceptions: request.extraExceptions, reviewDecisions: request.reviewDecisions)
        }
        let context = PlanContext(directory: directory, desired: desired, previousDesired: previousDesired,
                                  previousAppPosition: Dictionary(uniqueKeysWithValues: (request.previousConfig?.apps ?? []).enumerated().map { ($1.id, $0) }),
                                  events: lifecycleEvents(request.lifecycle, directory), today: today,
                                  index: index, overrides: request.overrides)

        let inventoryById = Dictionary(request.inventories.map { ($0.appId, $0) }, uniquingKeysWith: { first, _ in first })
        let planned = config.apps.indices.filter { request.onlyApps?.contains(config.apps[$0].id) ?? true }
        let outputs = concurrentMap(planned.count) { k -> AppPlanOutput in
            let app = planned[k]
            let settings = config.apps[app]
            guard let inventory = inventoryById[settings.id] else {
                return AppPlanOutput(summary: AppSummary(id: settings.id, mode: settings.mode), findings: [
                    PlanFinding(.missingInventory, severity: .error, app: settings.id,
                                message: "\(settings.id) has no synced state; it is not planned (run sync)"),
                ])
            }
            var planner = AppPlanner(context: context, app: app, settings: settings, inventory: inventory)
            return planner.run()
        }

        var actions: [PlanAction] = []
        actions.reserveCapacity(outputs.reduce(0) { $0 + $1.actions.count })
        // A plan for some apps answers for their rules only: another app's broken rule must
        // not stop it, nor be hidden from a plan that includes that app.
        var findings = directory.findings + desired.findings.filter { finding in
            guard let only = request.onlyApps, let app = finding.app else { return true }
            return only.contains(app)
        }
        var summaries: [AppSummary] = []
        var correlations: [AppCorrelation] = []
        var railInput: [(settings: AppSettings, accountCount: Int)] = []
        for (k, output) in outputs.enumerated() {
            actions += output.actions
            findings += output.findings
            summaries.append(output.summary)
            if let correlation = output.correlation { correlations.append(correlation) }
            railInput.append((config.apps[planned[k]], output.summary.accounts))
        }
        if !config.findingActions.isEmpty {
            let partial = PlanResult(plan: Plan(computedAt: "", actions: actions), directory: directory, desired: desired, correlations: correlations)
            let planned = Set(correlations.map(\.appId))
            let extra = config.findingActions.plan(partial, inventories: request.inventories.filter { planned.contains($0.appId) },
                                                   config: config, today: today)
            actions += extra.actions
            findings += extra.findings
        }
        let rails = SafetyRails.violations(actions: actions, apps: railInput, lifecycle: request.lifecycle, source: config.source)

        var people: [String: PersonSummary] = [:]
        for action in actions {
            guard let id = action.personId, people[id] == nil, let p = directory.index(of: id) else { continue }
            let person = directory.people[p]
            people[id] = PersonSummary(name: person.fullName ?? person.id, email: person.email,
                                       event: directory.standings[p].hasLeft ? .leaver : context.events[p])
        }
        let plan = Plan(computedAt: isoTimestamp(request.now), actions: actions, findings: findings, rails: rails,
                        allowMassDeprovision: request.allowMassDeprovision, apps: summaries, people: people)
        return PlanResult(plan: plan, directory: directory, desired: desired, correlations: correlations)
    }

    /// The lifecycle event behind each person, by directory index.
    static func lifecycleEvents(_ changes: LifecycleChanges?, _ directory: PersonDirectory) -> [Cause?] {
        var events = [Cause?](repeating: nil, count: directory.count)
        guard let changes else { return events }
        func mark(_ id: String, _ cause: Cause) {
            if let p = directory.index(of: id) { events[p] = cause }
        }
        for m in changes.moved { mark(m.person.id, .mover) }
        for p in changes.rehired { mark(p.id, .rehire) }
        for p in changes.joined + changes.started { mark(p.id, .joiner) }
        for d in changes.left { mark(d.person.id, .leaver) }
        return events
    }
}

extension Person {
    /// The display name, else first and last name, else nil.
    public var fullName: String? {
        if let displayName, !displayName.isEmpty { return displayName }
        let parts = [firstName, lastName].compactMap { $0 }.filter { !$0.isEmpty }
        return parts.isEmpty ? nil : parts.joined(separator: " ")
    }
}

/// What every app's planner shares, read-only.
struct PlanContext: Sendable {
    let directory: PersonDirectory
    let desired: DesiredState
    let previousDesired: DesiredState?
    let previousAppPosition: [String: Int]
    let events: [Cause?]
    let today: CalendarDay
    let index: CorrelationIndex
    let overrides: CorrelationOverrides
}

struct AppPlanOutput: Sendable {
    var actions: [PlanAction] = []
    var summary: AppSummary
    var findings: [PlanFinding] = []
    var correlation: AppCorrelation?
}

/// Plans one app: per person, then orphans.
struct AppPlanner {
    let context: PlanContext
    let app: Int
    let settings: AppSettings
    let inventory: AppInventory
    let correlation: AppCorrelation
    /// This app's desired state, flattened for this worker.
    let view: AppDesireView
    /// Per entitlement index: Steward manages its type; the type is single-valued; the
    /// connector can grant and revoke it; how actions name it.
    let managed: [Bool]
    let singleValued: [Bool]
    let grantable: [Bool]
    let revocable: [Bool]
    let refs: [EntitlementRef]
    let check: ConvergenceCheck
    var actions: [PlanAction] = []
    var lastChangeSet = (subject: "", name: "")
    var findings: [PlanFinding] = []
    var unsupported: [String: Int] = [:]
    var undatedDisabled = 0

    init(context: PlanContext, app: Int, settings: AppSettings, inventory: AppInventory) {
        self.context = context
        self.app = app
        self.settings = settings
        self.inventory = inventory
        correlation = AppCorrelation(inventory: inventory, rules: settings.correlate, overrides: context.overrides,
                                     directory: context.directory, index: context.index)
        view = context.desired.view(app: app)
        let managedTypes = context.desired.managedTypes[app]
        managed = inventory.entitlements.map { managedTypes.contains($0.type) }
        singleValued = inventory.entitlements.map { inventory.isSingleValued(type: $0.type) }
        grantable = inventory.entitlements.map { inventory.capability(ofType: $0.type)?.grant ?? true }
        revocable = inventory.entitlements.map { inventory.capability(ofType: $0.type)?.revoke ?? true }
        refs = inventory.entitlements.map(EntitlementRef.init)
        check = ConvergenceCheck(people: context.directory.people, inventory: inventory, view: view, attributes: settings.updateAttributes)
    }

    mutating func run() -> AppPlanOutput {
        for conflict in correlation.conflicts {
            findings.append(PlanFinding(.conflict, severity: .warning, app: settings.id, personId: conflict.personIds.first,
                                        accountId: conflict.accountIds.first, message: conflict.message))
        }
        planPeople()
        for a in correlation.orphans { planOrphan(a) }
        reportGaps()
        let summary = AppSummary(id: settings.id, mode: settings.mode, accounts: inventory.accounts.count, linked: correlation.linkedCount,
                                 orphans: correlation.orphans.count, ignored: correlation.ignored.count,
                                 conflicts: correlation.conflicts.count, actions: actions.count)
        return AppPlanOutput(actions: actions, summary: summary, findings: findings, correlation: correlation)
    }

    /// Every person, in directory order. This loop runs people × apps times, so the common
    /// case (nothing to do) reads only integers and fields in place.
    mutating func planPeople() {
        let someUnresolved = correlation.conflicts.contains { $0.kind == .multipleAccounts }
        // Each app starts at a different person, so concurrent workers do not read the same
        // people at the same moment (their shared reference counts would bounce between cores).
        // The actions are rotated back into person order afterwards.
        let count = context.directory.count
        let start = count == 0 ? 0 : app * count / max(1, context.desired.appIds.count)
        var wrapAt = 0
        let check = self.check
        for step in 0..<count {
            let p = (start + step) % count
            if p == 0 { wrapAt = actions.count }
            if someUnresolved && context.directory.standings[p].hasLeft {
                for a in correlation.unresolvedAccounts(ofPerson: p) { planRemoval(p, a) }
            }
            switch (view.personDesire[p], correlation.accountOfPerson[p]) {
            case (_, .conflicted), (nil, .unlinked):
                continue
            case (let desire?, .linked(let account)):
                let (d, a) = (Int(desire), Int(account))
                if check.isConverged(person: p, account: a, desire: d) { continue }
                planHeld(p, a, view.desires[d])
            case (let desire?, .unlinked):
                planCreate(p, view.desires[Int(desire)])
            case (nil, .linked(let account)):
                planRemoval(p, Int(account))
            }
        }
        if wrapAt > 0 && wrapAt < actions.count { actions = Array(actions[wrapAt...] + actions[..<wrapAt]) }
    }

    /// One finding per kind of thing the plan could not do, instead of one per account.
    mutating func reportGaps() {
        for (operation, count) in unsupported.sorted(by: { $0.key < $1.key }) {
            findings.append(PlanFinding(.unsupported, severity: .warning, app: settings.id,
                                        message: "\(settings.id): the connector does not offer \(operation); \(count) action(s) left out"))
        }
        if undatedDisabled > 0, let days = settings.deprovision.deleteAfterDays {
            findings.append(PlanFinding(.disabledSinceUnknown, severity: .info, app: settings.id,
                                        message: "\(settings.id): \(undatedDisabled) disabled account(s) have no recorded disable day; they are deleted \(days) days after one is recorded"))
        }
        if inventory.danglingGrants > 0 {
            findings.append(PlanFinding(.danglingGrants, severity: .warning, app: settings.id,
                                        message: "\(settings.id): \(inventory.danglingGrants) grant(s) name accounts the app did not list; ignored"))
        }
    }

    // MARK: People

    mutating func planCreate(_ p: Int, _ desire: DesiredState.AppDesire) {
        guard supports(.create) else { return }
        let person = context.directory.people[p]
        let spec = accountSpec(for: person)
        let previous = previousDesire(p)
        emit(.createAccount(spec), person: person, account: nil, name: spec.userName,
             cause: cause(p) { previous == nil }, desire.accountJustifications)
        for (e, justifications) in zip(desire.entitlements, desire.justifications) where canGrant(e) {
            emit(.grant(ref(e)), person: person, account: nil, name: spec.userName,
                 cause: cause(p) { !(previous?.contains(e) ?? false) }, justifications)
        }
    }

    mutating func planHeld(_ p: Int, _ a: Int, _ desire: DesiredState.AppDesire) {
        let person = context.directory.people[p]
        lazy var previous = previousDesire(p)
        if inventory.accounts[a].status == .disabled && supports(.enable) {
            emit(.enableAccount, person: person, account: a, cause: cause(p) { previous == nil }, desire.accountJustifications)
        }
        if !settings.updateAttributes.isEmpty {
            let changes = check.attributeChanges(person: p, account: a)
            if !changes.isEmpty && supports(.update) {
                emit(.updateAccount(changes), person: person, account: a, cause: cause(p) { false }, [.hrRecord])
            }
        }

        let actual = inventory.grants(ofAccount: a)
        if actual.elementsEqual(desire.entitlements) { return }
        var missing: [Int] = []   // positions in desire
        var extra: [Int32] = []
        var i = actual.startIndex, j = 0
        while i < actual.endIndex || j < desire.entitlements.count {
            if j == desire.entitlements.count || (i < actual.endIndex && actual[i] < desire.entitlements[j]) {
                extra.append(actual[i])
                i += 1
            } else if i == actual.endIndex || actual[i] > desire.entitlements[j] {
                missing.append(j)
                j += 1
            } else {
                i += 1
                j += 1
            }
        }
        // A missing single-valued entitlement replaces the value of its type the account holds.
        var tierChanges: [(from: Int32, at: Int)] = []
        missing.removeAll { position in
            let e = desire.entitlements[position]
            guard singleValued[Int(e)] else { return false }
            let type = inventory.entitlements[Int(e)].type
            guard let held = extra.first(where: { inventory.entitlements[Int($0)].type == type }) else { return false }
            tierChanges.append((held, position))
            extra.removeAll { $0 == held }
            return true
        }
        for e in extra where managed[Int(e)] && canRevoke(e) {
            emit(.revoke(ref(e)), person: person, account: a, cause: cause(p) { previous?.contains(e) ?? false }, [.notGranted])
        }
        for (from, position) in tierChanges where canGrant(desire.entitlements[position]) {
            let to = desire.entitlements[position]
            emit(.changeTier(from: ref(from), to: ref(to)), person: person, account: a,
                 cause: cause(p) { !(previous?.contains(to) ?? false) }, desire.justifications[position])
        }
        for position in missing where canGrant(desire.entitlements[position]) {
            let e = desire.entitlements[position]
            emit(.grant(ref(e)), person: person, account: a, cause: cause(p) { !(previous?.contains(e) ?? false) }, desire.justifications[position])
        }
    }

    /// The person should have no account here: they left, or no rule grants the app any more.
    mutating func planRemoval(_ p: Int, _ a: Int) {
        let person = context.directory.people[p]
        let standing = context.directory.standings[p]
        let justification: Justification
        if case .left(let reason) = standing { justification = .personLeft(reason) } else { justification = .notGranted }
        let cause = cause(p) { previousDesire(p) != nil }
        // A leaver's disabled account keeps its grants as evidence until deletion; someone who
        // merely lost the app has them removed first, so re-enabling the account by hand does
        // not bring old access back.
        deprovision(a, person: person, cause: cause, [justification], revokeFirst: !standing.hasLeft)
    }

    // MARK: Orphans

    mutating func planOrphan(_ a: Int) {
        let account = inventory.accounts[a]
        switch settings.orphans {
        case .report:
            findings.append(PlanFinding(.orphan, severity: .info, app: settings.id, accountId: account.id,
                                        message: "\(settings.id): account \(account.userName) (\(account.id), \(account.status.rawValue)) is linked to nobody; link it to a person or ignore it"))
        case .disable:
            deprovision(a, person: nil, cause: .orphan, [.noPerson], revokeFirst: false)
        }
    }

    // MARK: Building actions

    mutating func deprovision(_ a: Int, person: Person?, cause: Cause, _ justifications: [Justification], revokeFirst: Bool) {
        let account = inventory.accounts[a]
        if account.status == .disabled {
            guard let graceDays = settings.deprovision.deleteAfterDays else { return }
            guard let since = inventory.disabledSince(accountId: account.id) else {
                undatedDisabled += 1
                return
            }
            let days = context.today.days(since: since)
            if days >= graceDays && supports(.delete) {
                emit(.deleteAccount(disabledDays: days), person: person, account: a, cause: cause, justifications)
            }
            return
        }
        if settings.deprovision.action == .delete {
            if supports(.delete) { emit(.deleteAccount(disabledDays: nil), person: person, account: a, cause: cause, justifications) }
            return
        }
        if revokeFirst {
            for e in inventory.grants(ofAccount: a) where managed[Int(e)] && canRevoke(e) {
                emit(.revoke(ref(e)), person: person, account: a, cause: cause, justifications)
            }
        }
        if supports(.disable) { emit(.disableAccount, person: person, account: a, cause: cause, justifications) }
    }

    mutating func emit(_ operation: PlanOperation, person: Person?, account: Int?, name: String? = nil, cause: Cause,
                       _ justifications: [Justification]) {
        let accountId = account.map { inventory.accounts[$0].id }
        let subject = person?.id ?? "account:" + (accountId ?? "")
        // Consecutive actions usually share a change set: build its name once.
        if lastChangeSet.subject != subject { lastChangeSet = (subject, settings.id + "/" + subject) }
        actions.append(PlanAction(app: settings.id, personId: person?.id, accountId: accountId,
                                  accountName: name ?? account.map { inventory.accounts[$0].userName }, operation: operation, cause: cause,
                                  justifications: justifications, changeSet: lastChangeSet.name, observeOnly: settings.mode == .observe))
    }

    func cause(_ p: Int, policyExplains: () -> Bool) -> Cause {
        if context.directory.standings[p].hasLeft { return .leaver }
        if let event = context.events[p] { return event }
        if context.previousDesired != nil && policyExplains() { return .policyChange }
        return .drift
    }

    func previousDesire(_ p: Int) -> DesiredState.AppDesire? {
        guard let previous = context.previousDesired, let position = context.previousAppPosition[settings.id] else { return nil }
        return previous.desire(person: p, app: position)
    }

    func ref(_ e: Int32) -> EntitlementRef { refs[Int(e)] }

    mutating func supports(_ operation: AccountOperation) -> Bool {
        if inventory.accountOperations.contains(operation) { return true }
        unsupported[operation.method, default: 0] += 1
        return false
    }

    mutating func canGrant(_ e: Int32) -> Bool {
        if grantable[Int(e)] { return true }
        unsupported["granting \(refs[Int(e)].type)", default: 0] += 1
        return false
    }

    mutating func canRevoke(_ e: Int32) -> Bool {
        if revocable[Int(e)] { return true }
        unsupported["revoking \(refs[Int(e)].type)", default: 0] += 1
        return false
    }

    /// A new account for `person`: ids for correlation, names from HR, and the manager's
    /// account in this app when they have one.
    func accountSpec(for person: Person) -> AccountSpec {
        let userName: String
        switch settings.userName {
        case .email: userName = person.email
        case .emailLocalPart: userName = person.email.split(separator: "@", maxSplits: 1).first.map(String.init) ?? person.email
        case .id: userName = person.id
        }
        let managerAccount = person.managerId
            .flatMap { context.directory.index(of: $0) }
            .flatMap { correlation.account(ofPerson: $0) }
            .map { inventory.accounts[$0].id }
        return AccountSpec(userName: userName, email: person.email.isEmpty ? nil : person.email, displayName: person.fullName,
                           givenName: person.firstName, familyName: person.lastName, externalId: person.id,
                           employeeNumber: person.id, department: person.department, title: person.title, managerId: managerAccount)
    }
}

/// The per-account test for "nothing to do", kept apart from `AppPlanner` so the hot loop does
/// not copy the planner for every call.
///
/// It runs for every person in every app, so it takes indices and reads each field it needs
/// straight from the arrays: handing it a whole `Person` or `Account` copies the record (a
/// dozen reference counts), which made `makePlan` twice as slow in PlanBench.
struct ConvergenceCheck {
    let people: [Person]
    let accounts: [Account]
    let inventory: AppInventory
    let view: AppDesireView
    let attributes: [AccountAttribute]

    init(people: [Person], inventory: AppInventory, view: AppDesireView, attributes: [AccountAttribute]) {
        self.people = people
        self.accounts = inventory.accounts
        self.inventory = inventory
        self.view = view
        self.attributes = attributes
    }

    /// Account `a` is usable, holds exactly desire `desire`'s entitlements, and agrees with HR
    /// on person `p`.
    func isConverged(person p: Int, account a: Int, desire: Int) -> Bool {
        if !inventory.grants(ofAccount: a).elementsEqual(view.entitlements(of: desire)) { return false }
        if accounts[a].status == .disabled { return false }
        return attributes.isEmpty || attributeChanges(person: p, account: a).isEmpty
    }

    /// HR values the app reports differently. Attributes the app does not report are skipped,
    /// and equal values (the common case) are recognised before anything is copied.
    func attributeChanges(person p: Int, account a: Int) -> [AttributeChange] {
        var changes: [AttributeChange] = []
        for attribute in attributes {
            let wanted: String?, held: String?
            switch attribute {
            case .email:
                if agrees(accounts[a].email, with: people[p].email) { continue }
                wanted = people[p].email
                held = accounts[a].email
                if let wanted, let held, held.equalsIgnoringCase(wanted) { continue }
            case .displayName:
                if agrees(accounts[a].displayName, with: people[p].displayName) { continue }
                wanted = people[p].fullName
                held = accounts[a].displayName
            case .givenName:
                if agrees(accounts[a].givenName, with: people[p].firstName) { continue }
                wanted = people[p].firstName
                held = accounts[a].givenName
            case .familyName:
                if agrees(accounts[a].familyName, with: people[p].lastName) { continue }
                wanted = people[p].lastName
                held = accounts[a].familyName
            case .department:
                if accounts[a].attributes.isEmpty { continue }
                wanted = people[p].department
                held = accounts[a].attributes["department"]
            case .title:
                if accounts[a].attributes.isEmpty { continue }
                wanted = people[p].title
                held = accounts[a].attributes["title"]
            }
            guard let wanted, !wanted.isEmpty, let held, held != wanted else { continue }
            changes.append(AttributeChange(attribute: attribute.rawValue, before: held, after: wanted))
        }
        return changes
    }

    /// The app does not report the value, or reports what HR says.
    private func agrees(_ held: String?, with wanted: String?) -> Bool {
        held == nil || held == wanted
    }
}
