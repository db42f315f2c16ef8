import StewardProtocol

/// What the discovery sources' evidence shows: apps in use that nobody connected to Steward
/// (`shadow`), and people who left and are still active in an app (`leftover`, the most urgent
/// finding there is: a sign-in or an OAuth grant after the leave date).
///
/// Pure: usage as synced, the people, the apps Steward manages, and today.
public enum ShadowFindings {
    /// An app Steward manages and the names evidence may give it (its id, description and
    /// `vendor`), matched to catalogue vendors by name, case and punctuation ignored.
    public struct ConnectedApp: Sendable {
        public var id: String
        public var names: [String]

        public init(id: String, names: [String]) {
            self.id = id
            self.names = names
        }
    }

    public static func find(usage: [AppUsage], directory: PersonDirectory, connected: [ConnectedApp], catalogue: VendorCatalogue?,
                            today: CalendarDay) -> [AccountFinding] {
        let people = PeopleByEmail(directory)
        let connectedByName = connectedIndex(connected, catalogue: catalogue)
        var byApp: [String: [AppUsage]] = [:]
        for u in usage where !u.notSoftware { byApp[u.vendor ?? "?" + u.label.lowercased(), default: []].append(u) }

        var urgent: [AccountFinding] = [], shadow: [AccountFinding] = []
        for key in byApp.keys.sorted() {
            guard let uses = byApp[key], let first = uses.first else { continue }
            let name = first.vendor ?? first.label
            let appId = connectedByName[normalized(name)]
            // Leavers active after their leave date, in any app, connected or not.
            var byUser: [String: [AppUsage]] = [:]
            for u in uses { if let user = u.user { byUser[user, default: []].append(u) } }
            var users: [AccountFinding.AppUser] = []
            for email in byUser.keys.sorted() {
                let mine = byUser[email] ?? []
                let person = people.person(email)
                var user = AccountFinding.AppUser(email: email, personId: person.map { directory.people[$0].id })
                user.firstSeen = mine.compactMap(\.firstSeen).min()
                user.lastSeen = mine.compactMap(\.lastSeen).max()
                user.sources = Array(Set(mine.map(\.source))).sorted()
                if let p = person, directory.standings[p].hasLeft {
                    user.hasLeft = true
                    let leftOn = directory.people[p].endDate.flatMap(CalendarDay.init(iso:))
                    let active = mine.filter { !$0.revoked }.compactMap(\.lastActive).max().flatMap(CalendarDay.init(iso:))
                    // Without a leave date (gone from the feed) nothing says the use came after it.
                    if let active, let leftOn, active > leftOn {
                        urgent.append(leaverActive(person: directory.people[p], email: email, app: name, appId: appId, uses: mine,
                                                   active: active, leftOn: leftOn, today: today))
                    }
                }
                users.append(user)
            }
            guard appId == nil else { continue }
            shadow.append(shadowApp(name: name, known: first.vendor != nil, category: first.category, uses: uses, users: users, today: today))
        }
        // The most urgent first; shadow apps by what they cost, then by how many use them.
        shadow.sort { ($0.monthlyCost ?? 0, $0.users.count, $1.app) > ($1.monthlyCost ?? 0, $1.users.count, $0.app) }
        return urgent.sorted { ($0.ageDays ?? 0, $0.app) > ($1.ageDays ?? 0, $1.app) } + shadow
    }

    private static func leaverActive(person: Person, email: String, app: String, appId: String?, uses: [AppUsage],
                                     active: CalendarDay, leftOn: CalendarDay?, today: CalendarDay) -> AccountFinding {
        let after = leftOn.map { active.days(since: $0) }
        let kinds = Set(uses.flatMap(\.kinds).filter(\.showsActivity).map(\.activityWord)).sorted().joined(separator: " and ")
        let leftText = leftOn.map { " on \($0)" } ?? ""
        let laterText = after.map { ", \($0) day\($0 == 1 ? "" : "s") later" } ?? ""
        var evidence = ["\(person.id) left\(leftText); last \(kinds) \(active)\(laterText)"]
        evidence += uses.flatMap { u in u.evidence.map { "\(u.source): \($0)" } }
        var f = AccountFinding(kind: .leftover, app: appId ?? app, accountId: nil, accountName: email, personId: person.id,
                               summary: "\(person.id) left and is still active in \(app)" + (after.map { ": \(kinds) \($0) day\($0 == 1 ? "" : "s") after leaving" } ?? ""),
                               evidence: evidence, ageDays: leftOn.map { today.days(since: $0) },
                               suggestion: appId.map { "steward apply disables the \($0) account; then revoke their sessions and tokens in \(app)" }
                                   ?? "\(app) is not connected: sign them out and remove the account in \(app)'s admin console, revoke its OAuth grant at the identity provider, and connect \(app) to Steward")
        f.urgent = true
        f.lastSeen = active.description
        f.users = [AccountFinding.AppUser(email: email, personId: person.id, firstSeen: uses.compactMap(\.firstSeen).min(),
                                          lastSeen: active.description, sources: Array(Set(uses.map(\.source))).sorted(), hasLeft: true)]
        return f
    }

    private static func shadowApp(name: String, known: Bool, category: String?, uses: [AppUsage], users: [AccountFinding.AppUser],
                                  today: CalendarDay) -> AccountFinding {
        let firstSeen = uses.compactMap(\.firstSeen).min(), lastSeen = uses.compactMap(\.lastSeen).max()
        // Spend per month: each month's total across users, averaged over the months with spend.
        var months: [String: Double] = [:]
        for u in uses { for (m, amount) in u.spend { months[m, default: 0] += amount } }
        let monthly = months.isEmpty ? nil : months.values.reduce(0, +) / Double(months.count)
        let currency = uses.compactMap(\.currency).first
        let sources = Array(Set(uses.map(\.source))).sorted()
        let leavers = users.filter(\.hasLeft).count
        var summary = known ? "\(name) (\(category ?? "other")) is in use and not connected to Steward" : "an unknown app \"\(name)\" is in use"
        summary += users.isEmpty ? "" : ": \(users.count) user\(users.count == 1 ? "" : "s")"
        if let monthly { summary += ", \(money(monthly, currency))/month" }
        if leavers > 0 { summary += ", \(leavers) of them left" }
        var evidence = sources.map { s in "\(s): \(uses.filter { $0.source == s }.reduce(0) { $0 + $1.count }) record(s)" }
        evidence += uses.prefix(6).flatMap { u in u.evidence.prefix(2).map { "\(u.source): \($0)" } }
        var f = AccountFinding(kind: .shadow, app: name, accountId: nil, accountName: nil, personId: nil, summary: summary, evidence: evidence,
                               ageDays: firstSeen.flatMap(CalendarDay.init(iso:)).map { today.days(since: $0) },
                               suggestion: known ? "connect \(name) (apps[] in steward.json) so its accounts are governed, or tell its users to stop" : "find out what \"\(name)\" is; add it to the vendor catalogue (vendorCatalogue) if it is software")
        f.monthlyCost = monthly
        f.currency = currency
        f.users = users
        f.firstSeen = firstSeen
        f.lastSeen = lastSeen
        f.category = category
        return f
    }

    static func money(_ amount: Double, _ currency: String?) -> String {
        let cents = Int((amount * 100).rounded())
        let text = "\(cents / 100).\(String(format2: cents % 100))"
        return (currency ?? "") == "USD" || currency == nil ? "$" + text : text + " " + (currency ?? "")
    }

    /// Catalogue-normalized name → connected app id: an app named `github` is GitHub.
    public static func connectedIndex(_ apps: [ConnectedApp], catalogue: VendorCatalogue?) -> [String: String] {
        var index: [String: String] = [:]
        for app in apps {
            for name in app.names where !name.isEmpty {
                index[normalized(name)] = index[normalized(name)] ?? app.id
                if let catalogue, case .vendor(let v) = catalogue.match(descriptor: name) {
                    index[normalized(v.name)] = index[normalized(v.name)] ?? app.id
                }
            }
        }
        return index
    }

    public static func normalized(_ name: String) -> String {
        String(name.lowercased().unicodeScalars.filter { CharacterSetASCII.isAlphanumeric($0) }.map(Character.init))
    }
}

extension EvidenceKind {
    var activityWord: String {
        switch self {
        case .signIn: return "sign-in"
        case .oauthGrant: return "OAuth grant"
        case .browserVisit: return "visit"
        case .expense: return "expense"
        case .assignment: return "assignment"
        }
    }
}

private enum CharacterSetASCII {
    static func isAlphanumeric(_ s: Unicode.Scalar) -> Bool {
        (s >= "a" && s <= "z") || (s >= "0" && s <= "9") || s.value > 127
    }
}

private extension String {
    init(format2 value: Int) { self = value < 10 ? "0\(value)" : "\(value)" }
}

/// People by e-mail address, case ignored and plus-addressing (`ada+tools@`) folded, so the
/// users an export names are linked to the people they are.
struct PeopleByEmail {
    private var index: [String: Int] = [:]

    init(_ directory: PersonDirectory) {
        for (i, p) in directory.people.enumerated() where !p.email.isEmpty {
            let key = Self.key(p.email)
            // A current person wins over a former one with the same address.
            if let earlier = index[key], !directory.standings[earlier].hasLeft, directory.standings[i].hasLeft { continue }
            index[key] = i
        }
    }

    func person(_ email: String) -> Int? { index[Self.key(email)] }

    static func key(_ email: String) -> String {
        let lower = email.lowercased()
        guard let at = lower.lastIndex(of: "@") else { return lower }
        let local = lower[..<at], domain = lower[lower.index(after: at)...]
        return String(local.prefix { $0 != "+" }) + "@" + domain
    }
}
