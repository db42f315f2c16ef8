import Foundation
import StewardJSON
import StewardTestSupport
import Testing

@Suite struct SandboxFaultTests {
    /// The statuses of a fixed sequence of reads.
    static func statuses(seed: Int) throws -> [Int] {
        let sandbox = try TestSandbox(["--scim", "--fail-rate", "0.3", "--seed", String(seed)])
        let client = sandbox.scim()
        return try (0..<60).map { _ in try client.get("/Users?count=1").status }
    }

    @Test func injectedFailuresAreDeterministicForASeed() throws {
        let first = try Self.statuses(seed: 11)
        let again = try Self.statuses(seed: 11)
        let other = try Self.statuses(seed: 12)
        #expect(first == again)
        #expect(first != other)
        #expect(first.contains(500) || first.contains(503))
        #expect(first.contains(200))
        #expect(Set(first).isSubset(of: [200, 500, 503]))
        let failures = first.filter { $0 != 200 }.count
        #expect(failures > 5 && failures < 35)
    }

    @Test func aFailedWriteIsNeverHalfApplied() throws {
        let sandbox = try TestSandbox(["--scim", "--fail-rate", "0.5", "--seed", "5"])
        let client = sandbox.scim()
        var created = 0
        for i in 0..<60 {
            let reply = try client.post("/Users", SCIM.user("u\(i)"))
            if reply.status == 201 {
                created += 1
            } else {
                #expect(reply.status == 500 || reply.status == 503)
                #expect(reply.json["schemas"] == [.string(SCIM.error)])
            }
        }
        #expect(created > 0 && created < 60)
        var total: Int?
        while total == nil {
            let reply = try client.get("/Users?count=0")
            if reply.status == 200 { total = reply.json["totalResults"].intValue }
        }
        #expect(total == created)
    }

    @Test func requestsAboveTheRateGet429WithRetryAfter() throws {
        let sandbox = try TestSandbox(["--scim", "--rate-limit", "5/s"])
        let client = sandbox.scim()
        let replies = try (0..<30).map { _ in try client.get("/Users?count=0") }
        let limited = replies.filter { $0.status == 429 }
        #expect(!limited.isEmpty)
        #expect(replies.filter { $0.status == 200 }.count >= 5)
        let retryAfter = Int(limited.first?.header("Retry-After") ?? "")
        #expect(retryAfter != nil && retryAfter! >= 1)
        #expect(limited.first?.json["status"] == "429")
    }

    @Test func latencyDelaysButStillAnswers() throws {
        let sandbox = try TestSandbox(["--scim", "--latency-ms", "20"])
        let client = sandbox.scim()
        let id = try SCIM.createUser(client, "slow")
        #expect(try client.get("/Users/\(id)").json["userName"] == "slow")
    }
}
