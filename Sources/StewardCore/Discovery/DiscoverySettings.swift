/// Per app, what makes an account a finding: how long without a sign-in is dormant, which
/// entitlement is a paid seat and what it costs, and what names mark shared or service
/// accounts (`apps[].dormantAfterDays`, `licence`, `serviceAccounts`).
public struct DiscoverySettings: Sendable, Hashable {
    public var dormantAfterDays = 90
    public var licence: Licence?
    /// `apps[].vendor`: the catalogue vendor this app is, so evidence of it is not a shadow app
    /// (by default the app's id and description are matched to the catalogue).
    public var vendor: String?
    public var serviceAccountPatterns = DiscoverySettings.defaultServicePatterns {
        didSet { compiledPatterns = serviceAccountPatterns.map(GlobPattern.init) }
    }
    private var compiledPatterns = DiscoverySettings.defaultServicePatterns.map(GlobPattern.init)

    /// A paid seat: holding `entitlement` costs `monthlyCost` a month.
    public struct Licence: Sendable, Hashable {
        public var entitlement: EntitlementPattern
        public var monthlyCost: Double?
        public var currency: String

        public init(entitlement: EntitlementPattern, monthlyCost: Double? = nil, currency: String = "USD") {
            self.entitlement = entitlement
            self.monthlyCost = monthlyCost
            self.currency = currency
        }
    }

    /// Names shared and service accounts commonly carry.
    public static let defaultServicePatterns = [
        "svc-*", "svc_*", "svc.*", "*-svc", "*_svc", "service-*", "service.*", "*-service", "*-bot", "*_bot", "bot-*", "*[bot]",
        "noreply*", "no-reply*", "donotreply*", "admin", "administrator", "root", "sysadmin", "shared-*", "shared.*", "team-*",
        "api-*", "*-api", "integration*", "automation*", "ci-*", "*-ci", "deploy*", "build*", "monitoring*", "alerts*", "support",
        "info", "billing", "test", "test-*", "test.*",
    ]

    public init(dormantAfterDays: Int = 90, licence: Licence? = nil, serviceAccountPatterns: [String] = DiscoverySettings.defaultServicePatterns) {
        self.dormantAfterDays = dormantAfterDays
        self.licence = licence
        self.serviceAccountPatterns = serviceAccountPatterns
        compiledPatterns = serviceAccountPatterns.map(GlobPattern.init)
    }

    /// Whether one of `names` (user name, e-mail local part, display name) looks like a shared
    /// or service account; returns the pattern that matched.
    public func servicePattern(matching names: [String]) -> String? {
        for name in names where !name.isEmpty {
            let folded = Array(name.lowercased().utf8)
            if let i = compiledPatterns.firstIndex(where: { $0.matches(folded) }) { return serviceAccountPatterns[i] }
        }
        return nil
    }
}

extension DiscoverySettings {
    init(config node: ConfigNode) throws {
        dormantAfterDays = try node.child("dormantAfterDays").optionalInt(in: 1...36_500) ?? 90
        let licenceNode = node.child("licence")
        if !licenceNode.isMissing {
            try licenceNode.requireObject(allowedKeys: ["entitlement", "monthlyCost", "currency"])
            let text = try licenceNode.child("entitlement").nonEmptyString()
            guard let pattern = EntitlementPattern(text) else {
                throw licenceNode.child("entitlement").error("expected \"type:name\" (a * matches anything), got \"\(text)\"")
            }
            licence = Licence(entitlement: pattern, monthlyCost: try licenceNode.child("monthlyCost").optionalNumber(in: 0...1_000_000),
                              currency: try licenceNode.child("currency").optionalString() ?? "USD")
        }
        vendor = try node.child("vendor").optionalString()
        let patternsNode = node.child("serviceAccounts")
        if !patternsNode.isMissing { serviceAccountPatterns = try patternsNode.elements().map { try $0.nonEmptyString() } }
        compiledPatterns = serviceAccountPatterns.map(GlobPattern.init)
    }
}

/// A `*` pattern compiled once into its literal pieces, matched on UTF-8 bytes, case ignored:
/// it runs for every account nobody owns.
struct GlobPattern: Sendable, Hashable {
    let pieces: [[UInt8]]
    let anchoredStart: Bool
    let anchoredEnd: Bool

    init(_ pattern: String) {
        let bytes = Array(pattern.lowercased().utf8)
        pieces = bytes.split(separator: UInt8(ascii: "*"), omittingEmptySubsequences: true).map(Array.init)
        anchoredStart = bytes.first != UInt8(ascii: "*")
        anchoredEnd = bytes.last != UInt8(ascii: "*")
    }

    func matches(_ text: [UInt8]) -> Bool {
        if pieces.isEmpty { return !anchoredStart || text.isEmpty }
        var position = 0
        for (i, piece) in pieces.enumerated() {
            let isFirst = i == 0, isLast = i == pieces.count - 1
            if isLast && anchoredEnd {
                guard text.count - piece.count >= position, text[(text.count - piece.count)...].elementsEqual(piece) else { return false }
                return !(isFirst && anchoredStart) || text.count == piece.count
            }
            if isFirst && anchoredStart {
                guard text.count >= piece.count, text[..<piece.count].elementsEqual(piece) else { return false }
                position = piece.count
                continue
            }
            guard let found = Self.find(piece, in: text, from: position) else { return false }
            position = found + piece.count
        }
        return true
    }

    private static func find(_ piece: [UInt8], in text: [UInt8], from start: Int) -> Int? {
        guard piece.count <= text.count - start else { return nil }
        var i = start
        while i + piece.count <= text.count {
            if text[i..<(i + piece.count)].elementsEqual(piece) { return i }
            i += 1
        }
        return nil
    }
}
