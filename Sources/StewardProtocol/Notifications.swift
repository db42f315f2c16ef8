// Params of the notifications.

/// `log`: a line for the host's log, tagged there with the app id.
public struct LogParams: JSONConvertible, Hashable {
    public enum Level: String, Sendable, CaseIterable, Comparable {
        case debug, info, warning, error

        public static func < (a: Level, b: Level) -> Bool { a.severity < b.severity }

        private var severity: Int {
            switch self {
            case .debug: return 0
            case .info: return 1
            case .warning: return 2
            case .error: return 3
            }
        }
    }

    public var level: Level
    public var message: String
    /// A stable name for what happened, for the host to act on (`recipe.fallback`: a fallback
    /// selector rescued a browser recipe's step); free text has none.
    public var code: String?
    /// Facts that go with `code`, such as the step and the fallback used.
    public var data: JSONValue?

    public init(level: Level, message: String, code: String? = nil, data: JSONValue? = nil) {
        self.level = level
        self.message = message
        self.code = code
        self.data = data
    }

    public init(json: JSONValue, path: String) throws {
        let f = try JSONFields(json, path: path)
        level = (try f.optionalString("level")).flatMap(Level.init(rawValue:)) ?? .info
        message = try f.string("message")
        code = try f.optionalString("code")
        data = f.has("data") ? f.object["data"] : nil
    }

    public var json: JSONValue {
        var b = JSONObjectBuilder(capacity: 4)
        b.set("level", level.rawValue)
        b.set("message", message)
        b.set("code", code)
        b.set("data", data)
        return b.value
    }
}

/// `progress`: how far a long request has come.
public struct ProgressParams: JSONConvertible, Hashable {
    /// The request this is about.
    public var requestId: RequestID?
    public var message: String?
    public var completed: Int?
    public var total: Int?

    public init(requestId: RequestID?, message: String? = nil, completed: Int? = nil, total: Int? = nil) {
        self.requestId = requestId
        self.message = message
        self.completed = completed
        self.total = total
    }

    public init(json: JSONValue, path: String) throws {
        let f = try JSONFields(json, path: path)
        requestId = f.object["requestId"].flatMap(RequestID.init(json:))
        message = try f.optionalString("message")
        completed = try f.optionalInt("completed")
        total = try f.optionalInt("total")
    }

    public var json: JSONValue {
        var b = JSONObjectBuilder(capacity: 4)
        b.set("requestId", requestId?.json)
        b.set("message", message)
        b.set("completed", completed)
        b.set("total", total)
        return b.value
    }
}

/// `rateLimit`: the app's remaining request budget as its last response reported it.
public struct RateLimitParams: JSONConvertible, Hashable {
    public var limit: Int?
    public var remaining: Int?
    /// Milliseconds until the budget resets.
    public var resetMs: Int?

    public init(limit: Int? = nil, remaining: Int? = nil, resetMs: Int? = nil) {
        self.limit = limit
        self.remaining = remaining
        self.resetMs = resetMs
    }

    public init(json: JSONValue, path: String) throws {
        let f = try JSONFields(json, path: path)
        limit = try f.optionalInt("limit")
        remaining = try f.optionalInt("remaining")
        resetMs = try f.optionalInt("resetMs")
    }

    public var json: JSONValue {
        var b = JSONObjectBuilder(capacity: 3)
        b.set("limit", limit)
        b.set("remaining", remaining)
        b.set("resetMs", resetMs)
        return b.value
    }
}

/// `cancel`: the host no longer wants the answer to request `id`.
public struct CancelParams: JSONConvertible, Hashable {
    public var id: RequestID

    public init(id: RequestID) { self.id = id }

    public init(json: JSONValue, path: String) throws {
        let f = try JSONFields(json, path: path)
        guard let raw = f.object["id"], let id = RequestID(json: raw) else {
            throw ConnectorError(.invalidArgument, "\(f.childPath("id")): required, a request id")
        }
        self.id = id
    }

    public var json: JSONValue { ["id": id.json] }
}
