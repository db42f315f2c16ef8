import Foundation
import StewardJSON

/// One browser tab, with actions that wait for their element like a person would.
///
/// Every action finds its element through `Selectors` (a primary selector and fallbacks), waits
/// until it is visible, stable, enabled and would receive the click, and retries with backoff
/// until the step's timeout; then it fails naming each selector and why it did not work. The
/// methods map one to one onto recipe steps: `{"action": "click", "selector": [...],
/// "timeoutMs": 5000}` is `click(Selectors(selector), timeout: .milliseconds(5000))`.
public final class Page: Sendable {
    let session: PageSession
    let commandTimeout: Duration
    private let settings: Locked<Duration>
    private let matched = Locked<Int>(0)

    init(session: PageSession, defaultTimeout: Duration, commandTimeout: Duration) {
        self.session = session
        self.commandTimeout = commandTimeout
        self.settings = Locked(defaultTimeout)
    }

    /// Which of its selectors the last action found its element with (0: the first). A later
    /// one means a fallback rescued the step: the app's UI has changed.
    public var lastMatchedAlternative: Int { matched.current }

    func noteMatched(_ index: Int) { matched.withLock { $0 = index } }

    /// The timeout of actions and waits that are not given one.
    public var defaultTimeout: Duration {
        get { settings.current }
        set { settings.withLock { $0 = newValue } }
    }

    /// How dialogs are answered from now on. The default dismisses `confirm` and `prompt`.
    public var dialogPolicy: DialogPolicy {
        get { session.dialogPolicy }
        set { session.dialogPolicy = newValue }
    }

    /// The dialogs this page opened, oldest first (the last 100).
    public var dialogs: [Dialog] { session.snapshot.dialogs }

    /// The DevTools target id of this tab.
    public var targetID: String { session.targetID }

    // MARK: Navigation

    /// Loads `url` and waits until the document reaches `waitUntil`.
    @discardableResult
    public func goto(_ url: String, waitUntil: LoadState = .load, timeout: Duration? = nil) async throws -> Navigation {
        let limit = timeout ?? defaultTimeout
        let deadline = Deadline(limit)
        let stream = session.subscribe(["Page.lifecycleEvent"])
        defer { session.unsubscribe(stream) }
        let reply: JSONValue
        do {
            reply = try await session.send("Page.navigate", ["url": .string(url)], timeout: limit)
        } catch DevToolsError.timeout {
            throw DevToolsError.navigationFailed(url: url, reason: "no response within \(formatSeconds(limit.seconds))")
        }
        if let errorText = reply["errorText"].stringValue, !errorText.isEmpty {
            throw DevToolsError.navigationFailed(url: url, reason: errorText)
        }
        guard let loaderID = reply["loaderId"].stringValue else {
            return Navigation(url: url, status: nil)  // same document: only the fragment changed
        }
        let name = waitUntil.lifecycleName
        do {
            _ = try await stream.next(timeout: deadline.remaining, waitingFor: name) { event in
                event.params["name"].stringValue == name && event.params["loaderId"].stringValue == loaderID
            }
        } catch DevToolsError.timeout {
            throw DevToolsError.navigationFailed(url: url, reason: "the page did not reach \(name) within \(formatSeconds(limit.seconds))")
        }
        return Navigation(url: url, status: session.snapshot.documentStatus[loaderID])
    }

    /// Replaces the current document with `html` (for rendering reports, and for tests).
    public func setContent(_ html: String) async throws {
        guard let frameID = session.snapshot.mainFrameID else {
            throw DevToolsError.pageClosed("the tab has no main frame")
        }
        _ = try await session.send("Page.setDocumentContent", ["frameId": .string(frameID), "html": .string(html)], timeout: commandTimeout)
    }

    /// The address of the current document.
    public func url() async throws -> String {
        try await evaluate("location.href").stringValue ?? ""
    }

    /// The current document as HTML, for evidence of a failed step.
    public func content() async throws -> String {
        let script = "(document.doctype ? new XMLSerializer().serializeToString(document.doctype) + '\\n' : '') + document.documentElement.outerHTML"
        return try await evaluate(script).stringValue ?? ""
    }

    // MARK: Script

    /// Evaluates a JavaScript expression in the page, awaiting a promise result, and returns the
    /// value as JSON (`undefined` becomes null).
    @discardableResult
    public func evaluate(_ expression: String, timeout: Duration? = nil) async throws -> JSONValue {
        let reply = try await session.send("Runtime.evaluate", [
            "expression": .string(expression),
            "returnByValue": true,
            "awaitPromise": true,
            "userGesture": true,
        ], timeout: timeout ?? defaultTimeout)
        return try Self.value(of: reply)
    }

    static func value(of reply: JSONValue) throws -> JSONValue {
        let exception = reply["exceptionDetails"]
        guard exception.isNull else {
            let detail = exception["exception"]["description"].stringValue ?? exception["text"].stringValue ?? "exception"
            throw DevToolsError.evaluationFailed(String(detail.split(separator: "\n").first ?? ""))
        }
        return reply["result"]["value"]
    }

    // MARK: Output

    /// A PNG (or JPEG) of the viewport, or of the whole page.
    public func screenshot(fullPage: Bool = false, format: ImageFormat = .png) async throws -> Data {
        var params: [String: JSONValue] = ["format": .string(format.rawValue)]
        if fullPage {
            let metrics = try await session.send("Page.getLayoutMetrics", timeout: commandTimeout)
            let size = metrics["cssContentSize"]
            params["captureBeyondViewport"] = true
            params["clip"] = [
                "x": 0, "y": 0, "scale": 1,
                "width": .double(size["width"].doubleValue ?? 1280),
                "height": .double(size["height"].doubleValue ?? 800),
            ]
        }
        let reply = try await session.send("Page.captureScreenshot", .object(params), timeout: commandTimeout)
        return try Self.decodeBase64(reply["data"], method: "Page.captureScreenshot")
    }

    /// The page printed to PDF, backgrounds included.
    public func pdf(landscape: Bool = false) async throws -> Data {
        var options = PDFOptions()
        options.landscape = landscape
        return try await pdf(options)
    }

    /// The page printed to PDF with the paper, margins and footer of `options`.
    public func pdf(_ options: PDFOptions) async throws -> Data {
        let reply = try await session.send("Page.printToPDF", options.parameters, timeout: options.timeout ?? commandTimeout)
        return try Self.decodeBase64(reply["data"], method: "Page.printToPDF")
    }

    private static func decodeBase64(_ value: JSONValue, method: String) throws -> Data {
        guard let text = value.stringValue, let data = Data(base64Encoded: text) else {
            throw DevToolsError.protocolError(method: method, code: 0, message: "the reply carried no base64 data")
        }
        return data
    }

    // MARK: Lifecycle

    /// Closes the tab. Later calls on this page fail with `pageClosed`.
    public func close() async throws {
        let connection = session.connection
        session.markClosing()
        defer { connection.failSession(session.id, with: PageSession.closedByUs) }
        _ = try await connection.send("Target.closeTarget", ["targetId": .string(session.targetID)], timeout: commandTimeout)
    }

    /// Turns on the events the page's picture is built from (frames, lifecycle, network).
    func enableDomains(viewport: (width: Int, height: Int)) async throws {
        async let page = session.send("Page.enable", timeout: commandTimeout)
        async let lifecycle = session.send("Page.setLifecycleEventsEnabled", ["enabled": true], timeout: commandTimeout)
        async let network = session.send("Network.enable", timeout: commandTimeout)
        async let metrics = session.send("Emulation.setDeviceMetricsOverride", [
            "width": .int(viewport.width), "height": .int(viewport.height), "deviceScaleFactor": 1, "mobile": false,
        ], timeout: commandTimeout)
        async let tree = session.send("Page.getFrameTree", timeout: commandTimeout)
        _ = try await (page, lifecycle, network, metrics)
        let frame = try await tree["frameTree"]["frame"]
        if let frameID = frame["id"].stringValue { session.setMainFrame(frameID) }
    }
}

/// How far a navigation must get before `goto` returns.
public enum LoadState: String, Sendable {
    case domContentLoaded
    case load
    /// Chromium's own heuristic: no network activity for 500 ms after load.
    case networkIdle

    var lifecycleName: String {
        switch self {
        case .domContentLoaded: return "DOMContentLoaded"
        case .load: return "load"
        case .networkIdle: return "networkIdle"
        }
    }
}

/// The outcome of `goto`.
public struct Navigation: Sendable, Equatable {
    public var url: String
    /// The HTTP status of the document, when it came over HTTP.
    public var status: Int?
}

public enum ImageFormat: String, Sendable {
    case png, jpeg
}

/// A point in time a step must finish by.
struct Deadline {
    let end: ContinuousClock.Instant
    let limit: Duration

    init(_ timeout: Duration) {
        limit = timeout
        end = .now + timeout
    }

    var remaining: Duration { max(.zero, end - .now) }
    var expired: Bool { ContinuousClock.now >= end }
}
