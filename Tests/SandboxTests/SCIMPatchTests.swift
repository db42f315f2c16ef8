import Foundation
import StewardJSON
import StewardTestSupport
import Testing

@Suite struct SCIMPatchTests {
    @Test func addReplaceAndRemoveSimpleAndComplexAttributes() throws {
        let sandbox = try TestSandbox(["--scim"])
        let client = sandbox.scim()
        let id = try SCIM.createUser(client, "hank")
        let reply = try client.patch("/Users/\(id)", [
            ["op": "add", "path": "nickName", "value": "H"],
            ["op": "replace", "path": "name.givenName", "value": "Henry"],
            ["op": "add", "path": "name", "value": ["middleName": "J"]],
            ["op": "remove", "path": "displayName"],
            ["op": "replace", "path": "active", "value": false],
            ["op": "add", "path": "\(SCIM.enterprise):department", "value": "Ops"],
            ["op": "add", "path": "\(SCIM.enterprise):manager", "value": ["value": .string(id)]],
        ])
        #expect(reply.status == 200)
        let user = reply.json
        #expect(user["nickName"] == "H")
        #expect(user["name"]["givenName"] == "Henry")
        #expect(user["name"]["middleName"] == "J")
        #expect(user["name"]["familyName"] == "hank")
        #expect(user["displayName"].isNull)
        #expect(user["active"] == false)
        #expect(user[SCIM.enterprise]["department"] == "Ops")
        #expect(user[SCIM.enterprise]["manager"]["$ref"] == .string("http://127.0.0.1:\(sandbox.port)/scim/v2/Users/\(id)"))
        #expect(user["schemas"] == [.string(SCIM.user), .string(SCIM.enterprise)])
        #expect(user["meta"]["version"] == "W/\"2\"")

        let removed = try client.patch("/Users/\(id)", [["op": "remove", "path": "\(SCIM.enterprise):department"],
                                                        ["op": "remove", "path": "\(SCIM.enterprise):manager"]])
        #expect(removed.json[SCIM.enterprise].isNull)
        #expect(removed.json["schemas"] == [.string(SCIM.user)])
    }

    @Test func valueFiltersSelectElementsOfMultiValuedAttributes() throws {
        let sandbox = try TestSandbox(["--scim"])
        let client = sandbox.scim()
        let id = try SCIM.createUser(client, "ivy")
        var reply = try client.patch("/Users/\(id)", [
            ["op": "replace", "path": "emails[type eq \"work\"].value", "value": "ivy@new.example"],
            ["op": "add", "path": "emails", "value": [["value": "ivy@home.example", "type": "home", "primary": true]]],
        ])
        #expect(reply.status == 200)
        var emails = reply.json["emails"].arrayValue ?? []
        #expect(emails.count == 2)
        #expect(emails.first { $0["type"] == "work" }?["value"] == "ivy@new.example")
        // A new primary value clears the old one.
        #expect(emails.first { $0["type"] == "work" }?["primary"] == false)
        #expect(emails.first { $0["type"] == "home" }?["primary"] == true)

        reply = try client.patch("/Users/\(id)", [["op": "remove", "path": "emails[type eq \"home\"]"]])
        emails = reply.json["emails"].arrayValue ?? []
        #expect(emails.map { $0["type"] } == ["work"])

        // Adding through a filter that matches nothing creates the element it describes.
        reply = try client.patch("/Users/\(id)", [["op": "add", "path": "phoneNumbers[type eq \"mobile\"].value", "value": "+1 555 0100"]])
        #expect(reply.json["phoneNumbers"] == [["type": "mobile", "value": "+1 555 0100"]])

        // Replacing through a filter that matches no existing element is an error.
        let miss = try client.patch("/Users/\(id)", [["op": "replace", "path": "emails[type eq \"other\"].value", "value": "x@y"]])
        #expect(miss.status == 400)
        #expect(miss.json["scimType"] == "noTarget")
    }

    @Test func operationsWithoutAPathNameTheirTargetsInTheValue() throws {
        let sandbox = try TestSandbox(["--scim"])
        let client = sandbox.scim()
        let id = try SCIM.createUser(client, "jack")
        // The shape Entra ID sends, with string booleans and dotted keys.
        let reply = try client.patch("/Users/\(id)", [
            ["op": "Replace", "value": ["active": "False", "name.familyName": "Jackson", "title": "Lead"]],
            ["op": "Add", "value": [SCIM.enterprise: ["employeeNumber": "77"], "roles": [["value": "auditor"]]]],
            ["op": "add", "value": ["\(SCIM.enterprise):costCenter": "CC-1"]],
        ])
        #expect(reply.status == 200)
        #expect(reply.json["active"] == false)
        #expect(reply.json["name"]["familyName"] == "Jackson")
        #expect(reply.json["title"] == "Lead")
        #expect(reply.json[SCIM.enterprise] == ["employeeNumber": "77", "costCenter": "CC-1"])
        #expect(reply.json["roles"] == [["value": "auditor"]])
    }

    @Test func aFailingOperationLeavesTheResourceUntouched() throws {
        let sandbox = try TestSandbox(["--scim"])
        let client = sandbox.scim()
        let id = try SCIM.createUser(client, "kate")
        let reply = try client.patch("/Users/\(id)", [
            ["op": "replace", "path": "title", "value": "Changed"],
            ["op": "replace", "path": "groups", "value": [["value": "x"]]],
        ])
        #expect(reply.status == 400)
        #expect(reply.json["scimType"] == "mutability")
        let user = try client.get("/Users/\(id)").json
        #expect(user["title"].isNull)
        #expect(user["meta"]["version"] == "W/\"1\"")
    }

    @Test func rejectsMalformedPatches() throws {
        let sandbox = try TestSandbox(["--scim"])
        let client = sandbox.scim()
        let id = try SCIM.createUser(client, "leo")
        let cases: [(JSONValue, String)] = [
            (["Operations": [["op": "add", "path": "title", "value": "x"]]], "invalidSyntax"),
            (["schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": []], "invalidSyntax"),
            (["schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [["op": "move", "path": "title"]]], "invalidSyntax"),
            (["schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [["op": "remove"]]], "noTarget"),
            (["schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [["op": "add", "path": "shoeSize", "value": 1]]], "invalidPath"),
            (["schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [["op": "add", "path": "emails[type eq]", "value": 1]]], "invalidPath"),
            (["schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [["op": "remove", "path": "userName"]]], "mutability"),
            (["schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [["op": "replace", "path": "id", "value": "x"]]], "mutability"),
            (["schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [["op": "replace", "path": "active", "value": "maybe"]]], "invalidValue"),
        ]
        for (body, scimType) in cases {
            let reply = try client.request("PATCH", "/Users/\(id)", body: body)
            #expect(reply.status == 400, "\(body)")
            #expect(reply.json["scimType"] == .string(scimType), "\(body): \(reply.text)")
        }
        #expect(try client.get("/Users/\(id)").json["meta"]["version"] == "W/\"1\"")
        #expect(try client.patch("/Users/nope", [["op": "add", "path": "title", "value": "x"]]).status == 404)
    }

    @Test func aRemoveByValueTakesTheElementsWithTheGivenSubAttributes() throws {
        let sandbox = try TestSandbox(["--scim"])
        let client = sandbox.scim()
        let id = try SCIM.createUser(client, "nia")
        _ = try client.patch("/Users/\(id)", [["op": "add", "path": "roles", "value": [
            ["value": "Admin", "primary": true], ["value": "Viewer", "display": "Read only"],
        ]]])
        // The form providers without value-filter paths take: the listed value goes, whatever
        // else the stored element carries; another value stays.
        let reply = try client.patch("/Users/\(id)", [["op": "remove", "path": "roles", "value": [["value": "Admin"]]]])
        #expect(reply.status == 200)
        #expect(reply.json["roles"] == [["value": "Viewer", "display": "Read only"]])
        let other = try client.patch("/Users/\(id)", [["op": "remove", "path": "roles", "value": [["value": "Viewer", "display": "Other"]]]])
        #expect(other.json["roles"] == [["value": "Viewer", "display": "Read only"]], "every given sub-attribute must match")
    }

    @Test func aPatchThatChangesNothingKeepsTheVersion() throws {
        let sandbox = try TestSandbox(["--scim"])
        let client = sandbox.scim()
        let id = try SCIM.createUser(client, "mia")
        let reply = try client.patch("/Users/\(id)", [
            ["op": "add", "path": "emails", "value": [["value": "mia@example.com", "type": "work", "primary": true]]],
            ["op": "replace", "path": "active", "value": true],
        ])
        #expect(reply.status == 200)
        #expect(reply.json["meta"]["version"] == "W/\"1\"")
        #expect(reply.json["emails"].arrayValue?.count == 1)
    }
}
