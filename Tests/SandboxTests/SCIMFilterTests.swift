import Foundation
import StewardJSON
import StewardTestSupport
import Testing

@Suite struct SCIMFilterTests {
    /// One sandbox with a small, varied directory shared by the filter tests.
    static func directory() throws -> (TestSandbox, HTTPTestClient) {
        let sandbox = try TestSandbox(["--scim"])
        let client = sandbox.scim()
        _ = try SCIM.createUser(client, "ann", externalId: "E-1", department: "Sales")
        _ = try SCIM.createUser(client, "Bob", externalId: "e-1", active: false)
        _ = try SCIM.createUser(client, "carl", externalId: "E-3", department: "Engineering")
        let dana = try client.post("/Users", SCIM.user("dana", extra: [
            "emails": [["value": "dana@home.example", "type": "home"], ["value": "dana@work.example", "type": "work", "primary": true]],
            "title": "Engineer",
        ]))
        #expect(dana.status == 201)
        return (sandbox, client)
    }

    @Test func comparesUserNameWithoutCaseAndExternalIdWithCase() throws {
        let (sandbox, client) = try Self.directory()
        defer { sandbox.stop() }
        #expect(try SCIM.userNames(client, filter: "userName eq \"BOB\"") == ["Bob"])
        #expect(try SCIM.userNames(client, filter: "USERNAME Eq \"ann\"") == ["ann"])
        #expect(try SCIM.userNames(client, filter: "externalId eq \"E-1\"") == ["ann"])
        #expect(try SCIM.userNames(client, filter: "externalId eq \"e-1\"") == ["Bob"])
        #expect(try SCIM.userNames(client, filter: "userName eq \"nobody\"") == [])
        #expect(try SCIM.userNames(client, filter: "urn:ietf:params:scim:schemas:core:2.0:User:userName eq \"carl\"") == ["carl"])
    }

    @Test func supportsEveryOperator() throws {
        let (sandbox, client) = try Self.directory()
        defer { sandbox.stop() }
        #expect(try SCIM.userNames(client, filter: "userName ne \"ann\"") == ["Bob", "carl", "dana"])
        #expect(try SCIM.userNames(client, filter: "userName co \"A\"") == ["ann", "carl", "dana"])
        #expect(try SCIM.userNames(client, filter: "userName sw \"c\"") == ["carl"])
        #expect(try SCIM.userNames(client, filter: "userName ew \"N\"") == ["ann"])
        #expect(try SCIM.userNames(client, filter: "userName gt \"bob\"") == ["carl", "dana"])
        #expect(try SCIM.userNames(client, filter: "userName ge \"bob\"") == ["Bob", "carl", "dana"])
        #expect(try SCIM.userNames(client, filter: "userName lt \"bob\"") == ["ann"])
        #expect(try SCIM.userNames(client, filter: "userName le \"bob\"") == ["ann", "Bob"])
        #expect(try SCIM.userNames(client, filter: "title pr") == ["dana"])
        #expect(try SCIM.userNames(client, filter: "active eq false") == ["Bob"])
        #expect(try SCIM.userNames(client, filter: "displayName sw \"Test c\"") == ["carl"])
        #expect(try SCIM.userNames(client, filter: "title eq null") == ["ann", "Bob", "carl"])
    }

    @Test func combinesWithAndOrNotAndGrouping() throws {
        let (sandbox, client) = try Self.directory()
        defer { sandbox.stop() }
        #expect(try SCIM.userNames(client, filter: "userName eq \"ann\" or userName eq \"carl\"") == ["ann", "carl"])
        #expect(try SCIM.userNames(client, filter: "active eq true and not (userName eq \"ann\")") == ["carl", "dana"])
        // `and` binds tighter than `or`.
        #expect(try SCIM.userNames(client, filter: "userName eq \"Bob\" or userName sw \"c\" and active eq false") == ["Bob"])
        #expect(try SCIM.userNames(client, filter: "(userName eq \"Bob\" or userName sw \"c\") and active eq true") == ["carl"])
        #expect(try SCIM.userNames(client, filter: "externalId eq \"E-3\" and userName eq \"carl\"") == ["carl"])
    }

    @Test func filtersOnMultiValuedAndExtensionAttributes() throws {
        let (sandbox, client) = try Self.directory()
        defer { sandbox.stop() }
        #expect(try SCIM.userNames(client, filter: "emails.value eq \"dana@home.example\"") == ["dana"])
        #expect(try SCIM.userNames(client, filter: "emails co \"work.example\"") == ["dana"])
        #expect(try SCIM.userNames(client, filter: "emails[type eq \"work\" and value ew \"work.example\"]") == ["dana"])
        #expect(try SCIM.userNames(client, filter: "emails[type eq \"work\"].value eq \"dana@work.example\"") == ["dana"])
        #expect(try SCIM.userNames(client, filter: "emails[type eq \"home\"].value eq \"dana@work.example\"") == [])
        #expect(try SCIM.userNames(client, filter: "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department eq \"sales\"") == ["ann"])
        #expect(try SCIM.userNames(client, filter: "department pr") == ["ann", "carl"])
    }

    @Test func comparesDatesAsDates() throws {
        let (sandbox, client) = try Self.directory()
        defer { sandbox.stop() }
        let all = try SCIM.userNames(client, filter: "meta.lastModified gt \"2000-01-01T00:00:00Z\"")
        #expect(all.count == 4)
        #expect(try SCIM.userNames(client, filter: "meta.created lt \"2000-01-01T01:00:00+01:00\"") == [])
        let carl = try client.get("/Users?filter=\(HTTPTestClient.encode("userName eq \"carl\""))").json["Resources"][0]
        let stamp = try #require(carl["meta"]["lastModified"].stringValue)
        #expect(try SCIM.userNames(client, filter: "meta.lastModified ge \"\(stamp)\" and userName eq \"carl\"") == ["carl"])
    }

    @Test func rejectsBadFiltersWithInvalidFilter() throws {
        let sandbox = try TestSandbox(["--scim"])
        let client = sandbox.scim()
        for filter in ["userName", "userName eq", "userName zz \"a\"", "(userName eq \"a\"", "shoeSize eq 3",
                       "active co \"t\"", "active eq \"yes\"", "userName eq \"unterminated", "meta.created gt \"yesterday\"",
                       "emails[type eq \"work\"", "not userName eq \"a\"", String(repeating: "(", count: 100) + "userName pr"] {
            let reply = try client.get("/Users?filter=\(HTTPTestClient.encode(filter))")
            #expect(reply.status == 400, "\(filter)")
            #expect(reply.json["scimType"] == "invalidFilter", "\(filter)")
        }
    }

    @Test func filtersGroupsByDisplayNameAndMember() throws {
        let sandbox = try TestSandbox(["--scim"])
        let client = sandbox.scim()
        let ann = try SCIM.createUser(client, "ann")
        _ = try SCIM.createGroup(client, "Admins", members: [ann])
        _ = try SCIM.createGroup(client, "Readers")
        let admins = try client.get("/Groups?filter=\(HTTPTestClient.encode("displayName eq \"admins\""))").json
        #expect(admins["totalResults"] == 1)
        let byMember = try client.get("/Groups?filter=\(HTTPTestClient.encode("members[value eq \"\(ann)\"]"))").json
        #expect(byMember["Resources"][0]["displayName"] == "Admins")
        #expect(try SCIM.userNames(client, filter: "groups.display eq \"Admins\"") == ["ann"])
    }
}
