import Foundation
import StewardJSON
import StewardTestSupport
import Testing

@Suite struct SandboxCommandTests {
    @Test func printsOneReadyLineWithEveryAppAndAToken() throws {
        let sandbox = try TestSandbox()
        let apps = sandbox.apps
        #expect(apps["scim"] == "http://127.0.0.1:\(sandbox.port)/scim/v2")
        #expect(sandbox.token.count == 32)
        let other = try TestSandbox(["--scim"])
        #expect(other.token != sandbox.token)
    }

    @Test func acceptsAGivenTokenOnlyInBearerForm() throws {
        let sandbox = try TestSandbox(["--scim", "--token", "s3cret"])
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
        let help = try TestSandbox.run(["--help"])
        #expect(help.code == 0)
        #expect(help.out.contains("--fail-rate"))
        #expect(help.out.contains("--scim"))

        let bad = try TestSandbox.run(["--fail-rate", "2"])
        #expect(bad.code == 2)
        #expect(bad.err.contains("--fail-rate"))
        let unknown = try TestSandbox.run(["--github-ish"])
        #expect(unknown.code == 2)
        #expect(unknown.err.contains("--github-ish"))
    }

    @Test func generatesUsersOnRequest() throws {
        let sandbox = try TestSandbox(["--users", "250", "--seed", "3"])
        let client = sandbox.scim()
        let page = try client.get("/Users?count=2")
        #expect(page.json["totalResults"] == 250)
        #expect(page.json["Resources"][0]["userName"] == "user000001@example.com")
        #expect(page.json["Resources"][0][SCIM.enterprise]["employeeNumber"] == "000001")
    }
}
