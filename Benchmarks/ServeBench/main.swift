import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
#if canImport(Glibc)
import Glibc
#endif
import StewardCore
import StewardDemo
import StewardHost
import StewardJournal
import StewardProtocol

// ServeBench: `steward serve` as a service.
//   webhook: a signed HR webhook to the leaver's access gone in the SCIM, GitHub-shaped and
//            browser-only sandbox apps (read from the apps themselves), 20 leavers one at a time
//            in a company of about 1,000 people                      target p95 ≤ 5 s
//   pages:   200 reviewers, each with their own signed link, loading their page at once and
//            again and again over keep-alive connections              target p99 ≤ 100 ms
// Run: swift build -c release --product ServeBench && .build/release/ServeBench [webhook] [pages]

let selected = Set(CommandLine.arguments.dropFirst())
let runAll = selected.isEmpty

if runAll || selected.contains("webhook") { try await WebhookBench.run() }
if runAll || selected.contains("pages") { try await PageBench.run() }

/// Percentiles of a sample, nearest-rank.
func percentile(_ sorted: [Double], _ p: Double) -> Double {
    guard !sorted.isEmpty else { return .nan }
    let rank = Int((p / 100 * Double(sorted.count)).rounded(.up))
    return sorted[min(sorted.count - 1, max(0, rank - 1))]
}

func summary(_ values: [Double], unit: String, scale: Double) -> String {
    let s = values.sorted()
    return String(format: "p50 %.0f %@, p95 %.0f %@, p99 %.0f %@, max %.0f %@ (n=%d)",
                  percentile(s, 50) * scale, unit, percentile(s, 95) * scale, unit, percentile(s, 99) * scale, unit,
                  (s.last ?? 0) * scale, unit, s.count)
}

// MARK: - Webhook to leaver gone

enum WebhookBench {
    static let leavers = 20

    static func run() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("steward-serve-bench-\(getpid())")
        defer { try? FileManager.default.removeItem(at: dir) }
        print("== webhook → leaver gone in three apps; building the demo company (scale 5, about 1,000 people)…")
        var demo = Demo(directory: dir, scale: 5, say: { _ in })
        demo.reviews = false
        // The company is built without the read-back after each apply: verifying a few hundred
        // browser-created accounts walks the legacy app's paginated list for each (issue 15);
        // the service's own applies, which are what is timed, read everything back.
        demo.verifies = false
        let failure = LockedBox<Error?>(nil)
        _ = try await demo.run { sandbox in
            do { try await measure(dir: dir, sandbox: sandbox) } catch { failure.set(error) }
        }
        if let error = failure.get() { throw error }
    }

    static func measure(dir: URL, sandbox: SandboxProcess) async throws {
        let configPath = dir.appendingPathComponent("steward.json").path
        // GitHub invites by e-mail: the invitees accept, so the org has members to remove.
        if let github = sandbox.apps["github"] {
            _ = try await Fetch.post(github + "/_sandbox/invitations/accept", body: [], headers: ["Authorization": "Bearer \(sandbox.token)"])
        }
        let service = try StewardService.start(configPath: configPath, listen: ("127.0.0.1", 0), log: { _ in })
        service.startScheduler()
        let base = service.baseURL
        let apps = AppProbe(sandbox: sandbox)
        var clock = Date()
        while true {
            let health = try await Fetch.json(base + "/healthz")
            if !health["lastSync"].isNull { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        print(String(format: "service up; its first scheduled sync (all apps, 1,000 people) took %.1f s", Date().timeIntervalSince(clock)))

        let today = String(ISO8601DateFormatter().string(from: Date()).prefix(10))
        var world = DemoWorld.initial(scale: 5).secondRound(today: today).0
        let secret = Array(try String(contentsOf: dir.appendingPathComponent("webhook.secret"), encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines).utf8)
        // Senior engineers hold access in all three apps.
        var chosen: [(Person, AppProbe.Target)] = []
        for person in world.people where person.status == .active && person.department == "Engineering" && person.title?.hasPrefix("Senior") == true {
            guard chosen.count < leavers, let target = try await apps.target(for: person.email), try await apps.present(target) == [true, true, true] else { continue }
            chosen.append((person, target))
        }
        guard chosen.count == leavers else { throw BenchFailure("found only \(chosen.count) people with access in all three apps") }

        var totals: [Double] = [], perApp: [[Double]] = [[], [], []]
        for (n, (person, target)) in chosen.enumerated() {
            if let i = world.people.firstIndex(where: { $0.id == person.id }) {
                world.people[i].status = .terminated
                world.people[i].endDate = today
            }
            try Data(world.csv.utf8).write(to: dir.appendingPathComponent("hr.csv"))
            let body = JSONWriter.bytes(["people": [.string(person.id)]])
            let now = Int(Date().timeIntervalSince1970)
            let signature = WebhookVerifier.signature(secret: secret, timestamp: now, body: body)
            clock = Date()
            let status = try await Fetch.post(base + "/hooks/source", body: body,
                                              headers: ["X-Steward-Timestamp": String(now), "X-Steward-Signature": signature])
            guard status == 202 else { throw BenchFailure("the webhook answered \(status)") }
            var gone: [Double?] = [nil, nil, nil]
            let deadline = Date().addingTimeInterval(120)
            while gone.contains(where: { $0 == nil }) {
                guard Date() < deadline else { throw BenchFailure("\(person.id) still has access after 120 s: \(gone)") }
                let present = try await apps.present(target)
                for i in 0..<3 where gone[i] == nil && !present[i] { gone[i] = Date().timeIntervalSince(clock) }
                try await Task.sleep(for: .milliseconds(5))
            }
            let times = gone.map { $0 ?? 0 }
            totals.append(times.max() ?? 0)
            for i in 0..<3 { perApp[i].append(times[i]) }
            print(String(format: "  leaver %2d %@: crm %.2f s, github %.2f s, legacy %.2f s", n + 1, person.id, times[0], times[1], times[2]))
        }
        print("webhook → gone in all three: " + summary(totals, unit: "ms", scale: 1000))
        for (i, name) in ["crm (SCIM)", "github (REST)", "legacy (browser)"].enumerated() {
            print("  \(name): " + summary(perApp[i], unit: "ms", scale: 1000))
        }
        await service.shutdown()
    }
}

/// Reads the three sandbox apps directly: is the person's access still there?
struct AppProbe {
    let sandbox: SandboxProcess

    struct Target {
        var scimId: String
        var login: String
        var email: String
    }

    func target(for email: String) async throws -> Target? {
        guard let scim = sandbox.apps["scim"] else { return nil }
        let users = try await Fetch.json(scim + "/Users?count=5000", token: sandbox.token)["Resources"].arrayValue ?? []
        let user = users.first { u in
            u["userName"].stringValue?.lowercased() == email.lowercased()
                || (u["emails"].arrayValue ?? []).contains { $0["value"].stringValue?.lowercased() == email.lowercased() }
        }
        guard let id = user?["id"].stringValue else { return nil }
        return Target(scimId: id, login: String(email.prefix { $0 != "@" }), email: email)
    }

    /// Whether the SCIM account is active, the login a member of (or invited to) the GitHub
    /// org, and the legacy account enabled.
    func present(_ t: Target) async throws -> [Bool] {
        async let scim = Fetch.json((sandbox.apps["scim"] ?? "") + "/Users/" + t.scimId, token: sandbox.token)
        async let github = Fetch.status((sandbox.apps["github"] ?? "") + "/orgs/acme/memberships/" + t.login, token: sandbox.token)
        async let legacy = Fetch.json((sandbox.apps["legacy"] ?? "") + "/_state", token: sandbox.token)
        let legacyStatus = try await legacy["users"].arrayValue?.first { $0["email"].stringValue == t.email }?["status"].stringValue
        return [try await scim["active"].boolValue == true, try await github == 200, legacyStatus == "active" || legacyStatus == "invited"]
    }
}

// MARK: - Reviewer pages under load

enum PageBench {
    static let reviewers = 200
    static let requestsEach = 25

    static func run() async throws {
        print("== reviewer pages: \(reviewers) reviewers at once, \(requestsEach) loads each")
        let dir = try makeFolder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let configPath = dir.appendingPathComponent("steward.json").path
        let ws = try Workspace.open(configPath: configPath, actor: "bench")
        guard let definition = ws.config.governance.review("q") else { throw BenchFailure("no review q") }
        let campaign = try await ReviewEngine(workspace: ws).launch(definition)
        await ws.close()
        let service = try StewardService.start(configPath: configPath, listen: ("127.0.0.1", 0), log: { _ in })
        guard let issuer = try ReviewLinkIssuer(config: service.config, base: service.baseURL) else { throw BenchFailure("no link key") }
        let people = Set(campaign.undecidedItems.compactMap { campaign.progress[$0].currentReviewer(0)?.description }).filter { !$0.hasPrefix("group:") }
        let links = people.sorted().prefix(reviewers).map { issuer.url(reviewer: $0, campaign: campaign.id, now: Date(), lifetime: 86_400) }
        guard links.count == reviewers else { throw BenchFailure("the campaign has \(links.count) reviewers, not \(reviewers)") }
        let port = UInt16(URL(string: service.baseURL)?.port ?? 0)
        print("campaign \(campaign.id): \(campaign.items.count) items for \(people.count) reviewers")

        // Each reviewer loads once to warm the cache; then five bursts of all 200 opening their
        // link at the same instant (the launch e-mail arriving); then everyone loading again
        // and again with no pause (saturation, the client on the same two cores).
        _ = try PageClient.load(port: port, paths: links.map(path), repeats: 1)
        var bursts: [Double] = []
        for _ in 0..<5 { bursts += try PageClient.load(port: port, paths: links.map(path), repeats: 1) }
        print("bursts of \(reviewers) at once: " + summary(bursts, unit: "ms", scale: 1000))
        let started = Date()
        let latencies = try PageClient.load(port: port, paths: links.map(path), repeats: requestsEach)
        let wall = Date().timeIntervalSince(started)
        print("saturation, \(requestsEach) loads each: " + summary(latencies, unit: "ms", scale: 1000)
              + String(format: "; %.0f pages/s over %.1f s", Double(latencies.count) / wall, wall))
        await service.shutdown()
    }

    static func path(_ url: String) -> String {
        guard let u = URLComponents(string: url) else { return url }
        return u.percentEncodedPath + (u.percentEncodedQuery.map { "?" + $0 } ?? "")
    }

    /// A folder whose journal holds 2,200 people (200 managers of ten each) with five groups
    /// in one app: a campaign of 11,000 items, 50 per manager.
    static func makeFolder() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("steward-page-bench-\(getpid())")
        try? FileManager.default.removeItem(at: dir)
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        try Data("bench-checkpoint-key-0123456789abcdef".utf8).write(to: dir.appendingPathComponent("checkpoint.key"))
        try Data("bench-link-key-0123456789abcdef0123".utf8).write(to: dir.appendingPathComponent("link.key"))
        try Data("employee_id,email\n".utf8).write(to: dir.appendingPathComponent("hr.csv"))
        try Data("""
            { checkpointKey: "file:checkpoint.key", source: { plugin: "file", settings: { path: "hr.csv" } },
              serve: { linkKey: "file:link.key", schedule: { sync: "24h", apply: "manual" } },
              apps: [ { id: "app", plugin: "file", settings: { path: "hr.csv" }, owner: "owner@example.com", privileged: ["group:g0"] } ],
              policies: [ { id: "everyone", when: {}, grant: [ { app: "app", entitlements: ["group:g0"] } ] } ],
              reviews: [ { id: "q", scope: { include: ["access"] }, stages: [ { reviewer: "manager" } ], fallback: "sec@example.com", days: 14 } ] }
            """.utf8).write(to: dir.appendingPathComponent("steward.json"))
        var options = JournalOptions()
        options.checkpointKey = try CheckpointKey.resolve("file:" + dir.appendingPathComponent("checkpoint.key").path,
                                                          stateDirectory: dir.appendingPathComponent(".steward"))
        let (journal, _) = try Journal.open(directory: dir.appendingPathComponent(".steward/journal"), options: options)
        var drafts: [EventDraft] = []
        let managers = reviewers, people = reviewers * 11
        for p in 0..<people {
            let person = Person(id: "E\(p)", email: "p\(p)@example.com", firstName: "P", lastName: "\(p)", department: "Dept\(p % 10)",
                                title: "Staff", managerId: p < managers ? nil : "E\(p % managers)")
            drafts.append(EventDraft(type: EventType.personJoined, actor: "bench", subjects: ["person": person.id], data: ["person": person.json]))
        }
        drafts.append(EventDraft(type: EventType.hrSynced, actor: "bench", subjects: ["app": "hr"], data: ["people": .int(people)]))
        let caps = Capabilities(accounts: [.list, .get, .disable], entitlementTypes: [EntitlementTypeCapability(type: "group", cardinality: .multi)], grantsList: true)
        for g in 0..<5 {
            drafts.append(EventDraft(type: EventType.entitlementDiscovered, actor: "bench", subjects: ["app": "app"],
                                     data: ["entitlement": Entitlement(type: "group", id: "g\(g)", name: "g\(g)").json]))
        }
        for p in 0..<people {
            let account = Account(id: "a\(p)", userName: "p\(p)@example.com", email: "p\(p)@example.com", employeeNumber: "E\(p)",
                                  lastLoginAt: "2026-\(p % 2 == 0 ? "11" : "03")-01T00:00:00Z")
            drafts.append(EventDraft(type: EventType.accountDiscovered, actor: "bench", subjects: ["app": "app", "account": account.id], data: ["account": account.json]))
            for g in 0..<5 {
                drafts.append(EventDraft(type: EventType.grantObserved, actor: "bench", subjects: ["app": "app", "account": account.id],
                                         data: ["grant": Grant(accountId: account.id, type: "group", entitlementId: "g\(g)").json]))
            }
        }
        drafts.append(EventDraft(type: EventType.appSynced, actor: "bench", subjects: ["app": "app"], data: ["capabilities": caps.json]))
        _ = try journal.appendAndWait(drafts)
        try journal.close()
        return dir
    }
}

/// One thread and one keep-alive connection per reviewer, all started together; returns the
/// latency of every load.
enum PageClient {
    static func load(port: UInt16, paths: [String], repeats: Int) throws -> [Double] {
        let results = LockedBox<[Double]>([])
        let failures = LockedBox<[String]>([])
        let group = DispatchGroup()
        let start = DispatchSemaphore(value: 0)
        for path in paths {
            group.enter()
            let thread = Thread {
                defer { group.leave() }
                start.wait()
                do {
                    let connection = try Connection(port: port)
                    defer { connection.close() }
                    var mine: [Double] = []
                    for _ in 0..<repeats {
                        let t0 = DispatchTime.now().uptimeNanoseconds
                        let (status, body) = try connection.get(path)
                        guard status == 200, body > 1000 else { throw BenchFailure("GET \(path): \(status), \(body) bytes") }
                        mine.append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9)
                    }
                    results.update { $0 += mine }
                } catch {
                    failures.update { $0.append("\(error)") }
                }
            }
            thread.stackSize = 256 * 1024
            thread.start()
        }
        for _ in paths { start.signal() }
        group.wait()
        if let first = failures.get().first { throw BenchFailure("\(failures.get().count) reviewers failed; first: \(first)") }
        return results.get()
    }

    /// A blocking HTTP/1.1 client connection that reads `Content-Length` bodies.
    final class Connection {
        let fd: Int32
        private var buffer: [UInt8] = []

        init(port: UInt16) throws {
            fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            guard fd >= 0 else { throw BenchFailure("socket: \(errno)") }
            var one: Int32 = 1
            setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = port.bigEndian
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            let rc = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            guard rc == 0 else { Glibc.close(fd); throw BenchFailure("connect: \(errno)") }
        }

        func close() { Glibc.close(fd) }

        func get(_ path: String) throws -> (status: Int, bodyBytes: Int) {
            let request = Array("GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".utf8)
            var sent = 0
            while sent < request.count {
                let n = request[sent...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, 0) }
                guard n > 0 else { throw BenchFailure("send: \(errno)") }
                sent += n
            }
            let headEnd = try readUntilHeadEnd()
            let head = String(decoding: buffer[..<headEnd], as: UTF8.self)
            buffer.removeFirst(headEnd + 4)
            let lines = head.split(separator: "\r\n")
            let status = lines.first.flatMap { Int($0.split(separator: " ").dropFirst().first ?? "") } ?? 0
            let length = lines.compactMap { line -> Int? in
                let parts = line.split(separator: ":", maxSplits: 1)
                return parts.count == 2 && parts[0].lowercased() == "content-length" ? Int(parts[1].trimmingCharacters(in: .whitespaces)) : nil
            }.first ?? 0
            while buffer.count < length { try fill() }
            buffer.removeFirst(length)
            return (status, length)
        }

        private func readUntilHeadEnd() throws -> Int {
            var from = 0
            while true {
                if buffer.count >= 4 {
                    for i in max(0, from - 3)..<(buffer.count - 3)
                    where buffer[i] == 13 && buffer[i + 1] == 10 && buffer[i + 2] == 13 && buffer[i + 3] == 10 { return i }
                    from = buffer.count
                }
                try fill()
            }
        }

        private func fill() throws {
            var chunk = [UInt8](repeating: 0, count: 65_536)
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            guard n > 0 else { throw BenchFailure("the server closed the connection (\(errno))") }
            buffer.append(contentsOf: chunk[..<n])
        }
    }
}

// MARK: - Small helpers

struct BenchFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// A value shared between threads.
final class LockedBox<Value>: @unchecked Sendable {  // every access to `value` holds `lock`
    private let lock = NSLock()
    private var value: Value
    init(_ value: Value) { self.value = value }
    func get() -> Value { lock.withLock { value } }
    func set(_ new: Value) { lock.withLock { value = new } }
    func update(_ body: (inout Value) -> Void) { lock.withLock { body(&value) } }
}

enum Fetch {
    static func json(_ url: String, token: String? = nil) async throws -> JSONValue {
        let (data, _) = try await send(url, token: token)
        return (try? JSONParser.parse([UInt8](data))) ?? .null
    }

    static func status(_ url: String, token: String? = nil) async throws -> Int {
        try await send(url, token: token).1
    }

    static func post(_ url: String, body: [UInt8], headers: [String: String]) async throws -> Int {
        guard let u = URL(string: url) else { throw BenchFailure("bad URL \(url)") }
        var request = URLRequest(url: u)
        request.httpMethod = "POST"
        request.httpBody = Data(body)
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
        let (_, response) = try await URLSession.shared.data(for: request)
        return (response as? HTTPURLResponse)?.statusCode ?? 0
    }

    private static func send(_ url: String, token: String?) async throws -> (Data, Int) {
        guard let u = URL(string: url) else { throw BenchFailure("bad URL \(url)") }
        var request = URLRequest(url: u)
        if let token { request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization") }
        let (data, response) = try await URLSession.shared.data(for: request)
        return (data, (response as? HTTPURLResponse)?.statusCode ?? 0)
    }
}
