import DevTools
import Foundation
import StewardHTTP
import StewardJSON
import StewardTestSupport
import Testing

@Suite("Page actions")
struct ActionTests {
    @Test("click waits for the element to appear, to be enabled, and to stop being covered")
    func clickWaitsForActionability() async throws {
        let html = """
            <button id="late-enabled" disabled onclick="window.log.push('enabled')">Go</button>
            <button id="covered" onclick="window.log.push('covered')">Under</button>
            <div id="overlay" style="position:fixed;inset:0;background:rgba(0,0,0,.3)"></div>
            <script>
              window.log = [];
              setTimeout(() => {
                const b = document.createElement('button');
                b.id = 'late'; b.textContent = 'Late'; b.onclick = () => window.log.push('late');
                document.body.append(b);
              }, 300);
              setTimeout(() => document.getElementById('late-enabled').disabled = false, 300);
              setTimeout(() => document.getElementById('overlay').remove(), 400);
            </script>
            """
        try await Harness.withContent(html) { (page: Page) async throws in
            try await page.click("#late")
            try await page.click("#late-enabled")
            try await page.click("#covered")
            #expect(try await page.evaluate("window.log") == ["late", "enabled", "covered"])
        }
    }

    @Test("click waits for a moving element to come to rest and scrolls it into view")
    func clickStableAndScrolled() async throws {
        let html = """
            <style>
              @keyframes slide { from { transform: translateX(0) } to { transform: translateX(300px) } }
              #moving { animation: slide 0.5s linear 1 forwards }
            </style>
            <button id="moving" onclick="window.hit = 'moving'">Moving</button>
            <div style="height: 3000px"></div>
            <button id="far" onclick="window.far = true">Far below</button>
            """
        try await Harness.withContent(html) { (page: Page) async throws in
            try await page.click("#moving")
            #expect(try await page.evaluate("window.hit") == "moving")
            try await page.click("text=Far below")
            #expect(try await page.evaluate("window.far") == true)
            #expect((try await page.evaluate("window.scrollY").doubleValue ?? 0) > 0)
        }
    }

    @Test("an element that never stops moving is reported as not stable")
    func neverStable() async throws {
        let html = """
            <style>
              @keyframes wobble { from { margin-left: 0 } to { margin-left: 40px } }
              #wobbly { animation: wobble 0.3s linear infinite alternate }
            </style>
            <button id="wobbly">Wobbly</button>
            """
        try await Harness.withContent(html) { (page: Page) async throws in
            let error = await #expect(throws: DevToolsError.self) { try await page.click("#wobbly", timeout: .milliseconds(700)) }
            #expect(error == .stepTimedOut(action: "click", seconds: 0.7, attempts: [
                SelectorAttempt(selector: "#wobbly", reason: "not stable (animating)"),
            ]))
        }
    }

    @Test("a step that can never succeed fails within its timeout, naming each selector and why")
    func neverSucceeds() async throws {
        let html = """
            <button id="off" disabled>Off</button>
            <button id="under">Under</button>
            <div id="overlay" class="modal" style="position:fixed;inset:0"></div>
            """
        try await Harness.withContent(html) { (page: Page) async throws in
            let error = await #expect(throws: DevToolsError.self) {
                try await page.click(["role=button[name=\"Deactivate\"]", "#off", "#under"], timeout: .seconds(1))
            }
            #expect(error == .stepTimedOut(action: "click", seconds: 1, attempts: [
                SelectorAttempt(selector: "role=button[name=\"Deactivate\"]", reason: "not found"),
                SelectorAttempt(selector: "#off", reason: "disabled"),
                SelectorAttempt(selector: "#under", reason: "covered by <div id=\"overlay\" class=\"modal\">"),
            ]))
            let text = error.map { "\($0)" } ?? ""
            #expect(text.hasPrefix("click timed out after 1.0 s: role=button[name=\"Deactivate\"]: not found; #off: disabled"))
        }
    }

    @Test("fill types into inputs, textareas and contenteditable, sets dates, and clears")
    func fill() async throws {
        let html = """
            <input id="fullname" value="old"> <textarea id="notes"></textarea>
            <div id="rich" contenteditable="true">old text</div>
            <input id="start" type="date"> <input id="ro" readonly>
            <script>
              window.inputs = 0;
              document.addEventListener('input', () => window.inputs++);
            </script>
            """
        try await Harness.withContent(html) { (page: Page) async throws in
            try await page.fill("#fullname", "Ada Lovelace")
            try await page.fill("#notes", "line 1\nline 2")
            try await page.fill("#rich", "new text")
            try await page.fill("#start", "2024-02-29")
            let values = try await page.evaluate("""
                [fullname.value, notes.value, rich.textContent, start.value]
                """)
            #expect(values == ["Ada Lovelace", "line 1\nline 2", "new text", "2024-02-29"])
            #expect((try await page.evaluate("window.inputs").intValue ?? 0) >= 4)
            try await page.fill("#fullname", "")
            #expect(try await page.evaluate("fullname.value") == "")
        }
    }

    @Test("fill never puts the typed text in an error")
    func fillKeepsSecrets() async throws {
        try await Harness.withContent("<input id=\"ro\" readonly><input id=\"box\" type=\"checkbox\">") { (page: Page) async throws in
            let error = await #expect(throws: DevToolsError.self) {
                try await page.fill(["#ro", "#box"], "hunter2-secret", timeout: .milliseconds(500))
            }
            let text = error.map { "\($0)" } ?? ""
            #expect(text.contains("#ro: read-only"))
            #expect(text.contains("#box: not a text field"))
            #expect(!text.contains("hunter2"))
        }
    }

    @Test("select chooses options by value or label and reports a missing option")
    func select() async throws {
        let html = """
            <select id="tier"><option value="v">Viewer</option><option value="a">Admin</option></select>
            <select id="groups" multiple><option>eng</option><option>ops</option><option>sales</option></select>
            <script>window.changes = 0; tier.addEventListener('change', () => window.changes++)</script>
            """
        try await Harness.withContent(html) { (page: Page) async throws in
            #expect(try await page.select("#tier", ["Admin"]) == ["a"])
            #expect(try await page.evaluate("tier.value") == "a")
            #expect(try await page.evaluate("window.changes") == 1)
            #expect(try await page.select("#tier", ["v"]) == ["v"])
            #expect(try await page.select("#groups", ["eng", "sales"]) == ["eng", "sales"])
            let error = await #expect(throws: DevToolsError.self) {
                try await page.select("#tier", ["Owner"], timeout: .milliseconds(500))
            }
            #expect("\(error.map { "\($0)" } ?? "")".contains("#tier: no option \"Owner\""))
        }
    }

    @Test("check and uncheck set checkboxes and radios, and do nothing when already set")
    func checkAndUncheck() async throws {
        let html = """
            <input type="checkbox" id="admin"> <label for="admin">Admin</label>
            <label><input type="checkbox" id="ops" checked> Ops</label>
            <input type="radio" name="t" id="t1" checked> <input type="radio" name="t" id="t2">
            <script>window.clicks = 0; document.addEventListener('click', () => window.clicks++)</script>
            """
        try await Harness.withContent(html) { (page: Page) async throws in
            try await page.check("label=Admin")
            try await page.check("#admin")
            try await page.uncheck("role=checkbox[name=\"Ops\"]")
            try await page.check("#t2")
            #expect(try await page.evaluate("[admin.checked, ops.checked, t1.checked, t2.checked]") == [true, false, false, true])
            #expect(try await page.evaluate("window.clicks") == 3)
            let error = await #expect(throws: DevToolsError.self) { try await page.uncheck("#t2", timeout: .milliseconds(300)) }
            #expect("\(error.map { "\($0)" } ?? "")".contains("a radio button cannot be unchecked"))
        }
    }

    @Test("press sends keys to the focused element or to an element it focuses first")
    func press() async throws {
        let html = """
            <input id="first"> <input id="second">
            <script>window.keys = []; document.addEventListener('keydown', (e) => window.keys.push(e.key))</script>
            """
        try await Harness.withContent(html) { (page: Page) async throws in
            try await page.press("a", on: "#first")
            try await page.press("Shift+B")
            try await page.press("Tab")
            try await page.press("7")
            #expect(try await page.evaluate("[first.value, second.value, document.activeElement.id]") == ["aB", "7", "second"])
            #expect(try await page.evaluate("window.keys") == ["a", "Shift", "B", "Tab", "7"])
            let error = await #expect(throws: DevToolsError.self) { try await page.press("Entr") }
            #expect("\(error.map { "\($0)" } ?? "")".contains("unknown key 'Entr'"))
        }
    }

    @Test("waitFor: visible, hidden, text and URL, polling in the page")
    func waitForConditions() async throws {
        let html = """
            <div id="spinner">Loading…</div>
            <script>
              setTimeout(() => {
                document.getElementById('spinner').remove();
                const p = document.createElement('p'); p.id = 'done'; p.textContent = 'Status: Disabled';
                document.body.append(p);
                history.pushState({}, '', '#/users/42');
              }, 300);
            </script>
            """
        try await Harness.withContent(html) { (page: Page) async throws in
            try await page.waitFor(.visible("#done"))
            try await page.waitFor(.hidden("#spinner"))
            try await page.waitFor(.text("status: disabled"))
            try await page.waitFor(.text("\"Status: Disabled\""))
            try await page.waitFor(.url("**#/users/*"))
            let error = await #expect(throws: DevToolsError.self) {
                try await page.waitFor(.visible(["#never", "#spinner"]), timeout: .milliseconds(500))
            }
            #expect(error == .stepTimedOut(action: "waitFor visible", seconds: 0.5, attempts: [
                SelectorAttempt(selector: "#never", reason: "not found"),
                SelectorAttempt(selector: "#spinner", reason: "not found"),
            ]))
        }
    }

    @Test("waitFor network idle waits for requests in flight to finish")
    func waitForNetworkIdle() async throws {
        let server = try StubServer { request in
            if request.path == "/slow" {
                Thread.sleep(forTimeInterval: 0.6)
                return .html("ok")
            }
            return .html("<p>page</p>")
        }
        defer { server.stop() }
        try await Harness.withPage { (page: Page) async throws in
            try await page.goto(server.url("/"))
            try await page.evaluate("fetch('/slow').then(r => r.text()).then(t => { window.result = t }); 0")
            try await page.waitFor(.networkIdle(idleTime: .milliseconds(200)))
            #expect(try await page.evaluate("window.result") == "ok")
        }
    }

    @Test("evaluate returns JSON values and reports exceptions")
    func evaluate() async throws {
        try await Harness.withContent("<p>x</p>") { (page: Page) async throws in
            #expect(try await page.evaluate("({a: [1, 'two', null, true], b: 1.5})") == ["a": [1, "two", nil, true], "b": 1.5])
            #expect(try await page.evaluate("Promise.resolve(42)") == 42)
            #expect(try await page.evaluate("undefined") == nil)
            let error = await #expect(throws: DevToolsError.self) { try await page.evaluate("throw new Error('boom')") }
            #expect(error == .evaluationFailed("Error: boom"))
        }
    }

    @Test("screenshots are PNG (viewport or full page) and pdf is a PDF")
    func screenshotAndPDF() async throws {
        try await Harness.withContent("<h1>Evidence</h1><div style=\"height:2400px;background:linear-gradient(red,blue)\"></div>") { (page: Page) async throws in
            let viewport = try await page.screenshot()
            let full = try await page.screenshot(fullPage: true)
            #expect(Array(viewport.prefix(8)) == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
            #expect(Self.pngHeight(viewport) == 800)
            #expect((Self.pngHeight(full) ?? 0) > 2400)
            let jpeg = try await page.screenshot(format: .jpeg)
            #expect(Array(jpeg.prefix(2)) == [0xFF, 0xD8])
            let pdf = try await page.pdf()
            #expect(String(decoding: pdf.prefix(5), as: UTF8.self) == "%PDF-")
            #expect(pdf.count > 1000)
        }
    }

    /// The height field of a PNG's IHDR chunk.
    static func pngHeight(_ data: Data) -> Int? {
        let bytes = Array(data.prefix(24))
        guard bytes.count == 24 else { return nil }
        return bytes[20..<24].reduce(0) { $0 << 8 | Int($1) }
    }
}

@Suite("Recipe defects in page actions")
struct ActionDefectTests {
    @Test("a click by text goes to the button, not the heading that says the same")
    func clickByTextPrefersControls() async throws {
        let html = """
            <h1 id="title">Sign in</h1>
            <form onsubmit="event.preventDefault(); window.hit = 'button'"><button type="submit">Sign in</button></form>
            <script>document.getElementById('title').addEventListener('click', () => { window.hit = 'heading' })</script>
            """
        try await Harness.withContent(html) { (page: Page) async throws in
            try await page.click(#"text="Sign in""#)
            #expect(try await page.evaluate("window.hit") == "button")
        }
    }

    @Test("a selector the page rejects is one failed alternative: the next one is tried")
    func fallbackAfterARejectedSelector() async throws {
        try await Harness.withContent(#"<button id="go" onclick="window.hit = true">Go</button>"#) { (page: Page) async throws in
            try await page.click(["#7", "#go"])
            #expect(try await page.evaluate("window.hit") == true)
            try await page.waitFor(.visible(["#7", "#go"]), timeout: .seconds(2))
            // Every alternative rejected: that is the error, at once.
            await #expect(throws: DevToolsError.self) { try await page.click(["#7"], timeout: .seconds(5)) }
        }
    }
}
