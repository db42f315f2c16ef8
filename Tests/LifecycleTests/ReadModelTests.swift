import Foundation
import StewardProtocol
import StewardTestSupport
import Testing

/// The read model's other answers on the shared demo folder: an app's accounts with whose each
/// is, orphans, and status agreeing with them.
@Suite("Read model on a demo journal")
struct ReadModelTests {
    @Test func accountsSayWhoseEachIsAndAgreeWithStatus() async throws {
        let demo = try await SharedDemo.run.value
        try #require(demo.code == 0)
        let folder = try StewardFolder(existing: demo.dir)
        let status = try JSONParser.parse(try folder.steward(["status", "--json"]).out)
        for app in status["apps"].arrayValue ?? [] {
            let id = try #require(app["id"].stringValue)
            let listing = try JSONParser.parse(try folder.steward(["accounts", id, "--json"]).out)["accounts"].arrayValue ?? []
            #expect(listing.count == app["accounts"].intValue, "\(id)")
            #expect(listing.filter { $0["person"].stringValue != nil }.count == app["linked"].intValue, "\(id)")
            let orphans = try JSONParser.parse(try folder.steward(["accounts", id, "--orphans", "--json"]).out)["accounts"].arrayValue ?? []
            #expect(orphans.count == app["orphans"].intValue, "\(id)")
            #expect(orphans.allSatisfy { $0["orphan"] == true && $0["person"] == .null })
        }
        // The account IT never provisioned was linked to the future leaver by a rule.
        let crm = try JSONParser.parse(try folder.steward(["accounts", "crm", "--json"]).out)["accounts"].arrayValue ?? []
        let ben = try #require(crm.first { $0["account"]["userName"] == "ben.lopez.1003@example.com" })
        #expect(ben["person"] == "E1003" && ben["linkedBy"].stringValue?.hasPrefix("rule ") == true)
        #expect(ben["account"]["status"] == "disabled")
        let unknown = try folder.steward(["accounts", "nope"])
        #expect(unknown.code == 2 && unknown.err.contains("no app \"nope\""))
    }
}
