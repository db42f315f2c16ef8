import Foundation
import StewardHost
import StewardProtocol
import StewardTestSupport

/// The sandbox's SCIM app, as the SCIM connector tests use it: connector settings for it, and
/// direct reads and writes to check effects.
final class ScimSandbox: Sendable {
    let sandbox: TestSandbox
    /// The SCIM base URL, `http://127.0.0.1:PORT/scim/v2`.
    let scimURL: String

    init(_ arguments: [String] = []) throws {
        sandbox = try TestSandbox(["--scim"] + arguments)
        scimURL = try sandbox.url(of: "scim")
    }

    var token: String { sandbox.token }

    func stop() { sandbox.stop() }

    /// Settings and secrets that point the SCIM connector at this sandbox.
    var settings: JSONValue { ["baseURL": .string(scimURL)] }
    var secrets: [String: String] { ["token": token] }

    /// A supervised SCIM connector for this sandbox.
    func connector(settings extra: [String: JSONValue] = [:], events: ConnectorEvents = ConnectorEvents(log: { _ in })) throws -> SupervisedConnector {
        var s = settings.objectValue ?? [:]
        s.merge(extra) { _, b in b }
        var options = ConnectorConnection.Options()
        options.requestTimeout = 120
        return SupervisedConnector(ConnectorLaunch(appId: "scim", command: [try Products.executable("steward-connector-scim")],
                                                   settings: .object(s), secrets: secrets, options: options, events: events))
    }

    /// Reads and writes the sandbox's SCIM API directly, to check effects from outside the
    /// connector.
    var direct: DirectSCIM { DirectSCIM(sandbox: sandbox, base: scimURL) }
}

/// Reads and writes the sandbox's SCIM API directly, with the sandbox's token.
struct DirectSCIM: Sendable {
    let sandbox: TestSandbox
    let base: String

    @discardableResult
    func request(_ method: String, _ path: String, _ body: JSONValue? = nil) async throws -> (Int, JSONValue) {
        // The sandbox may be injecting faults: retry what it refuses, as a patient client would.
        for _ in 0..<50 {
            let (status, data) = try await sandbox.send(method, base + path, body: body, contentType: "application/scim+json")
            if status == 429 || status == 500 || status == 503 {
                try await Task.sleep(nanoseconds: 200_000_000)
                continue
            }
            return (status, data.isEmpty ? .null : try JSONParser.parse(data))
        }
        throw TestFailure("\(method) \(path) kept failing")
    }

    func get(_ path: String) async throws -> JSONValue {
        let (status, json) = try await request("GET", path)
        guard status == 200 else { throw TestFailure("GET \(path): HTTP \(status) \(json)") }
        return json
    }

    /// The users whose userName is `userName` (a list, to spot duplicates).
    func users(named userName: String) async throws -> [JSONValue] {
        let filter = "userName eq \"\(userName)\"".addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""
        return try await get("/Users?filter=\(filter)")["Resources"].arrayValue ?? []
    }

    func createGroup(_ name: String) async throws -> String {
        let (status, json) = try await request("POST", "/Groups", ["schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": .string(name)])
        guard status == 201, let id = json["id"].stringValue else { throw TestFailure("cannot create group: \(status) \(json)") }
        return id
    }

    func memberIds(ofGroup id: String) async throws -> [String] {
        try await get("/Groups/\(id)")["members"].arrayValue?.compactMap { $0["value"].stringValue } ?? []
    }
}

extension SupervisedConnector {
    /// Calls a write and decodes its result.
    func write<R: JSONConvertible>(_ method: String, _ params: JSONValue, as type: R.Type) async throws -> R {
        try await call(method, params: params, as: type)
    }
}
