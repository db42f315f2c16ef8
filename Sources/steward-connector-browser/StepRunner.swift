import DevTools
import Foundation
import StewardJSON
import StewardProtocol

/// Runs a flow's steps on one page, signing in again when a page turns out to be the sign-in
/// page (the session expired).
struct StepRunner {
    let page: DevTools.Page
    let login: Recipe.Login
    let defaultTimeout: Duration
    var scope: TemplateScope
    /// Tables read by `extractTable`, by their `into` name.
    var tables: [String: Table] = [:]
    /// Whether a step that can change the app has run (a failed write is then of unknown outcome).
    var changedApp = false
    /// Steps run so far, for progress and logs.
    var log: (String) -> Void
    /// A fallback selector rescued a step: (step path, which alternative, that selector).
    var fallbackUsed: (String, Int, String) -> Void = { _, _, _ in }

    /// Runs `steps`; true when a `finishIf` ended the flow early (the change was already there).
    mutating func run(_ steps: [Step]) async throws -> Bool {
        for step in steps {
            if try await run(step) { return true }
        }
        return false
    }

    /// Signs in with the recipe's login steps, starting from its login URL.
    mutating func signIn() async throws {
        log("signing in")
        // Signing in changes no data, so it does not make a failed write's outcome unknown.
        let changedBefore = changedApp
        defer { changedApp = changedBefore }
        let url = try absolute(try render(login.url, in: nil))
        do {
            try await page.goto(url, timeout: defaultTimeout)
        } catch {
            throw StepFailure(stepPath: "login.url", summary: "goto \(login.url)", underlying: error, changedApp: false)
        }
        _ = try await run(login.steps)
        let now = try await page.url()
        if now.contains(login.loggedOutURLContains) {
            let refused = ConnectorError(.unauthenticated, "still on the sign-in page after the login steps: check username, password and totpSecret")
            throw StepFailure(stepPath: "login", summary: "sign in", underlying: refused, changedApp: false)
        }
    }

    /// Steps that found nothing on a loaded page and were tried again after a reload.
    var reloaded: Set<String> = []

    private mutating func run(_ step: Step) async throws -> Bool {
        do {
            return try await attempt(step)
        } catch let failure as StepFailure {
            guard case DevToolsError.stepTimedOut(_, _, let attempts)? = failure.underlying as? DevToolsError,
                  !attempts.isEmpty, attempts.allSatisfy({ $0.reason == "not found" || $0.reason.hasPrefix("invalid selector") }),
                  let selectors = try? step.elementSelectors?.render(scope, within: step.within), (try? await page.isLoaded()) == true else { throw failure }
            // Nothing matches on a page that has finished loading: reload once (a GET of the same
            // address), then it is the recipe that no longer fits the page, not a slow app.
            if reloaded.insert(step.path).inserted {
                log("\(step.path): nothing matches on the loaded page; reloading once")
                let url = try await page.url()
                try await goto(url, timeout: step.timeout ?? defaultTimeout)
                return try await run(step)
            }
            let candidates = (try? await page.candidates(like: selectors)) ?? []
            let url = (try? await page.url()) ?? "?"
            var message = "nothing on the loaded page \(url) matches \(selectors), after a reload ("
                + attempts.map { "\($0.selector): \($0.reason)" }.joined(separator: "; ") + ")"
            message += candidates.isEmpty ? "; the page has no control like it" : "; closest on the page: " + candidates.map(\.description).joined(separator: ", ")
            let error = ConnectorError(.preconditionFailed, message, retryable: false, outcome: changedApp ? .unknown : .notApplied)
            throw StepFailure(stepPath: step.path, summary: step.summary, underlying: error, changedApp: changedApp)
        }
    }

    private mutating func attempt(_ step: Step) async throws -> Bool {
        log(step.summary)
        let timeout = step.timeout ?? defaultTimeout
        var onlyNavigated = false
        if step.acceptsDialogs { page.dialogPolicy = .accept() }
        defer { if step.acceptsDialogs { page.dialogPolicy = .dismiss } }
        do {
            switch step.action {
            case .goto(let template):
                let url = try absolute(try render(template, in: step))
                try await goto(url, timeout: timeout)
            case .click(let selectors):
                onlyNavigated = try await page.click(try selectors.render(scope, within: step.within), timeout: timeout)
            case .fill(let selectors, let value):
                try await page.fill(try selectors.render(scope, within: step.within), try render(value, in: step), timeout: timeout)
            case .select(let selectors, let value):
                let wanted = try render(value, in: step)
                let chosen = try await page.select(try selectors.render(scope, within: step.within), [wanted], timeout: timeout)
                guard !chosen.isEmpty else {
                    throw ConnectorError(.invalidArgument, "no option \"\(wanted)\" to select")
                }
            case .check(let selectors):
                try await page.check(try selectors.render(scope, within: step.within), timeout: timeout)
            case .uncheck(let selectors):
                try await page.uncheck(try selectors.render(scope, within: step.within), timeout: timeout)
            case .press(let key, let selectors):
                try await page.press(key, on: try selectors?.render(scope, within: step.within), timeout: timeout)
            case .waitVisible(let selectors):
                try await page.waitFor(.visible(try selectors.render(scope, within: step.within)), timeout: timeout)
            case .waitHidden(let selectors):
                try await page.waitFor(.hidden(try selectors.render(scope, within: step.within)), timeout: timeout)
            case .waitText(let text):
                try await page.waitFor(.text(try render(text, in: step)), timeout: timeout)
            case .waitURL(let glob):
                try await page.waitFor(.url(try render(glob, in: step)), timeout: timeout)
            case .waitNetworkIdle:
                try await page.waitFor(.networkIdle(), timeout: timeout)
            case .extractTable(let table, let nextPage, let into):
                tables[into] = try await page.extractTable(try table.render(scope), nextPage: try nextPage?.render(scope), timeout: timeout)
            case .extractText(let css, let into, let attribute, let match):
                var selector = try render(css, in: step)
                if let within = step.within { selector = "[data-steward-within=\"\(selectorEscape(within))\"] " + selector }
                let read = attribute.map { "e.getAttribute(\(JSONWriter.string(.string($0))))" } ?? "e.textContent.trim()"
                let script = "(() => { const e = document.querySelector(\(JSONWriter.string(.string(selector)))); return e ? \(read) : null })()"
                // An element that is there but empty has no box: wait for it to exist, not to show.
                try await page.waitFor(.attached(Selectors("css=" + selector)), timeout: timeout)
                guard var text = try await page.evaluate(script).stringValue else {
                    throw ConnectorError(.internal, "\(selector) found nothing" + (attribute.map { " with a \($0) attribute" } ?? ""))
                }
                if let match {
                    guard let captured = ValueMatch.first(match, in: text) else {
                        throw ConnectorError(.internal, "\(selector): \(match) does not match \"\(text)\"")
                    }
                    text = captured
                }
                scope.vars[into] = text
            case .extractURL(let match, let into):
                let url = try await page.url()
                guard let value = match.map({ ValueMatch.first($0, in: url) }) ?? url else {
                    throw ConnectorError(.internal, "the page's address \(url) does not match \(match ?? "")")
                }
                scope.vars[into] = value
            case .findRow(let f):
                let value = try render(f.equals, in: step)
                if let field = f.searchField {
                    try await page.fill(try field.render(scope), value, timeout: timeout)
                    if let submit = f.searchSubmit {
                        try await page.click(try submit.render(scope), timeout: timeout)
                    } else {
                        try await page.press("Enter", on: try field.render(scope), timeout: timeout)
                    }
                }
                let row = try await page.findRow(try f.table.render(scope), column: f.column, equals: value,
                                                 nextPage: try f.nextPage?.render(scope), maxPages: f.maxPages, mark: f.into, timeout: timeout)
                scope.vars["\(f.into).found"] = row == nil ? "false" : "true"
                guard let row else {
                    if f.optional { return false }
                    throw ConnectorError(.notFound, "no row of \(f.table) has \(f.column) \"\(value)\"", outcome: .notApplied)
                }
                for (header, text) in row.cells { scope.vars["\(f.into).\(header)"] = text }
                for (header, attributes) in row.attributes {
                    for (name, text) in attributes { scope.vars["\(f.into).\(header).\(name)"] = text }
                }
            case .branch(let selectors, let then, let otherwise):
                let shown = try await isVisible(try selectors.render(scope, within: step.within), within: step.timeout ?? .zero)
                return try await run(shown ? then : otherwise)
            case .finishIf(let selectors):
                return try await isVisible(try selectors.render(scope, within: step.within), within: step.timeout ?? .zero)
            case .failIf(let selectors, let kind, let message):
                if try await isVisible(try selectors.render(scope, within: step.within), within: step.timeout ?? .zero) {
                    // A placeholder without a value shows as written rather than hide the error.
                    let text = (try? message.render(scope)) ?? message.source
                    throw ConnectorError(kind, text, outcome: changedApp ? nil : .notApplied)
                }
            }
        } catch let failure as StepFailure {
            throw failure
        } catch {
            if step.mayChangeApp, !Self.failedBeforeInput(error) { changedApp = true }
            throw StepFailure(stepPath: step.path, summary: step.summary, underlying: error, changedApp: changedApp)
        }
        if step.mayChangeApp && !onlyNavigated { changedApp = true }
        if step.actsOnElement, let selectors = step.elementSelectors, page.lastMatchedAlternative > 0 {
            let index = page.lastMatchedAlternative
            if index < selectors.alternatives.count { fallbackUsed(step.path, index, selectors.alternatives[index].source) }
        }
        return false
    }

    /// Whether an action failed while still waiting for its element, before any input reached
    /// the page (so it cannot have changed anything).
    private static func failedBeforeInput(_ error: Error) -> Bool {
        switch error {
        case DevToolsError.stepTimedOut(_, _, let attempts): return !attempts.contains { $0.selector == "navigation" }
        case DevToolsError.invalidSelector, is TemplateMissing: return true
        case let e as ConnectorError: return e.outcome == .notApplied
        default: return false
        }
    }

    /// Loads `url`; when the app answers with its sign-in page, signs in and loads it again.
    private mutating func goto(_ url: String, timeout: Duration) async throws {
        let navigation = try await page.goto(url, timeout: timeout)
        if try await page.url().contains(login.loggedOutURLContains) {
            try await signIn()
            try checkStatus(try await page.goto(url, timeout: timeout), url: url)
        } else {
            try checkStatus(navigation, url: url)
        }
    }

    private func checkStatus(_ navigation: Navigation, url: String) throws {
        switch navigation.status {
        case 404?: throw ConnectorError(.notFound, "the app answered 404 Not Found for \(url)", outcome: .notApplied)
        case 401?, 403?: throw ConnectorError(.permissionDenied, "the app answered \(navigation.status ?? 0) for \(url)")
        case let status? where status >= 500: throw ConnectorError(.connectionFailed, "the app answered \(status) for \(url)", retryable: true)
        default: return
        }
    }

    /// Whether one of the selectors shows an element now (or within `wait`).
    private func isVisible(_ selectors: Selectors, within wait: Duration) async throws -> Bool {
        do {
            try await page.waitFor(.visible(selectors), timeout: wait)
            return true
        } catch DevToolsError.stepTimedOut {
            return false
        }
    }

    private func render(_ template: Template, in step: Step?) throws -> String {
        do {
            return try template.render(scope)
        } catch let missing as TemplateMissing {
            throw ConnectorError(.invalidArgument, "\(step?.path ?? "login.url"): \(missing)", outcome: .notApplied)
        }
    }

    private func absolute(_ url: String) throws -> String {
        if url.hasPrefix("http://") || url.hasPrefix("https://") || url.hasPrefix("about:") || url.hasPrefix("data:") { return url }
        guard url.hasPrefix("/") else {
            throw ConnectorError(.configuration, "\"\(url)\" is neither an absolute URL nor a path starting with /")
        }
        return scope.baseURL + url
    }
}

/// A step that failed, with what the runner knew at the time.
struct StepFailure: Error {
    var stepPath: String
    var summary: String
    var underlying: Error
    var changedApp: Bool
}
