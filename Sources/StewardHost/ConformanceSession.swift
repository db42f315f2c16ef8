import Foundation
import StewardProtocol

/// One connector process under check: the calls sent to it, the stray replies it sent back,
/// and whether it died (and during which check), so a dead connector is reported once.
///
/// Checks run one after another on one task, so its state needs no lock.
final class ConformanceSession {
    let connection: ConnectorConnection
    let timeout: Double
    let hangGrace: Double
    /// Answers to no pending request: stray replies, and the answers to raw malformed input.
    let unmatched: ReplyInbox

    /// Distinguishes this run's ids, keys and throwaway account from any other run's.
    let runID = String(UInt64.random(in: 0...UInt64.max), radix: 16).suffix(8).description
    private var keys = 0

    /// The check running now.
    private(set) var check = ""
    /// How the connector died, once it has, as a line: the request it was answering and why.
    private(set) var death: String?
    /// The check it died during.
    private(set) var diedDuring: String?
    /// Stray replies seen during the current check.
    private var strays: [RPCMessage] = []

    /// What earlier checks learnt, for later ones.
    var listedAccounts: [Account] = []
    /// The throwaway account of `--writes`, while it is in the app.
    var throwaway: Account?
    var deletedAccount: Account?
    /// The entitlement chosen for the multi-valued grant checks, once one was granted.
    var heldEntitlement: Entitlement?

    init(connection: ConnectorConnection, timeout: Double, hangGrace: Double, unmatched: ReplyInbox) {
        self.connection = connection
        self.timeout = timeout
        self.hangGrace = hangGrace
        self.unmatched = unmatched
    }

    /// A fresh idempotency key.
    func key() -> String {
        keys += 1
        return "steward-check-\(runID)-\(keys)"
    }

    /// An account id no app has.
    var absentId: String { "steward-check-absent-\(runID)" }

    func begin(_ check: String) {
        self.check = check
        strays = []
    }

    /// The stray replies seen during the current check, including any still arriving.
    func endCheck() -> [RPCMessage] {
        strays += unmatched.drain()
        return strays
    }

    /// Sends a request and waits for its answer (or for the connection's own timeout).
    func call(_ method: String, _ params: JSONValue) async -> Exchange {
        let outcome: Swift.Result<JSONValue, ConnectorFailure>
        do {
            outcome = .success(try await connection.call(method, params: params))
        } catch let failure as ConnectorFailure {
            outcome = .failure(failure)
        } catch {
            outcome = .failure(ConnectorFailure(appId: connection.appId, method: method, reason: .protocolViolation("\(error)")))
        }
        strays += unmatched.drain()
        let exchange = Exchange(method: method, params: params, outcome: outcome)
        if case .failure(let failure) = outcome { await noteDeath(failure, exchange) }
        return exchange
    }

    /// Sends a request and decodes its result; a failure comes back as the check's line.
    func request<T: JSONConvertible>(_ method: String, _ params: JSONValue, as type: T.Type) async -> Swift.Result<T, CheckFailure> {
        let exchange = await call(method, params)
        return exchange.decode(type)
    }

    var isAlive: Bool { death == nil && connection.isAlive }

    /// Records the death of the connection, if this failure was (or soon becomes) one. After a
    /// timeout the connection sends `cancel` and kills a connector still silent `hangGrace`
    /// later; waiting for that here charges the death to the check that caused it.
    private func noteDeath(_ failure: ConnectorFailure, _ exchange: Exchange) async {
        guard death == nil else { return }
        switch failure.reason {
        case .timedOut(let seconds):
            let deadline = Date().addingTimeInterval(hangGrace + 1)
            while connection.isAlive && Date() < deadline {
                try? await Task.sleep(nanoseconds: 20_000_000)
            }
            if !connection.isAlive {
                death = "\(exchange.sent); got no answer within \(formatSeconds(seconds)), nor \(formatSeconds(hangGrace)) after cancel, so the checker killed it as hung"
            }
        case .crashed, .protocolViolation, .unavailable:
            if !connection.isAlive { death = exchange.line }
        case .connector, .rpc, .cancelled:
            return
        }
        if death != nil { diedDuring = check }
    }
}

/// One request and what came back, in words for a check's line.
struct Exchange {
    let method: String
    let params: JSONValue
    let outcome: Swift.Result<JSONValue, ConnectorFailure>

    /// `sent accounts/list {"pageSize":1}`; `initialize`'s params are never shown: they carry
    /// the secrets.
    var sent: String {
        method == Method.initialize ? "sent initialize offering protocol \(ProtocolVersion.current)" : "sent \(method) \(ConformanceWords.json(params))"
    }

    /// `got {"items":[]}`, `got a notFound error: no account has id "x"`.
    var got: String {
        switch outcome {
        case .success(let result): return "got \(ConformanceWords.json(result))"
        case .failure(let failure): return "got \(ConformanceWords.failure(failure.reason))"
        }
    }

    /// The whole line for a check this exchange failed.
    var line: String { "\(sent); \(got)" }

    var result: JSONValue? { if case .success(let r) = outcome { return r } else { return nil } }

    var failure: ConnectorFailure? { if case .failure(let f) = outcome { return f } else { return nil } }

    func decode<T: JSONConvertible>(_ type: T.Type) -> Swift.Result<T, CheckFailure> {
        switch outcome {
        case .failure:
            return .failure(CheckFailure(line))
        case .success(let result):
            do {
                return .success(try T(json: result, path: "result"))
            } catch let e as ConnectorError {
                return .failure(CheckFailure("\(sent); got an answer that does not parse (\(e.message)): \(ConformanceWords.json(result))"))
            } catch {
                return .failure(CheckFailure("\(sent); got an answer that does not parse: \(ConformanceWords.json(result))"))
            }
        }
    }
}

/// A check's failure line.
struct CheckFailure: Error {
    let line: String
    init(_ line: String) { self.line = line }
}

/// How checks put what they saw into words: compact JSON cut short, errors by kind and code,
/// never a Swift value's dump.
enum ConformanceWords {
    static func json(_ value: JSONValue, limit: Int = 200) -> String {
        let text = JSONWriter.string(value, sortedKeys: true)
        return text.count > limit ? String(text.prefix(limit - 1)) + "…" : text
    }

    static func failure(_ reason: ConnectorFailure.Reason) -> String {
        switch reason {
        case .connector(let e): return "\(article(e.kind.rawValue)) \(e.kind.rawValue) error: \(e.message)"
        case .rpc(let e): return "JSON-RPC error \(e.code)\(rpcName(e.code).map { " (\($0))" } ?? ""): \(e.message)"
        case .cancelled: return "the cancelled error (-32800)"
        case .timedOut(let s): return "no answer within \(formatSeconds(s))"
        case .crashed(let m), .unavailable(let m): return "no answer: \(m)"
        case .protocolViolation(let m): return "a protocol violation: \(m)"
        }
    }

    /// `a` or `an`, for an error kind.
    static func article(_ word: String) -> String {
        "aeiou".contains(word.prefix(1)) ? "an" : "a"
    }

    static func rpcName(_ code: Int) -> String? {
        switch code {
        case RPCError.Code.parseError.rawValue: return "parse error"
        case RPCError.Code.invalidRequest.rawValue: return "invalid request"
        case RPCError.Code.methodNotFound.rawValue: return "method not found"
        case RPCError.Code.invalidParams.rawValue: return "invalid params"
        case RPCError.Code.internalError.rawValue: return "internal error"
        case RPCError.Code.cancelled.rawValue: return "cancelled"
        default: return nil
        }
    }

    /// A reply to no request, named by its id: `a reply to id 1002, which no request has: {…}`.
    static func stray(_ message: RPCMessage) -> String {
        let text = String(decoding: message.encoded(), as: UTF8.self)
        let shown = text.count > 200 ? String(text.prefix(199)) + "…" : text
        switch message {
        case .response(let id, _), .errorResponse(let id?, _): return "a reply to id \(id), which no request has: \(shown)"
        default: return "a reply to no request: \(shown)"
        }
    }

    /// `steward-check-1a2b (id c0)`.
    static func account(_ a: Account) -> String { "\(a.userName) (id \(a.id))" }
}

/// Collects answers that match no pending request.
final class ReplyInbox: @unchecked Sendable {  // `items` is guarded by `lock`
    private let lock = NSLock()
    private var items: [RPCMessage] = []

    func put(_ m: RPCMessage) { lock.withLock { items.append(m) } }

    /// The first one to arrive within `seconds`, or nil.
    func take(within seconds: Double) async -> RPCMessage? {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if let m = pop() { return m }
            try? await Task.sleep(nanoseconds: 5_000_000)
        }
        return pop()
    }

    /// Everything collected so far.
    func drain() -> [RPCMessage] {
        lock.withLock {
            defer { items.removeAll() }
            return items
        }
    }

    private func pop() -> RPCMessage? {
        lock.withLock { items.isEmpty ? nil : items.removeFirst() }
    }
}
