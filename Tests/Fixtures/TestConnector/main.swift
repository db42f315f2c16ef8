import ConnectorKit
import Foundation
import StewardProtocol

// A connector for tests and benchmarks.
//
// With no argument it is a well-behaved ConnectorKit connector serving synthetic accounts
// (settings: `accounts`, how many; default 10) that it can also create, disable, enable and
// delete, and grant roles (single-valued) and groups (multi-valued) to, all in memory.
//
// With a flaw as argument it is the same connector with one deliberate bug, each failing one
// check of `steward connector check`:
//   ignores-page-size       accounts/list answers 5 items whatever pageSize asks
//   unstable-cursor         accounts/list answers a later page each time a cursor is repeated
//   no-get-by-username      accounts/get refuses to look accounts up by userName
//   unknown-id-succeeds     disabling or enabling an account that does not exist succeeds
//   disable-not-idempotent  disabling a disabled account answers alreadyApplied false
//   disable-invisible       disable answers success but the account stays active
//   held-grant-not-already  adding a group the account holds answers alreadyApplied false
//   remove-not-held-fails   removing a group the account does not hold answers notFound
//   single-adds             granting a role adds it beside the old one instead of replacing it
//   exits-on-disable        exits with status 3 while disabling an account that exists
//
// With any other argument it misbehaves at the protocol level, speaking it by hand (and
// otherwise well: it declares accounts/list only and answers other methods, bad lines and an
// incompatible version as the protocol says):
//   crash-after N      exits with status 3 on the Nth data request
//   hang               never answers accounts/list, and ignores cancel
//   garbage            answers accounts/list with a line that is not JSON
//   huge-line          answers accounts/list with a 20 MiB line
//   ignore-shutdown    answers shutdown but never exits, and ignores SIGTERM
//   old-protocol       answers initialize choosing protocol 2.0
//   wrong-id           answers accounts/list under another request's id
//   ignores-cancel     answers accounts/list 200 ms late, and a cancelled request never
//
// `stateful MODE` is a small app with its state in a file, which breaks the protocol only after
// a write took effect (see StatefulApp.swift).

let arguments = Array(CommandLine.arguments.dropFirst())
let flaw = arguments.first.flatMap(Flaw.init(rawValue:))

if arguments.first == "stateful" {
    runStatefulApp(mode: arguments.dropFirst().first ?? "honest")
}
if flaw == nil, let mode = arguments.first {
    runMisbehaving(mode: mode, argument: arguments.dropFirst().first.flatMap(Int.init) ?? 1)
}

enum Flaw: String {
    case ignoresPageSize = "ignores-page-size"
    case unstableCursor = "unstable-cursor"
    case noGetByUserName = "no-get-by-username"
    case unknownIdSucceeds = "unknown-id-succeeds"
    case disableNotIdempotent = "disable-not-idempotent"
    case disableInvisible = "disable-invisible"
    case heldGrantNotAlready = "held-grant-not-already"
    case removeNotHeldFails = "remove-not-held-fails"
    case singleAdds = "single-adds"
    case exitsOnDisable = "exits-on-disable"
}

let connector = Connector(name: "test", version: "0.0.1") { setup in
    let directory = Directory(synthetic: try setup.settingsFields.optionalInt("accounts") ?? 10)
    // `requestLog: PATH`: each accounts/list request's cursor ("start" for the first) is
    // appended to PATH as it arrives, so a test can see what the host asked for and when.
    let requestLog = try setup.settingsFields.optionalString("requestLog")
    var h = Handlers()
    h.listAccounts = { params, _ in
        if let requestLog, let file = FileHandle(forWritingAtPath: requestLog) {
            file.seekToEndOfFile()
            file.write(Data(((params.cursor ?? "start") + "\n").utf8))
            file.closeFile()
        }
        var start = params.cursor.flatMap(Int.init) ?? 0
        if flaw == .unstableCursor, let cursor = params.cursor { start += directory.timesSeen(cursor) }
        let size = flaw == .ignoresPageSize ? 5 : params.pageSize ?? 100
        return directory.page(from: start, size: size)
    }
    h.getAccount = { params, _ in
        if flaw == .noGetByUserName, params.userName != nil {
            throw ConnectorError(.invalidArgument, "params.userName: this connector cannot look accounts up by userName")
        }
        return directory.find(params)
    }
    h.createAccount = { params, _ in directory.create(params.account) }
    h.disableAccount = { params, _ in
        if flaw == .exitsOnDisable, directory.find(AccountGetParams(id: params.id)) != nil { exit(3) }
        return try directory.setStatus(.disabled, of: params.id)
    }
    h.enableAccount = { params, _ in try directory.setStatus(.active, of: params.id) }
    h.deleteAccount = { params, _ in directory.delete(params.id) }
    h.entitlementTypes = [
        .init("role", cardinality: .single, values: ["Admin", "Viewer"], list: { params, _ in
            let roles = [Entitlement(type: "role", id: "r-admin", name: "Admin", rank: 2),
                         Entitlement(type: "role", id: "r-viewer", name: "Viewer", rank: 1)]
            let start = params.cursor.flatMap(Int.init) ?? 0
            let end = min(start + (params.pageSize ?? roles.count), roles.count)
            return Page(items: Array(roles[start..<end]), nextCursor: end < roles.count ? String(end) : nil)
        }, grant: { params, _ in try directory.grant(params.grant, replacing: flaw != .singleAdds) },
        revoke: { params, _ in try directory.revoke(params.grant) }),
        .init("group", cardinality: .multi, list: { params, _ in
            params.cursor == nil
                ? Page(items: [Entitlement(type: "group", id: "g1", name: "one")], nextCursor: "next")
                : Page(items: [Entitlement(type: "group", id: "g2", name: "two")])
        }, grant: { params, _ in try directory.grant(params.grant, replacing: false) },
        revoke: { params, _ in try directory.revoke(params.grant) }),
    ]
    h.listGrants = { params, _ in directory.grants(params) }
    h.validate = { _ in
        // A stray print must land on stderr, not corrupt the protocol stream.
        print("stray output from a handler")
        return ValidateResult(ok: true)
    }
    return h
}

/// The accounts and grants this connector serves: `synthetic` generated ones (`u0`,
/// `user0@example.com`, every tenth disabled) and those created since it started.
final class Directory: @unchecked Sendable {  // every stored property is guarded by `lock`
    private let lock = NSLock()
    private let synthetic: Int
    private var created: [Account] = []
    private var statuses: [String: AccountStatus] = [:]
    private var deleted: Set<String> = []
    private var held: Set<Grant> = []
    private var cursorsSeen: [String: Int] = [:]

    init(synthetic: Int) { self.synthetic = synthetic }

    func page(from start: Int, size: Int) -> Page<Account> {
        lock.withLock {
            let total = synthetic + created.count
            let end = min(start + size, total)
            let items = (start..<max(start, end)).map { $0 < synthetic ? syntheticAccount($0) : created[$0 - synthetic] }
                .filter { !deleted.contains($0.id) }
                .map { withStatus($0) }
            return Page(items: items, nextCursor: end < total ? String(end) : nil)
        }
    }

    /// How many times `cursor` was asked for before.
    func timesSeen(_ cursor: String) -> Int {
        lock.withLock {
            defer { cursorsSeen[cursor, default: 0] += 1 }
            return cursorsSeen[cursor, default: 0]
        }
    }

    func find(_ params: AccountGetParams) -> Account? {
        lock.withLock { findLocked(params) }
    }

    func create(_ spec: AccountSpec) -> AccountCreateResult {
        lock.withLock {
            if let existing = findLocked(AccountGetParams(userName: spec.userName)) {
                return AccountCreateResult(status: .alreadyExists, account: existing)
            }
            let account = Account(id: "c\(created.count)", userName: spec.userName, email: spec.email, displayName: spec.displayName)
            created.append(account)
            return AccountCreateResult(status: .created, account: account)
        }
    }

    func setStatus(_ status: AccountStatus, of id: String) throws -> MutationResult {
        try lock.withLock {
            guard let account = findLocked(AccountGetParams(id: id)) else {
                if flaw == .unknownIdSucceeds { return MutationResult(alreadyApplied: false) }
                throw ConnectorError(.notFound, "no account has id \"\(id)\"", outcome: .notApplied)
            }
            if account.status == status && flaw != .disableNotIdempotent {
                return MutationResult(alreadyApplied: true, account: account)
            }
            if flaw != .disableInvisible || status != .disabled { statuses[id] = status }
            return MutationResult(alreadyApplied: false)
        }
    }

    func delete(_ id: String) -> MutationResult {
        lock.withLock {
            guard findLocked(AccountGetParams(id: id)) != nil else { return MutationResult(alreadyApplied: true) }
            deleted.insert(id)
            held = held.filter { $0.accountId != id }
            return MutationResult(alreadyApplied: false)
        }
    }

    func grant(_ grant: Grant, replacing: Bool) throws -> MutationResult {
        try lock.withLock {
            guard findLocked(AccountGetParams(id: grant.accountId)) != nil else {
                throw ConnectorError(.notFound, "no account has id \"\(grant.accountId)\"", outcome: .notApplied)
            }
            if held.contains(grant) { return MutationResult(alreadyApplied: flaw != .heldGrantNotAlready) }
            if replacing { held = held.filter { $0.accountId != grant.accountId || $0.type != grant.type } }
            held.insert(grant)
            return MutationResult(alreadyApplied: false)
        }
    }

    func revoke(_ grant: Grant) throws -> MutationResult {
        try lock.withLock {
            guard held.remove(grant) != nil else {
                if flaw == .removeNotHeldFails { throw ConnectorError(.notFound, "\(grant.accountId) does not hold \(grant.entitlementId)", outcome: .notApplied) }
                return MutationResult(alreadyApplied: true)
            }
            return MutationResult(alreadyApplied: false)
        }
    }

    func grants(_ params: ListParams) -> Page<Grant> {
        lock.withLock {
            Page(items: held.filter { g in params.accountId.map { $0 == g.accountId } ?? true && params.type.map { $0 == g.type } ?? true }
                .sorted { ($0.accountId, $0.type, $0.entitlementId) < ($1.accountId, $1.type, $1.entitlementId) })
        }
    }

    private func findLocked(_ params: AccountGetParams) -> Account? {
        let candidates: [Account]
        if let id = params.id {
            if id.hasPrefix("u"), let i = Int(id.dropFirst()), i >= 0, i < synthetic {
                candidates = [syntheticAccount(i)]
            } else {
                candidates = created.filter { $0.id == id }
            }
        } else if let name = params.userName ?? params.email {
            let number = name.hasPrefix("user") && name.hasSuffix("@example.com") ? Int(name.dropFirst(4).dropLast(12)) : nil
            if let i = number, i >= 0, i < synthetic {
                candidates = [syntheticAccount(i)]
            } else {
                candidates = created.filter { params.userName != nil ? $0.userName == name : $0.email == name }
            }
        } else {
            candidates = []
        }
        return candidates.first { !deleted.contains($0.id) }.map { withStatus($0) }
    }

    private func withStatus(_ account: Account) -> Account {
        var a = account
        if let s = statuses[a.id] { a.status = s }
        return a
    }

    private func syntheticAccount(_ i: Int) -> Account {
        Account(id: "u\(i)", userName: "user\(i)@example.com", email: "user\(i)@example.com",
                displayName: "User \(i)", status: i % 10 == 0 ? .disabled : .active,
                lastLoginAt: "2026-11-01T10:00:00Z")
    }
}

// MARK: - Misbehaviour at the protocol level

func runMisbehaving(mode: String, argument: Int) -> Never {
    signal(SIGPIPE, SIG_IGN)
    if mode == "ignore-shutdown" { signal(SIGTERM, SIG_IGN) }
    let reader = LineReader(fd: 0)
    let output = NSLock()
    let cancelled = CancelledRequests()
    var dataRequests = 0
    @Sendable func send(_ m: RPCMessage) {
        var bytes = m.encoded()
        bytes.append(0x0A)
        output.withLock { _ = FDWrite.all(1, bytes) }
    }
    while (try? reader.nextLine({ line in
        if line.isEmpty { return }
        let message: RPCMessage
        do throws(RPCError) {
            message = try RPCMessage.decode(line)
        } catch {
            send(.errorResponse(id: error.id, error: error))
            return
        }
        if case .notification(Notification.cancel, let params) = message, let cancel = try? CancelParams(json: params) {
            cancelled.insert(cancel.id)
            return
        }
        guard case .request(let id, let method, let params) = message else { return }
        switch method {
        case Method.initialize:
            let offered = (params["protocolVersions"].arrayValue ?? []).compactMap(\.stringValue)
            guard mode == "old-protocol" || offered.contains(where: { $0.hasPrefix("1.") }) else {
                send(.errorResponse(id: id, error: ConnectorError(.configuration, "the host offers \(offered.joined(separator: ", ")); this connector speaks 1.0").rpcError))
                return
            }
            let caps = Capabilities(accounts: [.list])
            send(.response(id: id, result: InitializeResult(protocolVersion: mode == "old-protocol" ? "2.0" : "1.0",
                                                             connector: PeerInfo(name: "misbehaving", version: "0"),
                                                             capabilities: caps).json))
        case Method.shutdown:
            send(.response(id: id, result: [:]))
        case Method.ping:
            send(.response(id: id, result: [:]))
        case _ where method != Method.accountsList:
            send(.errorResponse(id: id, error: RPCError(code: .methodNotFound, message: "method \"\(method)\" is not supported")))
        default:
            dataRequests += 1
            let page = Page<Account>(items: [Account(id: "a\(dataRequests)", userName: "n\(dataRequests)")]).json
            switch mode {
            case "crash-after" where dataRequests >= argument:
                exit(3)
            case "hang":
                return
            case "garbage":
                output.withLock { _ = FDWrite.all(1, Array("this is not json\n".utf8)) }
            case "huge-line":
                // Built from one filled buffer: appending 20 Mi elements one by one takes
                // seconds in a debug build, and a loaded CI machine multiplies that.
                let head = Array("{\"jsonrpc\":\"2.0\",\"id\":\(id),\"result\":{\"items\":[],\"pad\":\"".utf8)
                let tail = Array("\"}}\n".utf8)
                var line = [UInt8](repeating: UInt8(ascii: "x"), count: head.count + 20 * 1024 * 1024 + tail.count)
                line.replaceSubrange(0..<head.count, with: head)
                line.replaceSubrange((line.count - tail.count)..<line.count, with: tail)
                output.withLock { _ = FDWrite.all(1, line) }
            case "wrong-id":
                let wrong: RequestID = switch id {
                case .int(let n): .int(n + 1000)
                case .string(let s): .string("not-" + s)
                }
                send(.response(id: wrong, result: page))
            case "ignores-cancel":
                DispatchQueue.global().asyncAfter(deadline: .now() + 0.2) {
                    if !cancelled.contains(id) { send(.response(id: id, result: page)) }
                }
            default:
                send(.response(id: id, result: page))
            }
        }
    })) == true {}
    if mode == "ignore-shutdown" {
        while true { sleep(60) }
    }
    exit(0)
}

/// Ids the host sent `cancel` for, read by the delayed answers of `ignores-cancel`.
final class CancelledRequests: @unchecked Sendable {  // `ids` is guarded by `lock`
    private let lock = NSLock()
    private var ids: Set<RequestID> = []
    func insert(_ id: RequestID) { lock.withLock { _ = ids.insert(id) } }
    func contains(_ id: RequestID) -> Bool { lock.withLock { ids.contains(id) } }
}

await connector.run()
