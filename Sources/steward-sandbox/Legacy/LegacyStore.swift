import Foundation
import StewardJSON

/// The legacy admin app's data: users, groups, sign-in sessions and the current layout.
///
/// Everything lives in memory behind one lock; handlers are synchronous and never block on it
/// for long, so they can run on the server's event loop.
final class LegacyStore: @unchecked Sendable {  // all mutable state is guarded by `lock`
    struct User: Sendable {
        enum Status: String, Sendable {
            case active, disabled, invited

            /// What the admin pages show.
            var label: String {
                switch self {
                case .active: return "Active"
                case .disabled: return "Deactivated"
                case .invited: return "Invited"
                }
            }
        }

        var id: Int
        var userName: String
        var email: String
        var displayName: String
        var status: Status
        var role: String
        var groups: Set<String>
    }

    struct Group: Sendable {
        var key: String
        var name: String
        var description: String
    }

    struct Session: Sendable {
        var csrf: String
        var expires: Date
        /// Password accepted, one-time code still owed.
        var awaitingCode: Bool
        var next: String
    }

    /// Role tiers, most privileged first.
    static let roles = ["admin", "editor", "viewer"]
    static let groups = [
        Group(key: "engineering", name: "Engineering", description: "Builds and runs the product"),
        Group(key: "finance", name: "Finance", description: "Invoices, payroll exports"),
        Group(key: "sales", name: "Sales", description: "Customer accounts and quotes"),
        Group(key: "support", name: "Support", description: "Help desk and refunds"),
    ]
    static let pageSize = 10
    static let sessionLifetime: TimeInterval = 30 * 60

    private let lock = NSLock()
    private var users: [Int: User] = [:]
    private var nextID = 1
    private var sessions: [String: Session] = [:]
    private var loginTokens: [String] = []
    private var currentLayout: LegacyLayout
    /// Tells the state file that users changed.
    private let changed: @Sendable () -> Void

    init(layout: LegacyLayout, generatedUsers: Int, changed: @escaping @Sendable () -> Void = {}) {
        currentLayout = layout
        self.changed = changed
        for (index, name) in Self.seedNames.enumerated() {
            let userName = name.lowercased().split(separator: " ").joined(separator: ".")
            add(User(id: 0, userName: userName, email: "\(userName)@example.com", displayName: name,
                     status: index % 11 == 7 ? .disabled : .active, role: Self.roles[index % 3 == 0 ? 1 : 2],
                     groups: [Self.groups[index % Self.groups.count].key]))
        }
        for n in 0..<generatedUsers {
            let userName = String(format: "user%05d", n + 1)
            add(User(id: 0, userName: userName, email: "\(userName)@example.com", displayName: "User \(n + 1)",
                     status: .active, role: "viewer", groups: []))
        }
    }

    private static let seedNames = [
        "Ada Lovelace", "Grace Hopper", "Alan Turing", "Barbara Liskov", "Edsger Dijkstra", "Frances Allen",
        "Donald Knuth", "Margaret Hamilton", "Ken Thompson", "Radia Perlman", "Dennis Ritchie", "Katherine Johnson",
        "John Backus", "Hedy Lamarr", "Niklaus Wirth", "Annie Easley", "Tony Hoare", "Sophie Wilson",
        "Leslie Lamport", "Karen Jones", "Bjarne Stroustrup", "Lynn Conway", "Guido Rossum",
    ]

    private func add(_ user: User) {
        var user = user
        user.id = nextID
        nextID += 1
        users[user.id] = user
    }

    // MARK: Users

    var layout: LegacyLayout {
        get { lock.withLock { currentLayout } }
        set { lock.withLock { currentLayout = newValue } }
    }

    func user(_ id: Int) -> User? { lock.withLock { users[id] } }

    /// One page of users in id order, and how many pages there are.
    /// One page of users, or of those whose user name, e-mail or name contains `search`.
    func page(_ number: Int, search: String? = nil) -> (users: [User], pages: Int) {
        lock.withLock {
            var all = users.values.sorted { $0.id < $1.id }
            if let q = search?.lowercased(), !q.isEmpty {
                all = all.filter { [$0.userName, $0.email, $0.displayName].contains { $0.lowercased().contains(q) } }
            }
            let pages = max(1, (all.count + Self.pageSize - 1) / Self.pageSize)
            let start = (min(max(number, 1), pages) - 1) * Self.pageSize
            return (Array(all[start..<min(start + Self.pageSize, all.count)]), pages)
        }
    }

    func allUsers() -> [User] { lock.withLock { users.values.sorted { $0.id < $1.id } } }

    /// Adds an invited user; nil when the user name is taken.
    func invite(userName: String, email: String, displayName: String, role: String) -> User? {
        let invited: User? = lock.withLock {
            guard !users.values.contains(where: { $0.userName.lowercased() == userName.lowercased() }) else { return nil }
            add(User(id: 0, userName: userName, email: email, displayName: displayName.isEmpty ? userName : displayName,
                     status: .invited, role: role, groups: []))
            return users[nextID - 1]
        }
        if invited != nil { changed() }
        return invited
    }

    @discardableResult
    func update(_ id: Int, _ change: (inout User) -> Void) -> User? {
        let updated: User? = lock.withLock {
            guard var user = users[id] else { return nil }
            change(&user)
            users[id] = user
            return user
        }
        if updated != nil { changed() }
        return updated
    }

    func delete(_ id: Int) -> User? {
        let removed = lock.withLock { users.removeValue(forKey: id) }
        if removed != nil { changed() }
        return removed
    }

    // MARK: State

    /// The users as the state file and `GET /legacy/_state` show them.
    func snapshot() -> JSONValue {
        ["users": .array(allUsers().map { user in
            [
                "id": .string(String(user.id)), "userName": .string(user.userName), "email": .string(user.email),
                "displayName": .string(user.displayName), "status": .string(user.status.rawValue),
                "role": .string(user.role), "groups": .array(user.groups.sorted().map(JSONValue.string)),
            ]
        })]
    }

    /// Replaces every user with `json["users"]` (the snapshot's shape; ids optional), for a
    /// saved state or a demo's seed. Nothing changes when any entry is invalid.
    func replaceUsers(_ json: JSONValue) throws(LegacyError) {
        guard let items = json["users"].arrayValue else { throw LegacyError("expected {\"users\": [...]}") }
        var loaded: [Int: User] = [:]
        var next = 1
        for (i, item) in items.enumerated() {
            guard let userName = item["userName"].stringValue, !userName.isEmpty else { throw LegacyError("users[\(i)].userName is required") }
            let id = item["id"].stringValue.flatMap { Int($0) } ?? item["id"].intValue ?? next
            let statusName = item["status"].stringValue ?? "active"
            guard let status = User.Status(rawValue: statusName) else { throw LegacyError("users[\(i)].status must be active, disabled or invited") }
            let role = item["role"].stringValue ?? "viewer"
            guard Self.roles.contains(role) else { throw LegacyError("users[\(i)].role must be one of \(Self.roles.joined(separator: ", "))") }
            guard loaded[id] == nil else { throw LegacyError("users[\(i)].id \(id) is taken") }
            let groups = Set((item["groups"].arrayValue ?? []).compactMap(\.stringValue))
            loaded[id] = User(id: id, userName: userName, email: item["email"].stringValue ?? "\(userName)@example.com",
                              displayName: item["displayName"].stringValue ?? userName, status: status, role: role, groups: groups)
            next = max(next, id + 1)
        }
        lock.withLock {
            users = loaded
            nextID = next
        }
        changed()
    }

    // MARK: Sessions

    /// A token for the sign-in form; each is accepted once.
    func issueLoginToken() -> String {
        let token = randomToken()
        lock.withLock {
            loginTokens.append(token)
            if loginTokens.count > 1000 { loginTokens.removeFirst(loginTokens.count - 1000) }
        }
        return token
    }

    func consumeLoginToken(_ token: String) -> Bool {
        lock.withLock {
            guard let index = loginTokens.firstIndex(of: token) else { return false }
            loginTokens.remove(at: index)
            return true
        }
    }

    /// Successful sign-ins so far, for tests that check that tabs share one session.
    private var sessionsStarted = 0
    var signIns: Int { lock.withLock { sessionsStarted } }

    func startSession(awaitingCode: Bool, next: String) -> String {
        let id = randomToken()
        lock.withLock {
            sessionsStarted += 1
            sessions[id] = Session(csrf: randomToken(), expires: Date().addingTimeInterval(Self.sessionLifetime),
                                   awaitingCode: awaitingCode, next: next)
        }
        return id
    }

    func session(_ id: String?) -> Session? {
        guard let id else { return nil }
        return lock.withLock {
            guard let session = sessions[id] else { return nil }
            if session.expires < Date() {
                sessions[id] = nil
                return nil
            }
            return session
        }
    }

    func completeCode(_ id: String) {
        lock.withLock { sessions[id]?.awaitingCode = false }
    }

    func endSession(_ id: String) { _ = lock.withLock { sessions.removeValue(forKey: id) } }

    /// Forgets every session, as if they all expired: the next page view asks to sign in.
    func expireSessions() -> Int {
        lock.withLock {
            let count = sessions.count
            sessions.removeAll()
            return count
        }
    }
}

/// Where the app puts its buttons. `alt` moves and renames them, so recipes need fallbacks.
enum LegacyLayout: String, Sendable, CaseIterable {
    case classic, alt
    /// Like many admin UIs: no id anywhere on the page. The table's user names link to each
    /// user's page, whose address holds the id (docs/browser-recipes.md's tutorial).
    case noid
}
