import StewardProtocol

/// What `steward discover` finds in the accounts Steward has synced: access nobody answers for,
/// access a leaver kept, seats nobody uses, privileged access no rule grants, and shared or
/// service accounts without an owner. Each finding carries its evidence, its age and what to do.
///
/// A pure function of a plan's result (the directory, correlations and desired state) and the
/// inventories it was computed from, so it agrees with `steward plan` on who owns what.
public enum AccountFindings {
    /// `candidates: false` leaves orphans without their likely owners (and skips building the
    /// owner index): what `steward status` needs to count findings.
    public static func find(_ result: PlanResult, inventories: [AppInventory], config: GovernanceConfig, today: CalendarDay,
                            candidates: Bool = true) -> [AccountFinding] {
        let directory = result.directory
        let inventoryById = Dictionary(inventories.map { ($0.appId, $0) }, uniquingKeysWith: { first, _ in first })
        let apps: [AppInput] = result.correlations.compactMap { correlation in
            guard let inventory = inventoryById[correlation.appId], let settings = config.app(correlation.appId),
                  let position = config.apps.firstIndex(where: { $0.id == correlation.appId }) else { return nil }
            return AppInput(correlation: correlation, inventory: inventory, settings: settings, position: position)
        }
        // The owner index is only needed for orphans; it is built on one core while the apps
        // are scanned on the other.
        let needsMatcher = candidates && apps.contains { !$0.correlation.orphans.isEmpty }
        let (matcher, scanned) = concurrently(
            { needsMatcher ? OwnerMatcher(directory: directory) : nil },
            { concurrentMap(apps.count) { i in scan(apps[i], result: result, today: today) } })
        guard let matcher else { return scanned.flatMap(\.findings) }
        // Candidates are found on both cores, then written into the findings in place: the
        // findings arrays are large and must not be copied to add a few thousand candidates.
        let patches = concurrentMap(scanned.count) { i in
            let input = apps[i]
            return scanned[i].orphans.map { (f, a) -> (Int, [AccountFinding.Candidate], Bool) in
                let found = matcher.candidates(for: input.inventory.accounts[a])
                // The likeliest owner already has an account here: this one is a second account.
                let duplicate = found.first.map { input.correlation.account(ofPerson: $0.person) != nil } ?? false
                return (f, found.map { c in
                    let p = directory.people[c.person]
                    return AccountFinding.Candidate(personId: p.id, email: p.email, name: p.fullName, score: c.score, reasons: c.reasons)
                }, duplicate)
            }
        }
        var all: [AccountFinding] = []
        all.reserveCapacity(scanned.reduce(0) { $0 + $1.findings.count })
        for (i, app) in scanned.enumerated() {
            let start = all.count
            all += app.findings
            for (f, candidates, duplicate) in patches[i] {
                all[start + f].candidates = candidates
                guard let best = candidates.first, let account = all[start + f].accountId else { continue }
                let who = best.name ?? best.email, app = apps[i].settings.id
                if duplicate {
                    all[start + f].evidence.append("\(best.personId) \(who) already has another \(app) account")
                    all[start + f].suggestion = "likely a second account of \(best.personId) \(who): disable it (or steward ignore it with the reason); steward link \(app):\(account) \(best.personId) only if it is the one they use"
                } else {
                    all[start + f].suggestion = "steward link \(app):\(account) \(best.personId) if it is \(who)'s; otherwise " + all[start + f].suggestion
                }
            }
        }
        return all
    }

    private struct AppInput: Sendable {
        var correlation: AppCorrelation
        var inventory: AppInventory
        var settings: AppSettings
        var position: Int
    }

    /// One app's findings, and which of them are orphans (finding index, account index) still
    /// waiting for their candidates.
    private static func scan(_ input: AppInput, result: PlanResult, today: CalendarDay) -> (findings: [AccountFinding], orphans: [(Int, Int)]) {
        let directory = result.directory, desired = result.desired
        let correlation = input.correlation, inventory = input.inventory, settings = input.settings
        var scan = AppScan(app: settings, inventory: inventory, today: today)
        var findings: [AccountFinding] = [], orphans: [(Int, Int)] = []
        let ignored = Set(correlation.ignored.map(\.account))

        // Leavers first: the most urgent. Every matched account of a leaver is theirs.
        for p in directory.people.indices where directory.standings[p].hasLeft {
            var accounts = correlation.unresolvedAccounts(ofPerson: p)
            if let a = correlation.account(ofPerson: p) { accounts.insert(a, at: 0) }
            for a in accounts { scan.leftover(account: a, person: directory.people[p], standing: directory.standings[p], into: &findings) }
        }
        for a in inventory.accounts.indices where ignored.isEmpty || !ignored.contains(a) {
            let owner = correlation.person(ofAccount: a)
            if owner == nil {
                let account = inventory.accounts[a]
                if let pattern = settings.discovery.servicePattern(matching: scan.names(of: account)) {
                    findings.append(scan.finding(.service, account: a, summary: "looks like a shared or service account (\(pattern)) and has no owner",
                                                 evidence: ["name matches \(pattern)"], suggestion: "give it an owner: steward link \(settings.id):\(account.id) PERSON, or steward ignore it with the reason"))
                } else {
                    orphans.append((findings.count, a))
                    scan.orphan(account: a, into: &findings)
                }
            }
            if inventory.accounts[a].status == .active, owner.map({ !directory.standings[$0].hasLeft }) ?? true {
                scan.dormant(account: a, person: owner.map { directory.people[$0].id }, into: &findings)
            }
            scan.unjustifiedPrivileges(account: a, owner: owner, directory: directory, desired: desired, app: input.position, into: &findings)
        }
        scan.licenceSummary(into: &findings)
        return (findings, orphans)
    }
}

/// The checks over one app's inventory.
private struct AppScan {
    let app: AppSettings
    let inventory: AppInventory
    let today: CalendarDay
    var seats = 0, unusedSeats = 0
    /// Per entitlement (inventory index): privileged here? the paid seat? Decided once, not per grant.
    let privileged: [Bool]
    let seat: [Bool]

    init(app: AppSettings, inventory: AppInventory, today: CalendarDay) {
        self.app = app
        self.inventory = inventory
        self.today = today
        privileged = inventory.entitlements.map { app.isPrivileged(type: $0.type, name: $0.name) || app.isPrivileged(type: $0.type, name: $0.id) }
        seat = inventory.entitlements.map { e in
            app.discovery.licence.map { $0.entitlement.matches(type: e.type, name: e.id) || $0.entitlement.matches(type: e.type, name: e.name) } ?? false
        }
    }

    func names(of account: Account) -> [String] {
        [account.userName, account.email.flatMap { EmailAddress($0)?.local } ?? "", account.displayName ?? ""]
    }

    func finding(_ kind: AccountFinding.Kind, account a: Int, person: String? = nil, summary: String, evidence: [String],
                 suggestion: String, age: Int? = nil) -> AccountFinding {
        let account = inventory.accounts[a]
        return AccountFinding(kind: kind, app: app.id, accountId: account.id, accountName: account.email ?? account.userName, personId: person,
                              summary: summary, evidence: evidence, ageDays: age, suggestion: suggestion)
    }

    func leftover(account a: Int, person: Person, standing: PersonDirectory.Standing, into findings: inout [AccountFinding]) {
        let account = inventory.accounts[a]
        let grants = inventory.grants(ofAccount: a).map { entitlementLabel(inventory.entitlements[Int($0)]) }
        // A disabled account's grants cannot be used: disabling is how a leaver's access ends.
        guard account.status == .active || (account.status == .pending && !grants.isEmpty) else { return }
        let left = person.endDate.flatMap(CalendarDay.init(iso:))
        let age = left.map { today.days(since: $0) }
        var evidence: [String] = []
        if case .left(let reason) = standing { evidence.append("\(person.id) has left (\(reason.explanation))" + (left.map { " on \($0)" } ?? "")) }
        if account.status == .active { evidence.append("the account is enabled") }
        if !grants.isEmpty { evidence.append("it still holds \(listing(grants, limit: 5))") }
        if let login = account.lastLoginAt, let day = CalendarDay(iso: login), let left, day > left {
            evidence.append("signed in on \(day), after the leave date")
        }
        let mode = app.mode == .enforce ? "steward apply disables it" : "the app is in \(app.mode.rawValue) mode: disable it in the app, or set mode: enforce"
        findings.append(finding(.leftover, account: a, person: person.id,
                                summary: "\(person.id) left\(age.map { " \($0) days ago" } ?? "") and still has \(account.status == .active ? "an enabled account" : "grants")",
                                evidence: evidence, suggestion: mode, age: age))
    }

    func orphan(account a: Int, into findings: inout [AccountFinding]) {
        let account = inventory.accounts[a]
        var f = finding(.orphan, account: a, summary: "linked to nobody in the HR feed",
                        evidence: ["no correlation rule (\(app.correlate.map(\.rawValue).joined(separator: ", "))) matched anyone"],
                        suggestion: "steward ignore \(app.id):\(account.id) --reason WHY, or disable it")
        if let login = account.lastLoginAt.flatMap(CalendarDay.init(iso:)) { f.evidence.append("last sign-in \(login)") }
        findings.append(f)
    }

    mutating func dormant(account a: Int, person: String?, into findings: inout [AccountFinding]) {
        let holdsSeat = app.discovery.licence != nil && inventory.grants(ofAccount: a).contains { seat[Int($0)] }
        if holdsSeat { seats += 1 }
        // Only the dates are read here: this runs for every enabled account.
        let login = inventory.accounts[a].lastLoginAt.flatMap(CalendarDay.init(iso:))
        let created = login == nil ? inventory.accounts[a].createdAt.flatMap(CalendarDay.init(iso:)) : nil
        guard let since = login ?? created else { return }  // the app does not say: never guess an account unused
        let age = today.days(since: since)
        guard age > app.discovery.dormantAfterDays else { return }
        let evidence = login != nil ? "last sign-in \(since), \(age) days ago" : "never signed in; created \(since), \(age) days ago"
        var f = finding(.dormant, account: a, person: person, summary: "no sign-in for \(age) days (dormant after \(app.discovery.dormantAfterDays))",
                        evidence: [evidence], suggestion: "review it (or disable it) to free what it holds", age: age)
        if holdsSeat, let licence = app.discovery.licence {
            unusedSeats += 1
            f.evidence.append("holds the paid seat \(licence.entitlement)")
            f.monthlyCost = licence.monthlyCost
            f.currency = licence.monthlyCost == nil ? nil : licence.currency
        }
        findings.append(f)
    }

    /// The owner's desire is looked up only for an account holding something privileged: most hold nothing.
    func unjustifiedPrivileges(account a: Int, owner ownerIndex: Int?, directory: PersonDirectory, desired: DesiredState, app position: Int,
                               into findings: inout [AccountFinding]) {
        guard !app.privileged.isEmpty else { return }
        var desire: DesiredState.AppDesire??
        for e in inventory.grants(ofAccount: a) where privileged[Int(e)] {
            let ent = inventory.entitlements[Int(e)]
            if desire == nil { desire = .some(ownerIndex.flatMap { desired.desire(person: $0, app: position) }) }
            if let wanted = desire ?? nil, wanted.contains(e) { continue }
            let owner = ownerIndex.map { directory.people[$0] }
            let name = entitlementLabel(ent)
            var f = finding(.privileged, account: a, person: owner?.id, summary: name,
                            evidence: ["\(name) is privileged in \(app.id)", owner == nil ? "the account is linked to nobody" : "no policy, role or exception grants it to \(owner?.id ?? "")"],
                            suggestion: "review it (steward review start) or add the rule that justifies it")
            f.summary = "privileged \(name) that no rule grants"
            findings.append(f)
        }
    }

    func licenceSummary(into findings: inout [AccountFinding]) {
        guard let licence = app.discovery.licence, seats > 0 else { return }
        let cost = licence.monthlyCost.map { $0 * Double(unusedSeats) }
        findings.append(AccountFinding(
            kind: .licences, app: app.id, summary: "\(seats) seats of \(licence.entitlement) held, \(unusedSeats) unused for over \(app.discovery.dormantAfterDays) days",
            evidence: ["\(seats) accounts hold \(licence.entitlement)", "\(unusedSeats) of them are dormant"],
            suggestion: unusedSeats == 0 ? "nothing to reclaim" : "reclaim the dormant seats", monthlyCost: cost, currency: cost == nil ? nil : licence.currency))
    }
}

/// `type:name`, as config files and plans write entitlements.
private func entitlementLabel(_ e: Entitlement) -> String { EntitlementName(type: e.type, name: e.name).description }
