import Foundation
import StewardProtocol

/// The checks that change nothing in the app: liveness, listings and their paging, lookups,
/// refused writes, undeclared methods, malformed input, shutdown, cancel and version refusal.
struct ConformanceReadChecks {
    let check: ConformanceCheck
    let capabilities: Capabilities

    /// The listing methods the connector declares, in the order they are checked.
    var listings: [String] {
        var methods: [String] = []
        if capabilities.personsList { methods.append(Method.personsList) }
        if capabilities.accounts.contains(.list) { methods.append(Method.accountsList) }
        if capabilities.entitlementTypes.contains(where: \.list) { methods.append(Method.entitlementsList) }
        if capabilities.grantsList { methods.append(Method.grantsList) }
        if capabilities.evidenceList { methods.append(Method.evidenceList) }
        return methods
    }

    /// The checks before any write.
    func steps() -> [ConformanceStep] {
        var steps = [ConformanceStep(name: "ping") { await Self.answers($0, Method.ping) }]
        if capabilities.validate { steps.append(ConformanceStep(name: "validate") { await Self.answers($0, Method.validate) }) }
        for method in listings {
            steps.append(ConformanceStep(name: method) { await listsToTheEnd($0, method) })
            steps.append(ConformanceStep(name: "\(method) pageSize") { await Self.honoursPageSize($0, method) })
            steps.append(ConformanceStep(name: "\(method) same cursor") { await Self.repeatsPages($0, method) })
        }
        steps += lookupSteps()
        let unknownIdMethods = [AccountOperation.disable, .enable, .update].filter { capabilities.accounts.contains($0) }.map(\.method)
        if !unknownIdMethods.isEmpty {
            steps.append(ConformanceStep(name: "unknown id answers notFound") { await Self.unknownIdIsNotFound($0, unknownIdMethods) })
        }
        for method in capabilities.methods where Method.mutations.contains(method) {
            steps.append(ConformanceStep(name: "\(method) rejects bad params") { await Self.rejectsBadParams($0, method) })
        }
        steps.append(ConformanceStep(name: "undeclared methods") { await undeclaredAreNotFound($0) })
        return steps
    }

    /// The checks after the writes: malformed input, then shutdown.
    func closingSteps() -> [ConformanceStep] {
        [
            ConformanceStep(name: "malformed JSON") { await Self.answersMalformedJSON($0) },
            ConformanceStep(name: "invalid request") { await Self.answersInvalidRequest($0) },
            ConformanceStep(name: "alive after bad input") { await Self.answers($0, Method.ping) },
            ConformanceStep(name: "shutdown") { await Self.shutsDown($0) },
        ]
    }

    // MARK: Liveness

    private static func answers(_ s: ConformanceSession, _ method: String) async -> ConformanceVerdict {
        let exchange = await s.call(method, [:])
        return exchange.result != nil ? .passed("answered") : .failed(exchange.line)
    }

    // MARK: Listings

    /// Pages to the end: every item parses, the listing ends, no cursor comes twice.
    private func listsToTheEnd(_ s: ConformanceSession, _ method: String) async -> ConformanceVerdict {
        switch method {
        case Method.personsList: return await pages(s, method, Person.self)
        case Method.accountsList: return await pages(s, method, Account.self) { s.listedAccounts = $0 }
        case Method.entitlementsList: return await pages(s, method, Entitlement.self)
        case Method.evidenceList: return await pages(s, method, EvidenceRecord.self)
        default: return await pages(s, method, Grant.self)
        }
    }

    private func pages<Item: JSONConvertible>(_ s: ConformanceSession, _ method: String, _ type: Item.Type,
                                              firstPage: (([Item]) -> Void)? = nil) async -> ConformanceVerdict {
        var params = ListParams(pageSize: check.pageSize)
        var seen: Set<String> = []
        var count = 0
        var pages = 0
        let limit = max(60, check.timeout * 6)
        let deadline = Date().addingTimeInterval(limit)
        while true {
            let page: Page<Item>
            switch await s.request(method, params.json, as: Page<Item>.self) {
            case .success(let p): page = p
            case .failure(let f): return .from(f)
            }
            if pages == 0 { firstPage?(page.items) }
            pages += 1
            count += page.items.count
            guard let next = page.nextCursor else { break }
            if !seen.insert(next).inserted {
                return .failed("sent \(method) \(ConformanceWords.json(params.json)); got cursor \"\(next.prefix(60))\" a second time (page \(pages)); a cursor must move forward")
            }
            if Date() > deadline { return .failed("the listing did not end within \(formatSeconds(limit)) (\(pages) pages)") }
            params.cursor = next
        }
        return .passed("\(count) items in \(pages) page\(pages == 1 ? "" : "s"), paging ends")
    }

    /// Never more items than asked for.
    private static func honoursPageSize(_ s: ConformanceSession, _ method: String) async -> ConformanceVerdict {
        var counts: [Int] = []
        for size in [1, 2] {
            let exchange = await s.call(method, ListParams(pageSize: size).json)
            guard let items = exchange.result?["items"].arrayValue else { return .failed(exchange.line) }
            if items.count > size { return .failed("\(exchange.sent); got \(items.count) items") }
            counts.append(items.count)
        }
        return .passed("asked for 1 and 2 items, got \(counts[0]) and \(counts[1])")
    }

    /// The same cursor twice gives the same page: the host asks again with the same cursor
    /// when a page fails with a retryable error.
    private static func repeatsPages(_ s: ConformanceSession, _ method: String) async -> ConformanceVerdict {
        let first = await s.call(method, ListParams(pageSize: 1).json)
        guard let page = first.result, page["items"].arrayValue != nil else { return .failed(first.line) }
        guard let cursor = page["nextCursor"].stringValue else {
            return .skipped("the first page at pageSize 1 is the last, so there is no cursor to repeat")
        }
        let params = ListParams(cursor: cursor, pageSize: 1).json
        var answers: [JSONValue] = []
        for _ in 0..<2 {
            let exchange = await s.call(method, params)
            guard let result = exchange.result, result["items"].arrayValue != nil else { return .failed(exchange.line) }
            answers.append(result)
        }
        let (a, b) = (summary(answers[0]), summary(answers[1]))
        guard a == b else { return .failed("sent \(method) \(ConformanceWords.json(params)) twice; got \(a), then \(b)") }
        return .passed("cursor \"\(cursor.prefix(40))\" twice gave \(a) both times")
    }

    /// A page in a few words: its items' identities and whether another page follows.
    private static func summary(_ page: JSONValue) -> String {
        let ids = (page["items"].arrayValue ?? []).map(identity)
        return "[\(ids.joined(separator: ", "))]" + (page["nextCursor"].isNull ? " as the last page" : " with a next page")
    }

    private static func identity(_ item: JSONValue) -> String {
        if let account = item["accountId"].stringValue {
            return "\(account) \(item["type"].stringValue ?? "?"):\(item["entitlementId"].stringValue ?? "?")"
        }
        if let type = item["type"].stringValue, let id = item["id"].stringValue { return "\(type):\(id)" }
        return item["id"].stringValue ?? ConformanceWords.json(item, limit: 40)
    }

    // MARK: Lookups

    private func lookupSteps() -> [ConformanceStep] {
        guard capabilities.accounts.contains(.get) else {
            guard capabilities.accounts.contains(.list) else { return [] }
            return [ConformanceStep(name: Method.accountsGet) { _ in
                .skipped("not declared, so the host cannot read an account back to settle a write whose answer was lost")
            }]
        }
        return [
            ConformanceStep(name: Method.accountsGet) { await Self.getsById($0) },
            ConformanceStep(name: "\(Method.accountsGet) by userName") { s in
                guard let known = s.listedAccounts.first else { return .skipped("no account was listed to look up") }
                return await Self.finds(s, known, AccountGetParams(userName: known.userName), by: "userName", known.userName)
            },
            ConformanceStep(name: "\(Method.accountsGet) by email") { s in
                guard let known = s.listedAccounts.first(where: { $0.email?.isEmpty == false }), let email = known.email else {
                    return .skipped(s.listedAccounts.isEmpty ? "no account was listed to look up" : "no listed account has an email")
                }
                return await Self.finds(s, known, AccountGetParams(email: email), by: "email", email)
            },
        ]
    }

    /// An absent id answers no account (not an error); the first listed account is found by id.
    private static func getsById(_ s: ConformanceSession) async -> ConformanceVerdict {
        let absent = await s.call(Method.accountsGet, AccountGetParams(id: s.absentId).json)
        if absent.failure?.connectorError?.kind == .notFound {
            return .failed("\(absent.line); an absent account must answer {} (no account), not a notFound error")
        }
        switch absent.decode(AccountGetResult.self) {
        case .failure(let f): return .from(f)
        case .success(let r) where r.account != nil: return .failed("\(absent.line); that id does not exist")
        case .success: break
        }
        guard let known = s.listedAccounts.first else { return .passed("an absent account answers no account (none was listed to find)") }
        let found = await s.call(Method.accountsGet, AccountGetParams(id: known.id).json)
        switch found.decode(AccountGetResult.self) {
        case .failure(let f): return .from(f)
        case .success(let r) where r.account?.id != known.id:
            return .failed("\(found.line); expected listed account \(known.id)")
        case .success: return .passed("finds listed account \(known.id) by id; an absent one answers no account")
        }
    }

    /// The host looks accounts up by `userName`, then `email`, to settle a create whose answer
    /// was lost; a lookup must find the account the listing showed.
    private static func finds(_ s: ConformanceSession, _ known: Account, _ params: AccountGetParams, by field: String,
                              _ value: String) async -> ConformanceVerdict {
        let exchange = await s.call(Method.accountsGet, params.json)
        switch exchange.decode(AccountGetResult.self) {
        case .failure(let f): return .from(f)
        case .success(let r):
            guard let found = r.account else { return .failed("\(exchange.line) (no account); expected listed account \(known.id)") }
            let matches = found.id == known.id
                || (field == "userName" ? found.userName : found.email ?? "").lowercased() == value.lowercased()
            return matches ? .passed("finds \(found.id) by \(field) \(value)") : .failed("\(exchange.line); expected listed account \(known.id)")
        }
    }

    // MARK: Refused writes

    /// A write to an account that does not exist answers `notFound` (and so changes nothing).
    private static func unknownIdIsNotFound(_ s: ConformanceSession, _ methods: [String]) async -> ConformanceVerdict {
        for method in methods {
            let params: JSONValue = method == Method.accountsUpdate
                ? AccountUpdateParams(idempotencyKey: s.key(), id: s.absentId, changes: ["displayName": "Steward check"]).json
                : AccountRefParams(idempotencyKey: s.key(), id: s.absentId).json
            let exchange = await s.call(method, params)
            if exchange.failure?.connectorError?.kind != .notFound { return .failed("\(exchange.line); expected a notFound error") }
        }
        return .passed("\(methods.joined(separator: ", ")) answer\(methods.count == 1 ? "s" : "") notFound")
    }

    /// A write without an idempotency key is refused as invalid params.
    private static func rejectsBadParams(_ s: ConformanceSession, _ method: String) async -> ConformanceVerdict {
        let exchange = await s.call(method, ["id": .string(s.absentId)])
        switch exchange.failure?.reason {
        case .rpc(let e)? where e.code == RPCError.Code.invalidParams.rawValue: return .passed("invalid params")
        case .connector(let e)? where e.kind == .invalidArgument: return .passed("invalid params")
        case nil: return .failed("\(exchange.line); a request without idempotencyKey must be refused")
        default: return .failed("\(exchange.line); expected invalid params (-32602)")
        }
    }

    /// Undeclared and unknown methods answer method-not-found.
    private func undeclaredAreNotFound(_ s: ConformanceSession) async -> ConformanceVerdict {
        let every = [Method.validate, Method.personsList, Method.entitlementsList, Method.grantsList, Method.grantsAdd,
                     Method.grantsRemove, Method.notifySend, Method.evidenceList] + AccountOperation.allCases.map(\.method)
        let undeclared = every.filter { !capabilities.supports(method: $0) } + ["steward/no-such-method"]
        var problems: [String] = []
        for method in undeclared {
            let exchange = await s.call(method, ["idempotencyKey": .string(s.key()), "id": .string(s.absentId),
                                                 "accountId": .string(s.absentId), "type": "x", "entitlementId": "x"])
            if exchange.failure?.isMethodNotFound != true { problems.append(exchange.line) }
            if !s.isAlive { break }
        }
        guard problems.isEmpty else {
            let more = problems.count > 2 ? "; and \(problems.count - 2) more" : ""
            return .failed(problems.prefix(2).joined(separator: "; ") + more + "; expected method not found (-32601)")
        }
        return .passed("\(undeclared.count) answer method-not-found")
    }

    // MARK: Malformed input and shutdown

    private static func answersMalformedJSON(_ s: ConformanceSession) async -> ConformanceVerdict {
        s.connection.sendRaw(Array("{this is not json\n".utf8))
        guard let answer = await s.unmatched.take(within: s.timeout) else {
            return .failed("sent a line that is not JSON; got no answer within \(formatSeconds(s.timeout))")
        }
        if case .errorResponse(nil, let e) = answer, e.code == RPCError.Code.parseError.rawValue { return .passed("parse error (-32700)") }
        return .failed("sent a line that is not JSON; got \(ConformanceWords.json(.string(String(decoding: answer.encoded(), as: UTF8.self)))); expected a parse error (-32700) with id null")
    }

    private static func answersInvalidRequest(_ s: ConformanceSession) async -> ConformanceVerdict {
        let line = #"{"jsonrpc":"2.0","id":"check-invalid","method":42}"#
        s.connection.sendRaw(Array((line + "\n").utf8))
        guard let answer = await s.unmatched.take(within: s.timeout) else {
            return .failed("sent \(line); got no answer within \(formatSeconds(s.timeout))")
        }
        if case .errorResponse(let id, let e) = answer, e.code == RPCError.Code.invalidRequest.rawValue,
           id == nil || id == .string("check-invalid") {
            return .passed("invalid request (-32600)")
        }
        return .failed("sent \(line); got \(String(decoding: answer.encoded(), as: UTF8.self)); expected an invalid request error (-32600)")
    }

    /// Answers `shutdown`, then exits 0 at the end of input, within 5 s of it, by itself.
    private static func shutsDown(_ s: ConformanceSession) async -> ConformanceVerdict {
        let exchange = await s.call(Method.shutdown, [:])
        guard exchange.result != nil else { return .failed(exchange.line) }
        // Time only what the connector does after its input ends: the round trip of the
        // shutdown call says nothing about how it exits, and on a busy machine it can be slow.
        s.connection.closeInput()
        let exitedByItself = await s.connection.waitForExit(5)
        await s.connection.stop(grace: 5)
        let status = s.connection.exit
        if exitedByItself, status?.exited == true, status?.exitCode == 0 {
            return .passed("exited 0 after shutdown and end of input")
        }
        if exitedByItself, let status {
            return .failed("sent shutdown and closed its input; the connector \(status.description), expected status 0")
        }
        return .failed("sent shutdown and closed its input; the connector did not exit within 5 s (it needed a signal)")
    }

    // MARK: On a connector of their own

    /// A cancelled request is still answered: with its result, or with the cancelled error.
    func checkCancel() async -> ConformanceCheck.Result {
        let name = "cancel"
        guard let method = listings.first else {
            return .init(name: name, status: .skipped, detail: "no listing is declared to send and cancel")
        }
        let inbox = ReplyInbox()
        let conn: ConnectorConnection
        do {
            conn = try check.connect(ConnectorEvents(log: { _ in }, unmatchedResponse: { inbox.put($0) }))
        } catch {
            return .init(name: name, status: .failed, detail: "could not start a second connector for this check: \(error)")
        }
        let session = ConformanceSession(connection: conn, timeout: check.timeout, hangGrace: check.options.hangGrace, unmatched: inbox)
        if case .failure(let f) = await check.initialize(session) {
            await conn.kill()
            return .init(name: name, status: .failed, detail: "started a second connector for this check: \(f.line)")
        }
        let id = RequestID.string("steward-check-cancel-\(session.runID)")
        let params = ListParams(pageSize: check.pageSize).json
        var bytes = RPCMessage.request(id: id, method: method, params: params).encoded()
        bytes.append(0x0A)
        bytes += RPCMessage.notification(method: Notification.cancel, params: CancelParams(id: id).json).encoded()
        bytes.append(0x0A)
        conn.sendRaw(bytes)
        let sent = "sent \(method) \(ConformanceWords.json(params)) with id \(id), then cancel for it"
        let answer = await inbox.take(within: check.timeout)
        await conn.kill()
        switch answer {
        case nil:
            return .init(name: name, status: .failed, detail: "\(sent); got no answer within \(formatSeconds(check.timeout)); a cancelled request must still be answered")
        case .response(let answered, _)? where answered == id:
            return .init(name: name, status: .passed, detail: "answered \(method) with its result (it finished before the cancel)")
        case .errorResponse(let answered?, let e)? where answered == id && e.code == RPCError.Code.cancelled.rawValue:
            return .init(name: name, status: .passed, detail: "answered \(method) with the cancelled error (-32800)")
        case .errorResponse(let answered?, let e)? where answered == id:
            let reason: ConnectorFailure.Reason = ConnectorError(rpcError: e).map { .connector($0) } ?? .rpc(e)
            return .init(name: name, status: .failed, detail: "\(sent); got \(ConformanceWords.failure(reason)); expected its result or the cancelled error (-32800)")
        case let other?:
            return .init(name: name, status: .failed, detail: "\(sent); got \(ConformanceWords.stray(other))")
        }
    }

    /// An incompatible protocol version is refused with an error naming both sides.
    func checkVersionRefusal() async -> ConformanceCheck.Result {
        let name = "refuses protocol 99.0"
        let conn: ConnectorConnection
        do {
            conn = try check.connect(ConnectorEvents(log: { _ in }))
        } catch {
            return .init(name: name, status: .failed, detail: "could not start a connector for this check: \(error)")
        }
        let session = ConformanceSession(connection: conn, timeout: check.timeout, hangGrace: check.options.hangGrace, unmatched: ReplyInbox())
        let exchange = await session.call(Method.initialize, check.initializeParams(versions: ["99.0"]).json)
        await conn.kill()
        let offer = "sent initialize offering only protocol 99.0"
        switch exchange.outcome {
        case .success(let result):
            return .init(name: name, status: .failed, detail: "\(offer); it accepted, choosing \(result["protocolVersion"].stringValue ?? "no version")")
        case .failure(let f):
            let message: String
            switch f.reason {
            case .connector(let e): message = e.message
            case .rpc(let e): message = e.message
            default: return .init(name: name, status: .failed, detail: "\(offer); got \(ConformanceWords.failure(f.reason))")
            }
            guard message.contains("99.0") && message.contains(ProtocolVersion.current.description) else {
                return .init(name: name, status: .failed, detail: "\(offer); it refused, but the error should name both versions: \(message)")
            }
            return .init(name: name, status: .passed, detail: "refused, naming both versions")
        }
    }
}
