import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import StewardProtocol

/// Turns HTTP statuses and transport failures into the protocol's error taxonomy, so the host
/// can decide about retries without knowing the app, and never blindly repeats a write that may
/// have happened.
public enum HTTPFailure {
    /// The error kind an unsuccessful status means.
    public static func kind(forStatus status: Int) -> ErrorKind {
        switch status {
        case 400, 413, 414, 415, 422: return .invalidArgument
        case 401: return .unauthenticated
        case 403: return .permissionDenied
        case 404, 410: return .notFound
        case 409: return .alreadyExists
        case 412, 428: return .preconditionFailed
        case 408, 504: return .timeout
        case 429: return .rateLimited
        case 501: return .configuration
        case 500...599: return .connectionFailed
        default: return .internal
        }
    }

    /// Whether a write that got `status` took effect. A 4xx was refused before anything
    /// happened; a 5xx (but 501) may have come after the app acted.
    public static func outcome(forStatus status: Int) -> WriteOutcome {
        switch status {
        case 200..<300: return .applied
        case 501: return .notApplied
        case 500...599: return .unknown
        default: return .notApplied
        }
    }

    /// The protocol error for an unsuccessful response.
    static func statusError(_ response: HTTPClient.Response, request: HTTPClient.Request, message: String?,
                            details: JSONValue, redactor: SecretRedactor, retryAfterMs: Int? = nil) -> ConnectorError {
        let kind = kind(forStatus: response.status)
        let appMessage = appMessage(in: response)
        let text = message ?? "\(request.method) \(request.url.path) failed with HTTP \(response.status)" + (appMessage.map { ": \($0)" } ?? "")
        var facts = details.objectValue ?? [:]
        facts["status"] = .int(response.status)
        let retryAfter = retryAfterMs ?? response.header("Retry-After").flatMap { RetryAfter.seconds($0) }.map { Int(($0 * 1000).rounded(.up)) }
        return redactor.redact(ConnectorError(kind, text, outcome: request.isWrite ? outcome(forStatus: response.status) : nil,
                                              retryAfterMs: retryAfter, details: .object(facts)))
    }

    /// The error to report when the client stops trying.
    static func finalError(_ attempt: HTTPClient.Attempt, request: HTTPClient.Request, attempts: Int,
                           retryAfterMs: Int? = nil, redactor: SecretRedactor) -> ConnectorError {
        let tries = attempts > 1 ? " (after \(attempts) attempts)" : ""
        switch attempt {
        case .response(let response):
            var e = statusError(response, request: request, message: nil, details: .null, redactor: redactor, retryAfterMs: retryAfterMs)
            e.message += tries
            e.retryable = e.kind.retryableByDefault
            return e
        case .transport(let failure):
            let kind: ErrorKind = failure.timedOut ? .timeout : .connectionFailed
            let outcome: WriteOutcome? = request.isWrite ? (failure.notSent ? .notApplied : .unknown) : nil
            return redactor.redact(ConnectorError(kind, "\(request.method) \(request.url.path): \(failure.message)\(tries)",
                                                  retryable: true, outcome: outcome))
        }
    }

    /// Classifies an error thrown by URLSession.
    static func transportError(_ error: Error, request: HTTPClient.Request, redactor: SecretRedactor) -> HTTPClient.TransportFailure {
        let host = request.url.host.map { "\($0)\(request.url.port.map { ":\($0)" } ?? "")" } ?? request.url.absoluteString
        guard let urlError = error as? URLError else {
            return .init(message: redactor.redact("request to \(host) failed: \(error)"), notSent: false, timedOut: false)
        }
        switch urlError.code {
        case .cannotConnectToHost:
            return .init(message: "cannot connect to \(host) (connection refused)", notSent: true, timedOut: false)
        case .cannotFindHost, .dnsLookupFailed:
            return .init(message: "cannot resolve \(host)", notSent: true, timedOut: false)
        case .notConnectedToInternet:
            return .init(message: "no network to reach \(host)", notSent: true, timedOut: false)
        case .secureConnectionFailed, .serverCertificateUntrusted, .serverCertificateHasBadDate,
             .serverCertificateNotYetValid, .serverCertificateHasUnknownRoot, .clientCertificateRejected:
            return .init(message: "TLS with \(host) failed (\(urlError.code.rawValue))", notSent: true, timedOut: false)
        case .badURL, .unsupportedURL:
            return .init(message: "bad URL for \(host)", notSent: true, timedOut: false)
        case .timedOut:
            return .init(message: "no answer from \(host) in time", notSent: false, timedOut: true)
        case .networkConnectionLost:
            return .init(message: "the connection to \(host) was lost", notSent: false, timedOut: false)
        default:
            return .init(message: "request to \(host) failed (URL error \(urlError.code.rawValue))", notSent: false, timedOut: false)
        }
    }

    /// The app's own explanation in an error body: SCIM's `detail`, or the usual `message`,
    /// `error_description` and `error` members, or a short plain-text body.
    static func appMessage(in response: HTTPClient.Response) -> String? {
        if let json = response.json {
            for candidate in [json["detail"], json["message"], json["error_description"], json["error"]["message"], json["error"]] {
                if let s = candidate.stringValue, !s.isEmpty { return String(s.prefix(500)) }
            }
            return nil
        }
        guard let text = String(data: response.body.prefix(300), encoding: .utf8)?
            .trimmingCharacters(in: .whitespacesAndNewlines), !text.isEmpty, !text.hasPrefix("<") else { return nil }
        return text
    }
}
