import Foundation
import StewardHTTP
import StewardJSON

extension SandboxApp {
    static let github = SandboxApp(
        name: "github", prefix: "/github",
        summary: "GitHub organization API (members, org roles, invitations, teams, Link paging)"
    ) { context in
        let store = try GitHubPersistence.makeStore(context: context)
        let app = GitHubApp(store: store)
        let authenticated = context.requiringBearerToken(app.router()) {
            var error = GitHubError(status: .unauthorized, message: "Bad credentials")
            error.headers.add("WWW-Authenticate", "Bearer realm=\"steward-sandbox\"")
            return error.response
        }
        let limited = context.faults.wrap(authenticated) { fault in
            switch fault {
            case .rateLimited(let seconds):
                // GitHub's secondary limits answer 403 or 429, with Retry-After.
                let status: HTTPStatus = store.noteRateLimited(retryAfterSeconds: seconds) % 2 == 1 ? .forbidden : .tooManyRequests
                var error = GitHubError(status: status, message: "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.")
                error.headers.add("Retry-After", String(seconds))
                return error.response
            case .failure(let status):
                return GitHubError(status: status, message: "Server Error").response
            }
        }
        // The test hooks are neither rate-limited nor counted: they observe the app.
        var router = app.counting(limited)
        router.mount("/_sandbox", context.requiringBearerToken(app.hooks()) { GitHubError(status: .unauthorized, message: "Bad credentials").response })
        return MountedApp(
            router: router,
            snapshot: { GitHubPersistence.snapshot(store.snapshot) },
            didStart: { url in
                _ = try? store.write { state throws(GitHubError) in
                    if let u = URL(string: url), let scheme = u.scheme, let host = u.host {
                        state.origin = "\(scheme)://\(host)\(u.port.map { ":\($0)" } ?? "")"
                        state.prefix = u.path
                    }
                }
            })
    }
}

/// The REST endpoints GitHub documents for managing an organization's people
/// (docs.github.com/rest/orgs/members, /orgs/organization-roles, /teams/members), answered
/// with GitHub's shapes, statuses and `Link` paging, plus a few `/_sandbox` hooks for tests.
struct GitHubApp: Sendable {
    static let defaultPerPage = 30
    static let maxPerPage = 100

    let store: GitHubStore

    func router() -> Router {
        var r = Router()
        let app = self
        r.get("/users/:username", handle { try app.user($0) })
        r.get("/orgs/:org", handle { try app.organization($0) })
        r.get("/orgs/:org/members", handle { try app.members($0) })
        r.get("/orgs/:org/members/:username", handle { try app.checkMember($0) })
        r.delete("/orgs/:org/members/:username", handle { try app.removeMember($0) })
        r.get("/orgs/:org/memberships/:username", handle { try app.membership($0) })
        r.put("/orgs/:org/memberships/:username", handle { try app.setMembership($0) })
        r.delete("/orgs/:org/memberships/:username", handle { try app.removeMembership($0) })
        r.get("/orgs/:org/invitations", handle { try app.invitations($0) })
        r.post("/orgs/:org/invitations", handle { try app.createInvitation($0) })
        r.delete("/orgs/:org/invitations/:invitation_id", handle { try app.cancelInvitation($0) })
        r.get("/orgs/:org/teams", handle { try app.teams($0) })
        r.get("/orgs/:org/teams/:team_slug", handle { try app.team($0) })
        r.get("/orgs/:org/teams/:team_slug/members", handle { try app.teamMembers($0) })
        r.get("/orgs/:org/teams/:team_slug/invitations", handle { try app.teamInvitations($0) })
        r.get("/orgs/:org/teams/:team_slug/memberships/:username", handle { try app.teamMembership($0) })
        r.put("/orgs/:org/teams/:team_slug/memberships/:username", handle { try app.setTeamMembership($0) })
        r.delete("/orgs/:org/teams/:team_slug/memberships/:username", handle { try app.removeTeamMembership($0) })
        r.add(nil, "/*", .sync(handle { _ in throw GitHubError.notFound() }))
        return r
    }

    /// Test hooks under `/_sandbox`, not part of GitHub's API: read the organization, count
    /// requests, accept invitations.
    func hooks() -> Router {
        var r = Router()
        let app = self
        r.get("/state", handle { _ in app.stateDump() })
        r.get("/stats", handle { _ in .json(app.store.stats) })
        r.post("/invitations/accept", handle { try app.acceptInvitations($0) })
        r.put("/auto-accept", handle { try app.setAutoAccept($0) })
        return r
    }

    /// Adds GitHub's primary rate-limit headers to every answer and counts requests, noting
    /// any that arrive before a `Retry-After` has passed.
    func counting(_ router: Router) -> Router {
        let store = self.store
        let resetAt = Int(Date().timeIntervalSince1970) + 3600
        @Sendable func decorate(_ response: HTTPResponse) -> HTTPResponse {
            var r = response
            let used = store.requestCount
            r.headers.add("x-ratelimit-limit", "5000")
            r.headers.add("x-ratelimit-remaining", String(max(0, 5000 - used)))
            r.headers.add("x-ratelimit-used", String(used))
            r.headers.add("x-ratelimit-reset", String(resetAt))
            r.headers.add("x-ratelimit-resource", "core")
            return r
        }
        return router.mapHandlers { handler in
            switch handler {
            case .sync(let body):
                return .sync { request in
                    store.noteRequest()
                    return decorate(try body(request))
                }
            case .async(let body):
                return .async { request in
                    store.noteRequest()
                    return decorate(try await body(request))
                }
            }
        }
    }

    /// Answers a handler's `GitHubError` in GitHub's format.
    private func handle(_ body: @escaping @Sendable (HTTPRequest) throws -> HTTPResponse) -> @Sendable (HTTPRequest) throws -> HTTPResponse {
        { request in
            do {
                return try body(request)
            } catch let error as GitHubError {
                return error.response
            }
        }
    }

    // MARK: Users and the organization

    func user(_ request: HTTPRequest) throws(GitHubError) -> HTTPResponse {
        let login = request.parameter("username") ?? ""
        guard GitHubState.isValidLogin(login) else { throw .notFound() }
        return .json(try store.write { state throws(GitHubError) in Render.user(state.user(named: login), state) })
    }

    func organization(_ request: HTTPRequest) throws(GitHubError) -> HTTPResponse {
        .json(try store.read { state throws(GitHubError) in
            try checkOrg(request, state)
            return Render.organization(state)
        })
    }

    func members(_ request: HTTPRequest) throws(GitHubError) -> HTTPResponse {
        let role = request.queryValue("role") ?? "all"
        guard ["all", "admin", "member"].contains(role) else {
            throw .validation(resource: "Organization", field: "role", "role must be one of all, admin, member")
        }
        return try store.read { state throws(GitHubError) in
            try checkOrg(request, state)
            let chosen = state.members.filter { role == "all" || $0.role == role }
            return try paged(request, chosen, state) { member in
                Render.user(state.existingUser(member.login) ?? .init(id: 0, login: member.login), state)
            }
        }
    }

    func checkMember(_ request: HTTPRequest) throws(GitHubError) -> HTTPResponse {
        try store.read { state throws(GitHubError) in
            try checkOrg(request, state)
            guard state.memberRole(request.parameter("username") ?? "") != nil else { throw .notFound() }
            return HTTPResponse(status: .noContent)
        }
    }

    func removeMember(_ request: HTTPRequest) throws(GitHubError) -> HTTPResponse {
        let login = request.parameter("username") ?? ""
        return try store.write { state throws(GitHubError) in
            try checkOrg(request, state)
            guard let role = state.memberRole(login) else { throw .notFound() }
            if role == "admin" && state.adminCount == 1 {
                throw GitHubError(status: .forbidden, message: "Cannot remove the last owner of an organization")
            }
            _ = state.removeFromOrg(login)
            return HTTPResponse(status: .noContent)
        }
    }

    func membership(_ request: HTTPRequest) throws(GitHubError) -> HTTPResponse {
        let login = request.parameter("username") ?? ""
        return .json(try store.read { state throws(GitHubError) in
            try checkOrg(request, state)
            guard let user = state.existingUser(login) else { throw .notFound() }
            if let role = state.memberRole(login) { return Render.membership(user, role: role, state: "active", state) }
            if let invitation = state.invitation(for: login) {
                return Render.membership(user, role: invitation.role == "admin" ? "admin" : "member", state: "pending", state)
            }
            throw .notFound()
        })
    }

    /// Sets a member's role; for anyone else, invites them with that role (GitHub's "add or
    /// update organization membership").
    func setMembership(_ request: HTTPRequest) throws(GitHubError) -> HTTPResponse {
        let login = request.parameter("username") ?? ""
        let body = try jsonBody(request, allowEmpty: true)
        let role = body["role"].stringValue ?? "member"
        guard role == "admin" || role == "member" else {
            throw .validation(resource: "OrganizationMembership", field: "role", "role must be admin or member")
        }
        guard GitHubState.isValidLogin(login) else { throw .notFound() }
        var invited = false
        let rendered = try store.write { state throws(GitHubError) -> JSONValue in
            try checkOrg(request, state)
            let user = state.user(named: login)
            if let current = state.memberRole(login) {
                if current == "admin" && role == "member" && state.adminCount == 1 {
                    throw .validation(resource: "OrganizationMembership", field: "role", "You cannot demote the last owner of an organization")
                }
                if let i = state.members.firstIndex(where: { $0.login.lowercased() == login.lowercased() }) { state.members[i].role = role }
                return Render.membership(user, role: role, state: "active", state)
            }
            let invitationRole = role == "admin" ? "admin" : "direct_member"
            if let i = state.invitations.firstIndex(where: { $0.login.lowercased() == login.lowercased() }) {
                state.invitations[i].role = invitationRole
            } else {
                _ = state.invite(user, role: invitationRole, email: nil, teamSlugs: [], now: Render.now())
                invited = true
            }
            return Render.membership(user, role: role, state: "pending", state)
        }
        if invited { store.invitationCreated(login) }
        return .json(rendered)
    }

    func removeMembership(_ request: HTTPRequest) throws(GitHubError) -> HTTPResponse {
        let login = request.parameter("username") ?? ""
        return try store.write { state throws(GitHubError) in
            try checkOrg(request, state)
            if state.memberRole(login) == "admin" && state.adminCount == 1 {
                throw GitHubError(status: .forbidden, message: "Cannot remove the last owner of an organization")
            }
            guard state.removeFromOrg(login) else { throw .notFound() }
            return HTTPResponse(status: .noContent)
        }
    }

    // MARK: Invitations

    func invitations(_ request: HTTPRequest) throws(GitHubError) -> HTTPResponse {
        try store.read { state throws(GitHubError) in
            try checkOrg(request, state)
            return try paged(request, state.invitations, state) { Render.invitation($0, state) }
        }
    }

    func createInvitation(_ request: HTTPRequest) throws(GitHubError) -> HTTPResponse {
        let body = try jsonBody(request, allowEmpty: false)
        let role = body["role"].stringValue ?? "direct_member"
        guard ["admin", "direct_member", "billing_manager", "reinstate"].contains(role) else {
            throw .validation(resource: "OrganizationInvitation", field: "role", "role is not included in the list")
        }
        let teamIds = body["team_ids"].arrayValue?.compactMap(\.intValue) ?? []
        var invitedLogin: String?
        let rendered = try store.write { state throws(GitHubError) -> JSONValue in
            try checkOrg(request, state)
            let user: GitHubState.User
            if let id = body["invitee_id"].intValue {
                guard let found = state.userById(id) else {
                    throw .validation(resource: "OrganizationInvitation", field: "invitee_id", "invitee_id is not a valid user")
                }
                user = found
            } else if let email = body["email"].stringValue, let at = email.firstIndex(of: "@"),
                      GitHubState.isValidLogin(String(email[..<at])) {
                // The sandbox's users have their login as the local part of their email.
                user = state.user(named: String(email[..<at]))
            } else {
                throw .validation(resource: "OrganizationInvitation", field: "data", "Either invitee_id or email must be given")
            }
            if state.memberRole(user.login) != nil {
                throw .validation(resource: "OrganizationInvitation", field: "data", code: "unprocessable", "Invitee is already a part of this organization")
            }
            if state.invitation(for: user.login) != nil {
                throw .validation(resource: "OrganizationInvitation", field: "data", code: "unprocessable", "Invitee has already been invited")
            }
            var slugs: [String] = []
            for id in teamIds {
                guard let team = state.teams.first(where: { $0.id == id }) else {
                    throw .validation(resource: "OrganizationInvitation", field: "team_ids", "team \(id) does not exist")
                }
                slugs.append(team.slug)
            }
            let invitation = state.invite(user, role: role == "admin" ? "admin" : "direct_member", email: body["email"].stringValue,
                                          teamSlugs: slugs, now: Render.now())
            invitedLogin = user.login
            return Render.invitation(invitation, state)
        }
        if let invitedLogin { store.invitationCreated(invitedLogin) }
        return .json(rendered, status: .created, contentType: "application/json; charset=utf-8")
    }

    func cancelInvitation(_ request: HTTPRequest) throws(GitHubError) -> HTTPResponse {
        guard let id = Int(request.parameter("invitation_id") ?? "") else { throw .notFound() }
        return try store.write { state throws(GitHubError) in
            try checkOrg(request, state)
            guard let i = state.invitations.firstIndex(where: { $0.id == id }) else { throw .notFound() }
            state.invitations.remove(at: i)
            return HTTPResponse(status: .noContent)
        }
    }

    // MARK: Teams

    func teams(_ request: HTTPRequest) throws(GitHubError) -> HTTPResponse {
        try store.read { state throws(GitHubError) in
            try checkOrg(request, state)
            return try paged(request, state.teams, state) { Render.team($0, state) }
        }
    }

    func team(_ request: HTTPRequest) throws(GitHubError) -> HTTPResponse {
        .json(try store.read { state throws(GitHubError) in
            let t = try findTeam(request, state)
            return Render.team(state.teams[t], state)
        })
    }

    func teamMembers(_ request: HTTPRequest) throws(GitHubError) -> HTTPResponse {
        let role = request.queryValue("role") ?? "all"
        guard ["all", "member", "maintainer"].contains(role) else {
            throw .validation(resource: "Team", field: "role", "role must be one of all, member, maintainer")
        }
        return try store.read { state throws(GitHubError) in
            let t = try findTeam(request, state)
            let chosen = state.teams[t].members.filter { role == "all" || $0.role == role }
            return try paged(request, chosen, state) { member in
                Render.user(state.existingUser(member.login) ?? .init(id: 0, login: member.login), state)
            }
        }
    }

    /// Pending invitations that will put their invitee in the team when accepted.
    func teamInvitations(_ request: HTTPRequest) throws(GitHubError) -> HTTPResponse {
        try store.read { state throws(GitHubError) in
            let t = try findTeam(request, state)
            let team = state.teams[t]
            let chosen = state.invitations.filter { invitation in
                invitation.teamSlugs.contains(team.slug) || team.pending.contains { $0.login.lowercased() == invitation.login.lowercased() }
            }
            return try paged(request, chosen, state) { Render.invitation($0, state) }
        }
    }

    func teamMembership(_ request: HTTPRequest) throws(GitHubError) -> HTTPResponse {
        let login = request.parameter("username") ?? ""
        return .json(try store.read { state throws(GitHubError) in
            let t = try findTeam(request, state)
            guard let (role, membershipState) = state.teams[t].role(of: login) else { throw .notFound() }
            return Render.teamMembership(state.teams[t], login: login, role: role, state: membershipState, state)
        })
    }

    /// Adds or updates a team membership. Someone not in the org gets a pending membership
    /// (and an invitation, as GitHub sends one) that becomes active when they join.
    func setTeamMembership(_ request: HTTPRequest) throws(GitHubError) -> HTTPResponse {
        let login = request.parameter("username") ?? ""
        let body = try jsonBody(request, allowEmpty: true)
        let role = body["role"].stringValue ?? "member"
        guard role == "member" || role == "maintainer" else {
            throw .validation(resource: "TeamMembership", field: "role", "role must be member or maintainer")
        }
        guard GitHubState.isValidLogin(login) else { throw .notFound() }
        var invited = false
        let rendered = try store.write { state throws(GitHubError) -> JSONValue in
            let t = try findTeam(request, state)
            let user = state.user(named: login)
            let key = login.lowercased()
            if state.memberRole(login) != nil {
                if let i = state.teams[t].members.firstIndex(where: { $0.login.lowercased() == key }) {
                    state.teams[t].members[i].role = role
                } else {
                    state.teams[t].members.append((user.login, role))
                }
                return Render.teamMembership(state.teams[t], login: user.login, role: role, state: "active", state)
            }
            if let i = state.teams[t].pending.firstIndex(where: { $0.login.lowercased() == key }) {
                state.teams[t].pending[i].role = role
            } else {
                state.teams[t].pending.append((user.login, role))
            }
            if state.invitation(for: login) == nil {
                _ = state.invite(user, role: "direct_member", email: nil, teamSlugs: [], now: Render.now())
                invited = true
            }
            return Render.teamMembership(state.teams[t], login: user.login, role: role, state: "pending", state)
        }
        if invited { store.invitationCreated(login) }
        return .json(rendered)
    }

    func removeTeamMembership(_ request: HTTPRequest) throws(GitHubError) -> HTTPResponse {
        let login = (request.parameter("username") ?? "").lowercased()
        return try store.write { state throws(GitHubError) in
            let t = try findTeam(request, state)
            let before = state.teams[t].members.count + state.teams[t].pending.count
            state.teams[t].members.removeAll { $0.login.lowercased() == login }
            state.teams[t].pending.removeAll { $0.login.lowercased() == login }
            guard state.teams[t].members.count + state.teams[t].pending.count < before else { throw .notFound() }
            return HTTPResponse(status: .noContent)
        }
    }

    // MARK: Sandbox hooks

    func stateDump() -> HTTPResponse {
        let state = store.snapshot
        return .json(GitHubPersistence.snapshot(state))
    }

    /// Accepts the invitation of `{"login": ...}`, or every pending one when no login is given.
    func acceptInvitations(_ request: HTTPRequest) throws(GitHubError) -> HTTPResponse {
        let body = request.body.isEmpty ? JSONValue.object([:]) : try jsonBody(request, allowEmpty: true)
        let accepted = try store.write { state throws(GitHubError) -> [String] in
            let logins = body["login"].stringValue.map { [$0] } ?? state.invitations.map(\.login)
            return logins.filter { state.accept($0) }
        }
        return .json(["accepted": .array(accepted.map { .string($0) })])
    }

    func setAutoAccept(_ request: HTTPRequest) throws(GitHubError) -> HTTPResponse {
        let body = try jsonBody(request, allowEmpty: false)
        guard let ms = body["afterMilliseconds"].intValue, ms >= 0 else {
            if body["afterMilliseconds"].isNull { store.autoAccept = nil; return .json(["autoAccept": .null]) }
            throw .badRequest("afterMilliseconds must be a non-negative integer, or null to turn automatic acceptance off")
        }
        store.autoAccept = ms
        return .json(["autoAccept": .int(ms)])
    }

    // MARK: Helpers

    private func checkOrg(_ request: HTTPRequest, _ state: GitHubState) throws(GitHubError) {
        guard (request.parameter("org") ?? "").lowercased() == state.org.lowercased() else { throw .notFound() }
    }

    private func findTeam(_ request: HTTPRequest, _ state: GitHubState) throws(GitHubError) -> Int {
        try checkOrg(request, state)
        guard let t = state.teamIndex(request.parameter("team_slug") ?? "") else { throw .notFound() }
        return t
    }

    private func jsonBody(_ request: HTTPRequest, allowEmpty: Bool) throws(GitHubError) -> JSONValue {
        if request.body.isEmpty {
            if allowEmpty { return [:] }
            throw .badRequest("Problems parsing JSON")
        }
        guard let value = try? JSONParser.parse(request.body), case .object = value else {
            throw .badRequest("Problems parsing JSON")
        }
        return value
    }

    /// One page of `items` with GitHub's `Link` header (`next`, `last`, `first`, `prev`); only
    /// the page's items are rendered.
    private func paged<Item>(_ request: HTTPRequest, _ items: [Item], _ state: GitHubState,
                             render: (Item) -> JSONValue) throws(GitHubError) -> HTTPResponse {
        let query = request.queryItems
        let perPage = min(Self.maxPerPage, max(1, Int(query["per_page"] ?? "") ?? Self.defaultPerPage))
        let page = max(1, Int(query["page"] ?? "") ?? 1)
        let lastPage = max(1, (items.count + perPage - 1) / perPage)
        let start = min(items.count, (page - 1) * perPage)
        let slice = items[start..<min(items.count, start + perPage)].map(render)
        var response = HTTPResponse.json(.array(slice), contentType: "application/json; charset=utf-8")
        func link(_ n: Int, _ rel: String) -> String {
            var form = URLEncodedForm(query.filter { $0.name != "page" }.map { ($0.name, $0.value) })
            form.append("page", String(n))
            return "<\(state.origin)\(request.path)?\(form.encoded)>; rel=\"\(rel)\""
        }
        var links: [String] = []
        if page < lastPage { links += [link(page + 1, "next"), link(lastPage, "last")] }
        if page > 1 { links += [link(1, "first"), link(min(page - 1, lastPage), "prev")] }
        if !links.isEmpty { response.headers.add("Link", links.joined(separator: ", ")) }
        return response
    }
}

/// GitHub's JSON shapes for the objects the sandbox serves.
enum Render {
    static func now() -> String {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime]
        return f.string(from: Date())
    }

    static func api(_ state: GitHubState, _ path: String) -> String { state.origin + state.prefix + path }

    static func user(_ u: GitHubState.User, _ state: GitHubState) -> JSONValue {
        ["login": .string(u.login), "id": .int(u.id), "node_id": .string("U_\(u.id)"),
         "avatar_url": .string("https://avatars.githubusercontent.com/u/\(u.id)?v=4"),
         "url": .string(api(state, "/users/\(u.login)")), "html_url": .string("https://github.com/\(u.login)"),
         "type": "User", "site_admin": false]
    }

    static func organization(_ state: GitHubState) -> JSONValue {
        ["login": .string(state.org), "id": .int(state.orgId), "node_id": .string("O_\(state.orgId)"),
         "url": .string(api(state, "/orgs/\(state.org)")), "description": "The sandbox's organization"]
    }

    static func membership(_ u: GitHubState.User, role: String, state membershipState: String, _ state: GitHubState) -> JSONValue {
        ["url": .string(api(state, "/orgs/\(state.org)/memberships/\(u.login)")), "state": .string(membershipState),
         "role": .string(role), "organization_url": .string(api(state, "/orgs/\(state.org)")),
         "organization": organization(state), "user": user(u, state)]
    }

    static func invitation(_ i: GitHubState.Invitation, _ state: GitHubState) -> JSONValue {
        let inviter = state.members.first { $0.role == "admin" }.flatMap { state.existingUser($0.login) }
        return ["id": .int(i.id), "login": .string(i.login), "email": i.email.map { .string($0) } ?? .null, "role": .string(i.role),
                "created_at": .string(i.createdAt), "failed_at": .null, "failed_reason": .null,
                "inviter": inviter.map { user($0, state) } ?? .null, "team_count": .int(i.teamSlugs.count),
                "node_id": .string("OI_\(i.id)"), "invitation_source": "member",
                "invitation_teams_url": .string(api(state, "/organizations/\(state.orgId)/invitations/\(i.id)/teams"))]
    }

    static func team(_ t: GitHubState.Team, _ state: GitHubState) -> JSONValue {
        ["id": .int(t.id), "node_id": .string("T_\(t.id)"), "url": .string(api(state, "/orgs/\(state.org)/teams/\(t.slug)")),
         "html_url": .string("https://github.com/orgs/\(state.org)/teams/\(t.slug)"), "name": .string(t.name), "slug": .string(t.slug),
         "description": t.description.map { .string($0) } ?? .null, "privacy": "closed", "notification_setting": "notifications_enabled",
         "permission": "pull", "members_url": .string(api(state, "/orgs/\(state.org)/teams/\(t.slug)/members{/member}")),
         "repositories_url": .string(api(state, "/orgs/\(state.org)/teams/\(t.slug)/repos")), "parent": .null]
    }

    static func teamMembership(_ t: GitHubState.Team, login: String, role: String, state membershipState: String, _ state: GitHubState) -> JSONValue {
        ["url": .string(api(state, "/orgs/\(state.org)/teams/\(t.slug)/memberships/\(login)")), "role": .string(role),
         "state": .string(membershipState)]
    }
}
