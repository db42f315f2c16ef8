import StewardProtocol

/// The people an account linked to nobody most likely belongs to, so an admin links it (or
/// disables it) in one step instead of searching the HR feed by hand.
///
/// Every person is indexed once under the forms their name and e-mail take in user names:
/// `first.last`, `firstlast`, `flast`, `f.last`, `firstl`, `last.first`, their nicknames
/// (`bob` for Robert), their e-mail's local part (which finds an address on an old domain),
/// all case- and accent-folded. An account is looked up under the forms of its e-mail (with
/// `+tags` dropped), user name and display name, so matching costs a few dictionary lookups per
/// account however many people there are.
public struct OwnerMatcher: Sendable {
    /// A likely owner and why.
    public struct Candidate: Sendable, Hashable {
        public var person: Int
        /// 0...1; above 0.8 the match is by name form or e-mail, not a guess.
        public var score: Double
        public var reasons: [String]
    }

    /// Key (by its 64-bit hash: a collision is vanishingly rare and would only add a weak
    /// candidate) → the newest entry under it; entries chain to older ones through `next`.
    /// One flat array rather than a list per key: a hundred thousand people make millions of keys.
    private let heads: [UInt64: Int32]
    private let entries: [Entry]
    private let domains: Set<String>

    private struct Entry: Sendable, Hashable {
        var person: Int32
        var score: Float
        /// Index into `NameForms.names`.
        var form: UInt8
        /// The next older entry under the same key, or -1.
        var next: Int32
    }

    /// Indexes `directory`'s people (current and former).
    public init(directory: PersonDirectory) {
        var domains: Set<String> = []
        var heads: [UInt64: Int32] = [:]
        var entries: [Entry] = []
        heads.reserveCapacity(directory.people.count * 24)
        entries.reserveCapacity(directory.people.count * 24)
        for (i, person) in directory.people.enumerated() {
            let email = EmailAddress(person.email)
            if let domain = email?.domain { domains.insert(domain) }
            var forms: [(String, Float, UInt8)] = []
            if let local = email?.local { forms.append((local, 0.95, NameForms.emailLocalPart)) }
            let first = NameFolding.fold(person.firstName ?? "")
            let lasts = NameFolding.lastNameForms(person.lastName ?? "")
            if !first.isEmpty {
                for last in lasts { forms += NameForms.forms(first: first, last: last, weight: 1) }
            }
            for (key, score, form) in forms where !key.isEmpty {
                let hash = Self.hash(key)
                let head = heads[hash] ?? -1
                // A person's forms are added together, so a repeat of this person is the newest entry.
                if head >= 0, entries[Int(head)].person == Int32(i) {
                    if entries[Int(head)].score < score { entries[Int(head)].score = score; entries[Int(head)].form = form }
                    continue
                }
                heads[hash] = Int32(entries.count)
                entries.append(Entry(person: Int32(i), score: score, form: form, next: head))
            }
        }
        self.heads = heads
        self.entries = entries
        self.domains = domains
    }

    /// FNV-1a over the key's UTF-8, then a final mix.
    private static func hash(_ key: String) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in key.utf8 { h = (h ^ UInt64(byte)) &* 0x100_0000_01b3 }
        h ^= h >> 33
        h = h &* 0xff51_afd7_ed55_8ccd
        return h ^ (h >> 33)
    }

    /// The entries under `key`, newest first; nil when more than `crowdLimit` share it.
    private func entries(under key: String) -> [Entry]? {
        guard var i = heads[Self.hash(key)] else { return nil }
        var found: [Entry] = []
        while i >= 0 {
            if found.count == Self.crowdLimit { return nil }
            found.append(entries[Int(i)])
            i = entries[Int(i)].next
        }
        return found
    }

    /// A key more people share than this names none of them (`robert` alone).
    static let crowdLimit = 50

    /// The best three candidates for `account`, best first, each above `minimum`.
    public func candidates(for account: Account, limit: Int = 3, minimum: Double = 0.3) -> [Candidate] {
        var best: [Int32: (score: Float, reasons: [String])] = [:]
        func look(_ key: String, _ source: String, _ factor: Float) {
            guard !key.isEmpty, let entries = entries(under: key) else { return }
            // A key many people share (`j.smith`) says little about any one of them.
            let crowd: Float = entries.count == 1 ? 1 : entries.count <= 3 ? 0.85 : 0.6
            for e in entries {
                let score = e.score * factor * crowd
                let reason = "\(source) \"\(key)\" is \(NameForms.names[Int(e.form)])"
                if let current = best[e.person] {
                    // A second signal agreeing adds a little confidence.
                    let combined = max(current.score, score) + min(current.score, score) * 0.1
                    best[e.person] = (min(0.99, combined), current.reasons.contains(reason) ? current.reasons : current.reasons + [reason])
                } else {
                    best[e.person] = (score, [reason])
                }
            }
        }
        var seen: Set<String> = []
        func lookOnce(_ key: String, _ source: String, _ factor: Float) {
            guard seen.insert(source + "\u{0}" + key).inserted else { return }
            look(key, source, factor)
        }
        if let email = account.email.flatMap(EmailAddress.init) {
            // An address on a domain the company does not use any more still names its owner.
            lookOnce(email.local, "e-mail", domains.isEmpty || domains.contains(email.domain) ? 1 : 0.95)
        }
        if let asEmail = EmailAddress(account.userName) {
            lookOnce(asEmail.local, "user name", domains.isEmpty || domains.contains(asEmail.domain) ? 1 : 0.95)
        } else {
            lookOnce(NameFolding.fold(account.userName), "user name", 1)
        }
        // Nicknames on the account's side (`bob.smith` → `robert.smith`), so the index holds
        // each person's own name once: first.last, first_last and first-last forms.
        for (text, source) in [(account.email.flatMap { EmailAddress($0)?.local }, "e-mail"),
                               (EmailAddress(account.userName)?.local ?? NameFolding.fold(account.userName), "user name")] {
            guard let text else { continue }
            for separator: Character in [".", "_", "-"] {
                let parts = text.split(separator: separator, maxSplits: 1).map(String.init)
                guard parts.count == 2 else { continue }
                for name in Nicknames.variants(of: parts[0]) { lookOnce(name + "." + parts[1], source + " (as a nickname)", 0.9) }
            }
        }
        let given = NameFolding.fold(account.givenName ?? ""), family = NameFolding.fold(account.familyName ?? "")
        if !given.isEmpty, !family.isEmpty { lookOnce(given + "." + family, "name", 0.9) }
        let tokens = NameFolding.fold(account.displayName ?? "").split(whereSeparator: { $0 == " " || $0 == "," }).map(String.init)
        if tokens.count >= 2, let firstToken = tokens.first, let lastToken = tokens.last {
            // "Ann Lee" and "Lee, Ann" both.
            let commaFirst = (account.displayName ?? "").contains(",")
            lookOnce(commaFirst ? lastToken + "." + firstToken : firstToken + "." + lastToken, "display name", 0.9)
        }
        return best.map { Candidate(person: Int($0.key), score: Double($0.value.score), reasons: $0.value.reasons) }
            .filter { $0.score >= minimum }
            .sorted { ($0.score, -$0.person) > ($1.score, -$1.person) }
            .prefix(limit).map { $0 }
    }
}

/// An address split at its last `@`, folded, with a `+tag` dropped from the local part.
struct EmailAddress: Sendable, Hashable {
    var local: String
    var domain: String

    init?(_ text: String) {
        guard let at = text.lastIndex(of: "@"), at != text.startIndex else { return nil }
        var local = NameFolding.fold(String(text[..<at]))
        if let plus = local.firstIndex(of: "+") { local = String(local[..<plus]) }
        let domain = text[text.index(after: at)...].lowercased()
        guard !local.isEmpty, !domain.isEmpty else { return nil }
        self.local = local
        self.domain = domain
    }
}

/// The user-name forms of a folded first and last name, with how strongly each names them.
enum NameForms {
    /// What each form is called in a candidate's reasons; entries refer to them by index.
    static let names = ["first.last", "firstlast", "first_last", "first-last", "flast", "f.last", "firstl", "last.first", "lastf",
                        "(unused)", "the e-mail's local part"]
    static let emailLocalPart: UInt8 = 10

    static func forms(first: String, last: String, weight: Float) -> [(String, Float, UInt8)] {
        guard let f = first.first else { return [] }
        let initial = String(f)
        return [
            (first + "." + last, 0.9 * weight, 0), (first + last, 0.85 * weight, 1), (first + "_" + last, 0.9 * weight, 2),
            (first + "-" + last, 0.9 * weight, 3), (initial + last, 0.75 * weight, 4), (initial + "." + last, 0.75 * weight, 5),
            (first + String(last.prefix(1)), 0.6 * weight, 6), (last + "." + first, 0.8 * weight, 7), (last + initial, 0.6 * weight, 8),
        ]
    }
}

/// Case and accents folded away, as user names are usually typed: `Zoë Ångström` → `zoe angstrom`.
enum NameFolding {
    static func fold(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        // ASCII needs no decomposition: the common case stays cheap.
        if text.utf8.allSatisfy({ $0 < 0x80 }) { return String(text.lowercased().trimmingSpaces) }
        for scalar in text.lowercased().decomposedScalars {
            switch scalar {
            case "ß": out += "ss"
            case "ø": out += "o"
            case "æ": out += "ae"
            case "œ": out += "oe"
            case "ł": out += "l"
            case "đ": out += "d"
            case "þ": out += "th"
            case "ı": out += "i"
            default:
                if scalar.properties.generalCategory == .nonspacingMark { continue }
                out.unicodeScalars.append(scalar)
            }
        }
        return String(out.trimmingSpaces)
    }

    /// A last name as user names take it: whole without spaces or hyphens, and its last word
    /// (`van der Berg` → `vanderberg`, `berg`).
    static func lastNameForms(_ last: String) -> [String] {
        let folded = fold(last)
        let words = folded.split(whereSeparator: { $0 == " " || $0 == "-" || $0 == "'" }).map(String.init)
        guard !words.isEmpty else { return [] }
        var forms = [words.joined()]
        if words.count > 1, let tail = words.last { forms.append(tail) }
        return forms
    }
}

private extension String {
    var decomposedScalars: [Unicode.Scalar] {
        // Canonical decomposition by hand for the Latin letters names use: Foundation's
        // `decomposedStringWithCanonicalMapping` is not in every toolchain's Foundation.
        unicodeScalars.flatMap { LatinDecomposition.decompose($0) }
    }
}

/// Base letter and mark for the accented Latin letters of names.
enum LatinDecomposition {
    private static let table: [Unicode.Scalar: Unicode.Scalar] = {
        var t: [Unicode.Scalar: Unicode.Scalar] = [:]
        let groups: [(Character, String)] = [
            ("a", "àáâãäåāăą"), ("c", "çćĉċč"), ("d", "ď"), ("e", "èéêëēĕėęě"), ("g", "ĝğġģ"), ("h", "ĥ"),
            ("i", "ìíîïĩīĭįİ"), ("j", "ĵ"), ("k", "ķ"), ("l", "ĺļľ"), ("n", "ñńņňŉ"), ("o", "òóôõöōŏő"),
            ("r", "ŕŗř"), ("s", "śŝşšș"), ("t", "ţťț"), ("u", "ùúûüũūŭůűų"), ("w", "ŵ"), ("y", "ýÿŷ"), ("z", "źżž"),
        ]
        for (base, accented) in groups {
            guard let b = base.unicodeScalars.first else { continue }
            for s in accented.unicodeScalars { t[s] = b }
        }
        return t
    }()

    static func decompose(_ scalar: Unicode.Scalar) -> [Unicode.Scalar] {
        if scalar.value < 0x80 { return [scalar] }
        if let base = table[scalar] { return [base] }
        return [scalar]
    }
}

/// Common English nicknames and the names they stand for, both ways.
enum Nicknames {
    private static let pairs: [(String, [String])] = [
        ("robert", ["bob", "rob", "bobby", "robbie"]), ("william", ["bill", "will", "billy", "liam"]),
        ("elizabeth", ["liz", "beth", "lisa", "eliza", "betty"]), ("richard", ["rick", "dick", "rich"]),
        ("james", ["jim", "jimmy", "jamie"]), ("john", ["jack", "johnny"]), ("michael", ["mike", "mick"]),
        ("thomas", ["tom", "tommy"]), ("joseph", ["joe", "joey"]), ("charles", ["charlie", "chuck"]),
        ("christopher", ["chris"]), ("christine", ["chris", "tina"]), ("daniel", ["dan", "danny"]),
        ("matthew", ["matt"]), ("anthony", ["tony"]), ("andrew", ["andy", "drew"]), ("steven", ["steve"]),
        ("stephen", ["steve"]), ("edward", ["ed", "eddie", "ted"]), ("alexander", ["alex", "sasha"]),
        ("alexandra", ["alex", "sasha"]), ("katherine", ["kate", "katie", "kathy"]), ("catherine", ["cathy", "kate"]),
        ("margaret", ["maggie", "meg", "peggy"]), ("jennifer", ["jen", "jenny"]), ("jessica", ["jess"]),
        ("rebecca", ["becky", "becca"]), ("samuel", ["sam"]), ("samantha", ["sam"]), ("benjamin", ["ben"]),
        ("nicholas", ["nick"]), ("jonathan", ["jon"]), ("timothy", ["tim"]), ("patrick", ["pat"]),
        ("patricia", ["pat", "patty", "trish"]), ("deborah", ["deb", "debbie"]), ("susan", ["sue", "suzy"]),
        ("gregory", ["greg"]), ("jeffrey", ["jeff"]), ("kenneth", ["ken"]), ("ronald", ["ron"]),
        ("donald", ["don"]), ("douglas", ["doug"]), ("lawrence", ["larry"]), ("peter", ["pete"]),
        ("frederick", ["fred"]), ("victoria", ["vicky", "tori"]), ("abigail", ["abby"]), ("zachary", ["zach"]),
    ]
    private static let table: [String: [String]] = {
        var t: [String: [String]] = [:]
        for (name, nicks) in pairs {
            t[name, default: []] += nicks
            for n in nicks { t[n, default: []].append(name) }
        }
        return t
    }()

    static func variants(of first: String) -> [String] { table[first] ?? [] }
}
