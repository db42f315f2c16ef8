import StewardHost
import StewardProtocol

/// Records what connectors tell the host (log lines, rate-limit reports), for assertions.
public final class ConnectorEventLog: Sendable {
    private let logs = Locked<[LogRecord]>([])
    private let limits = Locked<[RateLimitParams]>([])

    public init() {}

    /// Handlers to give a connector's launch.
    public var events: ConnectorEvents {
        ConnectorEvents(log: { [logs] record in logs.withLock { $0.append(record) } },
                        rateLimit: { [limits] _, params in limits.withLock { $0.append(params) } })
    }

    public var records: [LogRecord] { logs.withLock { $0 } }
    public var logMessages: [String] { records.map(\.message) }
    public var rateLimits: [RateLimitParams] { limits.withLock { $0 } }
}
