import StewardProtocol

/// With `--writes`: a throwaway account `steward-check-<random>` is created, granted and
/// revoked entitlements, disabled and enabled the ways the host does it, each effect read back
/// with `accounts/get` and `grants/list`, and deleted (or, with no `accounts/delete`, left
/// disabled, which the report says).
///
/// What the host relies on: writes are idempotent in effect (a second disable, adding a held
/// value and removing one not held all answer `alreadyApplied`), a single-valued type holds
/// one value, and what a write answered is what a fresh read shows.
struct ConformanceWriteChecks {
    let check: ConformanceCheck
    let capabilities: Capabilities

    func steps() -> [ConformanceStep] {
        guard check.writes else {
            // A reminder, for connectors that write at all.
            guard capabilities.methods.contains(where: Method.mutations.contains) else { return [] }
            return [ConformanceStep(name: "writes") { _ in .skipped("not asked for; --writes creates, changes and deletes a throwaway account") }]
        }
        guard capabilities.accounts.contains(.create) else {
            return [ConformanceStep(name: "writes") { _ in .skipped("accounts/create is not declared, so no throwaway account can be made; nothing was written") }]
        }
        return [
            ConformanceStep(name: Method.accountsCreate) { await create($0) },
            ConformanceStep(name: "\(Method.accountsCreate) visible") { s in
                await withAccount(s) { a in await readsStatus(s, a, expecting: nil) }
            },
        ] + multiValuedSteps() + singleValuedSteps() + statusSteps() + deleteSteps()
    }

    // MARK: The throwaway account

    private func create(_ s: ConformanceSession) async -> ConformanceVerdict {
        let name = "steward-check-\(s.runID)"
        let spec = AccountSpec(userName: name, email: "\(name)@example.invalid", displayName: "Steward conformance check",
                               givenName: "Steward", familyName: "Check")
        let exchange = await s.call(Method.accountsCreate, AccountCreateParams(idempotencyKey: s.key(), account: spec).json)
        let result: AccountCreateResult
        switch exchange.decode(AccountCreateResult.self) {
        case .failure(let f): return .from(f)
        case .success(let r): result = r
        }
        switch result.status {
        case .created:
            var account = result.account
            if account == nil, capabilities.accounts.contains(.get),
               case .success(let found) = await s.request(Method.accountsGet, AccountGetParams(userName: name).json, as: AccountGetResult.self) {
                account = found.account
            }
            guard let account else {
                return .failed("\(exchange.line); the answer has no account and accounts/get does not find it by userName, so no other write can be checked")
            }
            s.throwaway = account
            return .passed("created \(ConformanceWords.account(account))")
        case .alreadyExists:
            if let account = result.account { s.throwaway = account }
            return .failed("\(exchange.line); no account named \(name) existed")
        case .actionRequired, .inProgress:
            return .passed("answered \(result.status.rawValue)\(result.message.map { " (\($0))" } ?? ""); the other write checks need an account made at once, so they are skipped")
        }
    }

    private func withAccount(_ s: ConformanceSession, _ body: (Account) async -> ConformanceVerdict) async -> ConformanceVerdict {
        guard let account = s.throwaway else { return .skipped("there is no throwaway account (accounts/create made none)") }
        return await body(account)
    }

    /// `accounts/get` by id shows the account, with `status` when given, or nothing when nil
    /// is expected after a delete (`gone`).
    private func readsStatus(_ s: ConformanceSession, _ account: Account, expecting status: AccountStatus?, gone: Bool = false) async -> ConformanceVerdict {
        guard capabilities.accounts.contains(.get) else { return .skipped("accounts/get is not declared, so the effect cannot be read back") }
        let exchange = await s.call(Method.accountsGet, AccountGetParams(id: account.id).json)
        switch exchange.decode(AccountGetResult.self) {
        case .failure(let f): return .from(f)
        case .success(let r):
            if gone {
                return r.account == nil ? .passed("accounts/get no longer finds \(account.id)") : .failed("\(exchange.line); it was deleted")
            }
            guard let found = r.account, found.id == account.id else { return .failed("\(exchange.line); expected \(ConformanceWords.account(account))") }
            if let status, found.status != status { return .failed("\(exchange.line); expected status \(status.rawValue)") }
            return .passed("accounts/get shows \(found.id)\(status.map { " \($0.rawValue)" } ?? "")")
        }
    }

    /// A write that must change something (`alreadyApplied` false) or must not (true).
    private func write(_ s: ConformanceSession, _ method: String, _ params: JSONValue, alreadyApplied expected: Bool,
                       because reason: String) async -> Swift.Result<Void, CheckFailure> {
        let exchange = await s.call(method, params)
        switch exchange.decode(MutationResult.self) {
        case .failure(let f): return .failure(f)
        case .success(let r) where r.alreadyApplied != expected:
            return .failure(CheckFailure("\(exchange.line); expected alreadyApplied \(expected): \(reason)"))
        case .success: return .success(())
        }
    }

    // MARK: Grants

    /// The first multi-valued type that can be granted: add, add again, remove, remove again.
    private func multiValuedSteps() -> [ConformanceStep] {
        guard let type = capabilities.entitlementTypes.first(where: { $0.cardinality == .multi && $0.grant }) else {
            return [ConformanceStep(name: Method.grantsAdd) { _ in .skipped("no multi-valued entitlement type can be granted") }]
        }
        let t = type.type
        let revokes = type.revoke
        return [
            ConformanceStep(name: "\(Method.grantsAdd) \(t)") { s in
                await withAccount(s) { a in
                    guard let e = await entitlements(s, type).first else { return .skipped("no \(t) is known to grant (entitlements/list lists none)") }
                    let params = GrantChangeParams(idempotencyKey: s.key(), accountId: a.id, type: t, entitlementId: e.id).json
                    if case .failure(let f) = await write(s, Method.grantsAdd, params, alreadyApplied: false, because: "the new account did not hold it") {
                        return .from(f)
                    }
                    s.heldEntitlement = e
                    return .passed("added \(t) \(e.id) to \(a.id)")
                }
            },
            ConformanceStep(name: "\(Method.grantsAdd) \(t) visible") { s in
                await withHeld(s) { a, e in await readsGrant(s, a, t, e.id, held: true) }
            },
            ConformanceStep(name: "\(Method.grantsAdd) \(t) again") { s in
                await withHeld(s) { a, e in
                    let params = GrantChangeParams(idempotencyKey: s.key(), accountId: a.id, type: t, entitlementId: e.id).json
                    let r = await write(s, Method.grantsAdd, params, alreadyApplied: true, because: "adding a value the account holds changes nothing")
                    return r.map { .passed("adding a held \(t) answers alreadyApplied") }.verdict
                }
            },
            ConformanceStep(name: "\(Method.grantsRemove) \(t)") { s in
                guard revokes else { return .skipped("\(t) cannot be revoked (not declared)") }
                return await withHeld(s) { a, e in
                    let params = GrantChangeParams(idempotencyKey: s.key(), accountId: a.id, type: t, entitlementId: e.id).json
                    let r = await write(s, Method.grantsRemove, params, alreadyApplied: false, because: "the account held it")
                    return r.map { .passed("removed \(t) \(e.id) from \(a.id)") }.verdict
                }
            },
            ConformanceStep(name: "\(Method.grantsRemove) \(t) visible") { s in
                guard revokes else { return .skipped("\(t) cannot be revoked (not declared)") }
                return await withHeld(s) { a, e in await readsGrant(s, a, t, e.id, held: false) }
            },
            ConformanceStep(name: "\(Method.grantsRemove) \(t) not held") { s in
                guard revokes else { return .skipped("\(t) cannot be revoked (not declared)") }
                return await withHeld(s) { a, e in
                    let params = GrantChangeParams(idempotencyKey: s.key(), accountId: a.id, type: t, entitlementId: e.id).json
                    let r = await write(s, Method.grantsRemove, params, alreadyApplied: true, because: "removing a value the account does not hold changes nothing")
                    return r.map { .passed("removing a \(t) not held answers alreadyApplied") }.verdict
                }
            },
        ]
    }

    private func withHeld(_ s: ConformanceSession, _ body: (Account, Entitlement) async -> ConformanceVerdict) async -> ConformanceVerdict {
        await withAccount(s) { a in
            guard let e = s.heldEntitlement else { return .skipped("nothing was granted (the first grants/add did not succeed)") }
            return await body(a, e)
        }
    }

    /// The first single-valued type with two known values: granting the second replaces the first.
    private func singleValuedSteps() -> [ConformanceStep] {
        let candidates = capabilities.entitlementTypes.filter { $0.cardinality == .single && $0.grant && ($0.list || ($0.values?.count ?? 0) >= 2) }
        guard let type = candidates.first else {
            return [ConformanceStep(name: "\(Method.grantsAdd) replaces") { _ in .skipped("no single-valued type with two known values can be granted") }]
        }
        let t = type.type
        return [ConformanceStep(name: "\(Method.grantsAdd) \(t) replaces") { s in
            await withAccount(s) { a in
                guard capabilities.grantsList else { return .skipped("grants/list is not declared, so the replacement cannot be read back") }
                // The least privileged values, so the throwaway account never holds much.
                let values = await entitlements(s, type).sorted { ($0.rank ?? 0) < ($1.rank ?? 0) }
                guard values.count >= 2 else { return .skipped("fewer than two \(t) values are known") }
                let (first, second) = (values[0].id, values[1].id)
                for value in [first, second] {
                    let params = GrantChangeParams(idempotencyKey: s.key(), accountId: a.id, type: t, entitlementId: value).json
                    if case .failure(let f) = await write(s, Method.grantsAdd, params, alreadyApplied: false, because: "the account did not hold \(value)") {
                        return .from(f)
                    }
                }
                let verdict: ConformanceVerdict
                switch await heldGrants(s, a.id, t) {
                case .failure(let f): verdict = .from(f)
                case .success(let held) where held == [second]:
                    verdict = .passed("granting \(second) replaced \(first); grants/list shows only \(second)")
                case .success(let held):
                    verdict = .failed("sent grants/add \(t) \(first), then \(second); grants/list then showed \(t) [\(held.joined(separator: ", "))], expected only \(second): granting a single-valued type replaces its value")
                }
                if type.revoke {
                    _ = await s.call(Method.grantsRemove, GrantChangeParams(idempotencyKey: s.key(), accountId: a.id, type: t, entitlementId: second).json)
                }
                return verdict
            }
        }]
    }

    /// The type's values: listed when the type is listable, else the declared value names.
    private func entitlements(_ s: ConformanceSession, _ type: EntitlementTypeCapability) async -> [Entitlement] {
        if type.list, case .success(let page) = await s.request(Method.entitlementsList, ListParams(pageSize: check.pageSize, type: type.type).json,
                                                                 as: Page<Entitlement>.self) {
            return page.items.filter { $0.type == type.type }
        }
        let names = type.values ?? []
        return names.enumerated().map { Entitlement(type: type.type, id: $1, name: $1, rank: names.count - $0) }
    }

    /// The ids of `type` the account holds, read fresh with grants/list (every page).
    private func heldGrants(_ s: ConformanceSession, _ accountId: String, _ type: String) async -> Swift.Result<[String], CheckFailure> {
        var params = ListParams(pageSize: check.pageSize, type: type, accountId: accountId)
        var held: [String] = []
        for _ in 0..<100 {
            switch await s.request(Method.grantsList, params.json, as: Page<Grant>.self) {
            case .failure(let f): return .failure(f)
            case .success(let page):
                held += page.items.filter { $0.accountId == accountId && $0.type == type }.map(\.entitlementId)
                guard let next = page.nextCursor else { return .success(held.sorted()) }
                params.cursor = next
            }
        }
        return .failure(CheckFailure("sent grants/list \(ConformanceWords.json(params.json)); it did not end within 100 pages"))
    }

    private func readsGrant(_ s: ConformanceSession, _ account: Account, _ type: String, _ id: String, held: Bool) async -> ConformanceVerdict {
        guard capabilities.grantsList else { return .skipped("grants/list is not declared, so the effect cannot be read back") }
        switch await heldGrants(s, account.id, type) {
        case .failure(let f): return .from(f)
        case .success(let ids) where ids.contains(id) == held:
            return .passed("grants/list \(held ? "shows" : "no longer shows") \(type) \(id) for \(account.id)")
        case .success(let ids):
            return .failed("sent grants/list \(ConformanceWords.json(ListParams(type: type, accountId: account.id).json)); got \(type) [\(ids.joined(separator: ", "))], \(held ? "without" : "still with") \(id)")
        }
    }

    // MARK: Status

    private func statusSteps() -> [ConformanceStep] {
        func declared(_ op: AccountOperation) -> Bool { capabilities.accounts.contains(op) }
        func notDeclared(_ op: AccountOperation) -> ConformanceVerdict { .skipped("\(op.method) is not declared") }
        return [
            ConformanceStep(name: Method.accountsDisable) { s in
                guard declared(.disable) else { return notDeclared(.disable) }
                return await withAccount(s) { a in
                    await write(s, Method.accountsDisable, AccountRefParams(idempotencyKey: s.key(), id: a.id).json, alreadyApplied: false,
                                because: "the new account was active").map { .passed("disabled \(a.id)") }.verdict
                }
            },
            ConformanceStep(name: "\(Method.accountsDisable) visible") { s in
                guard declared(.disable) else { return notDeclared(.disable) }
                return await withAccount(s) { a in await readsStatus(s, a, expecting: .disabled) }
            },
            ConformanceStep(name: "\(Method.accountsDisable) again") { s in
                guard declared(.disable) else { return notDeclared(.disable) }
                return await withAccount(s) { a in
                    await write(s, Method.accountsDisable, AccountRefParams(idempotencyKey: s.key(), id: a.id).json, alreadyApplied: true,
                                because: "disabling a disabled account changes nothing").map { .passed("a second disable answers alreadyApplied") }.verdict
                }
            },
            ConformanceStep(name: Method.accountsEnable) { s in
                guard declared(.enable) else { return notDeclared(.enable) }
                return await withAccount(s) { a in
                    let exchange = await s.call(Method.accountsEnable, AccountRefParams(idempotencyKey: s.key(), id: a.id).json)
                    return exchange.decode(MutationResult.self).map { _ in .passed("enabled \(a.id)") }.verdict
                }
            },
            ConformanceStep(name: "\(Method.accountsEnable) visible") { s in
                guard declared(.enable) else { return notDeclared(.enable) }
                return await withAccount(s) { a in await readsStatus(s, a, expecting: .active) }
            },
        ]
    }

    // MARK: Cleaning up

    private func deleteSteps() -> [ConformanceStep] {
        [
            ConformanceStep(name: Method.accountsDelete) { s in
                await withAccount(s) { a in
                    let shown = ConformanceWords.account(a)
                    guard capabilities.accounts.contains(.delete) else {
                        guard capabilities.accounts.contains(.disable) else {
                            s.throwaway = nil
                            return .skipped("not declared, nor accounts/disable: \(shown) is left in the app; remove it by hand")
                        }
                        let disabled = await s.call(Method.accountsDisable, AccountRefParams(idempotencyKey: s.key(), id: a.id).json)
                        s.throwaway = nil
                        guard disabled.result != nil else { return .failed("\(disabled.line); \(shown) is left in the app, active") }
                        return .skipped("not declared; \(shown) was disabled and is left in the app")
                    }
                    let r = await write(s, Method.accountsDelete, AccountRefParams(idempotencyKey: s.key(), id: a.id).json, alreadyApplied: false,
                                        because: "the account existed")
                    if case .failure(let f) = r { return .failed("\(f.line); \(shown) may be left in the app") }
                    s.throwaway = nil
                    s.deletedAccount = a
                    return .passed("deleted \(shown)")
                }
            },
            ConformanceStep(name: "\(Method.accountsDelete) visible") { s in
                guard capabilities.accounts.contains(.delete) else { return .skipped("accounts/delete is not declared") }
                guard let a = s.deletedAccount else { return .skipped("no throwaway account was deleted") }
                return await readsStatus(s, a, expecting: nil, gone: true)
            },
        ]
    }
}

extension Swift.Result where Success == ConformanceVerdict, Failure == CheckFailure {
    var verdict: ConformanceVerdict {
        switch self {
        case .success(let v): return v
        case .failure(let f): return .from(f)
        }
    }
}
