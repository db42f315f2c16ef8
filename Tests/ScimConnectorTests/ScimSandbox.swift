import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import StewardHost
import StewardProtocol
import Testing

/// Where the build put the executables this test binary was built with.
enum Products {
    static var directory: URL {
        let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        return URL(fileURLWithPath: exe).deletingLastPathComponent()
    }

    static func executable(_ name: String) throws -> String {
        let path = directory.appendingPathComponent(name).path
        try #require(FileManager.default.isExecutableFile(atPath: path), "\(name) was not built next to the tests (\(path))")
        return path
    }

    /// The repository root (this file is Tests/ScimConnectorTests/TestSupport.swift).
    static var repoRoot: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }
}

/// A `steward-sandbox` child process serving SCIM on a free port, stopped by `stop()`.
final class Sandbox: @unchecked Sendable {  // all stored properties are set once in init
    let process: Process
    private let stdin: Pipe
    /// The SCIM base URL, `http://127.0.0.1:PORT/scim/v2`.
    let scimURL: String
    let token: String

    init(_ arguments: [String] = []) throws {
        process = Process()
        process.executableURL = URL(fileURLWithPath: try Products.executable("steward-sandbox"))
        process.arguments = ["--scim", "--port", "0", "--exit-with-stdin"] + arguments
        let out = Pipe()
        stdin = Pipe()
        process.standardOutput = out
        process.standardInput = stdin
        process.standardError = FileHandle.standardError
        try process.run()
        // The ready line is the first line on stdout.
        var line: [UInt8] = []
        let handle = out.fileHandleForReading
        while true {
            let byte = handle.readData(ofLength: 1)
            guard let b = byte.first else { break }
            if b == 0x0A { break }
            line.append(b)
        }
        guard let ready = try? JSONParser.parse(line), let url = ready["apps"]["scim"].stringValue,
              let token = ready["token"].stringValue else {
            process.terminate()
            throw CannedServerError(message: "the sandbox printed no ready line: \(String(decoding: line, as: UTF8.self))")
        }
        scimURL = url
        self.token = token
    }

    func stop() {
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
        try? stdin.fileHandleForWriting.close()
    }

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
    var direct: DirectSCIM { DirectSCIM(base: scimURL, token: token) }
}

/// A plain URLSession client for the sandbox's SCIM API.
struct DirectSCIM: Sendable {
    let base: String
    let token: String

    @discardableResult
    func request(_ method: String, _ path: String, _ body: JSONValue? = nil) async throws -> (Int, JSONValue) {
        guard let url = URL(string: base + path) else { throw CannedServerError(message: "bad URL \(base + path)") }
        var request = URLRequest(url: url)
        request.httpMethod = method
        request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization")
        if let body {
            request.httpBody = Data(JSONWriter.bytes(body))
            request.setValue("application/scim+json", forHTTPHeaderField: "Content-Type")
        }
        // The sandbox may be injecting faults: retry what it refuses, as a patient client would.
        for _ in 0..<50 {
            let (data, response) = try await URLSession.shared.data(for: request)
            let status = (response as? HTTPURLResponse)?.statusCode ?? 0
            if status == 429 || status == 500 || status == 503 {
                try await Task.sleep(nanoseconds: 200_000_000)
                continue
            }
            return (status, data.isEmpty ? .null : try JSONParser.parse(data))
        }
        throw CannedServerError(message: "\(method) \(path) kept failing")
    }

    func get(_ path: String) async throws -> JSONValue {
        let (status, json) = try await request("GET", path)
        guard status == 200 else { throw CannedServerError(message: "GET \(path): HTTP \(status) \(json)") }
        return json
    }

    /// The users whose userName is `userName` (a list, to spot duplicates).
    func users(named userName: String) async throws -> [JSONValue] {
        let filter = "userName eq \"\(userName)\"".addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""
        return try await get("/Users?filter=\(filter)")["Resources"].arrayValue ?? []
    }

    func createGroup(_ name: String) async throws -> String {
        let (status, json) = try await request("POST", "/Groups", ["schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": .string(name)])
        guard status == 201, let id = json["id"].stringValue else { throw CannedServerError(message: "cannot create group: \(status) \(json)") }
        return id
    }

    func memberIds(ofGroup id: String) async throws -> [String] {
        try await get("/Groups/\(id)")["members"].arrayValue?.compactMap { $0["value"].stringValue } ?? []
    }
}

/// Collects what a connector tells the host, for assertions.
final class HostEvents: @unchecked Sendable {  // arrays are guarded by `lock`
    private let lock = NSLock()
    private var logs: [LogRecord] = []
    private var limits: [RateLimitParams] = []

    var events: ConnectorEvents {
        ConnectorEvents(log: { [self] r in lock.withLock { logs.append(r) } },
                        rateLimit: { [self] _, p in lock.withLock { limits.append(p) } })
    }

    var logMessages: [String] { lock.withLock { logs.map(\.message) } }
    var rateLimits: [RateLimitParams] { lock.withLock { limits } }
}

extension SupervisedConnector {
    /// Calls a write and decodes its result.
    func write<R: JSONConvertible>(_ method: String, _ params: JSONValue, as type: R.Type) async throws -> R {
        try await call(method, params: params, as: type)
    }
}
