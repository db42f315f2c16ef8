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

    static func folder() throws -> ApplyTruthTests.StatefulFolder {
        let folder = try ApplyTruthTests.StatefulFolder(mode: "honest")
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
        #expect(metrics.text.contains("steward_webhook_requests_total{result=\"refused\"} 4"))

        // One service per folder.
        let second = try folder.steward(["serve", "--listen", "127.0.0.1:0"])
        #expect(second.code == 1)
        #expect(second.err.contains("another steward serve (pid \(service.pid))"), "\(second.err)")

        // SIGTERM: exit 0, and the journal verifies.
        #expect(service.terminate() == 0)
        #expect(try folder.journalIntact())
        #expect(try folder.steward(["audit", "verify"]).code == 0)
    }

    @Test func theWebhookSignatureRules() throws {
        let verifier = WebhookVerifier(secret: Array("k".utf8))
        let body = Array("{}".utf8)
        let now = Date()
        let t = Int(now.timeIntervalSince1970)
        let good = WebhookVerifier.signature(secret: Array("k".utf8), timestamp: t, body: body)
        #expect(throws: WebhookVerifier.Refusal.missingHeaders) { try verifier.verify(timestamp: nil, signature: good, body: body, now: now) }
        #expect(throws: WebhookVerifier.Refusal.badSignature) { try verifier.verify(timestamp: String(t), signature: good, body: Array("{ }".utf8), now: now) }
        #expect(throws: WebhookVerifier.Refusal.badSignature) { try verifier.verify(timestamp: String(t + 1), signature: good, body: body, now: now) }
        #expect(throws: WebhookVerifier.Refusal.stale(seconds: 301)) {
            try verifier.verify(timestamp: String(t), signature: good, body: body, now: now.addingTimeInterval(301))
        }
        try verifier.verify(timestamp: String(t), signature: good, body: body, now: now.addingTimeInterval(299))
        #expect(throws: WebhookVerifier.Refusal.replayed) { try verifier.verify(timestamp: String(t), signature: good, body: body, now: now) }
        #expect(throws: (any Error).self) { try verifier.verify(timestamp: "yesterday", signature: good, body: body, now: now) }
        #expect(throws: (any Error).self) { try verifier.verify(timestamp: String(t), signature: "sha256=abc", body: body, now: now) }
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
