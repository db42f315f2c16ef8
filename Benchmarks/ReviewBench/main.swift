import Foundation
import StewardCore
import StewardHost
import StewardJournal
import StewardProtocol
import StewardReports

// ReviewBench: launching an access review over a synthetic company, and building its report.
//   launch over 200 people × 50 apps (about 10,000 items)      target ≤ 1 s
//   launch over 100,000 items                                  target ≤ 5 s, ≤ 2 GB
//   the 100,000-item report as HTML, CSV and JSON                target ≤ 10 s together (JSON built from the journal)
//   the 10,000-item report as PDF (through Chromium)              target ≤ 30 s
// Run: swift build -c release --product ReviewBench && .build/release/ReviewBench

struct Company {
    var people: Int
    var apps: Int
    var grantsPerAccount: Int

    var items: Int { people * apps * grantsPerAccount }
}

/// A Steward folder whose journal holds a synced company: people with managers, one account
/// per person per app, each holding `grantsPerAccount` groups (one of them justified by a policy).
func makeFolder(_ company: Company) throws -> URL {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("steward-review-bench-\(getpid())-\(company.items)")
    try? FileManager.default.removeItem(at: dir)
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    try Data("bench-checkpoint-key-0123456789abcdef".utf8).write(to: dir.appendingPathComponent("checkpoint.key"))
    try Data("employee_id,email\n".utf8).write(to: dir.appendingPathComponent("hr.csv"))
    let apps = (0..<company.apps).map { "app\($0)" }
    let appsJSON = apps.map { #"{ id: "\#($0)", plugin: "file", settings: { path: "hr.csv" }, owner: "owner-\#($0)@example.com", privileged: ["group:g0"] }"# }
    try Data("""
        { checkpointKey: "file:checkpoint.key", source: { plugin: "file", settings: { path: "hr.csv" } },
          apps: [ \(appsJSON.joined(separator: ",\n")) ],
          policies: [ { id: "everyone", when: {}, grant: [ \(apps.map { #"{ app: "\#($0)", entitlements: ["group:g0"] }"# }.joined(separator: ", ")) ] } ],
          reviews: [ { id: "all", scope: { include: ["access"] }, stages: [ { reviewer: "manager" }, { reviewer: "appOwner" } ], fallback: "sec@example.com", days: 14 } ] }
        """.utf8).write(to: dir.appendingPathComponent("steward.json"))
    var options = JournalOptions()
    options.checkpointKey = try CheckpointKey.resolve("file:" + dir.appendingPathComponent("checkpoint.key").path, stateDirectory: dir.appendingPathComponent(".steward"))
    let (journal, _) = try Journal.open(directory: dir.appendingPathComponent(".steward/journal"), options: options)
    var drafts: [EventDraft] = []
    func flush() throws {
        _ = try journal.appendAndWait(drafts)
        drafts.removeAll(keepingCapacity: true)
    }
    for p in 0..<company.people {
        let person = Person(id: "E\(p)", email: "p\(p)@example.com", firstName: "P", lastName: "\(p)", department: "Dept\(p % 10)",
                            title: p % 7 == 0 ? "Lead" : "Staff", managerId: p < 10 ? nil : "E\(p % 10)")
        drafts.append(EventDraft(type: EventType.personJoined, actor: "bench", subjects: ["person": person.id], data: ["person": person.json]))
    }
    drafts.append(EventDraft(type: EventType.hrSynced, actor: "bench", subjects: ["app": "hr"], data: ["people": .int(company.people)]))
    try flush()
    let caps = Capabilities(accounts: [.list, .get, .disable], entitlementTypes: [EntitlementTypeCapability(type: "group", cardinality: .multi)], grantsList: true)
    for app in apps {
        for g in 0..<company.grantsPerAccount {
            drafts.append(EventDraft(type: EventType.entitlementDiscovered, actor: "bench", subjects: ["app": app],
                                     data: ["entitlement": Entitlement(type: "group", id: "g\(g)", name: "g\(g)").json]))
        }
        for p in 0..<company.people {
            let account = Account(id: "\(app)-\(p)", userName: "p\(p)@example.com", email: "p\(p)@example.com", employeeNumber: "E\(p)",
                                  lastLoginAt: "2026-\(p % 2 == 0 ? "11" : "03")-01T00:00:00Z")
            drafts.append(EventDraft(type: EventType.accountDiscovered, actor: "bench", subjects: ["app": app, "account": account.id], data: ["account": account.json]))
            for g in 0..<company.grantsPerAccount {
                drafts.append(EventDraft(type: EventType.grantObserved, actor: "bench", subjects: ["app": app, "account": account.id],
                                         data: ["grant": Grant(accountId: account.id, type: "group", entitlementId: "g\(g)").json]))
            }
            if drafts.count > 20_000 { try flush() }
        }
        drafts.append(EventDraft(type: EventType.appSynced, actor: "bench", subjects: ["app": app], data: ["capabilities": caps.json]))
    }
    try flush()
    try journal.close()
    return dir
}

func peakMemoryMB() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return Double(usage.ru_maxrss) / 1024
}

func measure(_ company: Company, report: Bool, pdf: Bool) async throws {
    let dir = try makeFolder(company)
    defer { try? FileManager.default.removeItem(at: dir) }
    let ws = try Workspace.open(configPath: dir.appendingPathComponent("steward.json").path, actor: "bench")
    _ = try ws.state()  // fold the synthetic journal first: launch is what is measured
    let engine = ReviewEngine(workspace: ws)
    guard let definition = ws.config.governance.review("all") else { fatalError("the bench config defines review all") }
    var clock = Date()
    let campaign = try await engine.launch(definition)
    let launch = Date().timeIntervalSince(clock)
    print(String(format: "%7d items (%d people × %d apps × %d grants): launch %.2f s; peak memory %.0f MB",
                 campaign.items.count, company.people, company.apps, company.grantsPerAccount, launch, peakMemoryMB()))
    if report {
        clock = Date()
        let json = try ReviewReportBuilder(workspace: ws).build(campaign.id)
        let built = Date().timeIntervalSince(clock)
        clock = Date()
        let bytes = JSONWriter.bytes(json)
        let written = Date().timeIntervalSince(clock)
        clock = Date()
        let html = try HTMLReport.render(json)
        let htmlSeconds = Date().timeIntervalSince(clock)
        clock = Date()
        let csv = try CSVReport.render(json)
        let csvSeconds = Date().timeIntervalSince(clock)
        print(String(format: "        report: JSON built from the journal %.2f s + written %.2f s (%.1f MB); HTML %.2f s (%.1f MB); CSV %.2f s (%.1f MB); together %.2f s",
                     built, written, Double(bytes.count) / 1e6, htmlSeconds, Double(html.count) / 1e6, csvSeconds, Double(csv.count) / 1e6,
                     built + written + htmlSeconds + csvSeconds))
        if pdf, let path = ProcessInfo.processInfo.environment["REVIEW_BENCH_HTML"] {
            try Data(html).write(to: URL(fileURLWithPath: path))  // to try the printing by hand
        }
        if pdf {
            clock = Date()
            let document = try await PDFReport.render(json)
            print(String(format: "        report PDF %.2f s (%.1f MB)", Date().timeIntervalSince(clock), Double(document.count) / 1e6))
        }
    }
    await ws.close()
}

try await measure(Company(people: 200, apps: 50, grantsPerAccount: 1), report: true, pdf: true)
try await measure(Company(people: 2_000, apps: 50, grantsPerAccount: 1), report: true, pdf: false)
