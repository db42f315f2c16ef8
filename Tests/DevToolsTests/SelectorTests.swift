@testable import DevTools
import StewardJSON
import Testing

@Suite("Selector parsing")
struct SelectorParsingTests {
    @Test("each kind parses into its engine", arguments: [
        ("#deactivate", "css"), ("css=div > p", "css"), ("text=Save", "text"), ("\"Save\"", "text"),
        ("label=Email", "label"), ("role=button[name=\"Deactivate\"]", "role"), ("xpath=//tr", "xpath"),
        ("//tr[2]", "xpath"), ("nth=0", "nth"),
    ])
    func kinds(selector: String, engine: String) throws {
        let parts = try SelectorParser(selector).parse()
        #expect(parts.count == 1)
        #expect(parts.first?["engine"].stringValue == engine)
    }

    @Test("quotes mean exact text; no quotes mean a case-insensitive substring")
    func exactness() throws {
        let exact = try SelectorParser("text=\"Save \\\"all\\\"\"").parse()[0]
        #expect(exact["exact"] == true)
        #expect(exact["value"] == "Save \"all\"")
        let loose = try SelectorParser("label=  E-mail ").parse()[0]
        #expect(loose["exact"] == false)
        #expect(loose["value"] == "E-mail")
    }

    @Test("role attributes: name, states and level")
    func roleAttributes() throws {
        let part = try SelectorParser("role=checkbox[name='Admin'][checked=false][level=2]").parse()[0]
        #expect(part["role"] == "checkbox")
        #expect(part["name"]["value"] == "Admin")
        #expect(part["name"]["exact"] == true)
        #expect(part["states"]["checked"] == false)
        #expect(part["states"]["level"] == 2)
        let bare = try SelectorParser("role=button[disabled]").parse()[0]
        #expect(bare["states"]["disabled"] == true)
    }

    @Test("chains split on >> outside quotes")
    func chains() throws {
        let parts = try SelectorParser("#users >> role=row[name=\"a >> b\"] >> text=Edit >> nth=-1").parse()
        #expect(parts.map { $0["engine"].stringValue ?? "" } == ["css", "role", "text", "nth"])
        #expect(parts[1]["name"]["value"] == "a >> b")
        #expect(parts[3]["index"] == -1)
    }

    @Test("mistakes are reported with the selector and the reason", arguments: [
        ("role=buton", "unknown role 'buton'"),
        ("text=\"unterminated", "missing closing quote"),
        ("role=button[colour=red]", "unknown role attribute 'colour'"),
        ("role=button[name=\"x\"", "expected [attribute]"),
        ("nth=first", "nth= needs an integer"),
        ("text=", "needs some text"),
        ("#a >> ", "empty selector"),
        ("role=button[level=high]", "[level] needs a number"),
    ])
    func invalid(selector: String, reason: String) {
        let error = #expect(throws: DevToolsError.self) { try Selectors(selector).validate() }
        guard case .invalidSelector(let reported, let why) = error else {
            Issue.record("expected invalidSelector, got \(String(describing: error))")
            return
        }
        #expect(reported == selector)
        #expect(why.contains(reason), "\(why)")
    }

    @Test("a recipe's selector member is a string or an array of strings")
    func fromJSON() throws {
        let step = try JSONParser.parse(##"{"action":"click","selector":["role=button[name=\"Deactivate\"]","#deactivate"],"timeoutMs":5000}"##)
        #expect(try Selectors(json: step["selector"]).alternatives == ["role=button[name=\"Deactivate\"]", "#deactivate"])
        #expect(try Selectors(json: "text=Save").alternatives == ["text=Save"])
        #expect(throws: DevToolsError.self) { try Selectors(json: [1, 2]) }
        #expect(throws: DevToolsError.self) { try Selectors(json: []) }
        #expect(throws: DevToolsError.self) { try Selectors(json: ["role=buton"]) }
    }

    @Test("a step needs at least one selector")
    func emptyList() {
        #expect(throws: DevToolsError.self) { try Selectors([]).validate() }
    }

    @Test("URL globs", arguments: [
        ("**/users/*", "http://h:1/users/42", true),
        ("**/users/*", "http://h:1/users/42/edit", false),
        ("**/users/**", "http://h:1/users/42/edit", true),
        ("http://h:1/a?b=1", "http://h:1/a?b=1", true),
        ("http://h:1/a?b", "http://h:1/aXb", false),
        ("http://h:1/a.html", "http://h:1/aXhtml", false),
        ("http://h:1/page*", "http://h:1/page2", true),
    ])
    func globs(glob: String, url: String, matches: Bool) throws {
        let regex = try Regex(globRegex(glob))
        #expect((url.wholeMatch(of: regex) != nil) == matches)
    }
}

@Suite("Selectors in a page")
struct SelectorPageTests {
    static let html = """
        <div id="top">
          <button id="b1">Save</button>
          <button id="b2">Save <span>draft</span></button>
          <input id="b3" type="submit" value="Send now">
          <div id="b4" role="button" tabindex="0">Archive</div>
          <button id="b5" aria-label="Close dialog">×</button>
          <a id="l1" href="#more">Read more</a>
          <p style="display:none"><button id="hb">Hidden action</button></p>
          <label for="email">Email address</label> <input id="email">
          <label>Full name <input id="name"></label>
          <input id="phone" aria-label="Phone number">
          <span id="ziplabel">Postal code</span> <input id="zip" aria-labelledby="ziplabel">
          <input type="checkbox" id="c1" checked> <label for="c1">Admin</label>
          <input type="checkbox" id="c2"> <label for="c2">Billing</label>
          <label for="s1">Tier</label> <select id="s1"><option>Gold</option></select>
          <table id="t">
            <tr><th>User</th><th>Status</th></tr>
            <tr id="r1"><td id="r1s">ada</td><td>active</td></tr>
            <tr id="r2"><td>bob</td><td id="r2s">disabled</td></tr>
          </table>
          <h2 id="h">Users</h2>
          <ul><li id="li"><span id="rowspan">Row <b>One</b></span></li></ul>
        </div>
        <script>
          document.addEventListener('click', (e) => {
            const el = e.target.closest('[id]');
            window.clicked = el ? el.id : null;
            window.path = e.composedPath().map((n) => n.id).filter(Boolean);
            if (e.target.closest('a,input[type=submit]')) e.preventDefault();
          }, true);
        </script>
        """

    /// The id of the element a click on `selectors` reached.
    static func clicked(_ page: Page, _ selectors: Selectors) async throws -> String? {
        try await page.evaluate("window.clicked = null")
        try await page.click(selectors, timeout: .seconds(10))
        return try await page.evaluate("window.clicked").stringValue
    }

    /// The ids of the clicked element and its ancestors, innermost first.
    static func clickPath(_ page: Page, _ selectors: Selectors) async throws -> [String] {
        try await page.click(selectors, timeout: .seconds(10))
        return try await page.evaluate("window.path").arrayValue?.compactMap(\.stringValue) ?? []
    }

    @Test("CSS, XPath, text= (substring, exact, smallest element, input values) find the right element")
    func cssTextXPath() async throws {
        try await Harness.withContent(Self.html) { (page: Page) async throws in
            #expect(try await Self.clicked(page, "#b1") == "b1")
            #expect(try await Self.clicked(page, "xpath=//button[@id='b2']") == "b2")
            #expect(try await Self.clicked(page, "text=save draft") == "b2")
            #expect(try await Self.clicked(page, "text=\"Save\"") == "b1")
            #expect(try await Self.clicked(page, "text=Send now") == "b3")
            #expect(try await Self.clicked(page, "text=\"Row One\"") == "rowspan")
        }
    }

    @Test("role= finds implicit and explicit roles by accessible name and state")
    func roles() async throws {
        try await Harness.withContent(Self.html) { (page: Page) async throws in
            #expect(try await Self.clicked(page, "role=button[name=\"Save\"]") == "b1")
            #expect(try await Self.clicked(page, "role=button[name=\"Save draft\"]") == "b2")
            #expect(try await Self.clicked(page, "role=button[name=send]") == "b3")
            #expect(try await Self.clicked(page, "role=button[name=\"Archive\"]") == "b4")
            #expect(try await Self.clicked(page, "role=button[name=\"Close dialog\"]") == "b5")
            #expect(try await Self.clicked(page, "role=link[name=\"Read more\"]") == "l1")
            #expect(try await Self.clicked(page, "role=textbox[name=\"Email address\"]") == "email")
            #expect(try await Self.clicked(page, "role=textbox[name=\"Full name\"]") == "name")
            #expect(try await Self.clicked(page, "role=checkbox[checked=false]") == "c2")
            #expect(try await Self.clicked(page, "role=checkbox[name=\"Admin\"][checked]") == "c1")
            #expect(try await Self.clicked(page, "role=combobox[name=\"Tier\"]") == "s1")
            #expect(try await Self.clickPath(page, "role=row[name=bob]").contains("r2"))
            #expect(try await Self.clicked(page, "role=cell[name=\"disabled\"]") == "r2s")
            #expect(try await Self.clicked(page, "role=heading[level=2]") == "h")
        }
    }

    @Test("label= finds form controls by <label for>, nesting, aria-label and aria-labelledby")
    func labels() async throws {
        try await Harness.withContent(Self.html) { (page: Page) async throws in
            #expect(try await Self.clicked(page, "label=Email") == "email")
            #expect(try await Self.clicked(page, "label=\"Full name\"") == "name")
            #expect(try await Self.clicked(page, "label=phone") == "phone")
            #expect(try await Self.clicked(page, "label=Postal code") == "zip")
            try await page.fill("label=Email", "ada@example.com")
            #expect(try await page.evaluate("document.getElementById('email').value") == "ada@example.com")
        }
    }

    @Test("fallbacks are tried in order: a missing or hidden primary gives way to the next")
    func fallbacks() async throws {
        try await Harness.withContent(Self.html) { (page: Page) async throws in
            #expect(try await Self.clicked(page, ["#missing", "text=\"save\"", "role=button[name=\"Save draft\"]"]) == "b2")
            #expect(try await Self.clicked(page, ["#hb", "#b1"]) == "b1")
            #expect(try await Self.clicked(page, ["text=Hidden action", "#b4"]) == "b4")
        }
    }

    @Test("chains scope each part to the previous matches; nth picks one")
    func chainsAndNth() async throws {
        try await Harness.withContent(Self.html) { (page: Page) async throws in
            #expect(try await Self.clicked(page, "#t >> role=row[name=bob] >> text=disabled") == "r2s")
            #expect(try await Self.clicked(page, "#t >> text=ada") == "r1s")
            #expect(try await Self.clicked(page, "#top button >> nth=1") == "b2")
            #expect(try await Self.clicked(page, "role=button >> nth=-1") == "b5")
        }
    }

    @Test("selectors reach into open shadow roots")
    func shadowDOM() async throws {
        let html = Self.html + """
            <div id="host"></div>
            <script>
              const root = document.getElementById('host').attachShadow({ mode: 'open' });
              root.innerHTML = '<button id="inner">Inside</button>';
            </script>
            """
        try await Harness.withContent(html) { (page: Page) async throws in
            #expect(try await Self.clickPath(page, "#inner").first == "inner")
            #expect(try await Self.clickPath(page, "text=Inside").first == "inner")
            #expect(try await Self.clickPath(page, "role=button[name=\"Inside\"]").first == "inner")
        }
    }

    @Test("a selector the page rejects fails at once as invalid, not after the timeout")
    func invalidCSS() async throws {
        try await Harness.withContent(Self.html) { (page: Page) async throws in
            let error = await #expect(throws: DevToolsError.self) { try await page.click("#top[", timeout: .seconds(60)) }
            guard case .invalidSelector(let selector, _) = error else {
                Issue.record("expected invalidSelector, got \(String(describing: error))")
                return
            }
            #expect(selector == "#top[")
        }
    }
}

@Suite("CSS checked when a recipe loads")
struct CSSSyntaxTests {
    @Test("mistakes are named", arguments: [
        ("#users >", "nothing after"), ("> li", "nothing before"), ("div[name=x", "never closed"), ("a)", "without its opening"),
        ("#", "no name"), (".5col", "digit"), ("#1abc", "digit"), ("a:", "no pseudo-class"), ("input[value=\"x]", "never closed"),
        ("a,,b", "nothing before"),
    ])
    func refused(css: String, reason: String) {
        let problem = CSSSyntax.problem(in: css)
        #expect(problem?.contains(reason) == true, "\(css): \(problem ?? "accepted")")
    }

    @Test("real selectors pass", arguments: [
        "#users", "table.data tr:nth-child(2) > td", "input[name=groups][value=\"a.b\"]:checked", "a[href$='.pdf']",
        "ul > li + li ~ li", "button:not(.primary, .danger)", "p::first-line", "td:nth-child(2n+1)", "[data-id=\"7\"]",
        "form#login button[type=submit]", "input[name=groups][value=\"sample\"]:not(:checked)",
    ])
    func accepted(css: String) {
        #expect(CSSSyntax.problem(in: css) == nil, "\(css): \(CSSSyntax.problem(in: css) ?? "")")
    }
}
