import StewardJSON

/// A complete request: head and body, read and checked against the server's limits.
public struct HTTPRequest: Sendable {
    public var method: HTTPMethod
    /// The request target exactly as sent, e.g. `/scim/v2/Users?filter=...`.
    public var target: String
    /// The path part of the target, still percent-encoded.
    public var path: String
    /// The query part of the target without the `?`, still encoded; empty when absent.
    public var query: String
    public var version: HTTPVersion
    public var headers: HTTPHeaders
    public var body: [UInt8]
    /// Values of the route pattern's `:name` and `*name` segments, percent-decoded.
    public var pathParameters: [String: String]

    public init(
        method: HTTPMethod, target: String, version: HTTPVersion = .http1_1,
        headers: HTTPHeaders = HTTPHeaders(), body: [UInt8] = [], pathParameters: [String: String] = [:]
    ) {
        self.method = method
        self.target = target
        let (path, query) = HTTPRequest.split(target: target)
        self.path = path
        self.query = query
        self.version = version
        self.headers = headers
        self.body = body
        self.pathParameters = pathParameters
    }

    /// The query string parsed as `application/x-www-form-urlencoded`.
    public var queryItems: URLEncodedForm { URLEncodedForm(parsing: query) }

    /// The first value of query parameter `name`, decoded.
    public func queryValue(_ name: String) -> String? { queryItems[name] }

    /// A route parameter by name, decoded.
    public func parameter(_ name: String) -> String? { pathParameters[name] }

    /// The `Cookie` header as name/value pairs; the first of duplicate names wins.
    public var cookies: [String: String] { Cookie.parse(headers.values(for: "Cookie")) }

    /// The body as an HTML form. Throws 415 when the body is not form-encoded.
    public func formBody() throws(HTTPError) -> URLEncodedForm {
        let type = headers["Content-Type"] ?? ""
        guard type.lowercased().hasPrefix("application/x-www-form-urlencoded") || (type.isEmpty && body.isEmpty) else {
            throw HTTPError(.unsupportedMediaType, "expected an application/x-www-form-urlencoded body")
        }
        return URLEncodedForm(parsing: body)
    }

    /// The body parsed as strict JSON. Throws 400 naming the line and column of a syntax error.
    public func jsonBody() throws(HTTPError) -> JSONValue {
        guard !body.isEmpty else { throw HTTPError(.badRequest, "the request body is empty; expected JSON") }
        do {
            return try JSONParser.parse(body)
        } catch {
            throw HTTPError(.badRequest, "the request body is not valid JSON: \(error)")
        }
    }

    static func split(target: String) -> (path: String, query: String) {
        var path = Substring(target)
        // Absolute form (`http://host/path`) is legal in requests; routing only needs the path.
        if !path.hasPrefix("/"), let scheme = path.range(of: "://") {
            let afterAuthority = path[scheme.upperBound...]
            path = afterAuthority.firstIndex(where: { $0 == "/" || $0 == "?" }).map { afterAuthority[$0...] } ?? "/"
            if path.hasPrefix("?") { path = "/" + path }
        }
        if let q = path.firstIndex(of: "?") {
            return (String(path[..<q]), String(path[path.index(after: q)...]))
        }
        return (String(path), "")
    }
}
