import Foundation
import StewardJSON
import StewardTestSupport
import Testing

/// `--scim-profile minimal`: the SCIM app behaves like the many real providers that implement
/// only the common subset of RFC 7643/7644.
@Suite struct SCIMMinimalProfileTests {
    @Test func declaresGroupsOnUsersButNeverFillsThem() throws {
        let sandbox = try TestSandbox(["--scim", "--scim-profile", "minimal"])
        let client = sandbox.scim()
        let ann = try SCIM.createUser(client, "ann")
        let group = try SCIM.createGroup(client, "Admins", members: [ann])

        let schemas = try client.get("/Schemas").json["Resources"].arrayValue ?? []
        let user = try #require(schemas.first { $0["id"] == .string(SCIM.user) })
        #expect((user["attributes"].arrayValue ?? []).contains { $0["name"] == "groups" })

        #expect(try client.get("/Users/\(ann)").json["groups"].isNull)
        #expect(try client.get("/Users/\(ann)?attributes=groups").json["groups"].isNull)
        #expect(try client.get("/Users?count=10").json["Resources"][0]["groups"].isNull)
        // The group side is the truth.
        #expect(try client.get("/Groups/\(group)").json["members"] == [["value": .string(ann), "type": "User"]])
    }

    @Test func membersAreBareIdsAndCannotBeFilteredOn() throws {
        let sandbox = try TestSandbox(["--scim", "--scim-profile", "minimal"])
        let client = sandbox.scim()
        let ann = try SCIM.createUser(client, "ann")
        _ = try SCIM.createGroup(client, "Admins", members: [ann])

        let listed = try client.get("/Groups").json["Resources"][0]["members"][0]
        #expect(listed["$ref"].isNull)
        #expect(listed["display"].isNull)
        #expect(listed["value"] == .string(ann))

        for filter in ["members.value eq \"\(ann)\"", "members[value eq \"\(ann)\"]", "displayName eq \"Admins\" and members pr"] {
            let refused = try client.get("/Groups?filter=\(HTTPTestClient.encode(filter))")
            #expect(refused.status == 400, "\(filter)")
            #expect(refused.json["scimType"] == "invalidFilter", "\(filter)")
            #expect(refused.json["detail"].stringValue?.contains("members") == true)
        }
        let onUsers = try client.get("/Users?filter=\(HTTPTestClient.encode("groups.value eq \"x\""))")
        #expect(onUsers.json["scimType"] == "invalidFilter")
        // Other filters still work.
        let byName = try client.get("/Groups?filter=\(HTTPTestClient.encode("displayName eq \"Admins\""))")
        #expect(byName.json["totalResults"] == 1)
        #expect(try SCIM.userNames(client, filter: "userName eq \"ann\"") == ["ann"])
    }

    @Test func patchRefusesValueFilterPathsAndTakesTheCommonForms() throws {
        let sandbox = try TestSandbox(["--scim", "--scim-profile", "minimal"])
        let client = sandbox.scim()
        let ann = try SCIM.createUser(client, "ann")
        let bob = try SCIM.createUser(client, "bob")
        let group = try SCIM.createGroup(client, "Team", members: [ann])
        func members() throws -> [String] {
            try client.get("/Groups/\(group)").json["members"].arrayValue?.compactMap { $0["value"].stringValue } ?? []
        }

        let filtered = try client.patch("/Groups/\(group)", [["op": "remove", "path": "members[value eq \"\(ann)\"]"]])
        #expect(filtered.status == 400)
        #expect(filtered.json["scimType"] == "invalidPath")
        #expect(try members() == [ann], "a refused PATCH changes nothing")
        let onUser = try client.patch("/Users/\(ann)", [["op": "replace", "path": "emails[type eq \"work\"].value", "value": "a@x.example"]])
        #expect(onUser.json["scimType"] == "invalidPath")

        var reply = try client.patch("/Groups/\(group)", [["op": "add", "path": "members", "value": [["value": .string(bob)]]]])
        #expect(reply.status == 200)
        #expect(try members() == [ann, bob])
        reply = try client.patch("/Groups/\(group)", [["op": "remove", "path": "members", "value": [["value": .string(ann)]]]])
        #expect(reply.status == 200)
        #expect(try members() == [bob])
        reply = try client.patch("/Groups/\(group)", [["op": "replace", "path": "members", "value": [["value": .string(ann)]]]])
        #expect(reply.status == 200)
        #expect(try members() == [ann])
        reply = try client.patch("/Users/\(ann)", [["op": "replace", "path": "emails", "value": [["value": "a@x.example", "type": "work"]]]])
        #expect(reply.json["emails"] == [["value": "a@x.example", "type": "work"]])
    }

    @Test func hasNoETags() throws {
        let sandbox = try TestSandbox(["--scim", "--scim-profile", "minimal"])
        let client = sandbox.scim()
        #expect(try client.get("/ServiceProviderConfig").json["etag"]["supported"] == false)
        let created = try client.post("/Users", SCIM.user("ann"))
        let id = try #require(created.json["id"].stringValue)
        #expect(created.header("ETag") == nil)
        #expect(created.json["meta"]["version"].isNull)
        #expect(created.json["meta"]["created"].stringValue != nil)

        let read = try client.get("/Users/\(id)")
        #expect(read.header("ETag") == nil)
        #expect(read.json["meta"]["version"].isNull)
        #expect(try client.get("/Users/\(id)", headers: ["If-None-Match": "W/\"1\""]).status == 200)
        #expect(try client.get("/Users/\(id)?attributes=userName", headers: ["If-None-Match": "*"]).status == 200)

        // A stale If-Match is ignored, not answered 412.
        let patched = try client.patch("/Users/\(id)", [["op": "replace", "path": "title", "value": "Boss"]], headers: ["If-Match": "W/\"99\""])
        #expect(patched.status == 200)
        #expect(patched.header("ETag") == nil)
        let put = try client.put("/Users/\(id)", SCIM.user("ann", extra: ["title": "Chief"]), headers: ["If-Match": "W/\"99\""])
        #expect(put.status == 200)
        #expect(try client.delete("/Users/\(id)", headers: ["If-Match": "W/\"99\""]).status == 204)
    }

    @Test func theDefaultProfileIsFullAndBadProfilesAreRefused() throws {
        let sandbox = try TestSandbox(["--scim"])
        let client = sandbox.scim()
        #expect(try client.get("/ServiceProviderConfig").json["etag"]["supported"] == true)
        let full = try TestSandbox(["--scim", "--scim-profile=full"])
        #expect(try full.scim().get("/ServiceProviderConfig").json["etag"]["supported"] == true)

        let help = try TestSandbox.run(["--help"])
        #expect(help.out.contains("--scim-profile"))
        #expect(help.out.contains("minimal"))
        let bad = try TestSandbox.run(["--scim-profile", "tiny"])
        #expect(bad.code == 2)
        #expect(bad.err.contains("--scim-profile must be full or minimal, not 'tiny'"))
    }

    @Test func savedStateLoadsUnderEitherProfile() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("scim-profile-\(UUID().uuidString).json").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let full = try TestSandbox(["--scim", "--state", path])
        let client = full.scim()
        let ann = try SCIM.createUser(client, "ann")
        let group = try SCIM.createGroup(client, "Team", members: [ann])
        full.terminate()

        let minimal = try TestSandbox(["--scim", "--scim-profile", "minimal", "--state", path])
        let again = minimal.scim()
        #expect(try again.get("/Groups/\(group)").json["members"] == [["value": .string(ann), "type": "User"]])
        #expect(try again.get("/Users/\(ann)").json["groups"].isNull)
    }
}
