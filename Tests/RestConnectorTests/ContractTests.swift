import Foundation
import StewardHost
import StewardHTTP
import StewardJSON
import StewardProtocol
import StewardTestSupport
import Testing

/// Contract tests for the shipped app definitions: each fixture in `Fixtures/` replays
/// request/response examples from the vendor's API reference through a local server, drives
/// the connector with protocol calls, and checks both the requests it sent and what it answered.
///
/// A fixture:
/// ```json
/// {"source": "where the shapes come from", "definition": "okta", "settings": {...}, "secrets": {...},
///  "basePath": "/api/gateway.php/acme/v1",
///  "calls": [{"method": "accounts/list", "params": {...}, "expect": {"result": {...}} | {"error": {"kind": "..."}}}],
///  "exchanges": [{"request": {"method", "path", "query", "headers", "body", "form"}, "response": {"status", "headers", "body"}}]}
/// ```
/// `{origin}` in response headers and bodies is the replay server's address; `"<cursor>"` in a
/// call's params is the previous call's `nextCursor`; `"<present>"` in an expectation matches
/// any value. Expectations match as subsets: objects may have more members.
@Suite("Contract tests of the app definitions")
struct ContractTests {
    static var fixtureNames: [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: Products.fixtures.path)) ?? []
        return names.filter { $0.hasSuffix(".json") }.sorted()
    }

    @Test(arguments: fixtureNames)
    func replay(_ name: String) async throws {
        let fixture = try JSONParser.parse(try Data(contentsOf: Products.fixtures.appendingPathComponent(name)))
        #expect(fixture["source"].stringValue?.contains("http") == true, "\(name): say where the shapes come from in \"source\"")
        let exchanges = fixture["exchanges"].arrayValue ?? []
        let server = try ReplayServer(exchanges)
        defer { server.stop() }
        let definition = try #require(fixture["definition"].stringValue)
        var settings = fixture["settings"].objectValue ?? [:]
        settings["baseURL"] = .string(server.baseURL + (fixture["basePath"].stringValue ?? ""))
        for (key, value) in settings {
            if let text = value.stringValue, text.contains("{origin}") { settings[key] = .string(text.replacingOccurrences(of: "{origin}", with: server.baseURL)) }
        }
        let secrets = (fixture["secrets"].objectValue ?? [:]).compactMapValues(\.stringValue)
        let logs = Collected<String>()
        let connector = try restConnector(definition: Products.appDefinition(definition), settings: settings, secrets: secrets,
                                          events: ConnectorEvents(log: { logs.add($0.message) }))
        var previousCursor: String?
        for (i, call) in (fixture["calls"].arrayValue ?? []).enumerated() {
            let method = try #require(call["method"].stringValue)
            var params = call["params"]
            if params["cursor"].stringValue == "<cursor>" {
                let cursor = try #require(previousCursor, "\(name): call \(i) wants the previous cursor, but there was none")
                params.set(["cursor"], .string(cursor))
            }
            let expected = call["expect"]
            do {
                let result = try await connector.call(method, params: params)
                previousCursor = result["nextCursor"].stringValue
                #expect(expected["error"].isNull, "\(name): call \(i) \(method) succeeded, expected \(expected["error"])")
                if !expected["result"].isNull {
                    let mismatch = subsetMismatch(expected["result"], result, at: "result")
                    #expect(mismatch == nil, "\(name): call \(i) \(method): \(mismatch ?? "") in \(result)")
                }
            } catch let failure as ConnectorFailure {
                let error = failure.connectorError
                #expect(!expected["error"].isNull, "\(name): call \(i) \(method) failed: \(failure)")
                if let kind = expected["error"]["kind"].stringValue { #expect(error?.kind.rawValue == kind, "\(name): \(failure)") }
                if let text = expected["error"]["message"].stringValue {
                    #expect(error?.message.contains(text) == true, "\(name): \"\(text)\" not in \(error?.message ?? "")")
                }
            }
        }
        await connector.stop()
        #expect(server.mismatches.isEmpty, "\(name): \(server.mismatches.joined(separator: "\n"))")
        #expect(server.remaining == 0, "\(name): \(server.remaining) expected requests were never made")
        for secret in secrets.values where secret.count >= 4 {
            #expect(!logs.all.contains { $0.contains(secret) }, "\(name): a secret appeared in the connector's log")
        }
    }
}

/// A stub server that answers requests with a fixture's exchanges, in order, and notes where a
/// request differs from the one the fixture expects.
final class ReplayServer: Sendable {
    private let script: ReplayScript
    private let server: StubServer

    init(_ exchanges: [JSONValue]) throws {
        let script = ReplayScript(exchanges)
        let server = try StubServer { request in script.answer(request) }
        script.origin.withLock { $0 = server.baseURL }
        self.script = script
        self.server = server
    }

    var baseURL: String { server.baseURL }
    var mismatches: [String] { script.problems.withLock { $0 } }
    var remaining: Int { script.exchanges.count - script.next.withLock { $0 } }

    func stop() { server.stop() }
}

/// The exchanges of a fixture and how far the replay has got.
private final class ReplayScript: Sendable {
    let exchanges: [JSONValue]
    let next = Locked(0)
    let problems = Locked<[String]>([])
    /// The server's address, for `{origin}` in answers.
    let origin = Locked("")

    init(_ exchanges: [JSONValue]) { self.exchanges = exchanges }

    func answer(_ request: HTTPRequest) -> HTTPResponse {
        let index = next.withLock { n in
            defer { n += 1 }
            return n
        }
        let exchange: JSONValue? = index < exchanges.count ? exchanges[index] : nil
        let baseURL = origin.withLock { $0 }
        guard let exchange else {
            note("unexpected request \(index): \(request.method) \(request.target)")
            return HTTPResponse(status: HTTPStatus(code: 599), body: Array("no more exchanges".utf8))
        }
        let expected = exchange["request"]
        var differences: [String] = []
        if let method = expected["method"].stringValue, method != request.method.rawValue {
            differences.append("method \(request.method) instead of \(method)")
        }
        if let path = expected["path"].stringValue, PercentEncoding.decode(request.path) != path {
            differences.append("path \(PercentEncoding.decode(request.path)) instead of \(path)")
        }
        if case .object(let query) = expected["query"] {
            var actual: [String: String] = [:]
            for (n, v) in request.queryItems { actual[n] = v }
            let wanted = query.compactMapValues(\.testText)
            if actual != wanted { differences.append("query \(actual) instead of \(wanted)") }
        }
        for (name, value) in expected["headers"].objectValue ?? [:] where request.headers[name] != value.stringValue {
            differences.append("header \(name): \(request.headers[name] ?? "none") instead of \(value.stringValue ?? "")")
        }
        if !expected["body"].isNull {
            let body = (try? JSONParser.parse(request.body)) ?? .string(String(decoding: request.body, as: UTF8.self))
            if body != expected["body"] { differences.append("body \(body) instead of \(expected["body"])") }
        }
        if case .object(let form) = expected["form"] {
            var actual: [String: String] = [:]
            for (n, v) in URLEncodedForm(parsing: request.body) { actual[n] = v }
            let wanted = form.compactMapValues(\.testText)
            if actual != wanted { differences.append("form \(actual) instead of \(wanted)") }
        }
        if !differences.isEmpty { note("request \(index) (\(request.method) \(request.target)): " + differences.joined(separator: "; ")) }
        let response = exchange["response"]
        var headers = HTTPHeaders()
        for (name, value) in response["headers"].objectValue ?? [:] {
            headers.add(name, (value.testText ?? "").replacingOccurrences(of: "{origin}", with: baseURL))
        }
        var body: [UInt8] = []
        if !response["body"].isNull {
            body = Array(JSONWriter.string(response["body"]).replacingOccurrences(of: "{origin}", with: baseURL).utf8)
            if !headers.contains("Content-Type") { headers.add("Content-Type", "application/json") }
        }
        return HTTPResponse(status: HTTPStatus(code: response["status"].intValue ?? 200), headers: headers, body: body)
    }

    private func note(_ problem: String) { problems.withLock { $0.append(problem) } }
}

/// Where `actual` differs from `expected`, read as a subset: objects may have more members,
/// arrays must have the same length, `"<present>"` matches any value that is there.
func subsetMismatch(_ expected: JSONValue, _ actual: JSONValue, at path: String) -> String? {
    switch expected {
    case .string("<present>"):
        return actual.isNull ? "\(path): missing" : nil
    case .object(let members):
        for (key, value) in members.sorted(by: { $0.key < $1.key }) {
            if value.isNull {
                if !actual[key].isNull { return "\(path).\(key): \(actual[key]) instead of nothing" }
                continue
            }
            if let m = subsetMismatch(value, actual[key], at: "\(path).\(key)") { return m }
        }
        return nil
    case .array(let items):
        guard let other = actual.arrayValue, other.count == items.count else {
            return "\(path): \(actual.arrayValue.map { "\($0.count) items" } ?? actual.typeName) instead of \(items.count) items"
        }
        for (i, item) in items.enumerated() {
            if let m = subsetMismatch(item, other[i], at: "\(path)[\(i)]") { return m }
        }
        return nil
    default:
        return expected == actual ? nil : "\(path): \(actual) instead of \(expected)"
    }
}

extension JSONValue {
    /// Strings as they are, numbers and booleans written out.
    var testText: String? {
        switch self {
        case .string(let s): return s
        case .int, .double, .bool: return JSONWriter.string(self)
        default: return nil
        }
    }
}
