import Foundation
import StewardJSON

/// One GitHub organization as the sandbox keeps it: members with their org role, pending
/// invitations, teams with active and pending memberships, and the users GitHub knows.
///
/// GitHub's rules that matter to a provisioning tool are kept: people join only by accepting
/// an invitation, a team membership for someone not yet in the org stays pending until they
/// join, removing someone from the org removes them from its teams, and the last owner cannot
/// be demoted or removed.
struct GitHubState: Sendable {
    struct User: Sendable {
        var id: Int
        var login: String
    }

    struct Invitation: Sendable {
        var id: Int
        var login: String
        var email: String?
        /// `admin` or `direct_member`, as GitHub names invitation roles.
        var role: String
        var createdAt: String
        var teamSlugs: [String]
    }

    struct Team: Sendable {
        var id: Int
        var slug: String
        var name: String
        var description: String?
        /// Login to team role (`member` or `maintainer`), in join order.
        var members: [(login: String, role: String)] = []
        /// Memberships waiting for the user to join the org.
        var pending: [(login: String, role: String)] = []

        func role(of login: String) -> (role: String, state: String)? {
            if let m = members.first(where: { $0.login.lowercased() == login.lowercased() }) { return (m.role, "active") }
            if let p = pending.first(where: { $0.login.lowercased() == login.lowercased() }) { return (p.role, "pending") }
            return nil
        }
    }

    var org = "acme"
    var orgId = 1_000_001
    /// Lowercased login to user.
    var users: [String: User] = [:]
    /// Login to org role (`admin` or `member`), in join order.
    var members: [(login: String, role: String)] = []
    var invitations: [Invitation] = []
    var teams: [Team] = []
    var nextUserId = 100
    var nextInvitationId = 5000
    var nextTeamId = 300
    /// Origin of the sandbox (`http://127.0.0.1:PORT`) and the app's prefix, for URLs in answers.
    var origin = ""
    var prefix = "/github"

    init() {}

    /// The seeded organization: one owner and a few teams.
    static func seeded(generatedMembers: Int) -> GitHubState {
        var state = GitHubState()
        let owner = state.user(named: "sandbox-admin")
        state.members.append((owner.login, "admin"))
        for (name, description) in [("Engineering", "Everyone who builds"), ("Platform", "Infrastructure and tooling"),
                                    ("Security", "Security engineering"), ("Sales", "Sales and solutions"),
                                    ("Sales Engineering", "Engineers who support sales")] {
            let slug = name.lowercased().replacingOccurrences(of: " ", with: "-")
            state.teams.append(Team(id: state.nextTeamId, slug: slug, name: name, description: description))
            state.nextTeamId += 1
        }
        if generatedMembers > 0 {
            for n in 1...generatedMembers {
                let digits = String(n)
                let login = "user" + String(repeating: "0", count: max(0, 6 - digits.count)) + digits
                let user = state.user(named: login)
                state.members.append((user.login, "member"))
            }
        }
        return state
    }

    /// GitHub's login rules (letters, digits and single hyphens, not at either end, at most 39
    /// characters), except that the sandbox also takes dots, so that the local part of an email
    /// such as `ivy.cole` can serve as a login in demos.
    static func isValidLogin(_ login: String) -> Bool {
        guard (1...39).contains(login.count), !login.hasPrefix("-"), !login.hasSuffix("-"), !login.contains("--"),
              !login.hasPrefix("."), !login.hasSuffix("."), !login.contains("..") else { return false }
        return login.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == ".") }
    }

    /// The GitHub user with this login; every valid login exists in the sandbox, so tests can
    /// invite anyone, and each gets a stable id the first time it is seen.
    mutating func user(named login: String) -> User {
        if let u = users[login.lowercased()] { return u }
        let u = User(id: nextUserId, login: login)
        nextUserId += 1
        users[login.lowercased()] = u
        return u
    }

    func existingUser(_ login: String) -> User? { users[login.lowercased()] }

    func userById(_ id: Int) -> User? { users.values.first { $0.id == id } }

    func memberRole(_ login: String) -> String? {
        members.first { $0.login.lowercased() == login.lowercased() }?.role
    }

    func invitation(for login: String) -> Invitation? {
        invitations.first { $0.login.lowercased() == login.lowercased() }
    }

    func teamIndex(_ slug: String) -> Int? { teams.firstIndex { $0.slug == slug.lowercased() } }

    var adminCount: Int { members.filter { $0.role == "admin" }.count }

    // MARK: Changes

    mutating func invite(_ user: User, role: String, email: String?, teamSlugs: [String], now: String) -> Invitation {
        let invitation = Invitation(id: nextInvitationId, login: user.login, email: email, role: role, createdAt: now, teamSlugs: teamSlugs)
        nextInvitationId += 1
        invitations.append(invitation)
        return invitation
    }

    /// The invitee joins: becomes a member with the invitation's role, and their pending team
    /// memberships become active.
    mutating func accept(_ login: String) -> Bool {
        guard let i = invitations.firstIndex(where: { $0.login.lowercased() == login.lowercased() }) else { return false }
        let invitation = invitations.remove(at: i)
        members.append((invitation.login, invitation.role == "admin" ? "admin" : "member"))
        for t in teams.indices {
            var pending = teams[t].pending
            if let p = pending.firstIndex(where: { $0.login.lowercased() == login.lowercased() }) {
                let entry = pending.remove(at: p)
                teams[t].members.append(entry)
            } else if invitation.teamSlugs.contains(teams[t].slug), teams[t].role(of: login) == nil {
                teams[t].members.append((invitation.login, "member"))
            }
            teams[t].pending = pending
        }
        return true
    }

    /// Removes a member or cancels their invitation, and drops every team membership.
    mutating func removeFromOrg(_ login: String) -> Bool {
        let key = login.lowercased()
        let before = members.count + invitations.count
        members.removeAll { $0.login.lowercased() == key }
        invitations.removeAll { $0.login.lowercased() == key }
        for t in teams.indices {
            teams[t].members.removeAll { $0.login.lowercased() == key }
            teams[t].pending.removeAll { $0.login.lowercased() == key }
        }
        return members.count + invitations.count < before
    }
}

/// The state behind a lock, with change notification for the state file and a few counters
/// tests read to prove the client behaved (for example that it honoured `Retry-After`).
final class GitHubStore: @unchecked Sendable {  // `state` and the counters are guarded by `lock`
    private let lock = NSLock()
    private var state: GitHubState
    private let changed: @Sendable () -> Void
    private var autoAcceptMilliseconds: Int?
    private var requests = 0
    private var rateLimited = 0
    private var earlyRetries = 0
    private var notBefore: Date?

    init(state: GitHubState, changed: @escaping @Sendable () -> Void) {
        self.state = state
        self.changed = changed
    }

    func read<T>(_ body: (GitHubState) throws(GitHubError) -> T) throws(GitHubError) -> T {
        lock.lock()
        defer { lock.unlock() }
        return try body(state)
    }

    func write<T>(_ body: (inout GitHubState) throws(GitHubError) -> T) throws(GitHubError) -> T {
        lock.lock()
        let result: T
        do {
            result = try body(&state)
        } catch {
            lock.unlock()
            throw error
        }
        lock.unlock()
        changed()
        return result
    }

    var snapshot: GitHubState { lock.withLock { state } }

    // MARK: Invitations accepted by themselves

    /// When set, every new invitation is accepted after this many milliseconds, so a demo sees
    /// invitees join without anyone clicking.
    var autoAccept: Int? {
        get { lock.withLock { autoAcceptMilliseconds } }
        set { lock.withLock { autoAcceptMilliseconds = newValue } }
    }

    func invitationCreated(_ login: String) {
        guard let ms = autoAccept else { return }
        DispatchQueue.global().asyncAfter(deadline: .now() + .milliseconds(ms)) { [self] in
            _ = try? write { state throws(GitHubError) in state.accept(login) }
        }
    }

    // MARK: Counters

    /// Counts a request, and whether it came before the client was told it may retry.
    func noteRequest() {
        lock.withLock {
            requests += 1
            if let notBefore, Date() < notBefore { earlyRetries += 1 }
        }
    }

    /// Records a rate-limited answer; returns how many there have been.
    func noteRateLimited(retryAfterSeconds: Int) -> Int {
        lock.withLock {
            rateLimited += 1
            notBefore = Date().addingTimeInterval(Double(retryAfterSeconds))
            return rateLimited
        }
    }

    var requestCount: Int { lock.withLock { requests } }

    var stats: JSONValue {
        lock.withLock { ["requests": .int(requests), "rateLimited": .int(rateLimited), "earlyRetries": .int(earlyRetries)] }
    }
}
