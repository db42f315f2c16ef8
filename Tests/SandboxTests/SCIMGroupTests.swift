import Foundation
import StewardJSON
import StewardTestSupport
import Testing

@Suite struct SCIMGroupTests {
    @Test func groupsListMembersAndUsersShowTheirGroups() throws {
        let sandbox = try TestSandbox(["--scim"])
        let client = sandbox.scim()
        let ann = try SCIM.createUser(client, "ann")
        let bob = try SCIM.createUser(client, "bob")
        let group = try client.post("/Groups", [
            "schemas": [.string(SCIM.group)], "displayName": "Admins",
            "members": [["value": .string(ann), "display": "ignored"], ["value": .string(ann)]],
        ])
        #expect(group.status == 201)
        let groupID = try #require(group.json["id"].stringValue)
        let members = group.json["members"].arrayValue ?? []
        #expect(members.count == 1)
        #expect(members.first?["display"] == "Test ann")
        #expect(members.first?["type"] == "User")
        #expect(members.first?["$ref"] == .string("http://127.0.0.1:\(sandbox.port)/scim/v2/Users/\(ann)"))

        let annGroups = try client.get("/Users/\(ann)").json["groups"]
        #expect(annGroups == [[
            "value": .string(groupID), "display": "Admins", "type": "direct",
            "$ref": .string("http://127.0.0.1:\(sandbox.port)/scim/v2/Groups/\(groupID)"),
        ]])
        #expect(try client.get("/Users/\(bob)").json["groups"].isNull)
    }

    @Test func membersAreAddedAndRemovedByPatch() throws {
        let sandbox = try TestSandbox(["--scim"])
        let client = sandbox.scim()
        let ann = try SCIM.createUser(client, "ann")
        let bob = try SCIM.createUser(client, "bob")
        let cat = try SCIM.createUser(client, "cat")
        let group = try SCIM.createGroup(client, "Team", members: [ann])

        var reply = try client.patch("/Groups/\(group)", [["op": "add", "path": "members", "value": [["value": .string(bob)], ["value": .string(cat)], ["value": .string(ann)]]]])
        #expect(reply.status == 200)
        #expect(reply.json["members"].arrayValue?.compactMap { $0["value"].stringValue } == [ann, bob, cat])
        #expect(reply.json["meta"]["version"] == "W/\"2\"")

        reply = try client.patch("/Groups/\(group)", [["op": "remove", "path": "members[value eq \"\(bob)\"]"]])
        #expect(reply.json["members"].arrayValue?.compactMap { $0["value"].stringValue } == [ann, cat])
        #expect(try client.get("/Users/\(bob)").json["groups"].isNull)

        // The form some clients use: remove with the members listed in the value.
        reply = try client.patch("/Groups/\(group)", [["op": "remove", "path": "members", "value": [["value": .string(cat)]]]])
        #expect(reply.json["members"].arrayValue?.compactMap { $0["value"].stringValue } == [ann])

        // Removing someone who is not a member changes nothing.
        reply = try client.patch("/Groups/\(group)", [["op": "remove", "path": "members[value eq \"\(bob)\"]"]])
        #expect(reply.status == 200)
        #expect(reply.json["meta"]["version"] == "W/\"4\"")

        reply = try client.patch("/Groups/\(group)", [["op": "replace", "path": "displayName", "value": "Crew"]])
        #expect(try client.get("/Users/\(ann)").json["groups"][0]["display"] == "Crew")

        let unknown = try client.patch("/Groups/\(group)", [["op": "add", "path": "members", "value": [["value": "no-such-id"]]]])
        #expect(unknown.status == 400)
        #expect(unknown.json["detail"].stringValue?.contains("no-such-id") == true)

        reply = try client.patch("/Groups/\(group)", [["op": "remove", "path": "members"]])
        #expect(reply.json["members"].isNull)
        #expect(try client.get("/Users/\(ann)").json["groups"].isNull)
    }

    @Test func deletingAUserOrGroupRemovesItsMemberships() throws {
        let sandbox = try TestSandbox(["--scim"])
        let client = sandbox.scim()
        let ann = try SCIM.createUser(client, "ann")
        let inner = try SCIM.createGroup(client, "Inner", members: [ann])
        let outer = try SCIM.createGroup(client, "Outer", members: [ann, inner])
        #expect(try client.get("/Groups/\(outer)").json["members"][1]["type"] == "Group")
        #expect(try client.delete("/Users/\(ann)").status == 204)
        let afterUser = try client.get("/Groups/\(outer)").json
        #expect(afterUser["members"].arrayValue?.compactMap { $0["value"].stringValue } == [inner])
        #expect(afterUser["meta"]["version"] == "W/\"2\"")
        #expect(try client.get("/Groups/\(inner)").json["members"].isNull)
        #expect(try client.delete("/Groups/\(inner)").status == 204)
        #expect(try client.get("/Groups/\(outer)").json["members"].isNull)
    }

    @Test func groupsNeedADisplayNameAndCannotContainThemselves() throws {
        let sandbox = try TestSandbox(["--scim"])
        let client = sandbox.scim()
        let missing = try client.post("/Groups", ["schemas": [.string(SCIM.group)]])
        #expect(missing.status == 400)
        #expect(missing.json["detail"].stringValue?.contains("displayName") == true)
        let group = try SCIM.createGroup(client, "Loop")
        let selfMember = try client.patch("/Groups/\(group)", [["op": "add", "path": "members", "value": [["value": .string(group)]]]])
        #expect(selfMember.status == 400)
    }
}
