import Foundation
import StewardJSON
import StewardTestSupport
import Testing

@Suite struct SCIMListTests {
    @Test func pagesWithStartIndexAndCount() throws {
        let sandbox = try TestSandbox(["--scim", "--users", "250"])
        let client = sandbox.scim()
        var seen: [String] = []
        var start = 1
        while true {
            let page = try client.get("/Users?startIndex=\(start)&count=100").json
            #expect(page["schemas"] == ["urn:ietf:params:scim:api:messages:2.0:ListResponse"])
            #expect(page["totalResults"] == 250)
            #expect(page["startIndex"] == .int(start))
            let resources = page["Resources"].arrayValue ?? []
            #expect(page["itemsPerPage"] == .int(resources.count))
            if resources.isEmpty { break }
            seen += resources.compactMap { $0["userName"].stringValue }
            start += resources.count
        }
        #expect(seen.count == 250)
        #expect(Set(seen).count == 250)
        #expect(seen.first == "user000001@example.com")

        let defaults = try client.get("/Users").json
        #expect(defaults["itemsPerPage"] == 100)
        let capped = try client.get("/Users?count=5000").json
        #expect(capped["itemsPerPage"] == 250)
        let countOnly = try client.get("/Users?count=0").json
        #expect(countOnly["totalResults"] == 250)
        #expect(countOnly["Resources"] == [])
        let past = try client.get("/Users?startIndex=1000").json
        #expect(past["Resources"] == [])
        let clamped = try client.get("/Users?startIndex=-4&count=1").json
        #expect(clamped["startIndex"] == 1)
        #expect(clamped["Resources"].arrayValue?.count == 1)

        let filtered = try client.get("/Users?filter=\(HTTPTestClient.encode("userName sw \"user0001\""))&startIndex=3&count=4").json
        #expect(filtered["totalResults"] == 100)
        #expect(filtered["Resources"][0]["userName"] == "user000102@example.com")
    }

    @Test func pagingStaysRightAcrossManyDeletes() throws {
        let sandbox = try TestSandbox(["--scim", "--users", "1300"])
        let client = sandbox.scim()
        let ids = try (0..<13).flatMap { page in
            try client.get("/Users?startIndex=\(page * 100 + 1)&count=100").json["Resources"].arrayValue?.compactMap { $0["id"].stringValue } ?? []
        }
        #expect(ids.count == 1300)
        // Delete all but every tenth user: enough holes to make the store squeeze them out.
        for (index, id) in ids.enumerated() where index % 10 != 0 {
            #expect(try client.delete("/Users/\(id)").status == 204)
        }
        let kept = stride(from: 0, to: 1300, by: 10).map { ids[$0] }
        let page = try client.get("/Users?startIndex=11&count=5").json
        #expect(page["totalResults"] == 130)
        #expect(page["Resources"].arrayValue?.compactMap { $0["id"].stringValue } == Array(kept[10..<15]))
        #expect(try client.get("/Users/\(kept[129])").status == 200)
        #expect(try client.get("/Users/\(ids[1])").status == 404)
        #expect(try SCIM.userNames(client, filter: "userName eq \"user001291@example.com\"") == ["user001291@example.com"])
    }

    @Test func sortsByAnyAttribute() throws {
        let sandbox = try TestSandbox(["--scim"])
        let client = sandbox.scim()
        for name in ["delta", "Alpha", "charlie", "bravo"] { _ = try SCIM.createUser(client, name) }
        let ascending = try client.get("/Users?sortBy=userName").json["Resources"].arrayValue?.compactMap { $0["userName"].stringValue }
        #expect(ascending == ["Alpha", "bravo", "charlie", "delta"])
        let descending = try client.get("/Users?sortBy=emails&sortOrder=descending").json["Resources"].arrayValue?.compactMap { $0["userName"].stringValue }
        #expect(descending == ["delta", "charlie", "bravo", "Alpha"])
        #expect(try client.get("/Users?sortBy=shoeSize").status == 400)
        #expect(try client.get("/Users?sortBy=userName&sortOrder=sideways").status == 400)
    }

    @Test func searchesWithAPostedQuery() throws {
        let sandbox = try TestSandbox(["--scim", "--users", "30"])
        let client = sandbox.scim()
        let reply = try client.post("/Users/.search", [
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],
            "filter": "userName ew \"0@example.com\"", "attributes": ["userName"], "startIndex": 2, "count": 2,
        ])
        #expect(reply.status == 200)
        #expect(reply.json["totalResults"] == 3)
        #expect(reply.json["Resources"].arrayValue?.compactMap { $0["userName"].stringValue } == ["user000020@example.com", "user000030@example.com"])
        #expect(reply.json["Resources"][0]["emails"].isNull)
    }

    @Test func findsOneUserAmongOneHundredThousandByIndex() throws {
        let sandbox = try TestSandbox(["--scim", "--users", "100000"])
        let client = sandbox.scim()
        #expect(try SCIM.userNames(client, filter: "userName eq \"USER099999@example.com\"") == ["user099999@example.com"])
        #expect(try SCIM.userNames(client, filter: "externalId eq \"emp-054321\"") == ["user054321@example.com"])
        let last = try client.get("/Users?startIndex=99999&count=10").json
        #expect(last["totalResults"] == 100_000)
        #expect(last["Resources"].arrayValue?.count == 2)
    }
}
