import Foundation
import StewardJSON
#if canImport(Glibc)
import Glibc
#endif

/// A headless Chromium driven through the DevTools protocol over a pipe.
///
/// One browser serves many jobs: give each job its own `BrowserContext` (its own cookies and
/// storage) and close the context when the job ends. `close()` always leaves no Chromium process
/// or zombie behind; if the owning process dies instead, Chromium sees its pipe close and exits.
public final class Browser: Sendable {
    /// The browser's process id, which is also its process group id.
    public let processID: Int32
    /// For example "Chrome/156.0.8078.108".
    public let version: String
    let connection: Connection
    let process: ChromiumProcess
    private let options: LaunchOptions

    /// Starts Chromium and waits until it answers its first command.
    public static func launch(_ options: LaunchOptions = LaunchOptions()) async throws -> Browser {
        let executable = try options.resolveExecutable()
        let process = try ChromiumProcess.spawn(
            executable: executable, arguments: options.chromiumArguments, environment: options.environment)
        let connection = Connection(process: process)
        do {
            let reply = try await connection.send("Browser.getVersion", timeout: options.launchTimeout)
            DispatchQueue.global().async { process.noteCrashHandlers() }
            return Browser(process: process, connection: connection, options: options,
                           version: reply["product"].stringValue ?? "unknown")
        } catch {
            connection.markClosing()
            connection.closeWriter()
            let tail = process.logTail()
            process.terminate(grace: .zero)
            // Cancelled while waiting: the caller stopped wanting a browser; say so, not "failed".
            if error is CancellationError { throw error }
            let why = (error as? DevToolsError).map { "\($0)" } ?? "\(error)"
            throw DevToolsError.launchFailed("\(executable) did not answer: \(why)" + (tail.isEmpty ? "" : "; its output: \(tail)"))
        }
    }

    private init(process: ChromiumProcess, connection: Connection, options: LaunchOptions, version: String) {
        self.process = process
        self.connection = connection
        self.options = options
        self.processID = process.pid
        self.version = version
    }

    deinit {
        connection.markClosing()
        connection.closeWriter()
        process.terminate(grace: .zero)
    }

    /// Whether the browser is still running and reachable.
    public var isConnected: Bool { connection.closedError == nil }

    /// A new, isolated context: cookies, storage and cache not shared with any other.
    public func newContext() async throws -> BrowserContext {
        let reply = try await connection.send("Target.createBrowserContext", ["disposeOnDetach": true], timeout: options.commandTimeout)
        guard let id = reply["browserContextId"].stringValue else {
            throw DevToolsError.protocolError(method: "Target.createBrowserContext", code: 0, message: "no browserContextId in the reply")
        }
        return BrowserContext(id: id, browser: self)
    }

    /// A new tab in the default context (shared cookies). Prefer `newContext().newPage()` per job.
    public func newPage() async throws -> Page {
        try await openPage(contextID: nil)
    }

    /// Closes the browser: asks politely, waits the grace period, then kills the process group
    /// and reaps every process in it. Never throws; safe to call twice.
    public func close() async {
        if connection.closedError == nil {
            connection.markClosing()
            _ = try? await connection.send("Browser.close", timeout: options.closeGracePeriod)
        }
        connection.markClosing()
        connection.closeWriter()
        let process = self.process
        let grace = options.closeGracePeriod
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            DispatchQueue.global().async {
                process.terminate(grace: grace)
                continuation.resume()
            }
        }
    }

    func openPage(contextID: String?) async throws -> Page {
        var params = JSONObjectBuilder(capacity: 2)
        params.set("url", "about:blank")
        params.set("browserContextId", contextID)
        let created = try await connection.send("Target.createTarget", params.value, timeout: options.commandTimeout)
        guard let targetID = created["targetId"].stringValue else {
            throw DevToolsError.protocolError(method: "Target.createTarget", code: 0, message: "no targetId in the reply")
        }
        let attached = try await connection.send("Target.attachToTarget", ["targetId": .string(targetID), "flatten": true], timeout: options.commandTimeout)
        guard let sessionID = attached["sessionId"].stringValue else {
            throw DevToolsError.protocolError(method: "Target.attachToTarget", code: 0, message: "no sessionId in the reply")
        }
        let session = PageSession(id: sessionID, targetID: targetID, connection: connection)
        connection.register(session: sessionID, session)
        let page = Page(session: session, defaultTimeout: options.actionTimeout, commandTimeout: options.commandTimeout)
        try await page.enableDomains(viewport: options.viewport)
        return page
    }
}

/// A job's own cookie jar and storage inside a shared browser.
public final class BrowserContext: Sendable {
    public let id: String
    private let browser: Browser

    init(id: String, browser: Browser) {
        self.id = id
        self.browser = browser
    }

    public func newPage() async throws -> Page {
        try await browser.openPage(contextID: id)
    }

    /// Closes every tab of the context and forgets its data.
    public func close() async throws {
        _ = try await browser.connection.send("Target.disposeBrowserContext", ["browserContextId": .string(id)], timeout: .seconds(10))
    }
}
