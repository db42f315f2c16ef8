import ConnectorKit
import Foundation
import StewardProtocol

// `steward-test-connector stateful MODE`: a small app whose accounts and group memberships live
// in a JSON file (settings `stateFile`), so what a write did survives the connector dying, and
// the host's reads after a lost answer see the truth. It speaks the protocol by hand so that it
// can break it right after a write took effect:
//   honest               answers every request properly
//   garbage-after-write  performs each write, then answers with a line that is not JSON
//   exit-after-write     performs each write, then exits without answering
//   lie-about-revokes    answers grants/remove with alreadyApplied and changes nothing
// Settings: `stateFile` (required), `seed` (accounts to start with: [{id, userName, email,
// groups}]) used when the file does not exist yet.

struct StatefulStore {
    var accounts: [Account] = []
    var groups: Set<Grant> = []
    let file: String

    init(settings: JSONValue) {
        file = settings["stateFile"].stringValue ?? "stateful-app.json"
        if let data = FileManager.default.contents(atPath: file), let json = try? JSONParser.parse(data) {
            accounts = (json["accounts"].arrayValue ?? []).compactMap { try? Account(json: $0) }
            groups = Set((json["grants"].arrayValue ?? []).compactMap { try? Grant(json: $0) })
            return
        }
        for seed in settings["seed"].arrayValue ?? [] {
            guard let id = seed["id"].stringValue else { continue }
            accounts.append(Account(id: id, userName: seed["userName"].stringValue ?? id, email: seed["email"].stringValue))
            for g in seed["groups"].arrayValue ?? [] {
                if let name = g.stringValue { groups.insert(Grant(accountId: id, type: "group", entitlementId: name)) }
            }
        }
        save()
    }

    /// Writes through a temporary file and a rename, like a real app's database would commit.
    func save() {
        let json: JSONValue = ["accounts": .array(accounts.map(\.json)),
                               "grants": .array(groups.sorted { ($0.accountId, $0.entitlementId) < ($1.accountId, $1.entitlementId) }.map(\.json))]
        let tmp = file + ".tmp"
        _ = FileManager.default.createFile(atPath: tmp, contents: Data(JSONWriter.bytes(json)))
        _ = rename(tmp, file)
    }

    func account(matching p: JSONValue) -> Account? {
        accounts.first { a in
            (p["id"].stringValue.map { $0 == a.id } ?? true) && (p["userName"].stringValue.map { $0 == a.userName } ?? true)
                && (p["email"].stringValue.map { $0 == a.email } ?? true)
        }
    }
}

func runStatefulApp(mode: String) -> Never {
    signal(SIGPIPE, SIG_IGN)
    let reader = LineReader(fd: 0)
    var store: StatefulStore?
    func send(_ m: RPCMessage) {
        var bytes = m.encoded()
        bytes.append(0x0A)
        FDWrite.all(1, bytes)
    }
    /// After a write took effect: answer it, or break the protocol as the mode says.
    func answerWrite(_ id: RequestID, _ result: JSONValue) {
        switch mode {
        case "garbage-after-write": FDWrite.all(1, Array("this is not json\n".utf8))
        case "exit-after-write": exit(0)
        case "slow-writes":
            // The write took effect; the answer comes three seconds later (an app that is slow
            // to confirm), so a test can stop the host with a write in flight.
            usleep(3_000_000)
            send(.response(id: id, result: result))
        default: send(.response(id: id, result: result))
        }
    }
    while (try? reader.nextLine({ line in
        guard case .request(let id, let method, let params)? = try? RPCMessage.decode(line) else { return }
        switch method {
        case Method.initialize:
            store = StatefulStore(settings: params["settings"])
            let caps = Capabilities(accounts: [.list, .get, .disable, .enable], entitlementTypes: [
                EntitlementTypeCapability(type: "group", cardinality: .multi, list: true, grant: true, revoke: true),
            ], grantsList: true)
            send(.response(id: id, result: InitializeResult(protocolVersion: "1.0", connector: PeerInfo(name: "stateful", version: "0"), capabilities: caps).json))
        case Method.shutdown, Method.ping:
            send(.response(id: id, result: [:]))
        case Method.accountsList:
            send(.response(id: id, result: Page(items: store?.accounts ?? []).json))
        case Method.accountsGet:
            send(.response(id: id, result: AccountGetResult(account: store?.account(matching: params)).json))
        case Method.entitlementsList:
            send(.response(id: id, result: Page(items: [Entitlement(type: "group", id: "eng", name: "eng"),
                                                         Entitlement(type: "group", id: "ops", name: "ops")]).json))
        case Method.grantsList:
            let only = params["accountId"].stringValue
            let grants = (store?.groups ?? []).filter { only == nil || $0.accountId == only }
            send(.response(id: id, result: Page(items: grants.sorted { ($0.accountId, $0.entitlementId) < ($1.accountId, $1.entitlementId) }).json))
        case Method.accountsDisable, Method.accountsEnable:
            guard let i = store?.accounts.firstIndex(where: { $0.id == params["id"].stringValue }) else {
                send(.errorResponse(id: id, error: ConnectorError(.notFound, "no such account", outcome: .notApplied).rpcError))
                return
            }
            let wanted: AccountStatus = method == Method.accountsDisable ? .disabled : .active
            let already = store?.accounts[i].status == wanted
            store?.accounts[i].status = wanted
            store?.save()
            answerWrite(id, MutationResult(alreadyApplied: already, account: store?.accounts[i]).json)
        case Method.grantsAdd, Method.grantsRemove:
            guard let account = params["accountId"].stringValue, let group = params["entitlementId"].stringValue else {
                send(.errorResponse(id: id, error: RPCError(code: .invalidParams, message: "accountId and entitlementId are required")))
                return
            }
            let grant = Grant(accountId: account, type: "group", entitlementId: group)
            if method == Method.grantsRemove && mode == "lie-about-revokes" {
                send(.response(id: id, result: MutationResult(alreadyApplied: true).json))
                return
            }
            let changed = method == Method.grantsAdd ? store?.groups.insert(grant).inserted ?? false : store?.groups.remove(grant) != nil
            store?.save()
            answerWrite(id, MutationResult(alreadyApplied: !changed).json)
        default:
            send(.errorResponse(id: id, error: RPCError(code: .methodNotFound, message: "no method \(method)")))
        }
    })) == true {}
    exit(0)
}
