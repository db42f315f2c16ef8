import Foundation
import StewardHost
import StewardHTTP
import StewardProtocol
import StewardTestSupport
import Testing

/// "Already so" comes from the app: an answer that skips a write rests on a read that carries
/// the attribute and shows the target state, or on the provider's own answer to the write.
/// Against the sandbox's minimal profile and canned providers that behave like real ones.
@Suite("SCIM connector: outcomes come from the app", .serialized)
struct AuthoritativeOutcomeTests {
    static let groupURN = "urn:ietf:params:scim:schemas:core:2.0:Group"

    @Test func revokesAMemberWhomTheEmptyUserGroupsDoesNotShow() async throws {
        let sandbox = try ScimSandbox(["--scim-profile", "minimal"])
        defer { sandbox.stop() }
        let direct = sandbox.direct
        let c = try sandbox.connector()
        let user = try #require(try await c.create(AccountSpec(userName: "mo@example.com"), key: "c-mo").account)
        let (status, group) = try await direct.request("POST", "/Groups", [
            "schemas": [.string(Self.groupURN)], "displayName": "finance", "members": [["value": .string(user.id)]],
        ])
        #expect(status == 201)
        let groupId = try #require(group["id"].stringValue)
        // The provider declares User.groups in /Schemas and leaves it empty.
        #expect(try await direct.get("/Users/\(user.id)")["groups"].isNull)

        let grant = Grant(accountId: user.id, type: "group", entitlementId: groupId)
        #expect(try await c.grants(ListParams(accountId: user.id)) == [grant])
        #expect(try await c.grants(ListParams(type: "group", accountId: user.id)) == [grant])

        let change = GrantChangeParams(idempotencyKey: "r-mo", accountId: user.id, type: "group", entitlementId: groupId).json
        #expect(try await c.mutate(Method.grantsRemove, change).alreadyApplied == false)
        #expect(try await direct.memberIds(ofGroup: groupId) == [])
        #expect(try await c.grants(ListParams(accountId: user.id)) == [])
        await c.stop()
    }

    @Test func aRefusedValueFilterPathIsSentAsARemoveByValueAndRemembered() async throws {
        let group = CannedGroup(members: ["u1", "u2"], acceptsValueFilterPaths: false)
        let provider = try CannedProvider(config: ["filter": ["supported": false]]) { group.answer($0) }
        defer { provider.stop() }
        let c = try provider.connector()
        #expect(try await c.mutate(Method.grantsRemove, Self.change("u1")).alreadyApplied == false)
        #expect(group.members == ["u2"])
        #expect(try await c.mutate(Method.grantsRemove, Self.change("u2")).alreadyApplied == false)
        #expect(group.members == [])

        let patches = provider.server.requests.filter { $0.method == .patch }.map { $0.json["Operations"] }
        #expect(patches == [
            [["op": "remove", "path": "members[value eq \"u1\"]"]],
            [["op": "remove", "path": "members", "value": [["value": "u1"]]]],
            // Remembered: the second revoke goes straight to the form the provider takes.
            [["op": "remove", "path": "members", "value": [["value": "u2"]]]],
        ])
        await c.stop()
    }

    @Test func aGroupReadWithoutMembersProvesNothingButNoTargetDoes() async throws {
        // A provider that never returns members on a group and cannot filter on them.
        let group = CannedGroup(members: ["u1"], returnsMembers: false)
        let provider = try CannedProvider(config: ["filter": ["supported": false]]) { group.answer($0) }
        defer { provider.stop() }
        let c = try provider.connector()
        #expect(try await c.mutate(Method.grantsRemove, Self.change("u1")).alreadyApplied == false)
        #expect(group.members == [])
        // Again: the remove is sent, and the provider's noTarget says the member is not there.
        #expect(try await c.mutate(Method.grantsRemove, Self.change("u1")).alreadyApplied == true)
        #expect(provider.server.requests.filter { $0.method == .patch }.count == 2)
        await c.stop()
    }

    @Test func aFilterOnTheGroupsMembersShowsAnEmptyGroupLacksTheUser() async throws {
        let group = CannedGroup(members: [])
        let provider = try CannedProvider { request in
            if request.method == .get, request.path == "/scim/v2/Groups" {
                guard request.queryItems["filter"] == "id eq \"g1\" and members.value eq \"u1\"" else {
                    return .scim(400, ["status": "400", "scimType": "invalidFilter", "detail": "unexpected filter"])
                }
                return .scim(200, CannedProvider.list([]))
            }
            return group.answer(request)
        }
        defer { provider.stop() }
        let c = try provider.connector()
        #expect(try await c.mutate(Method.grantsRemove, Self.change("u1")).alreadyApplied == true)
        #expect(!provider.server.requests.contains { $0.method == .patch })
        #expect(provider.server.requests.filter { $0.path == "/scim/v2/Groups" }.count == 1)
        await c.stop()
    }

    @Test func aRemoveTheProviderAcceptsButIgnoresIsNotApplied() async throws {
        let provider = try CannedProvider { request in
            guard request.path == "/scim/v2/Groups/g1" else { return nil }
            // Listed before and after: the provider says yes and changes nothing.
            return .scim(200, ["schemas": [.string(Self.groupURN)], "id": "g1", "displayName": "g", "members": [["value": "u1"]]])
        }
        defer { provider.stop() }
        let c = try provider.connector()
        let error = await #expect(throws: ConnectorFailure.self) { try await c.mutate(Method.grantsRemove, Self.change("u1")) }
        #expect(error?.connectorError?.outcome == .notApplied)
        #expect(error?.connectorError?.message.contains("still lists") == true)
        await c.stop()
    }

    @Test func oneAccountsGroupsComeFromTheGroupsNotFromUserGroups() async throws {
        // The User schema declares groups; the user's groups is empty, as providers leave it.
        let schemas: [JSONValue] = [["id": "urn:ietf:params:scim:schemas:core:2.0:User", "name": "User",
                                     "attributes": .array(["userName", "name", "emails", "active", "groups"].map { ["name": .string($0)] })]]
        let provider = try CannedProvider(schemas: schemas) { request in
            switch (request.method, request.path) {
            case (.get, "/scim/v2/Users/u1"): return .scim(200, user("u1"))
            case (.get, "/scim/v2/Groups"):
                guard request.queryItems["filter"] == "members.value eq \"u1\"" else { return .scim(400, ["scimType": "invalidFilter"]) }
                return .scim(200, CannedProvider.list([["id": "g1", "displayName": "one"], ["id": "g2", "displayName": "two"]]))
            default: return nil
            }
        }
        defer { provider.stop() }
        let c = try provider.connector()
        let grants = try await c.grants(ListParams(accountId: "u1"))
        #expect(grants == [Grant(accountId: "u1", type: "group", entitlementId: "g1"), Grant(accountId: "u1", type: "group", entitlementId: "g2")])
        #expect(!provider.server.requests.contains { $0.path.hasPrefix("/scim/v2/Users") })
        await c.stop()
    }

    @Test func aProviderThatCannotFilterOnMembersIsWalkedAndNotAskedAgain() async throws {
        let provider = try CannedProvider { request in
            guard request.method == .get, request.path == "/scim/v2/Groups" else { return nil }
            if request.queryItems["filter"] != nil {
                return .scim(400, ["status": "400", "scimType": "invalidFilter", "detail": "members is not filterable"])
            }
            return .scim(200, CannedProvider.list([
                ["id": "g1", "displayName": "one", "members": [["value": "u1"], ["value": "u2"]]],
                ["id": "g2", "displayName": "two", "members": [["value": "u2"]]],
            ]))
        }
        defer { provider.stop() }
        let c = try provider.connector()
        #expect(try await c.grants(ListParams(accountId: "u1")) == [Grant(accountId: "u1", type: "group", entitlementId: "g1")])
        #expect(try await c.grants(ListParams(accountId: "u2")).map(\.entitlementId) == ["g1", "g2"])
        #expect(provider.server.requests.filter { $0.queryItems["filter"] != nil }.count == 1)
        await c.stop()
    }

    @Test func enableAndDisableWriteWhenTheReadHasNoActive() async throws {
        var bare = user("u1").objectValue ?? [:]
        bare["active"] = nil
        let answer = bare
        let provider = try CannedProvider { request in
            guard request.path == "/scim/v2/Users/u1" else { return nil }
            return .scim(200, .object(answer))
        }
        defer { provider.stop() }
        let c = try provider.connector()
        for method in [Method.accountsEnable, Method.accountsDisable] {
            let result = try await c.mutate(method, AccountRefParams(idempotencyKey: method, id: "u1").json)
            #expect(result.alreadyApplied == false, "\(method)")
        }
        let sent = provider.server.requests.filter { $0.method == .patch }.map { $0.json["Operations"].arrayValue?.first?["value"] }
        #expect(sent == [true, false])
        await c.stop()
    }

    @Test func aRoleRevokeOnAReadWithoutRolesIsSentAndNoTargetIsAlreadySo() async throws {
        let schemas: [JSONValue] = [["id": "urn:ietf:params:scim:schemas:core:2.0:User", "name": "User",
                                     "attributes": .array(["userName", "name", "emails", "active", "roles"].map { ["name": .string($0)] })]]
        let provider = try CannedProvider(schemas: schemas) { request in
            guard request.path == "/scim/v2/Users/u1" else { return nil }
            if request.method == .patch {
                return .scim(400, ["status": "400", "scimType": "noTarget", "detail": "no value of roles matches"])
            }
            return .scim(200, user("u1"))
        }
        defer { provider.stop() }
        let c = try provider.connector()
        let result = try await c.mutate(Method.grantsRemove, GrantChangeParams(idempotencyKey: "r", accountId: "u1", type: "role",
                                                                               entitlementId: "Admin").json)
        #expect(result.alreadyApplied)
        let patch = try #require(provider.server.requests.first { $0.method == .patch })
        #expect(patch.json["Operations"] == [["op": "remove", "path": "roles[value eq \"Admin\"]"]])
        await c.stop()
    }

    static func change(_ userId: String, group: String = "g1") -> JSONValue {
        GrantChangeParams(idempotencyKey: "k-\(userId)", accountId: userId, type: "group", entitlementId: group).json
    }
}

/// One group held by a canned provider that answers PATCH as RFC 7644 says (a remove through a
/// value filter that matches nothing is 400 `noTarget`), optionally refusing value-filter paths
/// or leaving `members` out of its reads, as real providers do.
final class CannedGroup: @unchecked Sendable {  // `held` is guarded by `lock`; the rest is fixed at init
    let id: String
    let acceptsValueFilterPaths: Bool
    let returnsMembers: Bool
    private let lock = NSLock()
    private var held: [String]

    init(id: String = "g1", members: [String], acceptsValueFilterPaths: Bool = true, returnsMembers: Bool = true) {
        self.id = id
        held = members
        self.acceptsValueFilterPaths = acceptsValueFilterPaths
        self.returnsMembers = returnsMembers
    }

    var members: [String] { lock.withLock { held } }

    func answer(_ request: HTTPRequest) -> HTTPResponse? {
        guard request.path == "/scim/v2/Groups/\(id)" else { return nil }
        return lock.withLock {
            switch request.method {
            case .get: return .scim(200, body())
            case .patch: return patch(request.json["Operations"].arrayValue ?? [])
            default: return .scim(405, ["status": "405"])
            }
        }
    }

    private func body() -> JSONValue {
        var group: [String: JSONValue] = ["schemas": [.string(AuthoritativeOutcomeTests.groupURN)], "id": .string(id), "displayName": "group"]
        if returnsMembers, !held.isEmpty { group["members"] = .array(held.map { ["value": .string($0)] }) }
        return .object(group)
    }

    private func patch(_ operations: [JSONValue]) -> HTTPResponse {
        var members = held
        for operation in operations {
            let op = operation["op"].stringValue ?? ""
            let path = operation["path"].stringValue ?? ""
            let listed = (operation["value"].arrayValue ?? []).compactMap { $0["value"].stringValue }
            if path.hasPrefix("members[value eq \""), path.hasSuffix("\"]") {
                guard acceptsValueFilterPaths else { return Self.error("invalidPath", "value filters are not supported") }
                let target = String(path.dropFirst("members[value eq \"".count).dropLast(2))
                guard op == "remove", members.contains(target) else { return Self.error("noTarget", "no member matches") }
                members.removeAll { $0 == target }
            } else if path == "members", op == "add" {
                members += listed.filter { !members.contains($0) }
            } else if path == "members", op == "remove", !listed.isEmpty {
                members.removeAll { listed.contains($0) }
            } else {
                return Self.error("invalidValue", "not canned: \(operation)")
            }
        }
        held = members
        return .scim(200, body())
    }

    private static func error(_ scimType: String, _ detail: String) -> HTTPResponse {
        .scim(400, ["schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"], "status": "400", "scimType": .string(scimType),
                    "detail": .string(detail)])
    }
}
