import StewardJSON
import Testing
@testable import StewardHTTP

@Suite struct ParsingTests {
    @Test func parsesFormsWithPlusEscapesAndRepeats() {
        let form = URLEncodedForm(parsing: "name=Ada+Lovelace&tag=a&tag=b%26c&empty=&flag&&bad=%zz%4")
        #expect(form["name"] == "Ada Lovelace")
        #expect(form.values(for: "tag") == ["a", "b&c"])
        #expect(form["empty"] == "")
        #expect(form["flag"] == "")
        #expect(form["bad"] == "%zz%4")
        #expect(form["missing"] == nil)
        #expect(URLEncodedForm([("q", "a b&c=d/é")]).encoded == "q=a+b%26c%3Dd%2F%C3%A9")
    }

    @Test func readsQueryParametersFromTheTarget() {
        let request = HTTPRequest(method: .get, target: "/scim/v2/Users?filter=userName%20eq%20%22a%2Bb%22&count=10")
        #expect(request.path == "/scim/v2/Users")
        #expect(request.queryValue("filter") == "userName eq \"a+b\"")
        #expect(request.queryValue("count") == "10")
        let absolute = HTTPRequest(method: .get, target: "http://example.com:80/a/b?c=d")
        #expect(absolute.path == "/a/b")
        #expect(absolute.query == "c=d")
    }

    @Test func formBodiesNeedTheFormContentType() throws {
        var request = HTTPRequest(method: .post, target: "/login", headers: ["Content-Type": "application/x-www-form-urlencoded; charset=utf-8"],
                                  body: Array("user=ada&password=p%40ss".utf8))
        #expect(try request.formBody()["password"] == "p@ss")
        request.headers.set("Content-Type", "application/json")
        #expect(throws: HTTPError.self) { try request.formBody() }
    }

    @Test func parsesAndWritesCookies() {
        let request = HTTPRequest(method: .get, target: "/", headers: ["Cookie": "session=abc%3B123; theme=\"dark\"; session=ignored"])
        #expect(request.cookies == ["session": "abc;123", "theme": "dark"])
        let cookie = Cookie(name: "session", value: "a;b c", maxAge: 3600)
        #expect(cookie.headerValue == "session=a%3Bb%20c; Path=/; Max-Age=3600; HttpOnly; SameSite=Lax")
        #expect(Cookie.expired("session").headerValue.contains("Max-Age=0"))
        var response = HTTPResponse.redirect(to: "/home")
        response.setCookie(cookie)
        #expect(response.status == .seeOther)
        #expect(response.headers.values(for: "Set-Cookie").count == 1)
    }

    @Test func jsonBodiesReportWhereTheyAreBroken() throws {
        let good = HTTPRequest(method: .post, target: "/", body: Array(#"{"a":[1,2]}"#.utf8))
        #expect(try good.jsonBody() == ["a": [1, 2]])
        let bad = HTTPRequest(method: .post, target: "/", body: Array("{\"a\":\n[1,}".utf8))
        do {
            _ = try bad.jsonBody()
            Issue.record("expected an error")
        } catch {
            #expect(error.status == .badRequest)
            #expect(error.message.contains("line 2"))
        }
        let response = HTTPResponse.json(["ok": true])
        #expect(response.headers["content-type"] == "application/json")
        #expect(String(decoding: response.body, as: UTF8.self) == #"{"ok":true}"#)
    }

    @Test func routerPrefersLiteralsThenParametersThenWildcards() {
        var router = Router()
        router.get("/a/fixed") { _ in .text("literal") }
        router.get("/a/:id") { _ in .text("param") }
        router.get("/a/:id/x") { _ in .text("param-x") }
        router.add(nil, "/a/*rest", .sync { _ in .text("wild") })
        var app = Router()
        app.get("/ping") { _ in .text("pong") }
        router.mount("/mounted/v1", app)
        let table = RouteTable(router)
        func route(_ method: HTTPMethod, _ path: String) -> String {
            switch table.match(method: method, path: path) {
            case .found(.sync(let handler), let params):
                let text = (try? handler(HTTPRequest(method: method, target: path)))?.body ?? []
                return String(decoding: text, as: UTF8.self) + (params.isEmpty ? "" : " \(params.sorted { $0.key < $1.key })")
            case .found(.async, _): return "async"
            case .methodNotAllowed(let allowed): return "405 \(allowed.map(\.rawValue))"
            case .notFound: return "404"
            }
        }
        #expect(route(.get, "/a/fixed") == "literal")
        #expect(route(.get, "/a/7").hasPrefix("param [(key: \"id\", value: \"7\")]"))
        #expect(route(.get, "/a/7/x").hasPrefix("param-x"))
        #expect(route(.get, "/a/7/y").hasPrefix("wild"))
        #expect(route(.post, "/a/fixed") == "405 [\"GET\", \"HEAD\"]")
        #expect(route(.get, "/mounted/v1/ping") == "pong")
        #expect(route(.get, "/b") == "404")
    }

    @Test func chunkSizesAreStrictHex() {
        func size(_ text: String) -> Int? {
            Array(text.utf8).withUnsafeBufferPointer { BodyReader.chunkSize($0) }
        }
        #expect(size("1a") == 26)
        #expect(size("FF;ext=1") == 255)
        #expect(size("0") == 0)
        #expect(size("") == nil)
        #expect(size("-1") == nil)
        #expect(size("0x10") == nil)
        #expect(size("1234567890abcdef0") == nil)
    }

    @Test func bodyReaderEnforcesTheLimitAcrossChunks() {
        var reader = BodyReader(framing: .chunked, maxBodyBytes: 10, maxTrailerBytes: 100)
        let step = Array("6\r\nabcdef\r\n6\r\nghijkl\r\n0\r\n\r\n".utf8).withUnsafeBufferPointer { reader.consume($0) }
        #expect(step == .rejected(RequestRejection(.contentTooLarge, "the body is larger than 10 bytes")))
    }
}
