import ConnectorKit
import Foundation
import StewardProtocol

// A connector for tests and benchmarks.
//
// With no argument it is a well-behaved ConnectorKit connector serving synthetic accounts
// (settings: `accounts`, how many; default 10). With an argument it misbehaves on purpose,
// speaking the protocol by hand so it can break it:
//   crash-after N      exits with status 3 on the Nth data request
//   hang               never answers accounts/list, and ignores cancel
//   garbage            answers accounts/list with a line that is not JSON
//   huge-line          answers accounts/list with a 20 MiB line
//   ignore-shutdown    answers shutdown but never exits, and ignores SIGTERM
//   old-protocol       answers initialize choosing protocol 2.0
// `stateful MODE` is a small app with its state in a file, which breaks the protocol only after
// a write took effect (see StatefulApp.swift).

let arguments = Array(CommandLine.arguments.dropFirst())

if arguments.first == "stateful" {
    runStatefulApp(mode: arguments.dropFirst().first ?? "honest")
}
if let mode = arguments.first {
    runMisbehaving(mode: mode, argument: arguments.dropFirst().first.flatMap(Int.init) ?? 1)
}

let connector = Connector(name: "test", version: "0.0.1") { setup in
    let total = try setup.settingsFields.optionalInt("accounts") ?? 10
    let grantsPerAccount = try setup.settingsFields.optionalInt("grantsPerAccount") ?? 0
    var h = Handlers()
    h.listAccounts = { params, _ in
        let start = params.cursor.flatMap(Int.init) ?? 0
        let end = min(start + (params.pageSize ?? 100), total)
        var items: [Account] = []
        items.reserveCapacity(max(0, end - start))
        for i in start..<max(start, end) {
            items.append(Account(id: "u\(i)", userName: "user\(i)@example.com", email: "user\(i)@example.com",
                                 displayName: "User \(i)", status: i % 10 == 0 ? .disabled : .active,
                                 lastLoginAt: "2026-11-01T10:00:00Z"))
        }
        return Page(items: items, nextCursor: end < total ? String(end) : nil)
    }
    h.getAccount = { params, _ in
        guard let id = params.id, id.hasPrefix("u"), let i = Int(id.dropFirst()), i < total else { return nil }
        return Account(id: id, userName: "user\(i)@example.com")
    }
    h.disableAccount = { params, _ in MutationResult(alreadyApplied: false) }
    h.entitlementTypes = [
        .init("role", cardinality: .single, values: ["Admin", "Viewer"], list: { _, _ in
            Page(items: [Entitlement(type: "role", id: "r-admin", name: "Admin", rank: 2),
                         Entitlement(type: "role", id: "r-viewer", name: "Viewer", rank: 1)])
        }),
        .init("group", cardinality: .multi, list: { params, _ in
            params.cursor == nil
                ? Page(items: [Entitlement(type: "group", id: "g1", name: "one")], nextCursor: "next")
                : Page(items: [Entitlement(type: "group", id: "g2", name: "two")])
        }),
    ]
    if grantsPerAccount > 0 {
        h.listGrants = { _, _ in Page(items: [Grant(accountId: "u1", type: "group", entitlementId: "g1")]) }
    }
    h.validate = { _ in
        // A stray print must land on stderr, not corrupt the protocol stream.
        print("stray output from a handler")
        return ValidateResult(ok: true)
    }
    return h
}
await connector.run()

// MARK: - Misbehaviour

func runMisbehaving(mode: String, argument: Int) -> Never {
    signal(SIGPIPE, SIG_IGN)
    if mode == "ignore-shutdown" { signal(SIGTERM, SIG_IGN) }
    let reader = LineReader(fd: 0)
    var dataRequests = 0
    func send(_ m: RPCMessage) {
        var bytes = m.encoded()
        bytes.append(0x0A)
        FDWrite.all(1, bytes)
    }
    while (try? reader.nextLine({ line in
        guard case .request(let id, let method, _)? = try? RPCMessage.decode(line) else { return }
        switch method {
        case Method.initialize:
            let caps = Capabilities(accounts: [.list])
            send(.response(id: id, result: InitializeResult(protocolVersion: mode == "old-protocol" ? "2.0" : "1.0",
                                                             connector: PeerInfo(name: "misbehaving", version: "0"),
                                                             capabilities: caps).json))
        case Method.shutdown:
            send(.response(id: id, result: [:]))
        case Method.ping:
            send(.response(id: id, result: [:]))
        default:
            dataRequests += 1
            switch mode {
            case "crash-after" where dataRequests >= argument:
                exit(3)
            case "hang":
                return
            case "garbage":
                FDWrite.all(1, Array("this is not json\n".utf8))
            case "huge-line":
                var line = Array("{\"jsonrpc\":\"2.0\",\"id\":\(id),\"result\":{\"items\":[],\"pad\":\"".utf8)
                line.append(contentsOf: repeatElement(UInt8(ascii: "x"), count: 20 * 1024 * 1024))
                line.append(contentsOf: Array("\"}}\n".utf8))
                FDWrite.all(1, line)
            default:
                send(.response(id: id, result: Page<Account>(items: [Account(id: "a\(dataRequests)", userName: "n\(dataRequests)")]).json))
            }
        }
    })) == true {}
    if mode == "ignore-shutdown" {
        while true { sleep(60) }
    }
    exit(0)
}
