import ConnectorKit
import DevTools
import Foundation
import StewardJSON
import StewardProtocol

/// The connector's one browser and its signed-in tab, shared by every request of the app.
///
/// Chromium starts on first use, not at `initialize`, so listing plugins and handshakes stay
/// fast. Flows run one at a time (a tab does one thing at a time); the session's cookies live
/// in the connector's own browser context and are reused until the app sends the sign-in page
/// again. `close()` ends Chromium; if the connector is killed instead, Chromium sees its pipe
/// close and exits by itself.
actor AppSession {
    let recipe: Recipe
    let settings: BrowserSettings
    private let gate = Gate()
    private var browser: Browser?
    private var context: BrowserContext?
    private var page: DevTools.Page?
    private var signedIn = false
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

    /// Runs `flow` with `args`; on a failed step saves evidence and throws a `ConnectorError`
    /// that points to it. `mutation` says whether the flow changes the app (for the outcome of
    /// a failure, and for proof screenshots with `evidence: "all"`).
    func run(_ flow: Flow, args: JSONValue, context ctx: RequestContext, mutation: Bool) async throws -> Outcome {
        await gate.acquire()
        do {
            let outcome = try await runExclusively(flow, args: args, ctx: ctx, mutation: mutation)
            await gate.release()
            return outcome
        } catch {
            await gate.release()
            throw error
        }
    }

    private func runExclusively(_ flow: Flow, args: JSONValue, ctx: RequestContext, mutation: Bool) async throws -> Outcome {
        let page = try await openPage()
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
                try await runner.signIn()
                signedIn = true
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

    /// The signed-in tab, launching Chromium and opening the tab on first use.
    private func openPage() async throws -> DevTools.Page {
        if let page, browser?.isConnected == true { return page }
        await reset()
        guard !closed else { throw ConnectorError(.connectionFailed, "the connector is shutting down") }
        do {
            let browser = try await Browser.launch(settings.launchOptions)
            self.browser = browser
            let context = try await browser.newContext()
            self.context = context
            let page = try await context.newPage()
            page.defaultTimeout = recipe.stepTimeout
            self.page = page
            return page
        } catch let error as DevToolsError {
            await reset()
            throw Self.connectorError(for: error)
        }
    }

    /// Forgets the browser (closing it if it still runs); the next flow starts a fresh one.
    private func reset() async {
        signedIn = false
        page = nil
        context = nil
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
