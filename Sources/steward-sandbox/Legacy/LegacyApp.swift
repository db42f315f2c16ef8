import Foundation
import StewardHTTP
import StewardJSON

extension SandboxApp {
    static let legacy = SandboxApp(
        name: "legacy", prefix: "/legacy",
        summary: "\"Legacy admin\" web app with no API (HTML forms, CSRF, optional TOTP, confirm dialogs)"
    ) { context in
        let options = context.options
        let store = LegacyStore(layout: options.legacyLayout, generatedUsers: options.generatedUsers) { context.stateChanged() }
        if let saved = context.savedState["legacy"] {
            do {
                try store.replaceUsers(saved)
            } catch {
                throw StateFile.LoadError(description: "state file \(context.stateFile?.path ?? ""): legacy: \(error)")
            }
        }
        context.stateFile?.register("legacy") { store.snapshot() }
        var totp: LegacyTOTP?
        if let secret = options.legacyTOTPSecret {
            guard let parsed = LegacyTOTP(base32: secret) else {
                throw LegacyError("--legacy-totp-secret is not valid base32")
            }
            totp = parsed
        }
        let app = LegacyApp(prefix: "/legacy", store: store, password: context.token, totp: totp)
        let slowed = context.faults.wrap(app.router()) { fault in
            switch fault {
            case .rateLimited(let seconds):
                var response = HTTPResponse.html("<h1>Too many requests</h1>", status: .tooManyRequests)
                response.headers.add("Retry-After", String(seconds))
                return response
            case .failure(let status):
                return .html("<h1>Something went wrong</h1><p>injected fault</p>", status: status)
            }
        }
        var router = slowed
        // Test hooks observe and steer the app; they need the sandbox token, not a sign-in.
        router.mount("/", context.requiringBearerToken(app.hooks()) { .json(["error": "a valid bearer token is required"], status: .unauthorized) })
        return MountedApp(router: router, snapshot: { store.snapshot() })
    }
}

struct LegacyError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// An admin UI with no API: everything happens through HTML pages and form posts, after a
/// sign-in with a CSRF-protected form (and a one-time code when TOTP is on).
///
/// The administrator is `admin`; the password is the sandbox token.
struct LegacyApp: Sendable {
    let prefix: String
    let store: LegacyStore
    let password: String
    let totp: LegacyTOTP?

    static let sessionCookie = "legacy_session"

    func router() -> Router {
        var router = Router()
        router.get("/") { _ in .redirect(to: "\(prefix)/users") }
        router.get("/login") { request in
            let next = request.queryValue("next") ?? "\(prefix)/users"
            return .html(pages.login(token: store.issueLoginToken(), next: safeNext(next), error: nil))
        }
        router.post("/login") { request in try signIn(request) }
        router.get("/login/code") { request in
            guard let (_, session) = sessionOf(request), session.awaitingCode else { return .redirect(to: "\(prefix)/login") }
            return .html(pages.code(csrf: session.csrf, error: nil))
        }
        router.post("/login/code") { request in try verifyCode(request) }
        router.post("/logout") { request in
            if let id = request.cookies[Self.sessionCookie] { store.endSession(id) }
            var response = HTTPResponse.redirect(to: "\(prefix)/login")
            response.setCookie(.expired(Self.sessionCookie, path: prefix))
            return response
        }
        router.get("/users") { request in
            signedIn(request) { _ in
                let page = Int(request.queryValue("page") ?? "1") ?? 1
                let search = request.queryValue("q")
                let (users, pages) = store.page(page, search: search)
                return .html(self.pages.users(users, page: min(max(page, 1), pages), pages: pages, notice: request.queryValue("notice"),
                                              search: search))
            }
        }
        router.get("/groups") { request in signedIn(request) { _ in .html(pages.groups()) } }
        router.get("/users/new") { request in
            signedIn(request) { session in .html(pages.invite(csrf: session.csrf, error: nil)) }
        }
        router.post("/users") { request in
            try signedInForm(request) { session, form in
                let userName = (form["username"] ?? "").trimmingCharacters(in: .whitespaces)
                let email = (form["email"] ?? "").trimmingCharacters(in: .whitespaces)
                let role = form["role"] ?? "viewer"
                let values = ["username": userName, "email": email, "displayName": form["displayName"] ?? ""]
                guard !userName.isEmpty, userName.count <= 64, userName.allSatisfy({ $0.isLetter || $0.isNumber || ".-_@".contains($0) }) else {
                    return .html(pages.invite(csrf: session.csrf, error: "Username is required (letters, digits, . - _ @)", values: values), status: .unprocessableContent)
                }
                guard LegacyStore.roles.contains(role) else {
                    return .html(pages.invite(csrf: session.csrf, error: "Unknown role \(role)", values: values), status: .unprocessableContent)
                }
                guard let user = store.invite(userName: userName, email: email.isEmpty ? "\(userName)@example.com" : email,
                                              displayName: values["displayName"] ?? "", role: role) else {
                    return .html(pages.invite(csrf: session.csrf, error: "A user named \(userName) already exists", values: values), status: .conflict)
                }
                return .redirect(to: "\(prefix)/users/\(user.id)?notice=" + PercentEncoding.encode("Invitation sent to \(user.email)"))
            }
        }
        router.get("/users/:id") { request in
            signedIn(request) { session in
                guard let user = userOf(request) else { return .html(pages.notFound("No such user"), status: .notFound) }
                return .html(pages.user(user, csrf: session.csrf, notice: request.queryValue("notice")))
            }
        }
        router.post("/users/:id") { request in
            try changeUser(request, notice: "Changes saved") { user, form in
                if let role = form["role"] {
                    guard LegacyStore.roles.contains(role) else { throw HTTPError(.badRequest, "unknown role \(role)") }
                    user.role = role
                }
                let known = Set(LegacyStore.groups.map(\.key))
                user.groups = Set(form.values(for: "groups").filter { known.contains($0) })
            }
        }
        router.post("/users/:id/deactivate") { request in
            try changeUser(request, notice: "User deactivated") { user, _ in user.status = .disabled }
        }
        router.post("/users/:id/reactivate") { request in
            try changeUser(request, notice: "User reactivated") { user, _ in user.status = .active }
        }
        router.post("/users/:id/delete") { request in
            try signedInForm(request) { _, _ in
                guard let id = Int(request.parameter("id") ?? ""), let user = store.delete(id) else {
                    return .html(pages.notFound("No such user"), status: .notFound)
                }
                return .redirect(to: "\(prefix)/users?notice=" + PercentEncoding.encode("Deleted \(user.userName)"))
            }
        }
        return router
    }

    /// `GET /_state` (everything, as JSON), `PUT /_sandbox/users {"users": [...]}` (replace
    /// every user, e.g. with a demo's people), `POST /_sandbox/layout {"layout": "alt"}`,
    /// `POST /_sandbox/expire-sessions`: for tests and demos only.
    func hooks() -> Router {
        var router = Router()
        router.get("/_state") { _ in
            .json(["users": store.snapshot()["users"], "layout": .string(store.layout.rawValue), "totp": .bool(totp != nil),
                   "sessionsStarted": .int(store.signIns)])
        }
        router.put("/_sandbox/users") { request in
            do {
                try store.replaceUsers(try request.jsonBody())
            } catch let error as LegacyError {
                throw HTTPError(.badRequest, error.description)
            }
            return .json(["users": .int(store.allUsers().count)])
        }
        router.post("/_sandbox/layout") { request in
            let body = try request.jsonBody()
            guard let name = body["layout"].stringValue, let layout = LegacyLayout(rawValue: name) else {
                throw HTTPError(.badRequest, "layout must be one of \(LegacyLayout.allCases.map { "\"\($0.rawValue)\"" }.joined(separator: ", "))")
            }
            store.layout = layout
            return .json(["layout": .string(layout.rawValue)])
        }
        router.post("/_sandbox/expire-sessions") { _ in
            .json(["expired": .int(store.expireSessions())])
        }
        return router
    }

    // MARK: - Sign-in

    private var pages: LegacyPages { LegacyPages(prefix: prefix, layout: store.layout) }

    private func signIn(_ request: HTTPRequest) throws -> HTTPResponse {
        let form = try request.formBody()
        let next = safeNext(form["next"] ?? "")
        guard let token = form["csrf"], store.consumeLoginToken(token) else {
            return .html(pages.login(token: store.issueLoginToken(), next: next, error: "Your session expired, please sign in again"), status: .forbidden)
        }
        guard form["username"] == "admin", constantTimeEqual(form["password"] ?? "", password) else {
            return .html(pages.login(token: store.issueLoginToken(), next: next, error: "Invalid username or password"), status: .unauthorized)
        }
        let id = store.startSession(awaitingCode: totp != nil, next: next)
        var response = HTTPResponse.redirect(to: totp != nil ? "\(prefix)/login/code" : next)
        response.setCookie(Cookie(name: Self.sessionCookie, value: id, path: prefix))
        return response
    }

    private func verifyCode(_ request: HTTPRequest) throws -> HTTPResponse {
        let form = try request.formBody()
        guard let (id, session) = sessionOf(request), session.awaitingCode, form["csrf"] == session.csrf else {
            return .redirect(to: "\(prefix)/login")
        }
        guard let totp, totp.accepts((form["code"] ?? "").trimmingCharacters(in: .whitespaces)) else {
            return .html(pages.code(csrf: session.csrf, error: "That code is not valid"), status: .unauthorized)
        }
        store.completeCode(id)
        return .redirect(to: session.next)
    }

    private func sessionOf(_ request: HTTPRequest) -> (String, LegacyStore.Session)? {
        guard let id = request.cookies[Self.sessionCookie], let session = store.session(id) else { return nil }
        return (id, session)
    }

    /// Runs `body` for a signed-in administrator; anyone else goes to the sign-in page.
    private func signedIn(_ request: HTTPRequest, _ body: (LegacyStore.Session) throws -> HTTPResponse) rethrows -> HTTPResponse {
        guard let (_, session) = sessionOf(request), !session.awaitingCode else {
            return .redirect(to: "\(prefix)/login?next=" + PercentEncoding.encode(request.target))
        }
        return try body(session)
    }

    /// A form post from a signed-in administrator, with the session's CSRF token.
    private func signedInForm(_ request: HTTPRequest, _ body: (LegacyStore.Session, URLEncodedForm) throws -> HTTPResponse) throws -> HTTPResponse {
        try signedIn(request) { session in
            let form = try request.formBody()
            guard form["csrf"] == session.csrf else {
                return .html("<h1>Forbidden</h1><p id=\"csrf-error\">The form expired; reload the page.</p>", status: .forbidden)
            }
            return try body(session, form)
        }
    }

    private func changeUser(_ request: HTTPRequest, notice: String, _ change: @escaping (inout LegacyStore.User, URLEncodedForm) throws -> Void) throws -> HTTPResponse {
        try signedInForm(request) { _, form in
            guard let id = Int(request.parameter("id") ?? "") else { return .html(pages.notFound("No such user"), status: .notFound) }
            var failure: Error?
            let updated = store.update(id) { user in
                do { try change(&user, form) } catch { failure = error }
            }
            if let failure { throw failure }
            guard updated != nil else { return .html(pages.notFound("No such user"), status: .notFound) }
            return .redirect(to: "\(prefix)/users/\(id)?notice=" + PercentEncoding.encode(notice))
        }
    }

    private func userOf(_ request: HTTPRequest) -> LegacyStore.User? {
        Int(request.parameter("id") ?? "").flatMap(store.user)
    }

    /// Only paths inside the app, so the sign-in form cannot redirect elsewhere.
    private func safeNext(_ next: String) -> String {
        next.hasPrefix(prefix + "/") && !next.hasPrefix("//") ? next : "\(prefix)/users"
    }
}

private func constantTimeEqual(_ a: String, _ b: String) -> Bool {
    let x = Array(a.utf8), y = Array(b.utf8)
    guard x.count == y.count else { return false }
    return zip(x, y).reduce(UInt8(0)) { $0 | ($1.0 ^ $1.1) } == 0
}
