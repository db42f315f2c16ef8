// PlanBench: desired state and plan for a synthetic company, in process.
//
//   swift run -c release PlanBench [people] [apps] [repeats]
//
// 100,000 people × 50 apps with 20 entitlements each (a role tier and groups): every person
// has an account in every app, so the actual state is 5 million accounts and about 13 million
// grants. The HR feed changed since the apps were last converged: 1% joiners, 1% movers between
// departments, 0.2% promotions to a lead title (role tier changes), 0.1% renames (account
// updates), 0.5% leavers, drift on 5,000 accounts, 20 orphans per app, and accounts of
// long-gone people past their deletion grace period; 10% of the apps are in observe mode.
// Account strings are the accounts' own, as parsing a connector's answers would give.
// Timed: `Planner.makePlan` (correlation, desired state, diff, ordering, rails), the fastest
// of `repeats` runs, with its CPU time and the load average, since the machine may be shared.
// Targets: ≤ 3 s and ≤ 3 GB peak (VmHWM, whole process including the synthetic input) on 2 cores.
import Foundation
import StewardCore
import StewardProtocol

let arguments = CommandLine.arguments.dropFirst().compactMap { Int($0) }
let peopleCount = arguments.first ?? 100_000
let appCount = arguments.dropFirst().first ?? 50
/// Plans computed; the fastest is reported, which filters out other processes on a shared machine.
let repeats = max(1, arguments.dropFirst(2).first ?? 1)
let now = Date(timeIntervalSince1970: 1_772_701_200)
let today = CalendarDay(now)

let departments = ["Engineering", "Sales", "Marketing", "Finance", "Support", "Legal", "People", "Product", "Design", "Security", "Operations", "Research"]
let locations = ["Berlin", "Lisbon", "Austin", "Toronto", "Singapore"]
let titles = ["Engineer", "Senior Engineer", "Lead Engineer", "Analyst", "Manager", "Lead Analyst", "Specialist", "Director", "Associate", "Lead Designer"]
let firstNames = ["Ada", "Bob", "Cy", "Dee", "Eve", "Fay", "Gus", "Hal", "Ida", "Jo", "Kai", "Lou", "Max", "Ned", "Oda", "Pia"]
let lastNames = ["Smith", "Jones", "Garcia", "Miller", "Davis", "Lopez", "Wilson", "Moore", "Taylor", "Clark", "Lewis", "Young"]
let appIds = (1...appCount).map { "app" + String(format: "%02d", $0) }
/// Apps where department members get `role:User`, leads get `role:Admin`, and location groups apply.
func userApp(_ a: Int) -> Bool { a % 2 == 0 }
func adminApp(_ a: Int) -> Bool { a % 5 == 0 }
func locationApp(_ a: Int) -> Bool { a % 3 == 0 }

func makePerson(_ n: Int, department: Int? = nil) -> Person {
    let first = firstNames[n % firstNames.count], last = lastNames[(n / firstNames.count) % lastNames.count]
    return Person(id: "E" + String(n), email: "\(first.lowercased()).\(last.lowercased())\(n)@example.com",
                  firstName: first, lastName: last, displayName: first + " " + last,
                  department: departments[department ?? (n % departments.count)], title: titles[(n / 7) % titles.count],
                  location: locations[(n / 3) % locations.count], employmentType: n % 10 == 9 ? "Contractor" : "Employee",
                  costCenter: "CC" + String(n % departments.count))
}

// MARK: Rules

func config() throws -> GovernanceConfig {
    var rolesObject: [String: JSONValue] = [:]
    for d in departments {
        rolesObject[d.lowercased() + "-member"] = .array(appIds.enumerated().map { a, app in
            let group = JSONValue.string("group:" + d.lowercased())
            let ents: [JSONValue] = userApp(a) ? [group, "role:User"] : [group]
            return ["app": .string(app), "entitlements": .array(ents)]
        })
    }
    var policies: [JSONValue] = [
        ["id": "everyone", "when": [:], "grant": .array(appIds.map { ["app": .string($0), "entitlements": ["role:Viewer"]] })],
        ["id": "leads", "when": ["title": ["prefix": "Lead"]],
         "grant": .array(appIds.enumerated().filter { adminApp($0.offset) }.map { ["app": .string($0.element), "entitlements": ["role:Admin"]] })],
        ["id": "contractors", "when": ["employmentType": ["Contractor"]],
         "grant": .array(appIds.map { ["app": .string($0), "entitlements": ["role:Viewer"], "pin": true] })],
    ]
    for d in departments {
        policies.append(["id": .string("dept-" + d.lowercased()), "when": ["department": [.string(d)]], "roles": [.string(d.lowercased() + "-member")]])
    }
    for l in locations {
        policies.append(["id": .string("site-" + l.lowercased()), "when": ["location": [.string(l)]],
                         "grant": .array(appIds.enumerated().filter { locationApp($0.offset) }.map { ["app": .string($0.element), "entitlements": [.string("group:site-" + l.lowercased())]] })])
    }
    let apps: [JSONValue] = appIds.enumerated().map { a, id in
        ["id": .string(id), "mode": a % 10 == 9 ? "observe" : "enforce", "correlate": ["employeeNumber", "email", "userName"],
         "deprovision": ["action": "disable", "deleteAfterDays": 30, "maxPercent": 10]]
    }
    let exceptions: [JSONValue] = (0..<200).map { i in
        ["id": .string("CHG-\(i)"), "person": .string("E\(i * 397 % peopleCount)"), "app": .string(appIds[i % appCount]),
         "entitlements": ["group:finance"], "until": "2026-12-31"]
    }
    return try GovernanceConfig(json: ["apps": .array(apps), "roles": .object(rolesObject), "policies": .array(policies), "exceptions": .array(exceptions)])
}

/// What the apps hold for `p` when converged, computed independently of the planner.
func expectedEntitlements(_ p: Person, app a: Int) -> [Int] {
    // Entitlement indices: 0 Admin, 1 User, 2 Viewer, 3..14 departments, 15..19 sites.
    let dept = departments.firstIndex(of: p.department ?? "") ?? 0
    let role: Int
    if p.employmentType == "Contractor" { role = 2 } else if adminApp(a) && (p.title ?? "").hasPrefix("Lead") { role = 0 } else if userApp(a) { role = 1 } else { role = 2 }
    var result = [role, 3 + dept]
    if locationApp(a) { result.append(15 + (locations.firstIndex(of: p.location ?? "") ?? 0)) }
    return result
}

let entitlementTemplate: [Entitlement] = ["Admin", "User", "Viewer"].enumerated().map { Entitlement(type: "role", id: "r\($0.offset)", name: $0.element) }
    + departments.enumerated().map { Entitlement(type: "group", id: "g\($0.offset)", name: $0.element.lowercased()) }
    + locations.enumerated().map { Entitlement(type: "group", id: "s\($0.offset)", name: "site-" + $0.element.lowercased()) }
let types = [EntitlementTypeCapability(type: "role", cardinality: .single, values: ["Admin", "User", "Viewer"]),
             EntitlementTypeCapability(type: "group", cardinality: .multi)]

// MARK: The company before and after

func fresh(_ s: String) -> String { String(decoding: Array(s.utf8), as: UTF8.self) }

func peakMemoryMB() -> Double {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
          let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
          let kb = Double(line.split(separator: " ").dropFirst().first ?? "") else { return -1 }
    return kb / 1024
}

func seconds(_ start: DispatchTime) -> Double { Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9 }

let setupStart = DispatchTime.now()
let previous = (0..<peopleCount).map { makePerson($0) }
var current = previous
var formerPeople: [Person] = []
let joiners = peopleCount / 100, movers = peopleCount / 100, leavers = peopleCount / 200
for k in 0..<movers {
    let i = (k * 97 + 13) % peopleCount
    let old = departments.firstIndex(of: current[i].department ?? "") ?? 0
    current[i].department = departments[(old + 1) % departments.count]
}
// Promotions change role tiers; renames make account attributes stale.
for k in 0..<(peopleCount / 500) {
    let i = (k * 193 + 29) % peopleCount
    if !(current[i].title ?? "").hasPrefix("Lead") { current[i].title = "Lead Engineer" }
}
for k in 0..<(peopleCount / 1000) {
    let i = (k * 211 + 3) % peopleCount
    current[i].lastName = "Renamed"
    current[i].displayName = (current[i].firstName ?? "") + " Renamed"
}
for k in 0..<leavers {
    let i = (k * 89 + 7) % peopleCount
    current[i].status = .terminated
    current[i].endDate = "2026-03-01"
}
for k in 0..<joiners { current.append(makePerson(peopleCount + k)) }
// People who left long ago: their accounts are disabled and past the 30-day grace period.
let longGone = (0..<(peopleCount / 1000)).map { makePerson(2 * peopleCount + $0) }
formerPeople = longGone

var inventories: [AppInventory] = []
for (a, app) in appIds.enumerated() {
    var builder = AppInventory.Builder(appId: app, entitlementTypes: types,
                                       accountOperations: Set(AccountOperation.allCases))
    for e in entitlementTemplate { builder.addEntitlement(e) }
    builder.reserveAccounts(peopleCount + longGone.count + 20)
    builder.reserveGrants(peopleCount * 3)
    for (n, p) in previous.enumerated() {
        // Own copies of the strings, as parsing a connector's JSON would give: sharing the
        // person's storage would make every comparison a pointer check.
        let account = builder.addAccount(Account(id: "u" + String(n), userName: fresh(p.email), email: fresh(p.email), displayName: p.displayName.map(fresh),
                                                 givenName: p.firstName, familyName: p.lastName, externalId: p.id, employeeNumber: p.id))
        for e in expectedEntitlements(p, app: a) { builder.addGrant(account: account, entitlement: e) }
        if n % 1000 == a { builder.addGrant(account: account, entitlement: 3 + (n + 5) % departments.count) }  // drift
    }
    for p in longGone {
        let account = builder.addAccount(Account(id: "x" + p.id, userName: p.email, email: p.email, employeeNumber: p.id, status: .disabled))
        builder.setDisabledSince(accountId: "x" + p.id, day: today.adding(days: -45))
        builder.addGrant(account: account, entitlement: 2)
    }
    for o in 0..<20 { builder.addAccount(Account(id: "svc\(o)", userName: "svc-\(app)-\(o)")) }
    inventories.append(builder.build())
}
let rules = try config()
let setupTime = seconds(setupStart)
let accounts = inventories.reduce(0) { $0 + $1.accounts.count }
let grants = inventories.reduce(0) { $0 + $1.grantCount }
print("setup: \(current.count) people, \(appCount) apps, \(accounts) accounts, \(grants) grants, \(rules.policies.count) policies (\(String(format: "%.1f", setupTime)) s, not timed)")

// MARK: Timed

let inputMemory = peakMemoryMB()
let diffStart = DispatchTime.now()
let lifecycle = LifecycleChanges.between(HRSnapshot(people: previous, takenAt: now.addingTimeInterval(-86_400)), HRSnapshot(people: current, takenAt: now))
let diffTime = seconds(diffStart)

func cpuSeconds() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
}

let request = PlanRequest(config: rules, people: current, inventories: inventories, now: now, formerPeople: formerPeople, lifecycle: lifecycle)

func timedPlan() -> (result: PlanResult, wall: Double, cpu: Double) {
    let cpuStart = cpuSeconds(), wallStart = DispatchTime.now()
    let result = Planner.makePlan(request)
    return (result, seconds(wallStart), cpuSeconds() - cpuStart)
}

var (result, bestWall, bestCPU) = timedPlan()
for _ in 1..<repeats {
    let run = timedPlan()
    result = run.result
    if run.wall < bestWall { (bestWall, bestCPU) = (run.wall, run.cpu) }
}
let plan = result.plan
let planMemory = peakMemoryMB()

let jsonStart = DispatchTime.now()
let bytes = plan.jsonBytes()
let jsonTime = seconds(jsonStart)
let textStart = DispatchTime.now()
let text = PlanRenderer.text(plan)
let textTime = seconds(textStart)

var byOperation: [String: Int] = [:]
for action in plan.actions { byOperation[action.operation.name, default: 0] += 1 }
print("JML diff: \(lifecycle.joined.count) joined, \(lifecycle.moved.count) moved, \(lifecycle.left.count) left in \(String(format: "%.3f", diffTime)) s")
print("plan: \(plan.actions.count) actions (\(byOperation.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))), "
      + "\(plan.findings.count) findings, \(result.desired.profileCount) policy profiles, blocked: \(plan.isBlocked)")
var load = ""
if let text = try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8) { load = String(text.split(separator: " ").first ?? "") }
print(String(format: "makePlan (correlate + desired state + diff + rails): %.3f s wall, %.3f s CPU, best of %d; load average %@   [target ≤ 3 s]",
             bestWall, bestCPU, repeats, load))
print(String(format: "plan JSON: %.1f MB in %.3f s; text: %.1f MB in %.3f s (not part of the target)",
             Double(bytes.count) / 1e6, jsonTime, Double(text.utf8.count) / 1e6, textTime))
print(String(format: "peak memory (VmHWM): %.0f MB with the input built, %.0f MB after planning   [target ≤ 3072 MB]; %.0f MB after writing JSON and text",
             inputMemory, planMemory, peakMemoryMB()))

