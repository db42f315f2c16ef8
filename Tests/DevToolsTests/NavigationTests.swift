import DevTools
import Foundation
import StewardHTTP
import StewardJSON
import StewardTestSupport
import Testing

/// A "legacy admin" stand-in: a user page with a Deactivate button behind confirm(), a login
/// form, a slow page and a paginated user list.
final class LegacyApp: Sendable {
    private let state = Locked<[String: String]>([:])
    static let users = (1...7).map { "user\($0)" }

    func status(_ user: String) -> String { state.withLock { $0[user] ?? "active" } }

    func handle(_ request: HTTPRequest) -> HTTPResponse {
        switch (request.method, request.path) {
        case (.get, "/login"):
            return .html("""
                <form method="post" action="/login">
                  <label>Username <input name="username"></label>
                  <label for="pw">Password</label> <input id="pw" name="password" type="password">
                  <button>Sign in</button>
                </form>
                """)
        case (.post, "/login"):
            let fields = URLEncodedForm(parsing: request.body)
            state.withLock { $0["login"] = fields["username"] ?? "" }
            return .redirect(to: "/home")
        case (.get, "/home"):
            return .html("<h1>Welcome \(status("login") == "active" ? "" : state.withLock { $0["login"] ?? "" })</h1><a href=\"/slow\">Reports</a>")
        case (.get, "/slow"):
            Thread.sleep(forTimeInterval: 0.8)
            return .html("<h1>Reports</h1>")
        case (.get, "/users"):
            let page = Int(request.queryValue("page") ?? "1") ?? 1
            let rows = Self.users.dropFirst((page - 1) * 3).prefix(3)
                .map { "<tr><td>\($0)</td><td>\($0)@example.com</td><td>\(status($0))</td></tr>" }.joined()
            let next = page * 3 < Self.users.count
                ? "<a class=\"next\" href=\"/users?page=\(page + 1)\">Next</a>"
                : "<a class=\"next\" aria-disabled=\"true\">Next</a>"
            return .html("""
                <table id="users"><thead><tr><th>User</th><th>Email</th><th>Status</th></tr></thead>
                <tbody>\(rows)</tbody></table>\(next)
                """)
        case (.get, let path) where path.hasPrefix("/users/"):
            let user = String(path.dropFirst("/users/".count))
            return .html("""
                <h1>\(user)</h1><p id="status">Status: <b>\(status(user))</b></p>
                <form method="post" action="/users/\(user)/deactivate" onsubmit="return confirm('Deactivate \(user)?')">
                  <button id="deactivate">Deactivate</button>
                </form>
                """)
        case (.post, let path) where path.hasSuffix("/deactivate"):
            let user = path.split(separator: "/")[1]
            state.withLock { $0[String(user)] = "disabled" }
            return .redirect(to: "/users/\(user)")
        default:
            return .html("<h1>Not found</h1>", status: .notFound)
        }
    }
}

@Suite("Navigation, dialogs and tables")
struct NavigationTests {
    @Test("goto reports the HTTP status; a refused connection is a navigation error naming the URL")
    func gotoStatus() async throws {
        let app = LegacyApp()
        let server = try StubServer(app.handle)
        defer { server.stop() }
        try await Harness.withPage { (page: Page) async throws in
            #expect(try await page.goto(server.url("/login")).status == 200)
            #expect(try await page.goto(server.url("/nope")).status == 404)
            #expect(try await page.goto(server.url("/login"), waitUntil: .domContentLoaded).status == 200)
            #expect(try await page.url() == server.url("/login"))
            #expect(try await page.content().contains("Sign in"))
        }
        let closed = try StubServer(pages: [:])
        let unused = closed.url("/")
        closed.stop()
        try await Harness.withPage { (page: Page) async throws in
            let error = await #expect(throws: DevToolsError.self) { try await page.goto(unused) }
            guard case .navigationFailed(let url, let reason) = error else {
                Issue.record("expected navigationFailed, got \(String(describing: error))")
                return
            }
            #expect(url == unused)
            #expect(reason.contains("ERR_CONNECTION_REFUSED"))
        }
    }

    @Test("a login form: fill by label, submit with Enter, land on the next page")
    func loginFlow() async throws {
        let app = LegacyApp()
        let server = try StubServer(app.handle)
        defer { server.stop() }
        try await Harness.withPage { (page: Page) async throws in
            try await page.goto(server.url("/login"))
            try await page.fill("label=Username", "ada")
            try await page.fill("label=Password", "s3cret")
            try await page.press("Enter", on: "label=Password")
            #expect(try await page.url() == server.url("/home"))
            try await page.waitFor(.text("Welcome ada"))
            try await page.click("text=Reports")
            try await page.waitFor(.visible("role=heading[name=\"Reports\"]"))
            try await page.waitFor(.url("**/slow"))
        }
    }

    @Test("deactivate through a confirm() dialog: accepted changes the server, dismissed does not")
    func deactivateWithConfirm() async throws {
        let app = LegacyApp()
        let server = try StubServer(app.handle)
        defer { server.stop() }
        try await Harness.withPage { (page: Page) async throws in
            try await page.goto(server.url("/users/user2"))
            try await page.click(["role=button[name=\"Deactivate\"]", "#deactivate"])
            #expect(page.dialogs == [Dialog(kind: .confirm, message: "Deactivate user2?", accepted: false)])
            #expect(app.status("user2") == "active")

            page.dialogPolicy = .accept()
            try await page.click(["role=button[name=\"Deactivate\"]", "#deactivate"])
            try await page.waitFor(.text("Status: disabled"))
            #expect(app.status("user2") == "disabled")
            #expect(page.dialogs.last == Dialog(kind: .confirm, message: "Deactivate user2?", accepted: true))
        }
    }

    @Test("alert, confirm and prompt are answered by policy and never block the page")
    func dialogPolicies() async throws {
        let html = """
            <button id="alert" onclick="alert('Saved'); window.after = true">Alert</button>
            <button id="confirm" onclick="window.answer = confirm('Sure?')">Confirm</button>
            <button id="prompt" onclick="window.answer = prompt('Colour?', 'red')">Prompt</button>
            """
        try await Harness.withContent(html) { (page: Page) async throws in
            try await page.click("#alert")
            #expect(try await page.evaluate("window.after") == true)
            try await page.click("#confirm")
            #expect(try await page.evaluate("window.answer") == false)
            page.dialogPolicy = .accept(promptText: "blue")
            try await page.click("#prompt")
            #expect(try await page.evaluate("window.answer") == "blue")
            page.dialogPolicy = .accept()
            try await page.click("#prompt")
            #expect(try await page.evaluate("window.answer") == "red")
            page.dialogPolicy = .decide { dialog in
                dialog.message == "Sure?" ? .accept() : .dismiss
            }
            try await page.click("#confirm")
            #expect(try await page.evaluate("window.answer") == true)
            #expect(try await page.evaluate("confirm('Other?')") == false)
            #expect(page.dialogs.map(\.kind) == [.alert, .confirm, .prompt, .prompt, .confirm, .confirm])
            #expect(page.dialogs.first?.message == "Saved")
        }
    }

    @Test("extractTable follows the next-page link until it is disabled")
    func paginatedTable() async throws {
        let app = LegacyApp()
        let server = try StubServer(app.handle)
        defer { server.stop() }
        try await Harness.withPage { (page: Page) async throws in
            try await page.goto(server.url("/users"))
            let table = try await page.extractTable("#users", nextPage: ["role=link[name=\"Next\"]", "a.next"])
            #expect(table.headers == ["User", "Email", "Status"])
            #expect(table.column("User") == LegacyApp.users)
            #expect(table.pages == 3)
            #expect(table.records.first == ["User": "user1", "Email": "user1@example.com", "Status": "active"])
            let firstOnly = try await page.extractTable("#users")
            #expect(firstOnly.rows.count == 1)
            #expect(firstOnly.pages == 1)
        }
    }

    @Test("extractTable reads client-side pages, header rows without thead, and control cells")
    func clientSideTable() async throws {
        let html = """
            <table id="t"><tbody></tbody></table>
            <button id="more">Next page</button>
            <script>
              const pages = [[['a', true], ['b', false]], [['c', true]]];
              let page = 0;
              function render() {
                const rows = pages[page].map(([n, on]) =>
                  `<tr><td>${n}</td><td><input type="checkbox" ${on ? 'checked' : ''}></td></tr>`).join('');
                t.tBodies[0].innerHTML = '<tr><th>Name</th><th>Enabled</th></tr>' + rows;
                more.disabled = page === pages.length - 1;
              }
              more.onclick = () => setTimeout(() => { page++; render(); }, 100);
              render();
            </script>
            """
        try await Harness.withContent(html) { (page: Page) async throws in
            let table = try await page.extractTable("#t", nextPage: "#more")
            #expect(table.headers == ["Name", "Enabled"] && table.rows == [["a", "true"], ["b", "false"], ["c", "true"]] && table.pages == 2, "\(table)")
            // Each cell's attributes come along: the checkbox's, for a column read from `checked`.
            #expect(table.attributes.count == 3 && table.attributes[0][1]["type"] == "checkbox" && table.attributes[0][1]["checked"] != nil)
            #expect(table.attributes[1][1]["checked"] == nil)
        }
    }
}
