import ConnectorKit
import DevTools
import Foundation
import StewardJSON
import StewardProtocol

/// The connector's one browser and its signed-in tabs, shared by every request of the app.
///
/// Chromium starts on first use, not at `initialize`, so listing plugins and handshakes stay
/// fast. Each flow runs on a tab of its own, up to `settings.pages` at once (a tab does one
/// thing at a time); the tabs share one browser context, so the session one of them signed in
/// is every tab's, until the app sends the sign-in page again. `close()` ends Chromium; if the
/// connector is killed instead, Chromium sees its pipe close and exits by itself.
actor AppSession {
    let recipe: Recipe
    let settings: BrowserSettings
    private var browser: Browser?
    private var context: BrowserContext?
    /// Starting Chromium and its context, shared by the flows that arrive meanwhile.
    private var launching: Task<BrowserContext, Error>?
    /// Signed-in tabs not running a flow.
    private var idle: [DevTools.Page] = []
    /// Tabs open (idle or running), at most `settings.pages`.
    private var open = 0
    /// Flows waiting for a tab.
    private var waiting: [CheckedContinuation<DevTools.Page, Error>] = []
    /// Bumped when the browser is reset: tabs of an older generation are dropped, not reused.
    private var generation = 0
    private var pageGeneration: [ObjectIdentifier: Int] = [:]
    /// The context's cookies hold a session (every tab shares them).
    private var signedIn = false
    private let signingIn = Gate()
    private var closed = false

    init(recipe: Recipe, settings: BrowserSettings) {
        self.recipe = recipe
        self.settings = settings
    }

    /// What a flow produced.
    struct Outcome: Sendable {
        var finishedEarly: Bool
        var tables: [String: Table]
        var scope: TemplateScope
    }

    /// Runs `flow` with `args` on a tab of its own (up to `settings.pages` flows at once, in one
    /// browser context sharing the sign-in); on a failed step saves evidence and throws a
    /// `ConnectorError` that points to it. `mutation` says whether the flow changes the app (for
    /// the outcome of a failure, and for proof screenshots with `evidence: "all"`).
    func run(_ flow: Flow, args: JSONValue, context ctx: RequestContext, mutation: Bool) async throws -> Outcome {
        let page = try await checkout()
        do {
            let outcome = try await runOnPage(page, flow, args: args, ctx: ctx, mutation: mutation)
            checkin(page)
            return outcome
        } catch {
            checkin(page)
            throw error
        }
    }

    private func runOnPage(_ page: DevTools.Page, _ flow: Flow, args: JSONValue, ctx: RequestContext, mutation: Bool) async throws -> Outcome {
        var runner = StepRunner(
            page: page, login: recipe.login, defaultTimeout: recipe.stepTimeout,
            scope: TemplateScope(settings: ctx.settings, secrets: ctx.secrets, args: args, baseURL: settings.baseURL,
                                 totp: settings.totp),
            log: { line in ctx.log(.debug, line) })
        runner.fallbackUsed = { [recipe] step, index, selector in
            // Said every time it happens; the host journals it once per step and fallback.
            ctx.log(.warning, "recipe drift at \(step): the first selector no longer matches; fallback \(index + 1) (\(selector)) did",
                    code: "recipe.fallback",
                    data: ["recipe": .string(recipe.app), "step": .string(step), "fallback": .int(index + 1), "selector": .string(selector)])
        }
        let evidence = Evidence(directory: settings.evidenceDirectory(ctx), redact: ctx.redact)
        do {
            if !signedIn {
                // One tab signs in; the others wait and then use the session it left in the cookies.
                await signingIn.acquire()
                do {
                    if !signedIn {
                        try await runner.signIn()
                        signedIn = true
                    }
                    await signingIn.release()
                } catch {
                    await signingIn.release()
                    throw error
                }
            }
            let finishedEarly = try await runner.run(flow.steps)
            if mutation, settings.evidence == .all, let saved = await evidence.save(page, label: flow.path, kind: "proof") {
                ctx.log(.info, "\(flow.path): proof of the change saved to \(saved.screenshot)")
            }
            return Outcome(finishedEarly: finishedEarly, tables: runner.tables, scope: runner.scope)
        } catch let failure as StepFailure {
            throw await describe(failure, flow: flow, page: page, evidence: evidence, ctx: ctx, mutation: mutation)
        }
    }

    // MARK: Tabs

    /// An idle tab, a new one while fewer than `settings.pages` are open, or the next one freed.
    private func checkout() async throws -> DevTools.Page {
        guard !closed else { throw ConnectorError(.connectionFailed, "the connector is shutting down") }
        if let page = idle.popLast() { return page }
        if open < settings.pages {
            open += 1
            let mine = generation
            do {
                let page = try await newPage()
                pageGeneration[ObjectIdentifier(page)] = mine
                return page
            } catch {
                if mine == generation { open -= 1 }
                throw error
            }
        }
        return try await withCheckedThrowingContinuation { waiting.append($0) }
    }

    /// Hands a tab to the next waiting flow, or keeps it; a tab from before a reset is closed.
    private func checkin(_ page: DevTools.Page) {
        let id = ObjectIdentifier(page)
        guard pageGeneration[id] == generation, browser?.isConnected == true, !closed else {
            pageGeneration[id] = nil
            return
        }
        if waiting.isEmpty {
            idle.append(page)
        } else {
            waiting.removeFirst().resume(returning: page)
        }
    }

    private func newPage() async throws -> DevTools.Page {
        let context = try await browserContext()
        do {
            let page = try await context.newPage()
            page.defaultTimeout = recipe.stepTimeout
            return page
        } catch let error as DevToolsError {
            throw Self.connectorError(for: error)
        }
    }

    /// The browser context, launching Chromium on first use (once, however many flows ask).
    private func browserContext() async throws -> BrowserContext {
        if let context, browser?.isConnected == true { return context }
        if let launching { return try await launching.value }
        if browser != nil { await reset() }
        let options = settings.launchOptions
        let task = Task { () throws -> BrowserContext in
            let browser = try await Browser.launch(options)
            do {
                let context = try await browser.newContext()
                await self.adopt(browser, context)
                return context
            } catch {
                await browser.close()
                throw error
            }
        }
        launching = task
        defer { launching = nil }
        do {
            return try await task.value
        } catch let error as DevToolsError {
            throw Self.connectorError(for: error)
        }
    }

    private func adopt(_ browser: Browser, _ context: BrowserContext) {
        self.browser = browser
        self.context = context
    }

    /// The failure as a protocol error, with the screenshot and HTML of the page it happened on.
    private func describe(_ failure: StepFailure, flow: Flow, page: DevTools.Page, evidence: Evidence, ctx: RequestContext,
                          mutation: Bool) async -> ConnectorError {
        var error: ConnectorError
        switch failure.underlying {
        case let e as ConnectorError:
            error = e
        case let e as DevToolsError:
            error = Self.connectorError(for: e)
        default:
            error = ConnectorError(.internal, "\(failure.underlying)")
        }
        if mutation, error.outcome == nil { error.outcome = failure.changedApp ? .unknown : .notApplied }
        if !mutation { error.outcome = nil }
        if case DevToolsError.browserClosed = failure.underlying { await reset() }
        if case DevToolsError.pageClosed = failure.underlying { await reset() }
        error.message = ctx.redact("\(failure.stepPath) (\(failure.summary)) failed: \(error.message)")
        // The app said "no such thing": an answer, not a malfunction worth evidence.
        if error.kind == .notFound { return error }
        var details = JSONObjectBuilder(capacity: 5)
        details.set("step", failure.stepPath)
        details.set("action", ctx.redact(failure.summary))
        if let url = try? await page.url() { details.set("url", ctx.redact(url)) }
        if let saved = await evidence.save(page, label: failure.stepPath, kind: "failure") {
            details.set("screenshot", saved.screenshot)
            details.set("html", saved.html)
            // In the message too: it is what `steward apply` prints and the journal keeps.
            error.message += " [evidence: \(saved.screenshot), \(saved.html)]"
        }
        error.details = details.value
        ctx.log(.warning, error.message)
        return error
    }

    static func connectorError(for error: DevToolsError) -> ConnectorError {
        switch error {
        case .chromiumNotFound, .launchFailed:
            return ConnectorError(.configuration, error.description)
        case .browserClosed, .pageClosed, .navigationFailed:
            return ConnectorError(.connectionFailed, error.description)
        case .stepTimedOut, .timeout:
            return ConnectorError(.timeout, error.description)
        case .invalidSelector:
            return ConnectorError(.configuration, error.description)
        case .protocolError, .evaluationFailed, .actionFailed:
            return ConnectorError(.internal, error.description)
        }
    }

    /// Forgets the browser (closing it if it still runs); the next flow starts a fresh one.
    private func reset() async {
        signedIn = false
        generation += 1
        idle = []
        open = 0
        context = nil
        let waiters = waiting
        waiting = []
        for w in waiters { w.resume(throwing: ConnectorError(.connectionFailed, "the browser was restarted", retryable: true)) }
        if let browser {
            self.browser = nil
            await browser.close()
        }
    }

    /// Closes Chromium; later flows fail. For `shutdown`.
    func close() async {
        closed = true
        await reset()
    }
}

/// Lets one flow at a time use the tab.
actor Gate {
    private var busy = false
    private var waiting: [CheckedContinuation<Void, Never>] = []

    func acquire() async {
        if !busy {
            busy = true
            return
        }
        await withCheckedContinuation { waiting.append($0) }
    }

    func release() {
        if waiting.isEmpty {
            busy = false
        } else {
            waiting.removeFirst().resume()
        }
    }
}
