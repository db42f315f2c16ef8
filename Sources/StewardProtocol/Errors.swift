/// A JSON-RPC error object as it appears on the wire.
public struct RPCError: Error, Sendable, Equatable, CustomStringConvertible {
    public var code: Int
    public var message: String
    public var data: JSONValue
    /// The request this error answers, when it is known while decoding; not serialized.
    public var id: RequestID?

    public init(code: Int, message: String, data: JSONValue = .null, id: RequestID? = nil) {
        self.code = code
        self.message = message
        self.data = data
        self.id = id
    }

    public init(code: Code, message: String, data: JSONValue = .null, id: RequestID? = nil) {
        self.init(code: code.rawValue, message: message, data: data, id: id)
    }

    /// The codes this protocol uses: JSON-RPC's standard ones, LSP's cancelled, and one code
    /// for every application error (whose `data.kind` says what went wrong).
    public enum Code: Int, Sendable {
        case parseError = -32700
        case invalidRequest = -32600
        case methodNotFound = -32601
        case invalidParams = -32602
        case internalError = -32603
        case cancelled = -32800
        case connectorError = -32000
    }

    public init(json: JSONValue) throws(RPCError) {
        guard case .object(let o) = json, let code = o["code"]?.intValue, let message = o["message"]?.stringValue else {
            throw RPCError(code: .invalidRequest, message: "\"error\" must be an object with an integer \"code\" and a string \"message\"")
        }
        self.init(code: code, message: message, data: o["data"] ?? .null)
    }

    public var json: JSONValue {
        var b = JSONObjectBuilder(capacity: 3)
        b.set("code", .int(code))
        b.set("message", .string(message))
        if !data.isNull { b.set("data", data) }
        return b.value
    }

    public var description: String { "\(message) (JSON-RPC error \(code))" }
}

/// What went wrong, from a fixed taxonomy shared by every connector, so the host can decide
/// about retries without knowing the app.
public enum ErrorKind: String, Sendable, CaseIterable {
    case notFound
    case alreadyExists
    case invalidArgument
    case unauthenticated
    case permissionDenied
    case preconditionFailed
    case configuration
    case connectionFailed
    case rateLimited
    case timeout
    case `internal`

    /// Whether an error of this kind is worth retrying when the connector does not say.
    public var retryableByDefault: Bool {
        switch self {
        case .connectionFailed, .rateLimited, .timeout: return true
        default: return false
        }
    }
}

/// Whether a failed write took effect. `unknown` forbids a blind retry: the host reads the
/// target state first.
public enum WriteOutcome: String, Sendable {
    case applied
    case notApplied
    case unknown
}

/// An application error, as connectors throw it and as the host receives it.
public struct ConnectorError: Error, Sendable, Equatable, CustomStringConvertible {
    public var kind: ErrorKind
    public var message: String
    public var retryable: Bool
    public var outcome: WriteOutcome?
    public var retryAfterMs: Int?
    /// Extra machine-readable facts (an HTTP status, a SCIM `scimType`, an evidence path).
    public var details: JSONValue

    public init(_ kind: ErrorKind, _ message: String, retryable: Bool? = nil, outcome: WriteOutcome? = nil,
                retryAfterMs: Int? = nil, details: JSONValue = .null) {
        self.kind = kind
        self.message = message
        self.retryable = retryable ?? kind.retryableByDefault
        self.outcome = outcome
        self.retryAfterMs = retryAfterMs
        self.details = details
    }

    public var description: String { "\(kind.rawValue): \(message)" }

    /// The error as it goes on the wire. Invalid arguments use JSON-RPC's invalid-params code
    /// so generic clients understand them too.
    public var rpcError: RPCError {
        var data = JSONObjectBuilder(capacity: 5)
        data.set("kind", kind.rawValue)
        data.set("retryable", retryable)
        data.set("outcome", outcome?.rawValue)
        data.set("retryAfterMs", retryAfterMs)
        if !details.isNull { data.set("details", details) }
        let code: RPCError.Code = kind == .invalidArgument ? .invalidParams : .connectorError
        return RPCError(code: code, message: message, data: data.value)
    }

    /// Reads an application error from a wire error; nil when the error carries no `kind`.
    public init?(rpcError: RPCError) {
        guard let kindName = rpcError.data["kind"].stringValue else { return nil }
        let kind = ErrorKind(rawValue: kindName) ?? .internal
        self.init(kind, rpcError.message,
                  retryable: rpcError.data["retryable"].boolValue,
                  outcome: rpcError.data["outcome"].stringValue.flatMap(WriteOutcome.init(rawValue:)),
                  retryAfterMs: rpcError.data["retryAfterMs"].intValue,
                  details: rpcError.data["details"])
    }
}
