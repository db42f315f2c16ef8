import Foundation
import StewardJSON
import StewardTestSupport
import Testing

@Suite struct SandboxStateTests {
    static func temporaryPath() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("sandbox-state-\(UUID().uuidString).json").path
    }

    @Test func savesOnExitAndRestoresOnStart() throws {
        let path = Self.temporaryPath()
        defer { try? FileManager.default.removeItem(atPath: path) }
        var userID = ""
        var groupID = ""
        do {
            let sandbox = try TestSandbox(["--scim", "--state", path])
            let client = sandbox.scim()
            userID = try SCIM.createUser(client, "persisted", externalId: "P-1", department: "Legal")
            groupID = try SCIM.createGroup(client, "Keepers", members: [userID])
            _ = try client.patch("/Users/\(userID)", [["op": "replace", "path": "title", "value": "Archivist"]])
            sandbox.terminate()
        }
        let saved = try JSONParser.parse(Array(try Data(contentsOf: URL(fileURLWithPath: path))))
        #expect(saved["version"] == 1)
        let savedUser = saved["apps"]["scim"]["Users"][0]
        #expect(savedUser["userName"] == "persisted")
        #expect(savedUser["meta"]["version"] == "W/\"2\"")
        #expect(saved["apps"]["scim"]["Groups"][0]["members"] == [["value": .string(userID), "type": "User"]])

        let again = try TestSandbox(["--scim", "--state", path])
        let client = again.scim()
        let user = try client.get("/Users/\(userID)").json
        #expect(user["title"] == "Archivist")
        #expect(user["meta"]["version"] == "W/\"2\"")
        #expect(user["groups"][0]["value"] == .string(groupID))
        #expect(try SCIM.userNames(client, filter: "externalId eq \"P-1\"") == ["persisted"])
        #expect(try client.post("/Users", SCIM.user("PERSISTED")).status == 409)
    }

    @Test func savesSoonAfterAChangeWithoutWaitingForExit() throws {
        let path = Self.temporaryPath()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let sandbox = try TestSandbox(["--scim", "--state", path])
        let client = sandbox.scim()
        _ = try SCIM.createUser(client, "early")
        var found = false
        for _ in 0..<200 where !found {
            if let data = FileManager.default.contents(atPath: path), let state = try? JSONParser.parse(Array(data)),
               state["apps"]["scim"]["Users"][0]["userName"] == "early" {
                found = true
            } else {
                usleep(25_000)
            }
        }
        #expect(found)
    }

    @Test func aBrokenStateFileIsReportedByName() throws {
        let path = Self.temporaryPath()
        defer { try? FileManager.default.removeItem(atPath: path) }
        try Data(#"{"version": 1, "apps": {"scim": {"Users": [{"id": "a", "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"]}]}}}"#.utf8)
            .write(to: URL(fileURLWithPath: path))
        let run = try TestSandbox.run(["--scim", "--state", path])
        #expect(run.code == 1)
        #expect(run.err.contains(path))
        #expect(run.err.contains("Users[0]"))
        #expect(run.err.contains("userName"))

        try Data("{not json".utf8).write(to: URL(fileURLWithPath: path))
        let garbled = try TestSandbox.run(["--scim", "--state", path])
        #expect(garbled.code == 1)
        #expect(garbled.err.contains("line 1"))
    }
}
