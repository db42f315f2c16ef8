// DiscoveryBench: `steward discover`'s account findings over a synthetic company, in process.
//
//   swift run -c release DiscoveryBench [people] [apps]
//
// 100,000 people × 20 apps = 2,000,000 accounts. In every app: 0.5% of the accounts belong to
// leavers, 1% are orphans whose names are the usual variants of someone's (flast, nickname,
// old domain, +tag, accents) so every one of them goes through owner matching, 10% have not
// signed in for half a year and hold the paid seat, 1% hold Admin without a rule, and 20 are
// service accounts. Timed: `AccountFindings.find` on the plan's result (the plan itself is
// PlanBench's), with the findings counted by kind.  Target: ≤ 2 s on 2 cores.
import Foundation
import StewardCore
import StewardProtocol

let arguments = CommandLine.arguments.dropFirst().compactMap { Int($0) }
let peopleCount = arguments.first ?? 100_000
let appCount = arguments.dropFirst().first ?? 20
let now = Date(timeIntervalSince1970: 1_772_701_200)
let today = CalendarDay(now)
let firstNames = ["Robert", "Elizabeth", "Zoë", "William", "Ann", "Omar", "Maria", "James", "Katherine", "Jon", "Ida", "Lou"]
let lastNames = ["Smith", "Ångström", "van der Berg", "Taylor", "Lee", "Haddad", "Garcia", "Novak", "Okafor", "Rossi", "Silva", "Ito"]

func seconds(_ start: DispatchTime) -> Double { Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9 }

func peakMemoryMB() -> Double {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
          let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
          let kb = Double(line.split(separator: " ").dropFirst().first ?? "") else { return -1 }
    return kb / 1024
}

let setupStart = DispatchTime.now()
let people: [Person] = (0..<peopleCount).map { n in
    let first = firstNames[n % firstNames.count], last = lastNames[(n / firstNames.count) % lastNames.count]
    let local = "\(first.lowercased()).\(last.lowercased().replacingOccurrences(of: " ", with: ""))\(n)"
    return Person(id: "E\(n)", email: "\(local)@example.com", firstName: first, lastName: last + "\(n)",
                  department: n % 7 == 0 ? "Engineering" : "Sales", title: n % 50 == 0 ? "Lead" : "Staff",
                  status: n % 200 == 3 ? .terminated : .active, endDate: n % 200 == 3 ? "2026-02-01" : nil)
}
let appIds = (1...appCount).map { "app" + String(format: "%02d", $0) }
let apps: [JSONValue] = appIds.map { id in
    ["id": .string(id), "mode": "enforce", "correlate": ["employeeNumber", "email"], "privileged": ["role:Admin"],
     "dormantAfterDays": 90, "licence": ["entitlement": "license:seat", "monthlyCost": 15]]
}
let config = try GovernanceConfig(json: [
    "apps": .array(apps),
    "policies": [["id": "everyone", "when": [:], "grant": .array(appIds.map { ["app": .string($0), "entitlements": ["role:User", "license:seat"]] })],
                 ["id": "leads", "when": ["title": ["Lead"]], "grant": .array(appIds.map { ["app": .string($0), "entitlements": ["role:Admin"]] })]],
])
let entitlements = [Entitlement(type: "role", id: "admin", name: "Admin"), Entitlement(type: "role", id: "user", name: "User"),
                    Entitlement(type: "license", id: "seat", name: "seat")]
let types = [EntitlementTypeCapability(type: "role", cardinality: .single, values: ["Admin", "User"]),
             EntitlementTypeCapability(type: "license", cardinality: .multi)]
var inventories: [AppInventory] = []
for (a, app) in appIds.enumerated() {
    var builder = AppInventory.Builder(appId: app, entitlementTypes: types, accountOperations: Set(AccountOperation.allCases))
    for e in entitlements { builder.addEntitlement(e) }
    builder.reserveAccounts(peopleCount)
    builder.reserveGrants(peopleCount * 2)
    for (n, p) in people.enumerated() {
        let login = n % 10 == a % 10 ? "2025-09-01T08:00:00Z" : "2026-03-01T08:00:00Z"
        let account: Int
        if n % 100 == 7 {
            // An orphan: someone's name as another system spelled it, no employee number.
            let first = (p.firstName ?? "").lowercased(), last = (p.lastName ?? "").lowercased()
            let variants = ["\(first.prefix(1))\(last)@example.com", "\(first).\(last)@oldcorp.io", "\(first).\(last)+crm@example.com"]
            account = builder.addAccount(Account(id: "o\(n)", userName: variants[n % variants.count], displayName: "\(p.firstName ?? "") \(p.lastName ?? "")",
                                                 lastLoginAt: login))
        } else {
            account = builder.addAccount(Account(id: "u\(n)", userName: String(decoding: Array(p.email.utf8), as: UTF8.self), email: p.email,
                                                 employeeNumber: p.id, lastLoginAt: login))
        }
        builder.addGrant(account: account, entitlement: n % 100 == 11 || p.title == "Lead" ? 0 : 1)
        builder.addGrant(account: account, entitlement: 2)
    }
    for s in 0..<20 { builder.addAccount(Account(id: "svc\(s)", userName: "svc-\(app)-\(s)")) }
    inventories.append(builder.build())
}
let planStart = DispatchTime.now()
let result = Planner.makePlan(PlanRequest(config: config, people: people, inventories: inventories, now: now))
let planTime = seconds(planStart)
print(String(format: "setup: %d people, %d apps, %d accounts (%.1f s, not timed); the plan over them: %.2f s (PlanBench's target)",
             people.count, appCount, inventories.reduce(0) { $0 + $1.accounts.count }, seconds(setupStart) - planTime, planTime))

let matcherStart = DispatchTime.now()
_ = OwnerMatcher(directory: result.directory)
print(String(format: "of which: indexing everyone's name forms for owner matching %.2f s", seconds(matcherStart)))
let start = DispatchTime.now()
let findings = AccountFindings.find(result, inventories: inventories, config: config, today: today)
let elapsed = seconds(start)
var byKind: [String: Int] = [:]
for f in findings { byKind[f.kind.rawValue, default: 0] += 1 }
let orphans = findings.filter { $0.kind == .orphan }
let matched = orphans.filter { o in
    guard let n = o.accountId.flatMap({ Int($0.dropFirst()) }) else { return false }
    return o.candidates.first?.personId == "E\(n)"
}.count
print("findings: " + byKind.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))
print(String(format: "orphans whose own person ranked first: %d of %d (%.1f%%)", matched, orphans.count, 100 * Double(matched) / Double(max(1, orphans.count))))
print(String(format: "AccountFindings.find: %.2f s   [target ≤ 2 s]; peak memory (VmHWM) %.0f MB", elapsed, peakMemoryMB()))

// MARK: Shadow apps: card descriptors to vendors

let cataloguePath = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("plugins/discovery/catalogue.json")
let catalogue = try VendorCatalogue(json: JSONParser.parse([UInt8](Data(contentsOf: cataloguePath))), file: cataloguePath.path)
let shapes = ["ZOOM.US 888-799-9666 CA", "SQ *NOTION LABS", "FIGMA* MONTHLY", "MSFT*AZURE", "GOOGLE *GSUITE_ACME.COM", "ATLASSIAN* JIRA",
              "SLACK T0%d", "DROPBOX*%dK", "ADOBE *ACROPRO SUBS", "AMZN MKTP US*%dX", "UBER *TRIP HELP.UBER.COM", "STARBUCKS STORE %d",
              "SQ *JOES KNIVES %d", "LINKEDIN-P%d", "OPENAI *CHATGPT SUBSCR", "GITHUB, INC.", "DELTA AIR 00%d", "ACME WIDGETS %d LLC",
              "AWS EMEA", "CANVA* I0%d"]
let lines = (0..<1_000_000).map { i in shapes[i % shapes.count].replacingOccurrences(of: "%d", with: String(i % 97_531)) }
let matchStart = DispatchTime.now()
var vendorsSeen = 0, noise = 0, unknown = 0
for line in lines {
    switch catalogue.match(descriptor: line) {
    case .vendor: vendorsSeen += 1
    case .notSoftware: noise += 1
    case .unknown: unknown += 1
    }
}
print(String(format: "expense lines: %d matched to %d vendors in the catalogue: %d software, %d not software, %d unknown in %.2f s   [target ≤ 5 s]",
             lines.count, catalogue.vendors.count, vendorsSeen, noise, unknown, seconds(matchStart)))

// The same lines as the sync keeps them: an expense export's records matched and folded into
// vendor × user usage (`AppUsage.aggregate`, what `steward sync` does for a discovery source).
let users = 5_000
let records = lines.enumerated().map { i, line in
    EvidenceRecord(kind: .expense, user: "user\(i % users)@example.com", app: line,
                   at: "2026-\(i % 12 < 9 ? "0" : "")\(i % 12 + 1)-0\(i % 9 + 1)", amount: Double(i % 5_000) / 100, currency: "USD",
                   source: "expenses.csv:\(i + 2)")
}
let aggregateStart = DispatchTime.now()
let usage = AppUsage.aggregate(records, source: "cards", catalogue: catalogue)
print(String(format: "expense records: %d matched and folded into %d vendor × user usage records in %.2f s   [target ≤ 5 s]; peak memory (VmHWM) %.0f MB",
             records.count, usage.count, seconds(aggregateStart), peakMemoryMB()))
