import StewardProtocol

/// The SaaS vendors Steward knows (`plugins/discovery/catalogue.json`, extended by a user's
/// file), and what turns a card descriptor or a domain into one of them.
///
/// Card statements name vendors their own way (`ZOOM.US 888-799-9666`, `SQ *NOTION LABS`,
/// `FIGMA* MONTHLY`, `MSFT*AZURE`): a descriptor is cut into words, and the longest run of
/// words that is one of a vendor's descriptors, its name, one of its domains or a domain's stem
/// names the vendor. Merchants that are not software (marketplaces, travel, meals) are listed as
/// such, and anything else is `unknown` with the merchant's cleaned name: never dropped.
public struct VendorCatalogue: Sendable {
    public struct Vendor: Sendable, Hashable {
        public var name: String
        public var domains: [String]
        public var descriptors: [String]
        public var category: String
        /// Card merchants that are not software (travel, meals, marketplaces).
        public var isNoise: Bool
        /// False when the name is an everyday word (`Close`, `Front`): only its descriptors
        /// and domains then name it.
        public var matchesName = true
    }

    /// What a descriptor or domain came to.
    public enum Match: Sendable, Hashable {
        case vendor(Vendor)
        case notSoftware(Vendor)
        /// No vendor matched; the merchant as the statement names it, tidied.
        case unknown(String)
    }

    public private(set) var vendors: [Vendor]
    /// First word → phrases starting with it, longest first.
    private var phrases: [String: [Phrase]] = [:]

    private struct Phrase: Sendable, Hashable {
        var words: [String]
        var vendor: Int
        /// Breaks ties between phrases of the same length: a listed descriptor beats a name,
        /// a name beats a domain's stem.
        var strength: Int
    }

    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    /// Reads a catalogue document: `{"vendors": [...], "noise": [...]}`; `file` names it in errors.
    public init(json: JSONValue, file: String) throws {
        vendors = []
        for (list, noise) in [("vendors", false), ("noise", true)] {
            guard let items = json[list].arrayValue ?? (json[list].isNull ? [] : nil) else {
                throw Failure(description: "\(file): \(list) must be an array")
            }
            for (i, item) in items.enumerated() {
                guard let name = item["name"].stringValue, !name.isEmpty else { throw Failure(description: "\(file): \(list)[\(i)].name is required") }
                func strings(_ key: String) throws -> [String] {
                    if item[key].isNull { return [] }
                    guard let values = item[key].arrayValue?.compactMap(\.stringValue), values.count == item[key].arrayValue?.count else {
                        throw Failure(description: "\(file): \(list)[\(i)].\(key) must be an array of strings")
                    }
                    return values
                }
                vendors.append(Vendor(name: name, domains: try strings("domains").map { $0.lowercased() }, descriptors: try strings("descriptors"),
                                      category: item["category"].stringValue ?? (noise ? "not software" : "other"), isNoise: noise,
                                      matchesName: item["matchName"].boolValue ?? true))
            }
        }
        index()
    }

    /// This catalogue with `other`'s vendors added; one with the same name (case ignored)
    /// replaces the entry here.
    public func merging(_ other: VendorCatalogue) -> VendorCatalogue {
        var merged = self
        for vendor in other.vendors {
            if let i = merged.vendors.firstIndex(where: { $0.name.lowercased() == vendor.name.lowercased() }) {
                merged.vendors[i] = vendor
            } else {
                merged.vendors.append(vendor)
            }
        }
        merged.index()
        return merged
    }

    private mutating func index() {
        var phrases: [String: [Phrase]] = [:]
        func add(_ text: String, _ vendor: Int, _ strength: Int) {
            let words = Self.words(text)
            guard let first = words.first else { return }
            let phrase = Phrase(words: words, vendor: vendor, strength: strength)
            if !(phrases[first]?.contains { $0.words == words && $0.strength >= strength } ?? false) { phrases[first, default: []].append(phrase) }
        }
        for (i, v) in vendors.enumerated() {
            for d in v.descriptors { add(d, i, 3) }
            if v.matchesName { add(v.name, i, 2) }
            for domain in v.domains {
                let host = domain.split(separator: "/").first.map(String.init) ?? domain
                add(host, i, 2)
                // `zoom` for zoom.us; short stems (`box`) are too often other words.
                if v.matchesName, let stem = host.split(separator: ".").first, stem.count >= 4, host.split(separator: ".").count == 2 { add(String(stem), i, 1) }
            }
        }
        for key in phrases.keys { phrases[key]?.sort { ($0.words.count, $0.strength) > ($1.words.count, $1.strength) } }
        self.phrases = phrases
    }

    /// The vendor a card descriptor or merchant name names.
    public func match(descriptor: String) -> Match {
        let words = Self.words(descriptor)
        var best: (length: Int, strength: Int, vendor: Int)?
        for start in words.indices {
            guard let candidates = phrases[words[start]] else { continue }
            for p in candidates where p.words.count <= words.count - start {
                guard p.words.count >= (best?.length ?? 0) else { break }
                if words[start..<(start + p.words.count)].elementsEqual(p.words) {
                    if best == nil || (p.words.count, p.strength) > (best?.length ?? 0, best?.strength ?? 0) {
                        best = (p.words.count, p.strength, p.vendor)
                    }
                    break
                }
            }
        }
        guard let best else { return .unknown(Self.merchantName(words)) }
        let vendor = vendors[best.vendor]
        return vendor.isNoise ? .notSoftware(vendor) : .vendor(vendor)
    }

    /// The vendor a domain (`app.notion.so`, `https://zoom.us/j/1`) belongs to: the domain or
    /// any parent of it listed by a vendor.
    public func match(domain: String) -> Match {
        var host = domain.lowercased()
        if let scheme = host.range(of: "://") { host = String(host[scheme.upperBound...]) }
        host = String(host.prefix { $0 != "/" && $0 != ":" && $0 != "?" })
        var labels = host.split(separator: ".").map(String.init)
        while labels.count >= 2 {
            let candidate = labels.joined(separator: ".")
            if let phrase = phrases[candidate]?.first(where: { $0.words == [candidate] }) {
                let vendor = vendors[phrase.vendor]
                return vendor.isNoise ? .notSoftware(vendor) : .vendor(vendor)
            }
            labels.removeFirst()
        }
        return .unknown(host)
    }

    /// Lowercased words: split at spaces and the punctuation card processors put between
    /// merchant and detail (`*`, `#`, `_`, `/`, `-`, `,`); dots stay inside words (domains),
    /// a leading `www.` and trailing dots go, numbers and processor prefixes are dropped.
    static func words(_ text: String) -> [String] {
        var words: [String] = []
        var current = ""
        func flush() {
            var w = current
            current = ""
            while w.hasSuffix(".") { w.removeLast() }
            while w.hasPrefix(".") { w.removeFirst() }
            if w.hasPrefix("www.") { w.removeFirst(4) }
            guard !w.isEmpty, !w.allSatisfy({ $0.isNumber || $0 == "." }) else { return }
            // A reference glued to the merchant (`ADS1234567`): keep the letters.
            let digits = w.reversed().prefix { $0.isNumber }.count
            if digits >= 4, digits < w.count, w.dropLast(digits).allSatisfy({ $0.isLetter }) { w = String(w.dropLast(digits)) }
            words.append(w)
        }
        for scalar in text.unicodeScalars {
            switch scalar {
            case " ", "\t", "*", "#", "_", "/", "-", ",", ";", ":", "(", ")", "\"", "'", "|", "+", "=", "[", "]":
                flush()
            default:
                current.unicodeScalars.append(scalar.properties.lowercaseMapping.unicodeScalars.first ?? scalar)
            }
        }
        flush()
        return words
    }

    /// Processors that prefix the merchant on a statement (`SQ *`, `PAYPAL *`, `TST*`).
    static let processorPrefixes: Set<String> = ["sq", "tst", "pp", "paypal", "sp", "fs", "fastspring", "2co.com", "2co", "dd", "pos", "purchase", "debit", "card"]

    /// The merchant's words without the processor prefix and trailing detail, for listing an
    /// unknown vendor (`SQ *JOES BAKERY 555-1234` → `joes bakery`).
    static func merchantName(_ words: [String]) -> String {
        let rest = words.drop { processorPrefixes.contains($0) }
        return rest.prefix(3).joined(separator: " ")
    }
}
