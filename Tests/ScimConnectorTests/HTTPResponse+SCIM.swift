import StewardHTTP
import StewardJSON

extension HTTPResponse {
    /// A canned SCIM answer: `value` as `application/scim+json` with `status` and `headers`.
    static func scim(_ status: Int, _ value: JSONValue, headers: HTTPHeaders = [:]) -> HTTPResponse {
        var response = HTTPResponse(status: HTTPStatus(code: status), headers: headers, body: JSONWriter.bytes(value))
        response.headers.set("Content-Type", "application/scim+json")
        return response
    }
}
