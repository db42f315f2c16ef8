import StewardProtocol

/// Which account in an app belongs to whom.
///
/// Rules are tried in the app's order; the first rule that finds anyone decides. Manual links
/// win over rules, ignored accounts are left out entirely, and anything ambiguous is reported as
/// a conflict rather than guessed: an ambiguous account stays unlinked, and a person with two
/// rule-linked accounts is linked to neither. The planner then leaves that person alone in the
/// app, so no third account is created, unless they have left: then every matched account is
/// theirs, residual access, and is disabled.
public struct AppCorrelation: Sendable {
    public let appId: String
    /// Per account: directory index of its person, or -1.
    let personOfAccount: [Int32]
    /// Per account: how it was linked (see `LinkSource`).
    let linkSourceOfAccount: [UInt8]
    /// Per directory person: account index, -1 none, -2 conflicted.
    let accountOfPerson: [Int32]
    /// Indices of accounts linked to nobody and not ignored.
    public let orphans: [Int]
    public let ignored: [IgnoredAccount]
    public let conflicts: [CorrelationConflict]
    public let linkedCount: Int
    /// Per person, accounts rules matched to them but left unlinked because they had several.
    let unresolvedByPerson: [Int32: [Int]]

    /// How an account came to be linked.
    public enum LinkSource: Sendable, Hashable {
        case manual
        case rule(CorrelationRule)
    }

    public struct IgnoredAccount: Sendable, Hashable {
        public var account: Int
        public var reason: String
    }

    public func person(ofAccount index: Int) -> Int? {
        let p = personOfAccount[index]
        return p >= 0 ? Int(p) : nil
    }

    public func linkSource(ofAccount index: Int) -> LinkSource? {
        let s = linkSourceOfAccount[index]
        if s == 0 { return nil }
        if s == 1 { return .manual }
        return .rule(CorrelationRule.allCases[Int(s) - 2])
    }

    public func account(ofPerson index: Int) -> Int? {
        let a = accountOfPerson[index]
        return a >= 0 ? Int(a) : nil
    }

    /// The person matched several accounts and must be resolved by a link or an ignore.
    public func isConflicted(person index: Int) -> Bool { accountOfPerson[index] == -2 }

    /// Accounts that rules matched to this person but that stay unlinked because there were
    /// several. Not a guess when the person has left: they are all theirs, all residual access.
    public func unresolvedAccounts(ofPerson index: Int) -> [Int] {
        unresolvedByPerson.isEmpty ? [] : unresolvedByPerson[Int32(index)] ?? []
    }

    /// Links `inventory`'s accounts to `directory`'s people.
    public init(inventory: AppInventory, rules: [CorrelationRule], overrides: CorrelationOverrides,
                directory: PersonDirectory, index: CorrelationIndex) {
        let app = inventory.appId
        let accounts = inventory.accounts
        var personOfAccount = [Int32](repeating: -1, count: accounts.count)
        var linkSource = [UInt8](repeating: 0, count: accounts.count)
        var accountOfPerson = [Int32](repeating: -1, count: directory.count)
        var ignored: [IgnoredAccount] = []
        var conflicts: [CorrelationConflict] = []
        var hasOverrides = !overrides.links.isEmpty || !overrides.ignores.isEmpty

        // Manual decisions first: they are what a human said.
        if hasOverrides {
            hasOverrides = overrides.links.keys.contains { $0.app == app } || overrides.ignores.keys.contains { $0.app == app }
        }
        var decided = [Bool](repeating: false, count: hasOverrides ? accounts.count : 0)
        if hasOverrides {
            for i in accounts.indices {
                let account = accounts[i]
                let key = AccountKey(app: app, accountId: account.id)
                if let reason = overrides.ignores[key] {
                    ignored.append(IgnoredAccount(account: i, reason: reason))
                    decided[i] = true
                } else if let personId = overrides.links[key] {
                    decided[i] = true
                    guard let p = directory.index(of: personId) else {
                        conflicts.append(CorrelationConflict(kind: .unknownPerson, app: app, accountIds: [account.id], personIds: [personId], rule: nil))
                        continue
                    }
                    if accountOfPerson[p] >= 0 {
                        let other = accounts[Int(accountOfPerson[p])].id
                        conflicts.append(CorrelationConflict(kind: .multipleAccounts, app: app, accountIds: [other, account.id], personIds: [personId], rule: nil))
                        continue
                    }
                    personOfAccount[i] = Int32(p)
                    linkSource[i] = 1
                    accountOfPerson[p] = Int32(i)
                }
            }
        }

        // Rules, in order; the first rule that finds anyone decides.
        var claimedTwice: [Int32: [Int]] = [:]
        var unresolved: [Int32: [Int]] = [:]
        // Reading through a buffer pointer keeps each account in place rather than copied.
        accounts.withUnsafeBufferPointer { accounts in
            for i in accounts.indices {
                if hasOverrides && decided[i] { continue }
                for rule in rules {
                    let match = index.match(rule, in: accounts.baseAddress.map { $0 + i })
                    if match == CorrelationIndex.none { continue }
                    if match == CorrelationIndex.ambiguous {
                        conflicts.append(CorrelationConflict(kind: .ambiguous, app: app, accountIds: [accounts[i].id],
                                                             personIds: index.candidates(accounts[i], rule: rule, directory: directory), rule: rule))
                        break
                    }
                    let current = accountOfPerson[Int(match)]
                    if current == -1 {
                        accountOfPerson[Int(match)] = Int32(i)
                        personOfAccount[i] = match
                        linkSource[i] = UInt8(2 + rule.ordinal)
                    } else {
                        claimedTwice[match, default: []].append(i)
                    }
                    break
                }
            }
        }

        // A person claimed by several accounts: unlink the rule-made links, report, decide nothing.
        for (p, extra) in claimedTwice.sorted(by: { $0.key < $1.key }) {
            let first = Int(accountOfPerson[Int(p)])
            let personId = directory.people[Int(p)].id
            if linkSource[first] == 1 {
                // A manual link stands; the other accounts are reported.
                conflicts.append(CorrelationConflict(kind: .multipleAccounts, app: app, accountIds: [accounts[first].id] + extra.map { accounts[$0].id },
                                                     personIds: [personId], rule: nil))
                unresolved[p] = extra
                continue
            }
            let all = [first] + extra
            for a in all {
                personOfAccount[a] = -1
                linkSource[a] = 0
            }
            accountOfPerson[Int(p)] = -2
            unresolved[p] = all
            conflicts.append(CorrelationConflict(kind: .multipleAccounts, app: app, accountIds: all.map { accounts[$0].id },
                                                 personIds: [personId], rule: nil))
        }

        var orphans: [Int] = []
        let ignoredSet = Set(ignored.map(\.account))
        let conflictedAccounts = Set(conflicts.flatMap(\.accountIds))
        var linked = 0
        for i in accounts.indices {
            if personOfAccount[i] >= 0 {
                linked += 1
            } else if !ignoredSet.contains(i) && !(conflicts.isEmpty ? false : conflictedAccounts.contains(accounts[i].id)) {
                orphans.append(i)
            }
        }
        self.appId = app
        self.personOfAccount = personOfAccount
        self.linkSourceOfAccount = linkSource
        self.accountOfPerson = accountOfPerson
        self.orphans = orphans
        self.ignored = ignored
        self.conflicts = conflicts
        self.linkedCount = linked
        self.unresolvedByPerson = unresolved
    }
}

/// An account in an app, for manual links and ignores.
public struct AccountKey: Hashable, Sendable {
    public var app: String
    public var accountId: String

    public init(app: String, accountId: String) {
        self.app = app
        self.accountId = accountId
    }
}

/// Decisions a human made (`steward link`, `steward ignore`), replayed from the journal.
public struct CorrelationOverrides: Sendable {
    /// Account → person id.
    public var links: [AccountKey: String]
    /// Account → why it belongs to nobody (a service account, a shared mailbox).
    public var ignores: [AccountKey: String]

    public init(links: [AccountKey: String] = [:], ignores: [AccountKey: String] = [:]) {
        self.links = links
        self.ignores = ignores
    }
}

/// A link correlation refused to guess.
public struct CorrelationConflict: Sendable, Hashable {
    public var kind: Kind
    public var app: String
    public var accountIds: [String]
    public var personIds: [String]
    /// The rule that was ambiguous.
    public var rule: CorrelationRule?

    public enum Kind: String, Sendable, CaseIterable {
        /// One account matches several people.
        case ambiguous
        /// One person matches several accounts.
        case multipleAccounts
        /// A manual link names a person nobody has.
        case unknownPerson
    }

    public var message: String {
        let accounts = accountIds.joined(separator: ", ")
        let people = personIds.joined(separator: ", ")
        switch kind {
        case .ambiguous:
            return "\(app): account \(accounts) matches several people by \(rule?.rawValue ?? "rule") (\(people)); link it or ignore it"
        case .multipleAccounts:
            return "\(app): person \(people) matches several accounts (\(accounts)); link one and ignore the others"
        case .unknownPerson:
            return "\(app): account \(accounts) is linked by hand to \(people), who is not in the HR feed"
        }
    }
}

/// Lookup tables from account attributes to people, built once and shared by every app.
public struct CorrelationIndex: Sendable {
    static let none: Int32 = -1
    static let ambiguous: Int32 = -2

    private let byId: KeyTable
    private let byEmail: KeyTable
    private let byLocalPart: KeyTable

    public init(directory: PersonDirectory) {
        var byEmail = KeyTable(capacity: directory.count, ignoresCase: true)
        var byLocalPart = KeyTable(capacity: directory.count, ignoresCase: true)
        let currentCount = directory.currentCount
        // Current people win over former ones with the same email: a returning address belongs
        // to whoever holds it now. Two current (or two former) people sharing one is ambiguous.
        func claim(_ existing: Int32, _ person: Int32) -> Int32 {
            if existing == CorrelationIndex.ambiguous { return existing }
            let existingIsCurrent = Int(existing) < currentCount, isCurrent = Int(person) < currentCount
            if existingIsCurrent == isCurrent { return CorrelationIndex.ambiguous }
            return isCurrent ? person : existing
        }
        directory.people.withUnsafeBufferPointer { people in
            for i in people.indices {
                let person = Int32(i)
                let email = people[i].email
                guard !email.isEmpty else { continue }
                byEmail.insert(email, person) { claim($0, person) }
                if let at = email.utf8.firstIndex(of: UInt8(ascii: "@")) {
                    byLocalPart.insert(String(email[..<at]), person) { claim($0, person) }
                }
            }
        }
        self.byId = directory.idTable
        self.byEmail = byEmail
        self.byLocalPart = byLocalPart
    }

    /// The person an account belongs to under `rule`: an index, `none` or `ambiguous`. The
    /// account is read in place (one field, not a copy of the record).
    func match(_ rule: CorrelationRule, in account: UnsafePointer<Account>?) -> Int32 {
        guard let account else { return CorrelationIndex.none }
        switch rule {
        case .employeeNumber:
            guard let n = account.pointee.employeeNumber, !n.isEmpty else { return CorrelationIndex.none }
            return byId.find(n) ?? CorrelationIndex.none
        case .externalId:
            guard let n = account.pointee.externalId, !n.isEmpty else { return CorrelationIndex.none }
            return byId.find(n) ?? CorrelationIndex.none
        case .email:
            guard let e = account.pointee.email, !e.isEmpty else { return CorrelationIndex.none }
            return byEmail.find(e) ?? CorrelationIndex.none
        case .userName:
            let u = account.pointee.userName
            if u.isEmpty { return CorrelationIndex.none }
            if u.utf8.contains(UInt8(ascii: "@")) { return byEmail.find(u) ?? CorrelationIndex.none }
            return byLocalPart.find(u) ?? CorrelationIndex.none
        }
    }

    /// Everyone `account` could be under `rule`, for reporting an ambiguity.
    func candidates(_ account: Account, rule: CorrelationRule, directory: PersonDirectory) -> [String] {
        let key: (Person) -> Bool
        switch rule {
        case .employeeNumber: key = { $0.id == account.employeeNumber }
        case .externalId: key = { $0.id == account.externalId }
        case .email: key = { $0.email.equalsIgnoringCase(account.email ?? "") }
        case .userName:
            let u = account.userName.caseFolded
            key = { p in
                let e = p.email.caseFolded
                return e == u || e.split(separator: "@", maxSplits: 1).first.map(String.init) == u
            }
        }
        return directory.people.filter(key).map(\.id)
    }
}

extension CorrelationRule {
    /// Position in `allCases`, for storing a rule in a byte.
    var ordinal: Int { CorrelationRule.allCases.firstIndex(of: self) ?? 0 }
}
