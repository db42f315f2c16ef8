/// Everything that can go wrong while driving Chromium, with messages meant for an operator.
///
/// Messages name the thing that failed (binary path, protocol method, selector) and never
/// include text typed into a page, which may be a password.
public enum DevToolsError: Error, Sendable, Equatable, CustomStringConvertible {
    /// No Chromium binary at any of the paths tried.
    case chromiumNotFound(tried: [String])
    /// The binary exists but could not be started or did not answer.
    case launchFailed(String)
    /// The browser process is gone (crash, kill, or closed); every pending call fails with this.
    case browserClosed(String)
    /// The tab's renderer crashed or the tab was closed or detached.
    case pageClosed(String)
    /// Chromium answered a command with an error.
    case protocolError(method: String, code: Int, message: String)
    /// A command got no answer in time.
    case timeout(method: String, seconds: Double)
    /// `Page.navigate` failed (DNS, refused connection, aborted) or the load never finished.
    case navigationFailed(url: String, reason: String)
    /// A script threw or returned something that could not be passed back by value.
    case evaluationFailed(String)
    /// A selector that can never match because it is written wrongly.
    case invalidSelector(selector: String, reason: String)
    /// An action or wait did not succeed before its timeout; `attempts` says why per selector.
    case stepTimedOut(action: String, seconds: Double, attempts: [SelectorAttempt])
    /// An action that cannot succeed however long it waits (for example, checking a text field).
    case actionFailed(action: String, reason: String)

    public var description: String {
        switch self {
        case .chromiumNotFound(let tried):
            return "Chromium not found (tried \(tried.joined(separator: ", "))); install it with `apt-get install chromium` or set STEWARD_CHROMIUM to the browser binary"
        case .launchFailed(let why):
            return "could not launch Chromium: \(why)"
        case .browserClosed(let why):
            return "the browser is gone: \(why)"
        case .pageClosed(let why):
            return "the page is gone: \(why)"
        case .protocolError(let method, let code, let message):
            return "\(method) failed: \(message) (code \(code))"
        case .timeout(let method, let seconds):
            return "\(method) got no answer within \(formatSeconds(seconds))"
        case .navigationFailed(let url, let reason):
            return "navigation to \(url) failed: \(reason)"
        case .evaluationFailed(let why):
            return "script failed: \(why)"
        case .invalidSelector(let selector, let reason):
            return "invalid selector \(selector): \(reason)"
        case .stepTimedOut(let action, let seconds, let attempts):
            let detail = attempts.map { "\($0.selector): \($0.reason)" }.joined(separator: "; ")
            return "\(action) timed out after \(formatSeconds(seconds))" + (detail.isEmpty ? "" : ": \(detail)")
        case .actionFailed(let action, let reason):
            return "\(action) failed: \(reason)"
        }
    }
}

/// Why one selector of a step was not usable on its last try.
public struct SelectorAttempt: Sendable, Equatable, CustomStringConvertible {
    public var selector: String
    /// For example "not found", "not visible", "disabled", "covered by <div id=overlay>".
    public var reason: String

    public init(selector: String, reason: String) {
        self.selector = selector
        self.reason = reason
    }

    public var description: String { "\(selector): \(reason)" }
}

func formatSeconds(_ seconds: Double) -> String {
    let tenths = (seconds * 10).rounded() / 10
    return "\(tenths) s"
}
