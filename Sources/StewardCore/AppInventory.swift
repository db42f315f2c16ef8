import StewardProtocol

/// One app's actual state as sync discovered it: accounts, the entitlements the app lists, who
/// holds what, and what the connector can do.
///
/// Grants are stored as integer indices (account → sorted entitlement indices, in one flat
/// array), not as strings, so a plan over millions of grants stays small and fast. Build one
/// with `Builder`, or with the convenience initializer from protocol records.
public struct AppInventory: Sendable {
    public let appId: String
    public let entitlements: [Entitlement]
    public let accounts: [Account]
    /// The connector's declared entitlement types; an undeclared type counts as multi-valued.
    public let entitlementTypes: [EntitlementTypeCapability]
    public let accountOperations: Set<AccountOperation>
    /// Grants naming an account the listing did not contain; they are dropped.
    public let danglingGrants: Int
    /// Account `i` holds `grantEntitlements[grantStart[i]..<grantStart[i+1]]`, sorted.
    let grantStart: [Int32]
    let grantEntitlements: [Int32]
    /// The day each disabled account was first seen disabled (from the journal), by account id;
    /// deletion after a grace period counts from it.
    let disabledSince: [String: CalendarDay]
    private let entitlementById: [EntitlementKey: Int32]
    private let entitlementByName: [EntitlementKey: Int32]

    /// Builds an inventory from protocol records, for tests and small apps.
    public init(appId: String, entitlements: [Entitlement], accounts: [Account], grants: [Grant],
                entitlementTypes: [EntitlementTypeCapability] = [],
                accountOperations: Set<AccountOperation> = Set(AccountOperation.allCases),
                disabledSince: [String: CalendarDay] = [:]) {
        var builder = Builder(appId: appId, entitlementTypes: entitlementTypes, accountOperations: accountOperations)
        for e in entitlements { builder.addEntitlement(e) }
        for a in accounts { builder.addAccount(a) }
        for g in grants { builder.addGrant(g) }
        for (id, day) in disabledSince { builder.setDisabledSince(accountId: id, day: day) }
        self = builder.build()
    }

    fileprivate init(builder b: Builder, grantStart: [Int32], grantEntitlements: [Int32]) {
        appId = b.appId
        entitlements = b.entitlements
        accounts = b.accounts
        entitlementTypes = b.entitlementTypes
        accountOperations = b.accountOperations
        danglingGrants = b.danglingGrants
        self.grantStart = grantStart
        self.grantEntitlements = grantEntitlements
        disabledSince = b.disabledSince
        entitlementById = b.entitlementById
        var byName: [EntitlementKey: Int32] = [:]
        for (i, e) in b.entitlements.enumerated() {
            byName[EntitlementKey(type: e.type, value: e.name)] = byName[EntitlementKey(type: e.type, value: e.name)] ?? Int32(i)
        }
        entitlementByName = byName
    }

    /// Sorted indices into `entitlements` of what account `index` holds.
    public func grants(ofAccount index: Int) -> ArraySlice<Int32> {
        grantEntitlements[Int(grantStart[index])..<Int(grantStart[index + 1])]
    }

    public var grantCount: Int { grantEntitlements.count }

    public func entitlementIndex(type: String, id: String) -> Int? {
        entitlementById[EntitlementKey(type: type, value: id)].map(Int.init)
    }

    /// Resolves a configured `type:name`: the exact name, else the one name equal ignoring case.
    public func entitlementIndex(named name: EntitlementName) -> Int? {
        if let i = entitlementByName[EntitlementKey(type: name.type, value: name.name)] { return Int(i) }
        let folded = name.name.caseFolded
        let matches = entitlements.indices.filter { entitlements[$0].type == name.type && entitlements[$0].name.caseFolded == folded }
        return matches.count == 1 ? matches[0] : nil
    }

    public func capability(ofType type: String) -> EntitlementTypeCapability? {
        entitlementTypes.first { $0.type == type }
    }

    public func isSingleValued(type: String) -> Bool { capability(ofType: type)?.cardinality == .single }

    public func disabledSince(accountId: String) -> CalendarDay? { disabledSince[accountId] }

    /// Collects an app's state page by page as sync reads it.
    public struct Builder: Sendable {
        public let appId: String
        public let entitlementTypes: [EntitlementTypeCapability]
        public let accountOperations: Set<AccountOperation>
        fileprivate var entitlements: [Entitlement] = []
        fileprivate var entitlementById: [EntitlementKey: Int32] = [:]
        fileprivate var accounts: [Account] = []
        fileprivate var accountById: [String: Int32]?
        fileprivate var grantAccount: [Int32] = []
        fileprivate var grantEntitlement: [Int32] = []
        fileprivate var danglingGrants = 0
        fileprivate var disabledSince: [String: CalendarDay] = [:]

        public init(appId: String, entitlementTypes: [EntitlementTypeCapability] = [],
                    accountOperations: Set<AccountOperation> = Set(AccountOperation.allCases)) {
            self.appId = appId
            self.entitlementTypes = entitlementTypes
            self.accountOperations = accountOperations
        }

        /// Adds an entitlement, or returns the index of the one with the same type and id.
        @discardableResult
        public mutating func addEntitlement(_ e: Entitlement) -> Int {
            let key = EntitlementKey(type: e.type, value: e.id)
            if let i = entitlementById[key] { return Int(i) }
            entitlementById[key] = Int32(entitlements.count)
            entitlements.append(e)
            return entitlements.count - 1
        }

        /// Adds an account; ids are expected unique within an app.
        @discardableResult
        public mutating func addAccount(_ a: Account) -> Int {
            accountById?[a.id] = Int32(accounts.count)
            accounts.append(a)
            return accounts.count - 1
        }

        public mutating func reserveAccounts(_ n: Int) { accounts.reserveCapacity(n) }

        public mutating func reserveGrants(_ n: Int) {
            grantAccount.reserveCapacity(n)
            grantEntitlement.reserveCapacity(n)
        }

        /// Records a grant by indices the caller got from `addAccount` and `addEntitlement`.
        public mutating func addGrant(account: Int, entitlement: Int) {
            precondition(account >= 0 && account < accounts.count && entitlement >= 0 && entitlement < entitlements.count,
                         "grant indices out of range")
            grantAccount.append(Int32(account))
            grantEntitlement.append(Int32(entitlement))
        }

        /// Records a grant by ids. An unknown account is counted in `danglingGrants`; an
        /// entitlement the app did not list is added under its id, so it can still be revoked.
        public mutating func addGrant(_ g: Grant) {
            if accountById == nil {
                var index: [String: Int32] = [:]
                index.reserveCapacity(accounts.count)
                for (i, a) in accounts.enumerated() { index[a.id] = Int32(i) }
                accountById = index
            }
            guard let account = accountById?[g.accountId] else {
                danglingGrants += 1
                return
            }
            let entitlement = entitlementById[EntitlementKey(type: g.type, value: g.entitlementId)].map(Int.init)
                ?? addEntitlement(Entitlement(type: g.type, id: g.entitlementId, name: g.entitlementId))
            addGrant(account: Int(account), entitlement: entitlement)
        }

        public mutating func setDisabledSince(accountId: String, day: CalendarDay) {
            disabledSince[accountId] = day
        }

        /// Sorts grants by account (a counting sort: linear in the number of grants) and drops
        /// duplicates.
        public func build() -> AppInventory {
            let accountCount = accounts.count
            var start = [Int32](repeating: 0, count: accountCount + 1)
            for a in grantAccount { start[Int(a) + 1] += 1 }
            for i in 0..<accountCount { start[i + 1] += start[i] }
            var fill = start
            var flat = [Int32](repeating: 0, count: grantAccount.count)
            for (k, a) in grantAccount.enumerated() {
                flat[Int(fill[Int(a)])] = grantEntitlement[k]
                fill[Int(a)] += 1
            }
            // Sort each account's few grants in place and squeeze out duplicates.
            var write = 0
            var compactStart = [Int32](repeating: 0, count: accountCount + 1)
            for i in 0..<accountCount {
                let lo = Int(start[i]), hi = Int(start[i + 1])
                if hi - lo > 1 { insertionSort(&flat, lo, hi) }
                let first = write
                for k in lo..<hi where write == first || flat[write - 1] != flat[k] {
                    flat[write] = flat[k]
                    write += 1
                }
                compactStart[i + 1] = Int32(write)
            }
            flat.removeLast(flat.count - write)
            return AppInventory(builder: self, grantStart: compactStart, grantEntitlements: flat)
        }
    }
}

/// An entitlement's type with its id or its name, as a dictionary key.
struct EntitlementKey: Hashable, Sendable {
    var type: String
    var value: String
}

private func insertionSort(_ a: inout [Int32], _ lo: Int, _ hi: Int) {
    var i = lo + 1
    while i < hi {
        let x = a[i]
        var j = i - 1
        while j >= lo && a[j] > x {
            a[j + 1] = a[j]
            j -= 1
        }
        a[j + 1] = x
        i += 1
    }
}
