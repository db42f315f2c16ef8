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
    /// Per account: whose it is and how that was decided; nil when it is linked to nobody.
    let linkOfAccount: [AccountLink?]
    /// Per directory person: their account here, none, or a conflict.
    let accountOfPerson: [PersonAccount]
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

    /// A person's account in one app, as correlation left it.
    enum PersonAccount: Sendable, Hashable {
        /// No account is theirs.
        case unlinked
        /// The account at this index in the inventory is theirs.
        case linked(Int32)
        /// Several accounts matched them, so none is linked until a human decides.
        case conflicted
    }

    /// An account's person (directory index) and how the link was made.
    struct AccountLink: Sendable, Hashable {
        var person: Int32
        var source: LinkSource
    }

    public struct IgnoredAccount: Sendable, Hashable {
        public var account: Int
        public var reason: String
    }

    public func person(ofAccount index: Int) -> Int? {
        linkOfAccount[index].map { Int($0.person) }
    }

    public func linkSource(ofAccount index: Int) -> LinkSource? {
        linkOfAccount[index]?.source
    }

    /// The person's account index, or nil when they have none or a conflict.
    public func account(ofPerson index: Int) -> Int? {
        if case .linked(let a) = accountOfPerson[index] { return Int(a) }
        return nil
    }

    /// The person matched several accounts and must be resolved by a link or an ignore.
    public func isConflicted(person index: Int) -> Bool { accountOfPerson[index] == .conflicted }

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
        var linkOfAccount = [AccountLink?](repeating: nil, count: accounts.count)
        var accountOfPerson = [PersonAccount](repeating: .unlinked, count: directory.count)
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
                    if case .linked(let other) = accountOfPerson[p] {
                        conflicts.append(CorrelationConflict(kind: .multipleAccounts, app: app, accountIds: [accounts[Int(other)].id, account.id],
                                                             personIds: [personId], rule: nil))
                        continue
                    }
                    linkOfAccount[i] = AccountLink(person: Int32(p), source: .manual)
                    accountOfPerson[p] = .linked(Int32(i))
                }
            }
        }

        // Rules, in order; the first rule that finds anyone decides.
        var claimedTwice: [Int32: [Int]] = [:]
        var unresolved: [Int32: [Int]] = [:]
        for i in accounts.indices {
            if hasOverrides && decided[i] { continue }
            for rule in rules {
                switch index.match(rule, account: i, of: accounts) {
                case nil:
                    continue
                case .ambiguous:
                    conflicts.append(CorrelationConflict(kind: .ambiguous, app: app, accountIds: [accounts[i].id],
                                                         personIds: index.candidates(accounts[i], rule: rule, directory: directory), rule: rule))
                case .person(let p):
                    if accountOfPerson[Int(p)] == .unlinked {
                        accountOfPerson[Int(p)] = .linked(Int32(i))
                        linkOfAccount[i] = AccountLink(person: p, source: .rule(rule))
                    } else {
                        claimedTwice[p, default: []].append(i)
                    }
                }
                break
            }
        }

        // A person claimed by several accounts: unlink the rule-made links, report, decide nothing.
        for (p, extra) in claimedTwice.sorted(by: { $0.key < $1.key }) {
            guard case .linked(let linked) = accountOfPerson[Int(p)] else { continue }
            let first = Int(linked)
            let personId = directory.people[Int(p)].id
            if linkOfAccount[first]?.source == .manual {
                // A manual link stands; the other accounts are reported.
                conflicts.append(CorrelationConflict(kind: .multipleAccounts, app: app, accountIds: [accounts[first].id] + extra.map { accounts[$0].id },
                                                     personIds: [personId], rule: nil))
                unresolved[p] = extra
                continue
            }
            let all = [first] + extra
            for a in all { linkOfAccount[a] = nil }
            accountOfPerson[Int(p)] = .conflicted
            unresolved[p] = all
            conflicts.append(CorrelationConflict(kind: .multipleAccounts, app: app, accountIds: all.map { accounts[$0].id },
                                                 personIds: [personId], rule: nil))
        }

        var orphans: [Int] = []
        let ignoredSet = Set(ignored.map(\.account))
        let conflictedAccounts = Set(conflicts.flatMap(\.accountIds))
        var linked = 0
        for i in accounts.indices {
            if linkOfAccount[i] != nil {
                linked += 1
            } else if !ignoredSet.contains(i) && !(conflicts.isEmpty ? false : conflictedAccounts.contains(accounts[i].id)) {
                orphans.append(i)
            }
        }
        self.appId = app
        self.linkOfAccount = linkOfAccount
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
    /// Whom an attribute value names: one person, or several, which is a conflict.
    enum Match: Sendable, Hashable {
        case person(Int32)
        case ambiguous
    }

    private let byId: KeyTable<Int32>
    private let byEmail: KeyTable<Match>
    private let byLocalPart: KeyTable<Match>

    public init(directory: PersonDirectory) {
        var byEmail = KeyTable<Match>(capacity: directory.count, ignoresCase: true)
        var byLocalPart = KeyTable<Match>(capacity: directory.count, ignoresCase: true)
        let currentCount = directory.currentCount
        // Current people win over former ones with the same email: a returning address belongs
        // to whoever holds it now. Two current (or two former) people sharing one is ambiguous.
        func claim(_ existing: Match, _ person: Int32) -> Match {
            guard case .person(let holder) = existing else { return existing }
            let holderIsCurrent = Int(holder) < currentCount, isCurrent = Int(person) < currentCount
            if holderIsCurrent == isCurrent { return .ambiguous }
            return isCurrent ? .person(person) : existing
        }
        let people = directory.people
        for i in people.indices {
            let person = Int32(i)
            let email = people[i].email
            guard !email.isEmpty else { continue }
            byEmail.insert(email, .person(person)) { claim($0, person) }
            if let at = email.utf8.firstIndex(of: UInt8(ascii: "@")) {
                byLocalPart.insert(String(email[..<at]), .person(person)) { claim($0, person) }
            }
        }
        self.byId = directory.idTable
        self.byEmail = byEmail
        self.byLocalPart = byLocalPart
    }

    /// The person account `i` of `accounts` belongs to under `rule`, `ambiguous`, or nil when
    /// the rule finds nobody. Only the field the rule reads is taken from the array: passing
    /// the whole account would copy it, and this runs for every account of every app.
    func match(_ rule: CorrelationRule, account i: Int, of accounts: [Account]) -> Match? {
        switch rule {
        case .employeeNumber:
            guard let n = accounts[i].employeeNumber, !n.isEmpty else { return nil }
            return byId.find(n).map(Match.person)
        case .externalId:
            guard let n = accounts[i].externalId, !n.isEmpty else { return nil }
            return byId.find(n).map(Match.person)
        case .email:
            guard let e = accounts[i].email, !e.isEmpty else { return nil }
            return byEmail.find(e)
        case .userName:
            let u = accounts[i].userName
            if u.isEmpty { return nil }
            if u.utf8.contains(UInt8(ascii: "@")) { return byEmail.find(u) }
            return byLocalPart.find(u)
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
