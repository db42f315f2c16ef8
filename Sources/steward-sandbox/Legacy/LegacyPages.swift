import StewardHTTP

/// The legacy app's server-rendered HTML. Both layouts show the same data; `alt` moves and
/// renames the buttons (and a few ids), the way a vendor's UI update does.
struct LegacyPages {
    let prefix: String
    let layout: LegacyLayout

    private var alt: Bool { layout == .alt }
    private var noID: Bool { layout == .noid }

    func login(token: String, next: String, error: String?) -> String {
        let button = alt
            ? #"<button type="submit" id="login-submit" class="primary">Log in</button>"#
            : #"<button type="submit" id="sign-in">Sign in</button>"#
        return document("Sign in", signedIn: false, """
            <h1>Legacy Admin</h1>
            \(error.map { #"<p class="error" id="login-error">\#(htmlEscape($0))</p>"# } ?? "")
            <form id="login" method="post" action="\(prefix)/login">
              <input type="hidden" name="csrf" value="\(token)">
              <input type="hidden" name="next" value="\(htmlEscape(next))">
              <p><label for="username">Username</label> <input id="username" name="username" autocomplete="username"></p>
              <p><label for="password">Password</label> <input id="password" name="password" type="password" autocomplete="current-password"></p>
              <p>\(button)</p>
            </form>
            """)
    }

    func code(csrf: String, error: String?) -> String {
        document("Two-step verification", signedIn: false, """
            <h1>Two-step verification</h1>
            \(error.map { #"<p class="error" id="code-error">\#(htmlEscape($0))</p>"# } ?? "")
            <form id="verify" method="post" action="\(prefix)/login/code">
              <input type="hidden" name="csrf" value="\(csrf)">
              <p><label for="code">Authentication code</label> <input id="code" name="code" inputmode="numeric" autocomplete="one-time-code"></p>
              <p><button type="submit" id="verify-code">Verify</button></p>
            </form>
            """)
    }

    func users(_ users: [LegacyStore.User], page: Int, pages: Int, notice: String?, search: String? = nil) -> String {
        let rows = users.map { user in
            """
            <tr>\(noID ? "" : "<td>\(user.id)</td>")<td><a href="\(prefix)/users/\(user.id)">\(htmlEscape(user.userName))</a></td>\
            <td>\(htmlEscape(user.email))</td><td>\(htmlEscape(user.displayName))</td><td>\(user.status.label)</td>\
            <td>\(user.role)</td><td>\(user.groups.sorted().joined(separator: ", "))</td></tr>
            """
        }.joined(separator: "\n")
        let query = search.map { "&q=" + PercentEncoding.encode($0) } ?? ""
        let next = page < pages
            ? (alt ? #"<a class="pager-next" rel="next" href="\#(prefix)/users?page=\#(page + 1)\#(query)">Older users →</a>"#
                   : #"<a id="next-page" href="\#(prefix)/users?page=\#(page + 1)\#(query)">Next</a>"#)
            : ""
        let searchForm = #"<form role="search" method="get" action="\#(prefix)/users"><input type="search" name="q" aria-label="Search users" value="\#(htmlEscape(search ?? ""))"> <button type="submit">Search</button></form>"#
        let table = alt ? #"<table class="data" id="user-table">"# : #"<table id="users">"#
        return document("Users", signedIn: true, """
            <h1>Users</h1>
            \(flash(notice))
            \(searchForm)
            \(table)
            <thead><tr>\(noID ? "" : "<th>ID</th>")<th>Username</th><th>Email</th><th>Name</th><th>Status</th><th>Role</th><th>Groups</th></tr></thead>
            <tbody>
            \(rows)
            </tbody></table>
            <p class="pager">Page \(page) of \(pages) \(next)</p>
            """)
    }

    func groups() -> String {
        let rows = LegacyStore.groups.map { "<tr><td>\($0.key)</td><td>\(htmlEscape($0.name))</td><td>\(htmlEscape($0.description))</td></tr>" }
        return document("Groups", signedIn: true, """
            <h1>Groups</h1>
            <table id="groups"><thead><tr><th>Key</th><th>Name</th><th>Description</th></tr></thead>
            <tbody>\(rows.joined(separator: "\n"))</tbody></table>
            """)
    }

    func invite(csrf: String, error: String?, values: [String: String] = [:]) -> String {
        let button = alt
            ? #"<button type="submit" id="create-invite">Create invitation</button>"#
            : #"<button type="submit" id="send-invite">Send invite</button>"#
        return document("Invite a user", signedIn: true, """
            <h1>Invite a user</h1>
            \(error.map { #"<p class="error" id="form-error">\#(htmlEscape($0))</p>"# } ?? "")
            <form id="invite" method="post" action="\(prefix)/users">
              <input type="hidden" name="csrf" value="\(csrf)">
              <p><label for="new-username">Username</label> <input id="new-username" name="username" value="\(htmlEscape(values["username"] ?? ""))"></p>
              <p><label for="new-email">Email</label> <input id="new-email" name="email" type="email" value="\(htmlEscape(values["email"] ?? ""))"></p>
              <p><label for="new-name">Display name</label> <input id="new-name" name="displayName" value="\(htmlEscape(values["displayName"] ?? ""))"></p>
              <p><label for="new-role">Role</label> \(roleSelect(id: "new-role", selected: "viewer"))</p>
              <p>\(button)</p>
            </form>
            """)
    }

    func user(_ user: LegacyStore.User, csrf: String, notice: String?) -> String {
        let checkboxes = LegacyStore.groups.map { group in
            let checked = user.groups.contains(group.key) ? " checked" : ""
            return #"<label><input type="checkbox" name="groups" value="\#(group.key)"\#(checked)> \#(htmlEscape(group.name))</label>"#
        }.joined(separator: "<br>\n")
        let who = htmlEscape(user.userName)
        let statusForm: String
        if user.status == .disabled {
            statusForm = dangerButton(action: "\(prefix)/users/\(user.id)/reactivate", csrf: csrf, confirm: "Reactivate \(user.userName)?",
                                      id: alt ? "restore-user" : "reactivate", label: alt ? "Restore access" : "Reactivate")
        } else {
            statusForm = dangerButton(action: "\(prefix)/users/\(user.id)/deactivate", csrf: csrf, confirm: "Deactivate \(user.userName)? They will no longer be able to sign in.",
                                      id: alt ? "suspend-user" : "deactivate", label: alt ? "Suspend user" : "Deactivate")
        }
        let deleteForm = dangerButton(action: "\(prefix)/users/\(user.id)/delete", csrf: csrf, confirm: "Delete \(user.userName) permanently?",
                                      id: alt ? "remove-user" : "delete", label: alt ? "Remove account" : "Delete user")
        let save = alt ? #"<button type="submit" id="apply-changes">Apply changes</button>"# : #"<button type="submit" id="save">Save</button>"#
        let roleLabel = alt ? "Access level" : "Role"
        let roleID = alt ? "access-level" : "role"
        let details = """
            <dl>
              \(noID ? "" : #"<dt>ID</dt><dd id="user-id">\#(user.id)</dd>"#)
              <dt>Username</dt><dd id="username">\(who)</dd>
              <dt>Email</dt><dd id="email">\(htmlEscape(user.email))</dd>
              <dt>Status</dt><dd id="status">\(user.status.label)</dd>
            </dl>
            """
        let form = """
            <form id="user-form" method="post" action="\(prefix)/users/\(user.id)">
              <input type="hidden" name="csrf" value="\(csrf)">
              <p><label for="\(roleID)">\(roleLabel)</label> \(roleSelect(id: roleID, selected: user.role))</p>
              <fieldset><legend>Groups</legend>
              \(checkboxes)
              </fieldset>
              <p>\(save)</p>
            </form>
            """
        let danger = #"<section class="danger"><h2>Danger zone</h2>\#(statusForm) \#(deleteForm)</section>"#
        let body = alt ? "\(danger)\n\(details)\n\(form)" : "\(details)\n\(form)\n\(statusForm) \(deleteForm)"
        return document(user.displayName, signedIn: true, """
            <h1 id="display-name">\(htmlEscape(user.displayName))</h1>
            \(flash(notice))
            \(body)
            """)
    }

    func notFound(_ what: String) -> String {
        document("Not found", signedIn: true, #"<h1>Not found</h1><p id="not-found">\#(htmlEscape(what))</p>"#)
    }

    // MARK: - Pieces

    private func dangerButton(action: String, csrf: String, confirm: String, id: String, label: String) -> String {
        """
        <form class="inline" method="post" action="\(action)" onsubmit="return confirm(this.dataset.confirm)" data-confirm="\(htmlEscape(confirm))">\
        <input type="hidden" name="csrf" value="\(csrf)"><button type="submit" id="\(id)">\(label)</button></form>
        """
    }

    private func roleSelect(id: String, selected: String) -> String {
        let options = LegacyStore.roles.map { role in
            #"<option value="\#(role)"\#(role == selected ? " selected" : "")>\#(role.prefix(1).uppercased() + role.dropFirst())</option>"#
        }.joined()
        return #"<select id="\#(id)" name="role">\#(options)</select>"#
    }

    private func flash(_ notice: String?) -> String {
        notice.map { #"<p class="flash" id="flash" role="status">\#(htmlEscape($0))</p>"# } ?? ""
    }

    private func document(_ title: String, signedIn: Bool, _ body: String) -> String {
        let nav = signedIn
            ? #"<nav><a href="\#(prefix)/users">Users</a> · <a href="\#(prefix)/groups">Groups</a> · <a id="invite-link" href="\#(prefix)/users/new">Invite</a> · <span id="whoami">admin</span> <form class="inline" method="post" action="\#(prefix)/logout"><button id="sign-out">Sign out</button></form></nav>"#
            : ""
        return """
            <!doctype html>
            <html lang="en"><head><meta charset="utf-8"><title>\(htmlEscape(title)) · Legacy Admin</title>
            <style>
            body { font: 14px sans-serif; margin: 2em; } table { border-collapse: collapse; }
            td, th { border: 1px solid #ccc; padding: 2px 6px; } .error { color: #b00; } .flash { color: #070; }
            form.inline { display: inline; } .danger { border: 1px solid #b00; padding: 0 1em 1em; margin: 1em 0; }
            </style></head>
            <body>\(nav)
            <main>
            \(body)
            </main></body></html>
            """
    }
}

/// Text made safe for HTML content and quoted attributes.
func htmlEscape(_ text: String) -> String {
    var result = ""
    result.reserveCapacity(text.utf8.count)
    for character in text {
        switch character {
        case "&": result += "&amp;"
        case "<": result += "&lt;"
        case ">": result += "&gt;"
        case "\"": result += "&quot;"
        case "'": result += "&#39;"
        default: result.append(character)
        }
    }
    return result
}
