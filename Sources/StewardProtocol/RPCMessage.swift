/// A JSON-RPC 2.0 request id: the spec allows numbers and strings.
public enum RequestID: Sendable, Hashable, CustomStringConvertible {
    case int(Int)
    case string(String)

    public var json: JSONValue {
        switch self {
        case .int(let i): return .int(i)
        case .string(let s): return .string(s)
        }
    }

    public init?(json: JSONValue) {
        switch json {
        case .int(let i): self = .int(i)
        case .string(let s): self = .string(s)
        default: return nil
        }
    }

    public var description: String {
        switch self {
        case .int(let i): return String(i)
        case .string(let s): return "\"\(s)\""
        }
    }
}

/// One JSON-RPC 2.0 message, as it crosses the connector's stdin or stdout.
public enum RPCMessage: Sendable, Equatable {
    case request(id: RequestID, method: String, params: JSONValue)
    case notification(method: String, params: JSONValue)
    case response(id: RequestID, result: JSONValue)
    case errorResponse(id: RequestID?, error: RPCError)

    /// The message as one line of JSON, without the trailing newline.
    public func encoded() -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(128)
        encode(into: &out)
        return out
    }

    /// Appends the message's JSON (no newline) to `out`; cheaper than building a `JSONValue`
    /// for the envelope because the envelope's keys are written directly.
    public func encode(into out: inout [UInt8]) {
        out.append(contentsOf: Self.prefix)
        switch self {
        case .request(let id, let method, let params):
            out.append(contentsOf: Self.idKey)
            JSONWriter.write(id.json, into: &out)
            out.append(contentsOf: Self.methodKey)
            JSONWriter.writeString(method, into: &out)
            if !params.isNull {
                out.append(contentsOf: Self.paramsKey)
                JSONWriter.write(params, into: &out)
            }
        case .notification(let method, let params):
            out.append(contentsOf: Self.methodKey)
            JSONWriter.writeString(method, into: &out)
            if !params.isNull {
                out.append(contentsOf: Self.paramsKey)
                JSONWriter.write(params, into: &out)
            }
        case .response(let id, let result):
            out.append(contentsOf: Self.idKey)
            JSONWriter.write(id.json, into: &out)
            out.append(contentsOf: Self.resultKey)
            JSONWriter.write(result, into: &out)
        case .errorResponse(let id, let error):
            out.append(contentsOf: Self.idKey)
            JSONWriter.write(id?.json ?? .null, into: &out)
            out.append(contentsOf: Self.errorKey)
            JSONWriter.write(error.json, into: &out)
        }
        out.append(UInt8(ascii: "}"))
    }

    /// Parses one line. Errors say what a JSON-RPC peer should answer: a parse error for bad
    /// JSON, an invalid-request error (with the id when one could be read) for a bad envelope.
    public static func decode(_ line: some Collection<UInt8>) throws(RPCError) -> RPCMessage {
        let json: JSONValue
        do {
            json = try JSONParser.parse(line)
        } catch {
            throw RPCError(code: .parseError, message: "invalid JSON: \(error)")
        }
        return try decode(json)
    }

    public static func decode(_ json: JSONValue) throws(RPCError) -> RPCMessage {
        guard case .object(let o) = json else {
            throw RPCError(code: .invalidRequest, message: "a message must be a JSON object, not \(json.typeName)")
        }
        let rawID = o["id"]
        let id = rawID.flatMap(RequestID.init(json:))
        guard o["jsonrpc"] == .string("2.0") else {
            throw RPCError(code: .invalidRequest, message: "\"jsonrpc\" must be \"2.0\"", id: id)
        }
        if let rawID, id == nil, !rawID.isNull {
            throw RPCError(code: .invalidRequest, message: "\"id\" must be a number or a string")
        }
        if let methodValue = o["method"] {
            guard case .string(let method) = methodValue else {
                throw RPCError(code: .invalidRequest, message: "\"method\" must be a string", id: id)
            }
            let params = o["params"] ?? .null
            switch params {
            case .object, .array, .null: break
            default: throw RPCError(code: .invalidRequest, message: "\"params\" must be an object or an array", id: id)
            }
            if let id { return .request(id: id, method: method, params: params) }
            return .notification(method: method, params: params)
        }
        if let error = o["error"] {
            return .errorResponse(id: id, error: try RPCError(json: error))
        }
        if let result = o["result"], let id {
            return .response(id: id, result: result)
        }
        throw RPCError(code: .invalidRequest, message: "a message needs \"method\", \"result\" or \"error\"", id: id)
    }

    private static let prefix: [UInt8] = Array("{\"jsonrpc\":\"2.0\"".utf8)
    private static let idKey: [UInt8] = Array(",\"id\":".utf8)
    private static let methodKey: [UInt8] = Array(",\"method\":".utf8)
    private static let paramsKey: [UInt8] = Array(",\"params\":".utf8)
    private static let resultKey: [UInt8] = Array(",\"result\":".utf8)
    private static let errorKey: [UInt8] = Array(",\"error\":".utf8)
}
