import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import StewardHost
import StewardJournal
import StewardProtocol
import StewardTestSupport
import Testing

/// `steward serve` through the real binary: the ready line, health and metrics, the signed HR
/// webhook that takes a leaver's access away, refused requests journaled, one service per
/// folder, read-only commands beside it, and a clean stop on SIGTERM.
@Suite("steward serve", .serialized)
struct ServeTests {
    static let secret = "webhook-secret-for-tests-0123456789"

    static func folder(mode: String = "honest") throws -> ApplyTruthTests.StatefulFolder {
        let folder = try ApplyTruthTests.StatefulFolder(mode: mode)
        try folder.write("webhook.secret", secret + "\n")
        let config = try String(contentsOf: folder.dir.appendingPathComponent("steward.json"), encoding: .utf8)
            .replacingOccurrences(of: "  policies: [", with: """
                  serve: { webhookSecret: "file:webhook.secret", schedule: { sync: "1h", apply: "auto" } },
                  policies: [
                """)
        try folder.write("steward.json", config)
        return folder
    }

    @Test func aSignedWebhookTakesALeaversAccessAwayAndBadOnesAreRefusedAndJournaled() async throws {
        let folder = try Self.folder()
        defer { folder.remove() }
        let service = try ServiceProcess(in: folder.dir)
        defer { service.kill() }
        let base = try #require(service.baseURL)

        // The first scheduled sync and apply run at start.
        let health = try await eventually { () async throws -> JSONValue? in
            let h = try await HTTP.get(base + "/healthz")
            // (JSONValue takes `nil` as .null, so say Optional.none.)
            return h.status == 200 && !h.json["lastSync"].isNull ? h.json : Optional<JSONValue>.none
        }
        #expect(health["ok"] == true, "\(health)")
        #expect(try folder.status(of: "a3") == "active")

        // Read-only commands work beside the service.
        #expect(try folder.steward(["status", "--json"]).code == 0)

        // HR marks Cy as left; the webhook names Cy.
        try folder.hr([("E1", "ann@example.com", "Engineering", "Engineer", "active"),
                       ("E2", "bo@example.com", "Engineering", "Engineer", "active"),
                       ("E3", "cy@example.com", "Engineering", "Engineer", "terminated")])
        let body = Array(#"{"people":["E3"]}"#.utf8)
        let now = Int(Date().timeIntervalSince1970)
        let signature = WebhookVerifier.signature(secret: Array(Self.secret.utf8), timestamp: now, body: body)
        let accepted = try await HTTP.post(base + "/hooks/source", body: body, headers: ["X-Steward-Timestamp": String(now), "X-Steward-Signature": signature])
        #expect(accepted.status == 202, "\(accepted.text)")
        try await eventually { try folder.status(of: "a3") == "disabled" ? true : nil }
        #expect(try folder.status(of: "a1") == "active")

        // Refused: unsigned, badly signed, replayed, stale. Each 401, each journaled, nothing done.
        let stale = now - 600
        let refusals: [(String, [String: String])] = [
            ("unsigned", [:]),
            ("bad signature", ["X-Steward-Timestamp": String(now), "X-Steward-Signature": "v1=" + String(repeating: "0", count: 64)]),
            ("replayed", ["X-Steward-Timestamp": String(now), "X-Steward-Signature": signature]),
            ("stale", ["X-Steward-Timestamp": String(stale),
                       "X-Steward-Signature": WebhookVerifier.signature(secret: Array(Self.secret.utf8), timestamp: stale, body: body)]),
        ]
        for (what, headers) in refusals {
            let refused = try await HTTP.post(base + "/hooks/source", body: body, headers: headers)
            #expect(refused.status == 401, "\(what): \(refused.status) \(refused.text)")
        }
        let received = try await eventually { () throws -> [JSONValue]? in
            let events = try folder.events("webhook.received")
            return events.filter { $0["data"]["result"] == "refused" }.count == 4 ? events : Optional<[JSONValue]>.none
        }
        #expect(received.filter { $0["data"]["result"] == "accepted" }.count == 1)
        let reasons = received.compactMap { $0["data"]["reason"].stringValue }
        #expect(reasons.contains { $0.contains("already used") } && reasons.contains { $0.contains("does not match") } && reasons.contains { $0.contains("missing") })
        #expect(!String(describing: received).contains(Self.secret), "the secret is never journaled")

        // /metrics is Prometheus text: every family has HELP and TYPE, every sample line parses.
        let metrics = try await HTTP.get(base + "/metrics")
        #expect(metrics.status == 200)
        try PrometheusCheck.check(metrics.text)
        #expect(metrics.text.contains("steward_webhook_requests_total{hook=\"source\",result=\"refused\"} 4"))
        #expect(metrics.text.contains("steward_webhook_requests_total{hook=\"source\",result=\"accepted\"} 1"))
        #expect(metrics.text.contains("steward_app_sync_success{app=\"app\"} 1"), "\(metrics.text)")
        #expect(metrics.text.contains("steward_app_sync_duration_seconds{app=\"app\"}"))
        #expect(metrics.text.contains("steward_actions_total{app=\"app\",operation=\"disableAccount\",result=\"applied\"} 1"))
        #expect(metrics.text.contains("steward_journal_events "))
        #expect(metrics.text.contains("steward_journal_bytes "))

        // One service per folder.
        let second = try folder.steward(["serve", "--listen", "127.0.0.1:0"])
        #expect(second.code == 1)
        #expect(second.err.contains("another steward serve (pid \(service.pid))"), "\(second.err)")

        // SIGTERM: exit 0, and the journal verifies.
        #expect(service.terminate() == 0)
        #expect(try folder.journalIntact())
        #expect(try folder.steward(["audit", "verify"]).code == 0)
    }

    /// SIGTERM while an apply has a write in flight: that write finishes with its outcome, the
    /// actions not started are journaled as skipped, the service exits 0 within 10 s, and a
    /// restart finishes the work. The app confirms each write three seconds after making it.
    @Test func sigtermMidApplyFinishesTheWriteInFlightAndSkipsTheRest() async throws {
        let folder = try Self.folder(mode: "slow-writes")
        defer { folder.remove() }
        let service = try ServiceProcess(in: folder.dir)
        defer { service.kill() }
        let base = try #require(service.baseURL)
        // The first sync and its apply (Cy's extra group goes) have run.
        try await eventually(timeout: .seconds(120)) { () async throws -> Bool? in
            let health = try await HTTP.get(base + "/healthz")
            return health.status == 200 && !health.json["lastApply"].isNull ? true : nil
        }
        let before = try folder.events("action.intent").count
        try folder.hr([("E1", "ann@example.com", "Engineering", "Engineer", "terminated"),
                       ("E2", "bo@example.com", "Engineering", "Engineer", "terminated"),
                       ("E3", "cy@example.com", "Engineering", "Engineer", "terminated")])
        let body = Array("{}".utf8)
        let now = Int(Date().timeIntervalSince1970)
        let signature = WebhookVerifier.signature(secret: Array(Self.secret.utf8), timestamp: now, body: body)
        let accepted = try await HTTP.post(base + "/hooks/source", body: body, headers: ["X-Steward-Timestamp": String(now), "X-Steward-Signature": signature])
        #expect(accepted.status == 202)
        // The first disable is in flight (its intent is on disk; the app answers in 3 s).
        try await eventually(timeout: .seconds(60)) { try folder.events("action.intent").count > before ? true : nil }
        let stopped = Date()
        #expect(service.terminate() == 0, "serve exits 0 on SIGTERM")
        #expect(Date().timeIntervalSince(stopped) < 10, "and within 10 s")

        let intents = try folder.events("action.intent").compactMap { $0["data"]["key"].stringValue }
        let outcomes = try folder.events("action.outcome")
        #expect(Set(intents).isSubset(of: Set(outcomes.compactMap { $0["data"]["key"].stringValue })), "every action sent has its outcome")
        let skipped = outcomes.filter { $0["data"]["result"] == "skipped" }
        #expect(skipped.count == 2, "the two disables not started: \(skipped)")
        #expect(skipped.allSatisfy { $0["data"]["note"].stringValue?.contains("the service is stopping") == true })
        #expect(try folder.events("apply.finished").last?["data"]["stopped"] == true)
        #expect(try ["a1", "a2", "a3"].filter { try folder.status(of: $0) == "disabled" }.count == 1, "only the write in flight took effect")
        #expect(try folder.journalIntact())

        // A restart plans the skipped ones again and finishes.
        let again = try ServiceProcess(in: folder.dir)
        defer { again.kill() }
        try await eventually(timeout: .seconds(120)) {
            try ["a1", "a2", "a3"].allSatisfy { try folder.status(of: $0) == "disabled" } ? true : nil
        }
        #expect(again.terminate() == 0)
        #expect(try folder.steward(["audit", "verify"]).code == 0)
    }

    /// A command that finds the journal's writer lock taken (by serve in the middle of a job)
    /// waits for it and says so, rather than failing; `STEWARD_LOCK_WAIT=0` fails at once.
    @Test func aCommandWaitsForTheJournalWriterInsteadOfFailing() throws {
        let folder = try Self.folder()
        defer { folder.remove() }
        #expect(try folder.steward(["sync"]).code == 0)
        // Close-on-exec, or the `steward` children would inherit the lock they wait for.
        let fd = open(folder.dir.appendingPathComponent(".steward/journal/lock").path, O_RDWR | O_CLOEXEC)
        try #require(fd >= 0)
        try #require(flock(fd, LOCK_EX | LOCK_NB) == 0)
        let refused = try folder.steward(["sync"], environment: ["STEWARD_LOCK_WAIT": "0"])
        #expect(refused.code != 0)
        #expect(refused.err.contains("open for writing by another process"), "\(refused.err)")
        DispatchQueue.global().asyncAfter(deadline: .now() + 1) { close(fd) }
        let waited = try folder.steward(["sync"])
        #expect(waited.code == 0, "\(waited.err)")
        #expect(waited.err.contains("waiting for the journal"), "\(waited.err)")
        #expect(try folder.journalIntact())
    }

    /// The review folder of ReviewCampaignTests (Mia manages Ann and Bo, Ann manages Cy) with a
    /// link key, and plans left for `steward apply`.
    static func reviewFolder() throws -> ApplyTruthTests.StatefulFolder {
        let folder = try ReviewCampaignTests.folder()
        try folder.write("link.key", "link-key-for-tests-0123456789abcdef\n")
        let config = try String(contentsOf: folder.dir.appendingPathComponent("steward.json"), encoding: .utf8)
            .replacingOccurrences(of: "  policies: [", with: """
                  serve: { linkKey: "file:link.key", schedule: { sync: "1h", apply: "manual" } },
                  policies: [
                """)
        try folder.write("steward.json", config)
        return folder
    }

    @Test func aSignedLinkShowsAndDecidesOnlyItsReviewersItems() async throws {
        let folder = try Self.reviewFolder()
        defer { folder.remove() }
        #expect(try folder.steward(["review", "start", "eng"]).code == 0)
        let mias = try Self.itemIds(folder, "mia@example.com"), anns = try Self.itemIds(folder, "ann@example.com")
        try #require(mias.count >= 2 && !anns.isEmpty)

        let service = try ServiceProcess(in: folder.dir)
        defer { service.kill() }
        let base = try #require(service.baseURL)
        let mia = try Self.link(folder, "mia@example.com", base: base), ann = try Self.link(folder, "ann@example.com", base: base)

        let page = try await HTTP.get(mia)
        #expect(page.status == 200)
        #expect(page.text.contains("mia@example.com"))
        let csrf = try #require(Self.csrf(in: page.text))
        let annCSRF = try #require(Self.csrf(in: try await HTTP.get(ann).text))
        for id in mias { #expect(page.text.contains("name=\"item\" value=\"\(id)\""), "item \(id) should be on Mia's page") }
        for id in anns { #expect(!page.text.contains("name=\"item\" value=\"\(id)\""), "Ann's item \(id) is not Mia's to see") }

        // Keep one from the page: recorded with channel link.
        let kept = try await HTTP.form(mia, ["csrf": [csrf], "item": [mias[0]], "verdict": ["keep"], "comment": ["still on the team"]])
        #expect(kept.status == 200, "\(kept.text)")
        #expect(kept.text.contains("Kept 1 item"))
        let decided = try folder.events("review.decided")
        #expect(decided.count == 1)
        #expect(decided.first?["data"]["channel"] == "link")
        #expect(decided.first?["data"]["reviewer"] == "mia@example.com")

        // Refused, nothing recorded: no form token, another link's token, another reviewer's item,
        // an altered link, an expired link, a revoked link.
        let refused: [(String, String, [String: [String]])] = [
            ("no csrf", mia, ["item": [mias[1]], "verdict": ["revoke"]]),
            ("Ann's csrf", mia, ["csrf": [annCSRF], "item": [mias[1]], "verdict": ["revoke"]]),
            ("Ann's item", mia, ["csrf": [csrf], "item": [anns[0]], "verdict": ["revoke"]]),
            ("altered link", String(mia.dropLast(2)) + (mia.hasSuffix("AA") ? "BB" : "AA"), ["csrf": [csrf], "item": [mias[1]], "verdict": ["revoke"]]),
        ]
        for (what, url, fields) in refused {
            let r = try await HTTP.form(url, fields)
            #expect(r.status == 403, "\(what): \(r.status) \(r.text.prefix(300))")
        }
        let key = Array("link-key-for-tests-0123456789abcdef".utf8)
        let expired = ReviewLink(reviewer: "mia@example.com", campaign: "eng-1", issuedAt: Date().addingTimeInterval(-7200), lifetime: 3600)
        #expect(try await HTTP.get(base + "/r/" + expired.token(key: key)).status == 403)
        #expect(try folder.steward(["review", "revoke-links", "eng-1", "--reviewer", "mia@example.com"]).code == 0)
        #expect(try await HTTP.get(mia).status == 403)
        #expect(try await HTTP.get(ann).status == 200, "only Mia's links were revoked")
        #expect(try folder.events("review.decided").count == 1, "nothing else was recorded")
        #expect(service.terminate() == 0)
    }

    /// The ids of `reviewer`'s items in campaign eng-1.
    static func itemIds(_ folder: StewardFolder, _ reviewer: String) throws -> [String] {
        try folder.steward(["review", "items", "eng-1", "--reviewer", reviewer, "--json"]).out
            .split(separator: "\n").compactMap { try? JSONParser.parse(String($0))["id"].stringValue }
    }

    /// `reviewer`'s link to eng-1 from `steward review link`, pointed at the running service.
    static func link(_ folder: StewardFolder, _ reviewer: String, base: String) throws -> String {
        let url = try JSONParser.parse(try folder.steward(["review", "link", "eng-1", "--reviewer", reviewer, "--json"]).out)["url"].stringValue ?? ""
        return base + String(url[try #require(url.range(of: "/r/")).lowerBound...])
    }

    static func csrf(in html: String) -> String? {
        guard let r = html.range(of: "name=\"csrf\" value=\"") else { return nil }
        return String(html[r.upperBound...].prefix { $0 != "\"" })
    }

    @Test func theWebhookSignatureRules() throws {
        let verifier = WebhookVerifier(secret: Array("k".utf8))
        let body = Array("{}".utf8)
        let now = Date()
        let t = Int(now.timeIntervalSince1970)
        let good = WebhookVerifier.signature(secret: Array("k".utf8), timestamp: t, body: body)
        #expect(throws: WebhookVerifier.Refusal.missingHeaders(.steward)) { try verifier.verify(timestamp: nil, signature: good, body: body, now: now) }
        #expect(throws: WebhookVerifier.Refusal.badSignature) { try verifier.verify(timestamp: String(t), signature: good, body: Array("{ }".utf8), now: now) }
        #expect(throws: WebhookVerifier.Refusal.badSignature) { try verifier.verify(timestamp: String(t + 1), signature: good, body: body, now: now) }
        #expect(throws: WebhookVerifier.Refusal.stale(seconds: 301)) {
            try verifier.verify(timestamp: String(t), signature: good, body: body, now: now.addingTimeInterval(301))
        }
        try verifier.verify(timestamp: String(t), signature: good, body: body, now: now.addingTimeInterval(299))
        #expect(throws: WebhookVerifier.Refusal.replayed) { try verifier.verify(timestamp: String(t), signature: good, body: body, now: now) }
        #expect(throws: (any Error).self) { try verifier.verify(timestamp: "yesterday", signature: good, body: body, now: now) }
        #expect(throws: (any Error).self) { try verifier.verify(timestamp: String(t), signature: "sha256=abc", body: body, now: now) }

        // BambooHR's: bare hex over the body then the timestamp, in its own headers.
        let bamboo = WebhookVerifier(secret: Array("k".utf8), scheme: .bamboohr)
        let payload = Array(#"{"employees":[{"id":"42"}]}"#.utf8)
        let theirs = HMACSHA256.authenticate(payload + Array(String(t).utf8), key: Array("k".utf8)).hex
        #expect(WebhookVerifier.signature(secret: Array("k".utf8), timestamp: t, body: payload, scheme: .bamboohr) == theirs)
        #expect(throws: WebhookVerifier.Refusal.badSignature) {
            try bamboo.verify(headers: { ["X-BambooHR-Timestamp": String(t), "X-BambooHR-Signature": good.replacingOccurrences(of: "v1=", with: "")][$0] }, body: payload, now: now)
        }
        try bamboo.verify(headers: { ["X-BambooHR-Timestamp": String(t), "X-BambooHR-Signature": theirs][$0] }, body: payload, now: now)
        #expect(throws: WebhookVerifier.Refusal.replayed) {
            try bamboo.verify(headers: { ["X-BambooHR-Timestamp": String(t), "X-BambooHR-Signature": theirs][$0] }, body: payload, now: now)
        }
    }
}

/// `steward serve --listen 127.0.0.1:0` in a folder: its ready line, then SIGTERM or SIGKILL.
final class ServiceProcess: @unchecked Sendable {  // set in init; `process` is only signalled after
    let process = Process()
    let baseURL: String?
    var pid: Int32 { process.processIdentifier }

    init(in dir: URL) throws {
        process.executableURL = URL(fileURLWithPath: StewardFolder.stewardPath)
        process.arguments = ["serve", "--listen", "127.0.0.1:0"]
        process.currentDirectoryURL = dir
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.standardError
        try process.run()
        baseURL = Self.readyLine(out.fileHandleForReading, timeout: 60).flatMap { line in
            line.hasPrefix("serving on ") ? String(line.dropFirst("serving on ".count)) : nil
        }
    }

    /// SIGTERM, then the exit status (nil if it did not exit within 30 s).
    func terminate() -> Int32? {
        process.terminate()
        let deadline = Date().addingTimeInterval(30)
        while process.isRunning, Date() < deadline { usleep(20_000) }
        return process.isRunning ? nil : process.terminationStatus
    }

    func kill() {
        if process.isRunning { Glibc.kill(process.processIdentifier, SIGKILL); process.waitUntilExit() }
    }

    private static func readyLine(_ handle: FileHandle, timeout: Double) -> String? {
        let fd = handle.fileDescriptor
        var bytes: [UInt8] = []
        let deadline = Date().addingTimeInterval(timeout)
        var byte: UInt8 = 0
        while Date() < deadline {
            var pfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&pfd, 1, 100) > 0 else { continue }
            guard read(fd, &byte, 1) == 1 else { return nil }
            if byte == 0x0A { return String(decoding: bytes, as: UTF8.self) }
            bytes.append(byte)
        }
        return nil
    }
}

/// Minimal HTTP for the tests.
enum HTTP {
    struct Answer {
        var status: Int
        var data: Data
        var text: String { String(decoding: data, as: UTF8.self) }
        var json: JSONValue { (try? JSONParser.parse([UInt8](data))) ?? .null }
    }

    static func get(_ url: String) async throws -> Answer {
        try await send(URLRequest(url: try #require(URL(string: url))))
    }

    static func post(_ url: String, body: [UInt8], headers: [String: String]) async throws -> Answer {
        var request = URLRequest(url: try #require(URL(string: url)))
        request.httpMethod = "POST"
        request.httpBody = Data(body)
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
        return try await send(request)
    }

    static func form(_ url: String, _ fields: [String: [String]]) async throws -> Answer {
        var request = URLRequest(url: try #require(URL(string: url)))
        request.httpMethod = "POST"
        let allowed = CharacterSet.alphanumerics.union(CharacterSet(charactersIn: "-._~"))
        let body = fields.flatMap { name, values in values.map { "\(name)=\($0.addingPercentEncoding(withAllowedCharacters: allowed) ?? "")" } }
            .joined(separator: "&")
        request.httpBody = Data(body.utf8)
        request.setValue("application/x-www-form-urlencoded", forHTTPHeaderField: "Content-Type")
        return try await send(request)
    }

    private static func send(_ request: URLRequest) async throws -> Answer {
        let (data, response) = try await URLSession.shared.data(for: request)
        return Answer(status: (response as? HTTPURLResponse)?.statusCode ?? 0, data: data)
    }
}

/// Checks text against the Prometheus exposition format's rules that matter to a scraper.
enum PrometheusCheck {
    struct Failure: Error, CustomStringConvertible { var description: String }

    static func check(_ text: String) throws {
        var help = Set<String>(), type = Set<String>()
        for line in text.split(separator: "\n", omittingEmptySubsequences: false).dropLast() {
            if line.hasPrefix("# HELP ") { help.insert(String(line.dropFirst(7).prefix { $0 != " " })); continue }
            if line.hasPrefix("# TYPE ") {
                let parts = line.dropFirst(7).split(separator: " ")
                guard parts.count == 2, ["counter", "gauge", "histogram", "summary", "untyped"].contains(String(parts[1])) else {
                    throw Failure(description: "bad TYPE line: \(line)")
                }
                type.insert(String(parts[0]))
                continue
            }
            let name = String(line.prefix { $0 != "{" && $0 != " " })
            guard name.range(of: "^[a-zA-Z_:][a-zA-Z0-9_:]*$", options: .regularExpression) != nil else { throw Failure(description: "bad metric name in \(line)") }
            guard let value = line.split(separator: " ").last, Double(value) != nil else { throw Failure(description: "bad value in \(line)") }
            guard help.contains(name), type.contains(name) else { throw Failure(description: "\(name) has no HELP or TYPE before it") }
        }
        guard text.hasSuffix("\n") else { throw Failure(description: "the text does not end with a newline") }
    }
}

/// Polls `condition` until it returns a value, for at most `timeout`; fails the test if not.
@discardableResult
func eventually<T>(timeout: Duration = .seconds(60), _ condition: () async throws -> T?) async throws -> T {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if let value = try? await condition() { return value }
        try await Task.sleep(for: .milliseconds(50))
    }
    if let value = try await condition() { return value }
    throw TestFailure("the condition did not hold within \(timeout)")
}
