import StewardJSON

enum SCIM {
    static let user = "urn:ietf:params:scim:schemas:core:2.0:User"
    static let group = "urn:ietf:params:scim:schemas:core:2.0:Group"
    static let enterprise = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
    static let error = "urn:ietf:params:scim:api:messages:2.0:Error"

    /// A user body with a work email, optionally with enterprise attributes.
    static func user(_ userName: String, externalId: String? = nil, active: Bool = true, department: String? = nil,
                     extra: [String: JSONValue] = [:]) -> JSONValue {
        var body: [String: JSONValue] = [
            "schemas": department == nil ? [.string(user)] : [.string(user), .string(enterprise)],
            "userName": .string(userName),
            "name": ["givenName": "Test", "familyName": .string(userName)],
            "displayName": .string("Test \(userName)"),
            "emails": [["value": .string("\(userName)@example.com"), "type": "work", "primary": true]],
            "active": .bool(active),
        ]
        if let externalId { body["externalId"] = .string(externalId) }
        if let department { body[enterprise] = ["department": .string(department), "employeeNumber": "1"] }
        for (key, value) in extra { body[key] = value }
        return .object(body)
    }

    /// Creates a user and returns its id.
    static func createUser(_ client: HTTPTestClient, _ userName: String, externalId: String? = nil, active: Bool = true,
                           department: String? = nil) throws -> String {
        let reply = try client.post("/Users", user(userName, externalId: externalId, active: active, department: department))
        guard reply.status == 201, let id = reply.json["id"].stringValue else {
            throw HTTPTestClient.ClientError(description: "create \(userName): \(reply.status) \(reply.text)")
        }
        return id
    }

    static func createGroup(_ client: HTTPTestClient, _ name: String, members: [String] = []) throws -> String {
        let reply = try client.post("/Groups", [
            "schemas": [.string(group)], "displayName": .string(name),
            "members": .array(members.map { ["value": .string($0)] }),
        ])
        guard reply.status == 201, let id = reply.json["id"].stringValue else {
            throw HTTPTestClient.ClientError(description: "create group \(name): \(reply.status) \(reply.text)")
        }
        return id
    }

    /// Users matching a filter, as userNames in order.
    static func userNames(_ client: HTTPTestClient, filter: String) throws -> [String] {
        let reply = try client.get("/Users?filter=\(HTTPTestClient.encode(filter))&count=1000")
        guard reply.status == 200 else { throw HTTPTestClient.ClientError(description: "filter \(filter): \(reply.status) \(reply.text)") }
        return reply.json["Resources"].arrayValue?.compactMap { $0["userName"].stringValue } ?? []
    }
}

extension JSONValue {
    /// Array element lookup for tests; `.null` when out of range or not an array.
    subscript(index: Int) -> JSONValue {
        guard case .array(let items) = self, items.indices.contains(index) else { return .null }
        return items[index]
    }
}

/// Lets tests write `"\(id)"` where a JSON string is expected.
extension JSONValue: ExpressibleByStringInterpolation {}
