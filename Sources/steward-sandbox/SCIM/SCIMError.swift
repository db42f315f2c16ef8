import StewardHTTP
import StewardJSON

/// An error answered with a SCIM error body (RFC 7644 §3.12).
struct SCIMError: Error, Sendable, CustomStringConvertible {
    /// The `scimType` keywords of RFC 7644 Table 9.
    enum Kind: String, Sendable {
        case invalidFilter, tooMany, uniqueness, mutability, invalidSyntax, invalidPath, noTarget, invalidValue, invalidVers, sensitive
    }

    var status: HTTPStatus
    var kind: Kind?
    var detail: String
    var headers = HTTPHeaders()

    init(_ status: HTTPStatus, _ kind: Kind? = nil, _ detail: String) {
        self.status = status
        self.kind = kind
        self.detail = detail
    }

    static func badRequest(_ kind: Kind, _ detail: String) -> SCIMError { SCIMError(.badRequest, kind, detail) }
    static func notFound(_ detail: String) -> SCIMError { SCIMError(.notFound, nil, detail) }

    var description: String { "\(status.code) \(kind?.rawValue ?? "-"): \(detail)" }

    var response: HTTPResponse {
        var body: [String: JSONValue] = [
            "schemas": [.string(SCIMSchemas.errorURN)],
            "status": .string(String(status.code)),
            "detail": .string(detail),
        ]
        if let kind { body["scimType"] = .string(kind.rawValue) }
        var response = HTTPResponse.json(.object(body), status: status, contentType: SCIMApp.contentType)
        for (name, value) in headers { response.headers.add(name, value) }
        return response
    }
}
