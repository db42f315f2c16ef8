import Foundation

/// A minimal "legacy admin" user page: a status and a Deactivate button behind confirm().
final class DemoApp: Sendable {
    private let statuses = Mutex([Int: String]())

    func status(of id: Int) -> String { statuses.withLock { $0[id] ?? "active" } }

    func handle(_ request: LocalServer.Request) -> LocalServer.Response {
        let parts = request.path.split(separator: "/")
        guard parts.count >= 2, parts[0] == "users", let id = Int(parts[1]) else {
            return LocalServer.Response(status: 404, body: "<h1>Not found</h1>")
        }
        if request.method == "POST", parts.count == 3, parts[2] == "deactivate" {
            statuses.withLock { $0[id] = "disabled" }
            return .redirect("/users/\(id)")
        }
        return LocalServer.Response(body: userPage(id))
    }

    private func userPage(_ id: Int) -> String {
        """
        <!doctype html>
        <html><head><title>User \(id)</title>
        <style>body { font: 14px sans-serif; margin: 2em } .status { margin: 1em 0 }</style></head>
        <body>
        <h1>user\(id)@example.com</h1>
        <p class="status" id="status">Status: <b>\(status(of: id))</b></p>
        <form method="post" action="/users/\(id)/deactivate"
              onsubmit="return confirm('Deactivate user\(id)@example.com?')">
          <button id="deactivate" type="submit">Deactivate</button>
        </form>
        </body></html>
        """
    }
}

/// A lock around a value, for the server's handler threads.
final class Mutex<Value: Sendable>: @unchecked Sendable { // safe: `value` is only touched under `lock`
    private let lock = NSLock()
    private var value: Value

    init(_ value: Value) { self.value = value }

    func withLock<Result>(_ body: (inout Value) -> Result) -> Result {
        lock.lock()
        defer { lock.unlock() }
        return body(&value)
    }
}
