import StewardProtocol

/// Why a call to a connector failed, as the host sees it.
///
/// An application error from the connector keeps its taxonomy (`ConnectorError`); failures of
/// the connector process itself (crash, garbage on stdout, hang) become their own reasons, so a
/// caller can tell "the app said no" from "the plugin broke".
public struct ConnectorFailure: Error, Sendable, CustomStringConvertible {
    public enum Reason: Sendable {
        /// The connector answered with an application error.
        case connector(ConnectorError)
        /// The connector answered with a JSON-RPC error (method not found, invalid params...).
        case rpc(RPCError)
        case cancelled
        case timedOut(seconds: Double)
        /// The process exited or was killed while the request was in flight.
        case crashed(String)
        /// The connector broke the protocol (a non-JSON line, an over-long line, a repeated cursor).
        case protocolViolation(String)
        /// The connector cannot be started or was given up on.
        case unavailable(String)
    }

    public let appId: String
    public let method: String
    public let reason: Reason
    /// The request reached the connector and its answer was lost or unusable: a write may
    /// have taken effect whatever the reason says.
    public let answerLost: Bool

    public init(appId: String, method: String, reason: Reason, answerLost: Bool = false) {
        self.appId = appId
        self.method = method
        self.reason = reason
        self.answerLost = answerLost
    }

    public var description: String { "app \(appId): \(method): \(reason)" }

    /// The application error, when the connector sent one.
    public var connectorError: ConnectorError? {
        if case .connector(let e) = reason { return e }
        return nil
    }

    /// Whether retrying the same request may succeed. A lost answer is: the connection died,
    /// not the app refusing (the executor reads the target before it retries a write).
    public var retryable: Bool {
        if answerLost { return true }
        switch reason {
        case .connector(let e): return e.retryable
        case .timedOut, .crashed: return true
        default: return false
        }
    }

    /// For writes: whether it took effect. A timeout, a crash, or any answer lost after the
    /// request was sent leaves it unknown, to be settled by reading the target.
    public var outcome: WriteOutcome {
        switch reason {
        case .connector(let e): return e.outcome ?? .notApplied
        case .rpc(let e):
            // The connector refused the request (bad params, no such method) before acting on it;
            // an internal error may come after it acted.
            return e.code == RPCError.Code.internalError.rawValue ? .unknown : .notApplied
        case .unavailable, .protocolViolation: return answerLost ? .unknown : .notApplied
        case .cancelled, .timedOut, .crashed: return .unknown
        }
    }

    public var isMethodNotFound: Bool {
        if case .rpc(let e) = reason { return e.code == RPCError.Code.methodNotFound.rawValue }
        return false
    }
}

extension ConnectorFailure.Reason: CustomStringConvertible {
    /// The reason in words, so that interpolating one never prints a Swift value's dump.
    public var description: String {
        switch self {
        case .connector(let e): return e.description
        case .rpc(let e): return e.description
        case .cancelled: return "cancelled"
        case .timedOut(let s): return "no answer within \(formatSeconds(s))"
        case .crashed(let m): return m
        case .protocolViolation(let m): return "protocol violation: \(m)"
        case .unavailable(let m): return m
        }
    }
}

func formatSeconds(_ s: Double) -> String {
    s >= 1 ? "\(Int(s.rounded())) s" : "\(Int((s * 1000).rounded())) ms"
}
