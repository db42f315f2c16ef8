import ConnectorKit
import Foundation
import StewardProtocol

/// Talks SCIM to one service provider: builds URLs, sends JSON with SCIM's media type, and
/// turns SCIM error bodies (`status`, `scimType`, `detail`) into protocol errors.
struct ScimService: Sendable {
    static let mediaType = "application/scim+json"

    let http: HTTPClient
    let baseURL: URL

    /// One answer, whatever its status.
    struct Reply: Sendable {
        var status: Int
        var json: JSONValue
        /// The resource's version: the `ETag` header, else `meta.version`.
        var etag: String?
        var request: HTTPClient.Request
        var response: HTTPClient.Response

        var isSuccess: Bool { (200..<300).contains(status) }
        var object: [String: JSONValue] { json.objectValue ?? [:] }
        /// SCIM's error type (`uniqueness`, `noTarget`, ...), when the body is a SCIM error.
        var scimType: String? { json["scimType"].stringValue }
    }

    /// Sends a request and returns the answer, unsuccessful ones included; throws only what
    /// the HTTP client gives up on.
    func send(_ method: String, _ path: String, query: [(String, String)] = [], body: JSONValue? = nil,
              ifMatch: String? = nil, idempotent: Bool? = nil, ctx: RequestContext?) async throws -> Reply {
        var headers = ["Accept": "\(Self.mediaType), application/json"]
        if body != nil { headers["Content-Type"] = Self.mediaType }
        if let ifMatch { headers["If-Match"] = ifMatch }
        let request = HTTPClient.Request(method: method, url: url(path, query: query), headers: headers,
                                         body: body.map { JSONWriter.bytes($0) }, idempotent: idempotent)
        let response = try await http.send(request, context: ctx)
        var json = JSONValue.null
        if !response.body.isEmpty {
            do {
                json = try JSONParser.parse(response.body)
            } catch {
                if (200..<300).contains(response.status) {
                    throw http.redactor.redact(ConnectorError(.internal, "\(method) \(request.url.path): the answer is not JSON (\(error))",
                                                              outcome: request.isWrite ? .unknown : nil))
                }
            }
        }
        let etag = response.header("ETag") ?? json["meta"]["version"].stringValue
        return Reply(status: response.status, json: json, etag: etag, request: request, response: response)
    }

    /// Sends a request that must succeed, returning the answer or throwing its error.
    func expect(_ method: String, _ path: String, query: [(String, String)] = [], body: JSONValue? = nil,
                ifMatch: String? = nil, idempotent: Bool? = nil, ctx: RequestContext?) async throws -> Reply {
        let reply = try await send(method, path, query: query, body: body, ifMatch: ifMatch, idempotent: idempotent, ctx: ctx)
        guard reply.isSuccess else { throw error(reply) }
        return reply
    }

    /// The protocol error for an unsuccessful answer. SCIM's `scimType` refines the HTTP
    /// status: `uniqueness` is an existing resource, the syntax types are invalid arguments.
    func error(_ reply: Reply, _ message: String? = nil) -> ConnectorError {
        let detail = reply.json["detail"].stringValue
        var text = message ?? "\(reply.request.method) \(reply.request.url.path) failed with HTTP \(reply.status)"
        if let scimType = reply.scimType { text += " (\(scimType))" }
        if let detail, !detail.isEmpty, message == nil { text += ": " + detail.prefix(500) }
        var details: [String: JSONValue] = [:]
        if let scimType = reply.scimType { details["scimType"] = .string(scimType) }
        var e = http.error(for: reply.response, request: reply.request, message: text, details: .object(details))
        switch reply.scimType {
        case "uniqueness"?: e.kind = .alreadyExists
        case "invalidFilter"?, "tooMany"?, "invalidSyntax"?, "invalidPath"?, "noTarget"?, "invalidValue"?, "invalidVers"?,
             "mutability"?, "sensitive"?:
            e.kind = .invalidArgument
        default: break
        }
        e.retryable = e.kind.retryableByDefault
        return e
    }

    /// `path` under the base URL with `query`, every value percent-encoded strictly (a `+` in
    /// an email address must not turn into a space).
    func url(_ path: String, query: [(String, String)] = []) -> URL {
        var text = baseURL.absoluteString + path
        if !query.isEmpty {
            text += "?" + query.map { name, value in value.isEmpty && name == "cursor" ? name : "\(name)=\(Self.encode(value))" }
                .joined(separator: "&")
        }
        return URL(string: text) ?? baseURL
    }

    /// A resource's path: `/Users/<id>` with the id percent-encoded.
    static func resourcePath(_ endpoint: String, _ id: String) -> String {
        endpoint + "/" + encode(id)
    }

    private static let unreserved = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")

    static func encode(_ value: String) -> String {
        value.addingPercentEncoding(withAllowedCharacters: unreserved) ?? value
    }
}
