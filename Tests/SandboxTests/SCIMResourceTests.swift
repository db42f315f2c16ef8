import Foundation
import StewardJSON
import StewardTestSupport
import Testing

@Suite struct SCIMResourceTests {
    @Test func discoveryDescribesWhatTheProviderDoes() throws {
        let sandbox = try TestSandbox(["--scim"])
        let client = sandbox.scim()
        let config = try client.get("/ServiceProviderConfig").json
        #expect(config["patch"]["supported"] == true)
        #expect(config["filter"]["supported"] == true)
        #expect(config["filter"]["maxResults"] == 1000)
        #expect(config["etag"]["supported"] == true)
        #expect(config["bulk"]["supported"] == false)
        #expect(config["authenticationSchemes"][0]["type"] == "oauthbearertoken")

        let types = try client.get("/ResourceTypes").json
        #expect(types["totalResults"] == 2)
        let user = try client.get("/ResourceTypes/User").json
        #expect(user["endpoint"] == "/Users")
        #expect(user["schemaExtensions"][0]["schema"] == .string(SCIM.enterprise))

        let schemas = try client.get("/Schemas").json
        // User, its enterprise and sign-in activity extensions, Group.
        #expect(schemas["totalResults"] == 4)
        #expect(user["schemaExtensions"][1]["schema"] == "urn:steward:params:scim:schemas:extension:sandbox-activity:2.0:User")
        let userSchema = try client.get("/Schemas/\(SCIM.user)").json
        let names = userSchema["attributes"].arrayValue?.compactMap { $0["name"].stringValue } ?? []
        for name in ["userName", "emails", "roles", "entitlements", "groups", "active"] { #expect(names.contains(name)) }
        let roles = userSchema["attributes"].arrayValue?.first { $0["name"] == "roles" }
        #expect(roles?["multiValued"] == true)
        #expect(roles?["subAttributes"].arrayValue?.count == 4)
        let groups = userSchema["attributes"].arrayValue?.first { $0["name"] == "groups" }
        #expect(groups?["mutability"] == "readOnly")
        let enterprise = try client.get("/Schemas/\(SCIM.enterprise)").json
        #expect(enterprise["attributes"].arrayValue?.contains { $0["name"] == "manager" } == true)
        #expect(try client.get("/Schemas/urn:nope").status == 404)
    }

    @Test func createsReadsReplacesAndDeletesUsers() throws {
        let sandbox = try TestSandbox(["--scim"])
        let client = sandbox.scim()
        let created = try client.post("/Users", SCIM.user("bjensen", externalId: "E1", department: "Sales", extra: [
            "password": "hunter2", "roles": [["value": "admin", "primary": true]], "entitlements": [["value": "license-a"]],
        ]))
        #expect(created.status == 201)
        let id = try #require(created.json["id"].stringValue)
        #expect(created.header("Location") == "http://127.0.0.1:\(sandbox.port)/scim/v2/Users/\(id)")
        #expect(created.header("ETag") == "W/\"1\"")
        #expect(created.json["meta"]["version"] == "W/\"1\"")
        #expect(created.json["meta"]["resourceType"] == "User")
        #expect(created.json["schemas"] == [.string(SCIM.user), .string(SCIM.enterprise)])
        #expect(created.json["password"].isNull)
        #expect(!created.text.contains("hunter2"))
        #expect(created.json["roles"][0]["value"] == "admin")

        let fetched = try client.get("/Users/\(id)")
        #expect(fetched.status == 200)
        #expect(fetched.json["userName"] == "bjensen")
        #expect(fetched.json[SCIM.enterprise]["department"] == "Sales")

        var replacement = SCIM.user("bjensen", externalId: "E1")
        if case .object(var body) = replacement {
            body["title"] = "Boss"
            body["active"] = false
            replacement = .object(body)
        }
        let replaced = try client.put("/Users/\(id)", replacement)
        #expect(replaced.status == 200)
        #expect(replaced.json["title"] == "Boss")
        #expect(replaced.json["active"] == false)
        #expect(replaced.json[SCIM.enterprise].isNull)
        #expect(replaced.json["roles"].isNull)
        #expect(replaced.json["meta"]["version"] == "W/\"2\"")
        #expect(replaced.json["meta"]["created"] == created.json["meta"]["created"])

        #expect(try client.delete("/Users/\(id)").status == 204)
        let gone = try client.get("/Users/\(id)")
        #expect(gone.status == 404)
        #expect(gone.json["schemas"] == [.string(SCIM.error)])
        #expect(try client.delete("/Users/\(id)").status == 404)
    }

    @Test func userNamesAreUniqueIgnoringCase() throws {
        let sandbox = try TestSandbox(["--scim"])
        let client = sandbox.scim()
        let first = try SCIM.createUser(client, "alice")
        let duplicate = try client.post("/Users", SCIM.user("ALICE"))
        #expect(duplicate.status == 409)
        #expect(duplicate.json["scimType"] == "uniqueness")
        #expect(duplicate.json["status"] == "409")
        let other = try SCIM.createUser(client, "bob")
        let renamed = try client.patch("/Users/\(other)", [["op": "replace", "path": "userName", "value": "Alice"]])
        #expect(renamed.status == 409)
        #expect(try client.get("/Users/\(first)").json["userName"] == "alice")
        #expect(try client.get("/Users?filter=\(HTTPTestClient.encode("userName eq \"bob\""))").json["totalResults"] == 1)
    }

    @Test func versionsDriveConditionalRequests() throws {
        let sandbox = try TestSandbox(["--scim"])
        let client = sandbox.scim()
        let id = try SCIM.createUser(client, "carol")
        let notModified = try client.get("/Users/\(id)", headers: ["If-None-Match": "W/\"1\""])
        #expect(notModified.status == 304)
        #expect(notModified.header("ETag") == "W/\"1\"")

        let changed = try client.patch("/Users/\(id)", [["op": "replace", "path": "title", "value": "CTO"]], headers: ["If-Match": "W/\"1\""])
        #expect(changed.status == 200)
        #expect(changed.header("ETag") == "W/\"2\"")

        let stale = try client.patch("/Users/\(id)", [["op": "replace", "path": "title", "value": "CEO"]], headers: ["If-Match": "W/\"1\""])
        #expect(stale.status == 412)
        #expect(stale.header("ETag") == "W/\"2\"")
        #expect(try client.get("/Users/\(id)").json["title"] == "CTO")
        #expect(try client.put("/Users/\(id)", SCIM.user("carol"), headers: ["If-Match": "\"7\""]).status == 412)
        #expect(try client.delete("/Users/\(id)", headers: ["If-Match": "W/\"1\""]).status == 412)
        #expect(try client.delete("/Users/\(id)", headers: ["If-Match": "*"]).status == 204)
    }

    @Test func badInputGetsSCIMErrorsNamingTheField() throws {
        let sandbox = try TestSandbox(["--scim"])
        let client = sandbox.scim()
        let noSchemas = try client.post("/Users", ["userName": "x"])
        #expect(noSchemas.status == 400)
        #expect(noSchemas.json["scimType"] == "invalidSyntax")

        let noUserName = try client.post("/Users", ["schemas": [.string(SCIM.user)], "displayName": "x"])
        #expect(noUserName.json["scimType"] == "invalidValue")
        #expect(noUserName.json["detail"].stringValue?.contains("userName") == true)

        let wrongType = try client.post("/Users", SCIM.user("d", extra: ["active": 3]))
        #expect(wrongType.status == 400)
        #expect(wrongType.json["detail"].stringValue?.contains("active") == true)

        let unknown = try client.post("/Users", SCIM.user("e", extra: ["shoeSize": 42]))
        #expect(unknown.status == 400)
        #expect(unknown.json["detail"].stringValue?.contains("shoeSize") == true)

        let brokenJSON = try client.request("POST", "/Users", raw: Array("{\"schemas\": [".utf8))
        #expect(brokenJSON.status == 400)
        #expect(brokenJSON.json["scimType"] == "invalidSyntax")

        let badCount = try client.get("/Users?count=lots")
        #expect(badCount.status == 400)
        #expect(badCount.json["detail"].stringValue?.contains("count") == true)

        #expect(try client.get("/Nope").json["status"] == "404")
        let wrongMethod = try client.request("DELETE", "/Users")
        #expect(wrongMethod.status == 405)
        #expect(wrongMethod.json["schemas"] == [.string(SCIM.error)])
        #expect(try client.post("/Bulk", ["schemas": []]).status == 501)
    }

    @Test func readOnlyAttributesFromClientsAreIgnored() throws {
        let sandbox = try TestSandbox(["--scim"])
        let client = sandbox.scim()
        let reply = try client.post("/Users", SCIM.user("frank", extra: [
            "id": "chosen-by-client", "meta": ["version": "W/\"99\""], "groups": [["value": "g"]],
        ]))
        #expect(reply.status == 201)
        #expect(reply.json["id"] != "chosen-by-client")
        #expect(reply.json["meta"]["version"] == "W/\"1\"")
        #expect(reply.json["groups"].isNull)
    }

    @Test func attributesAndExcludedAttributesShapeResponses() throws {
        let sandbox = try TestSandbox(["--scim"])
        let client = sandbox.scim()
        let id = try SCIM.createUser(client, "gina", department: "Legal")
        let only = try client.get("/Users/\(id)?attributes=userName,emails.value,\(SCIM.enterprise):department").json
        #expect(Set(only.objectValue?.keys.map { $0 } ?? []) == ["id", "schemas", "userName", "emails", SCIM.enterprise])
        #expect(only["emails"] == [["value": "gina@example.com"]])
        #expect(only[SCIM.enterprise] == ["department": "Legal"])

        let without = try client.get("/Users/\(id)?excludedAttributes=emails,name.familyName,id").json
        #expect(without["emails"].isNull)
        #expect(without["name"] == ["givenName": "Test"])
        #expect(without["id"] == .string(id))
        #expect(without["meta"]["version"] == "W/\"1\"")

        let list = try client.get("/Users?attributes=userName").json
        #expect(list["Resources"][0].objectValue?.keys.sorted() == ["id", "schemas", "userName"])
        #expect(try client.get("/Users/\(id)?attributes=nonsense").status == 400)
    }
}
