import StewardJSON

/// The GitHub app's section of the state file; also what `GET /github/_sandbox/state` shows,
/// so tests read the organization exactly as it would be saved.
///
/// ```json
/// {"org": "acme", "members": [{"login": "ann", "id": 101, "role": "admin"}],
///  "invitations": [{"id": 5000, "login": "bo", "role": "direct_member", ...}],
///  "teams": [{"id": 300, "slug": "engineering", "name": "Engineering",
///             "members": [{"login": "ann", "role": "member"}], "pending": []}],
///  "users": [{"login": "ann", "id": 101}]}
/// ```
enum GitHubPersistence {
    static func makeStore(context: SandboxContext) throws -> GitHubStore {
        var state = GitHubState.seeded(generatedMembers: context.options.generatedUsers)
        if let saved = context.savedState["github"] {
            do {
                state = try restore(saved)
            } catch {
                throw StateFile.LoadError(description: "state file \(context.stateFile?.path ?? ""): github: \(error.description)")
            }
        }
        let store = GitHubStore(state: state) { context.stateChanged() }
        context.stateFile?.register("github") { snapshot(store.snapshot) }
        return store
    }

    static func snapshot(_ state: GitHubState) -> JSONValue {
        func pairs(_ list: [(login: String, role: String)]) -> JSONValue {
            .array(list.map { ["login": .string($0.login), "role": .string($0.role)] })
        }
        return [
            "org": .string(state.org),
            "members": .array(state.members.map { m in
                ["login": .string(m.login), "id": .int(state.existingUser(m.login)?.id ?? 0), "role": .string(m.role)]
            }),
            "invitations": .array(state.invitations.map { i in
                ["id": .int(i.id), "login": .string(i.login), "email": i.email.map { .string($0) } ?? .null, "role": .string(i.role),
                 "created_at": .string(i.createdAt), "teams": .array(i.teamSlugs.map { .string($0) })]
            }),
            "teams": .array(state.teams.map { t in
                ["id": .int(t.id), "slug": .string(t.slug), "name": .string(t.name),
                 "description": t.description.map { .string($0) } ?? .null,
                 "members": pairs(t.members), "pending": pairs(t.pending)]
            }),
            "users": .array(state.users.values.sorted { $0.id < $1.id }.map { ["login": .string($0.login), "id": .int($0.id)] }),
        ]
    }

    struct RestoreError: Error, CustomStringConvertible {
        var description: String
    }

    static func restore(_ saved: JSONValue) throws(RestoreError) -> GitHubState {
        var state = GitHubState()
        guard case .object = saved else { throw RestoreError(description: "expected an object") }
        if let org = saved["org"].stringValue { state.org = org }
        for (i, u) in (saved["users"].arrayValue ?? []).enumerated() {
            guard let login = u["login"].stringValue, let id = u["id"].intValue else {
                throw RestoreError(description: "users[\(i)]: needs login and id")
            }
            state.users[login.lowercased()] = .init(id: id, login: login)
            state.nextUserId = max(state.nextUserId, id + 1)
        }
        for (i, m) in (saved["members"].arrayValue ?? []).enumerated() {
            guard let login = m["login"].stringValue, let role = m["role"].stringValue, role == "admin" || role == "member" else {
                throw RestoreError(description: "members[\(i)]: needs login and a role of admin or member")
            }
            _ = state.user(named: login)
            state.members.append((login, role))
        }
        for (i, v) in (saved["invitations"].arrayValue ?? []).enumerated() {
            guard let id = v["id"].intValue, let login = v["login"].stringValue, let role = v["role"].stringValue else {
                throw RestoreError(description: "invitations[\(i)]: needs id, login and role")
            }
            _ = state.user(named: login)
            state.invitations.append(.init(id: id, login: login, email: v["email"].stringValue, role: role,
                                           createdAt: v["created_at"].stringValue ?? Render.now(),
                                           teamSlugs: v["teams"].arrayValue?.compactMap(\.stringValue) ?? []))
            state.nextInvitationId = max(state.nextInvitationId, id + 1)
        }
        for (i, t) in (saved["teams"].arrayValue ?? []).enumerated() {
            guard let id = t["id"].intValue, let slug = t["slug"].stringValue, let name = t["name"].stringValue else {
                throw RestoreError(description: "teams[\(i)]: needs id, slug and name")
            }
            func pairs(_ v: JSONValue) -> [(login: String, role: String)] {
                (v.arrayValue ?? []).compactMap { p in p["login"].stringValue.map { ($0, p["role"].stringValue ?? "member") } }
            }
            state.teams.append(.init(id: id, slug: slug, name: name, description: t["description"].stringValue,
                                     members: pairs(t["members"]), pending: pairs(t["pending"])))
            state.nextTeamId = max(state.nextTeamId, id + 1)
        }
        return state
    }
}
