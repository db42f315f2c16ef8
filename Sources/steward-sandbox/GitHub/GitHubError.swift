import StewardHTTP
import StewardJSON

/// An error as GitHub's REST API writes it: `{"message": ..., "documentation_url": ...}`, with
/// `errors` for 422 validation failures.
struct GitHubError: Error, Sendable {
    var status: HTTPStatus
    var message: String
    var errors: [JSONValue] = []
    var headers: HTTPHeaders = HTTPHeaders()

    static let documentation = "https://docs.github.com/rest"

    static func notFound() -> GitHubError { GitHubError(status: .notFound, message: "Not Found") }

    /// 422 with one error object, the way GitHub reports a refused write.
    static func validation(resource: String, field: String, code: String = "invalid", _ message: String) -> GitHubError {
        GitHubError(status: .unprocessableContent, message: "Validation Failed",
                    errors: [["resource": .string(resource), "field": .string(field), "code": .string(code), "message": .string(message)]])
    }

    static func badRequest(_ message: String) -> GitHubError { GitHubError(status: .badRequest, message: message) }

    var response: HTTPResponse {
        var body: [String: JSONValue] = ["message": .string(message), "documentation_url": .string(Self.documentation)]
        if !errors.isEmpty { body["errors"] = .array(errors) }
        var response = HTTPResponse.json(.object(body), status: status, contentType: "application/json; charset=utf-8")
        for (name, value) in headers { response.headers.add(name, value) }
        return response
    }
}
