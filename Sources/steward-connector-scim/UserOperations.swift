import ConnectorKit
import StewardProtocol

/// The account operations on SCIM Users. Every write reads the user first, and answers
/// `alreadyApplied` without a request only when that read shows the wanted values; an
/// attribute the read does not carry is written anyway. A retried write is harmless.
struct UserOperations: Sendable {
    let scim: ScimService
    let features: ProviderFeatures
    let mapping: UserMapping
    let pager: ResourcePager
    let defaultPageSize: Int
    let learned: LearnedForms
    /// The query of listings: only the attributes the mapping reads, where the provider's
    /// schemas allow naming them.
    let listQuery: [(String, String)]
    /// Listings fetch a few pages ahead of the host.
    let readAhead = ReadAhead<Account>()

    init(scim: ScimService, features: ProviderFeatures, mapping: UserMapping, pager: ResourcePager, defaultPageSize: Int,
         sortBy: String? = nil, learned: LearnedForms = LearnedForms()) {
        self.scim = scim
        self.learned = learned
        self.features = features
        self.mapping = mapping
        self.pager = pager
        self.defaultPageSize = defaultPageSize
        var query: [(String, String)]
        if features.userAttributes != nil, let selection = mapping.selection(features) {
            query = [("attributes", selection)]
        } else {
            query = features.userHas("groups") ? [("excludedAttributes", "groups")] : []
        }
        if let sortBy, features.sort, !pager.useCursor { query.append(("sortBy", sortBy)) }
        listQuery = query
    }

    var endpoint: String { features.userEndpoint }

    /// Single reads leave out the derived `groups` attribute, which providers compute per user
    /// at a cost and the account does not need; writes need the rest (PUT sends it back).
    var readQuery: [(String, String)] {
        features.userHas("groups") ? [("excludedAttributes", "groups")] : []
    }

    // MARK: Reads

    /// A page of accounts. The cursor is `<listing>.<page>`: the listing part keeps pages
    /// fetched ahead for one walk from being served to another that started later.
    func list(_ params: ListParams, ctx: RequestContext) async throws -> StewardProtocol.Page<Account> {
        let count = params.pageSize ?? defaultPageSize
        var listing = String(UInt32.random(in: 0...UInt32.max), radix: 36)
        var cursor: String?
        if let given = params.cursor {
            guard let dot = given.firstIndex(of: "."), dot != given.startIndex else {
                throw ConnectorError(.invalidArgument, "params.cursor: not a cursor this connector issued")
            }
            listing = String(given[..<dot])
            cursor = String(given[given.index(after: dot)...])
        }
        let (pager, mapping, endpoint, query) = (self.pager, self.mapping, self.endpoint, listQuery)
        let page = try await readAhead.page("\(listing)/\(count)", cursor: cursor) { cursor in
            let page = try await pager.page(endpoint, cursor: cursor, count: count, query: query, ctx: ctx)
            var accounts: [Account] = []
            accounts.reserveCapacity(page.resources.count)
            for resource in page.resources {
                if let account = mapping.account(from: resource) { accounts.append(account) }
            }
            if cursor == nil, let total = page.total {
                ctx.progress("listing \(total) users", completed: accounts.count, total: total)
            }
            return .init(page: StewardProtocol.Page(items: accounts, nextCursor: page.next), upcoming: page.upcoming(depth: 4))
        }
        return StewardProtocol.Page(items: page.items, nextCursor: page.nextCursor.map { "\(listing).\($0)" })
    }

    /// The account matching the first criterion that finds one: id, then userName,
    /// externalId, employeeNumber, email.
    func get(_ params: AccountGetParams, ctx: RequestContext) async throws -> Account? {
        if let id = params.id {
            if let (user, _) = try await read(id, ctx: ctx) { return mapping.account(from: user) }
        }
        let criteria: [(String, String?)] = [("userName", params.userName), ("externalId", params.externalId),
                                             ("employeeNumber", params.employeeNumber), ("email", params.email)]
        for (field, value) in criteria {
            guard let value else { continue }
            if let user = try await find(field, value, ctx: ctx) { return mapping.account(from: user) }
        }
        return nil
    }

    /// The user with this id and its version, or nil when there is none.
    func read(_ id: String, ctx: RequestContext) async throws -> ([String: JSONValue], String?)? {
        let reply = try await scim.send("GET", ScimService.resourcePath(endpoint, id), query: readQuery, ctx: ctx)
        if reply.status == 404 { return nil }
        guard reply.isSuccess else { throw scim.error(reply) }
        return (reply.object, reply.etag)
    }

    /// The one user whose `field` equals `value`; by filter where the provider has filters,
    /// else by walking the users.
    func find(_ field: String, _ value: String, ctx: RequestContext) async throws -> [String: JSONValue]? {
        guard features.filter, let filter = mapping.equalityFilter(field, value) else {
            var found: [String: JSONValue]?
            try await pager.forEach(endpoint, query: listQuery, ctx: ctx) { user in
                if mapping.value(field, in: user)?.lowercased() == value.lowercased() { found = user }
                return found == nil
            }
            return found
        }
        let reply = try await scim.expect("GET", endpoint, query: [("filter", filter), ("count", "2")] + listQuery, ctx: ctx)
        let matches = (reply.json["Resources"].arrayValue ?? []).compactMap(\.objectValue)
        if matches.count > 1 {
            throw ConnectorError(.invalidArgument, "more than one user has \(field) \"\(value)\"; look the account up by a unique attribute")
        }
        return matches.first
    }

    // MARK: Writes

    func create(_ params: AccountCreateParams, ctx: RequestContext) async throws -> AccountCreateResult {
        let (user, dropped) = try mapping.user(for: params.account, enterpriseSupported: features.enterpriseExtension)
        if !dropped.isEmpty {
            ctx.log(.warning, "the provider has no enterprise extension; not sent: \(dropped.joined(separator: ", "))")
        }
        // A create the provider deduplicates by userName is safe to repeat: a repeat answers 409
        // and finds the user made the first time.
        let reply = try await scim.send("POST", endpoint, body: .object(user), idempotent: true, ctx: ctx)
        if reply.isSuccess {
            guard let account = mapping.account(from: reply.object) else {
                throw ConnectorError(.internal, "the provider created the user but its answer has no id", outcome: .applied)
            }
            return AccountCreateResult(status: .created, account: account)
        }
        if reply.status == 409 || reply.scimType == "uniqueness" {
            let spec = params.account
            for (field, value) in [("userName", Optional(spec.userName)), ("externalId", spec.externalId)] {
                guard let value else { continue }
                if let existing = try await find(field, value, ctx: ctx), let account = mapping.account(from: existing) {
                    return AccountCreateResult(status: .alreadyExists, account: account,
                                               message: "a user with this \(field) already exists")
                }
            }
        }
        throw scim.error(reply)
    }

    func update(_ params: AccountUpdateParams, ctx: RequestContext) async throws -> MutationResult {
        let changes = try mapping.requestedChanges(params.changes)
        return try await modify(params.id, ctx: ctx) { user in
            mapping.patchOperations(changes, current: user)
        }
    }

    func setActive(_ active: Bool, _ params: AccountRefParams, ctx: RequestContext) async throws -> MutationResult {
        try await modify(params.id, ctx: ctx) { user in
            // A user read without `active` shows neither state: write it.
            let isActive = AttributePath.member(user, "active")?.boolValue
            return isActive == active ? [] : [PatchOperation(op: "replace", path: "active", value: .bool(active))]
        }
    }

    func delete(_ params: AccountRefParams, ctx: RequestContext) async throws -> MutationResult {
        let reply = try await scim.send("DELETE", ScimService.resourcePath(endpoint, params.id), ctx: ctx)
        if reply.status == 404 { return MutationResult(alreadyApplied: true) }
        guard reply.isSuccess else { throw scim.error(reply) }
        return MutationResult(alreadyApplied: false)
    }

    /// Reads the user, asks `edit` for the operations that bring it to the wanted state, and
    /// sends them (PATCH, or PUT of the edited resource where PATCH is missing) under the read
    /// version. A 412 means someone changed the user meanwhile: read again and retry once.
    /// A 400 `noTarget` to a single remove is the provider saying the value is not there.
    func modify(_ id: String, ctx: RequestContext,
                _ edit: ([String: JSONValue]) throws -> [PatchOperation]) async throws -> MutationResult {
        var attempt = 0
        while true {
            attempt += 1
            guard let (user, version) = try await read(id, ctx: ctx) else {
                throw ConnectorError(.notFound, "no user has id \"\(id)\"", outcome: .notApplied)
            }
            let operations = try edit(user)
            if operations.isEmpty { return MutationResult(alreadyApplied: true, account: mapping.account(from: user)) }
            let ifMatch = features.etag ? version : nil
            let path = ScimService.resourcePath(endpoint, id)
            let reply: ScimService.Reply
            if features.patch {
                reply = try await PatchSender(scim: scim, learned: learned).send(path, operations, current: user, ifMatch: ifMatch, ctx: ctx)
            } else {
                var edited = user
                try LocalPatch.apply(operations, to: &edited)
                reply = try await scim.send("PUT", path, body: LocalPatch.replacement(edited), ifMatch: ifMatch, ctx: ctx)
            }
            if reply.status == 412, attempt == 1 {
                ctx.log(.info, "user \(id) changed since it was read (HTTP 412); reading it again")
                continue
            }
            if reply.status == 404 { throw ConnectorError(.notFound, "no user has id \"\(id)\"", outcome: .notApplied) }
            if reply.status == 400, reply.scimType == "noTarget" {
                if operations.count == 1, operations[0].op == "remove" {
                    return MutationResult(alreadyApplied: true, account: mapping.account(from: user))
                }
                if attempt == 1 {
                    ctx.log(.info, "user \(id) lacks a value the change expected (noTarget); reading it again")
                    continue
                }
            }
            guard reply.isSuccess else { throw scim.error(reply) }
            let account = reply.status == 204 ? nil : mapping.account(from: reply.object)
            return MutationResult(alreadyApplied: false, account: account)
        }
    }
}
