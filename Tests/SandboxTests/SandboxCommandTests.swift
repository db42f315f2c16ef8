import Foundation
import StewardJSON
import Testing

@Suite struct SandboxCommandTests {
    @Test func printsOneReadyLineWithEveryAppAndAToken() throws {
        let sandbox = try SandboxProcess()
        let apps = try #require(sandbox.ready["apps"].objectValue)
        #expect(apps["scim"]?.stringValue == "http://127.0.0.1:\(sandbox.port)/scim/v2")
        #expect(sandbox.token.count == 32)
        let other = try SandboxProcess(["--scim"])
        #expect(other.token != sandbox.token)
    }

    @Test func acceptsAGivenTokenOnlyInBearerForm() throws {
        let sandbox = try SandboxProcess(["--scim", "--token", "s3cret"])
        #expect(sandbox.token == "s3cret")
        let client = sandbox.scim()
        #expect(try client.get("/Users").status == 200)

        client.token = "wrong"
        let denied = try client.get("/Users")
        #expect(denied.status == 401)
        #expect(denied.header("WWW-Authenticate")?.hasPrefix("Bearer") == true)
        #expect(denied.json["schemas"] == [.string(SCIM.error)])
        #expect(denied.json["status"] == "401")
        #expect(!denied.text.contains("wrong"))

        client.token = nil
        #expect(try client.get("/ServiceProviderConfig").status == 401)
        #expect(try client.request("GET", "/Users", headers: ["Authorization": "Basic czNjcmV0"]).status == 401)
    }

    @Test func helpAndBadFlags() throws {
        let help = try SandboxProcess.run(["--help"])
        #expect(help.status == 0)
        #expect(help.stdout.contains("--fail-rate"))
        #expect(help.stdout.contains("--scim"))

        let bad = try SandboxProcess.run(["--fail-rate", "2"])
        #expect(bad.status == 2)
        #expect(bad.stderr.contains("--fail-rate"))
        let unknown = try SandboxProcess.run(["--github-ish"])
        #expect(unknown.status == 2)
        #expect(unknown.stderr.contains("--github-ish"))
    }

    @Test func generatesUsersOnRequest() throws {
        let sandbox = try SandboxProcess(["--users", "250", "--seed", "3"])
        let client = sandbox.scim()
        let page = try client.get("/Users?count=2")
        #expect(page.json["totalResults"] == 250)
        #expect(page.json["Resources"][0]["userName"] == "user000001@example.com")
        #expect(page.json["Resources"][0][SCIM.enterprise]["employeeNumber"] == "000001")
    }
}
