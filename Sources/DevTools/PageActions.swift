import Foundation
import StewardJSON

extension Page {
    /// Clicks the centre of the first element the selectors find, once it can be clicked. If the
    /// click starts a navigation, waits until the new document has loaded. Returns whether the
    /// element was a plain link (`<a href>` without scripts or a form), whose click only loads a
    /// page and so cannot have changed anything.
    @discardableResult
    public func click(_ selectors: Selectors, timeout: Duration? = nil) async throws -> Bool {
        let (ready, deadline) = try await untilReady("click", selectors, timeout: timeout)
        _ = try await watchingNavigation("click", deadline: deadline) {
            try await self.mouseClick(at: ready)
        }
        return ready["plainLink"].boolValue ?? false
    }

    /// Replaces the text of an input, textarea or contenteditable element, as if typed.
    /// The text is never included in errors: it may be a password.
    public func fill(_ selectors: Selectors, _ text: String, timeout: Duration? = nil) async throws {
        let (ready, deadline) = try await untilReady("fill", selectors, timeout: timeout)
        if ready["kind"].stringValue == "value" {
            let accepted = try await callEngine("setLastValue", [.string(text)], deadline: deadline)
            if accepted.boolValue != true {
                throw DevToolsError.actionFailed(action: "fill", reason: "\(selectors) rejected the value (its input type expects a particular format)")
            }
        } else if text.isEmpty {
            _ = try await callEngine("clearLast", [], deadline: deadline)
        } else {
            _ = try await session.send("Input.insertText", ["text": .string(text)], timeout: max(deadline.remaining, commandTimeout))
        }
    }

    /// Chooses options of a `<select>` by value or by visible label; returns the chosen values.
    @discardableResult
    public func select(_ selectors: Selectors, _ values: [String], timeout: Duration? = nil) async throws -> [String] {
        let deadline = Deadline(timeout ?? defaultTimeout)
        return try await watchingNavigation("select", deadline: deadline) {
            let (ready, _) = try await self.untilReady("select", selectors, extra: ["values": .array(values.map(JSONValue.string))], timeout: deadline.remaining)
            return ready["selected"].arrayValue?.compactMap(\.stringValue) ?? []
        }.value
    }

    /// Ticks a checkbox or radio button; does nothing if it is already ticked.
    public func check(_ selectors: Selectors, timeout: Duration? = nil) async throws {
        try await setChecked(true, selectors, timeout: timeout)
    }

    /// Clears a checkbox; does nothing if it is already clear.
    public func uncheck(_ selectors: Selectors, timeout: Duration? = nil) async throws {
        try await setChecked(false, selectors, timeout: timeout)
    }

    /// Presses a key or combination (`Enter`, `Tab`, `Control+A`), on the element the selectors
    /// find (focused first) or on whatever has focus.
    public func press(_ key: String, on selectors: Selectors? = nil, timeout: Duration? = nil) async throws {
        let stroke = try KeyStroke(key)
        var deadline = Deadline(timeout ?? defaultTimeout)
        if let selectors {
            (_, deadline) = try await untilReady("press", selectors, action: "focus", timeout: timeout)
        }
        _ = try await watchingNavigation("press", deadline: deadline) {
            try await self.type(stroke)
        }
    }

    /// Whether the document has finished loading (`readyState` complete): only then does an
    /// element's absence mean something.
    public func isLoaded() async throws -> Bool {
        try await callEngine("loaded", [], deadline: Deadline(commandTimeout)).boolValue ?? false
    }

    /// The visible controls most like what `selectors` describe, best first, for an error that
    /// says what the page has instead.
    public func candidates(like selectors: Selectors, limit: Int = 5) async throws -> [ElementCandidate] {
        let reply = try await callEngine("candidates", [.array(selectors.alternatives.map(JSONValue.string)), .int(limit)],
                                         deadline: Deadline(commandTimeout))
        return (reply.arrayValue ?? []).map {
            ElementCandidate(role: $0["role"].stringValue ?? "?", name: $0["name"].stringValue ?? "", selector: $0["selector"].stringValue ?? "?")
        }
    }

    // MARK: - Actionability

    private func setChecked(_ wanted: Bool, _ selectors: Selectors, timeout: Duration?) async throws {
        let action = wanted ? "check" : "uncheck"
        let (ready, deadline) = try await untilReady(action, selectors, timeout: timeout)
        if ready["done"].boolValue == true { return }
        let watch = try await watchingNavigation(action, deadline: deadline) {
            try await self.mouseClick(at: ready)
        }
        if watch.navigated { return }
        let state = try await callEngine("lastChecked", [], deadline: deadline)
        if state.boolValue != wanted {
            throw DevToolsError.actionFailed(action: action, reason: "clicking \(selectors) did not \(action) it")
        }
    }

    /// Probes the selectors until one finds an element ready for `action`, retrying with
    /// backoff (0, 20, 100, 100, 500 ms, then every 500 ms) until the timeout.
    func untilReady(_ name: String, _ selectors: Selectors, action: String? = nil, extra: [String: JSONValue] = [:],
                    timeout: Duration?) async throws -> (JSONValue, Deadline) {
        let parsed = try selectors.parsed()
        let limit = timeout ?? defaultTimeout
        let deadline = Deadline(limit)
        var spec = extra
        spec["action"] = .string(action ?? name)
        spec["selectors"] = parsed
        var delays = [0, 20, 100, 100][...]
        var attempts: [SelectorAttempt] = []
        while true {
            do {
                let reply = try await callEngine("probe", [.object(spec)], deadline: deadline)
                if let selector = reply["invalid"].stringValue {
                    throw DevToolsError.invalidSelector(selector: selector, reason: reply["reason"].stringValue ?? "rejected by the page")
                }
                if reply["ok"].boolValue == true {
                    noteMatched(reply["index"].intValue ?? 0)
                    return (reply, deadline)
                }
                attempts = Self.attempts(in: reply["attempts"])
            } catch is PageNavigating {
                if attempts.isEmpty { attempts = [SelectorAttempt(selector: selectors.description, reason: "the page was navigating")] }
            } catch DevToolsError.timeout {
                attempts.append(SelectorAttempt(selector: selectors.description, reason: "the page did not respond"))
            }
            if deadline.expired { throw DevToolsError.stepTimedOut(action: name, seconds: limit.seconds, attempts: attempts) }
            let delay = Duration.milliseconds(delays.popFirst() ?? 500)
            try await Task.sleep(for: min(delay, deadline.remaining))
        }
    }

    static func attempts(in value: JSONValue) -> [SelectorAttempt] {
        (value.arrayValue ?? []).map {
            SelectorAttempt(selector: $0["selector"].stringValue ?? "?", reason: $0["reason"].stringValue ?? "?")
        }
    }

    /// Calls a method of the page-side engine. Errors that only mean "a new document is
    /// replacing this one" become `PageNavigating`, which callers retry.
    func callEngine(_ method: String, _ arguments: [JSONValue], deadline: Deadline, extraTime: Duration = .seconds(1)) async throws -> JSONValue {
        let argumentText = arguments.map { JSONWriter.string($0) }.joined(separator: ",")
        let expression = selectorEngineScript + ".\(method)(\(argumentText))"
        let reply: JSONValue
        do {
            reply = try await session.send("Runtime.evaluate", [
                "expression": .string(expression),
                "returnByValue": true,
                "awaitPromise": true,
            ], timeout: deadline.remaining + extraTime)
        } catch DevToolsError.protocolError(_, _, let message) where PageNavigating.matches(message) {
            throw PageNavigating()
        }
        do {
            return try Self.value(of: reply)
        } catch DevToolsError.evaluationFailed(let message) where PageNavigating.matches(message) {
            throw PageNavigating()
        }
    }

    // MARK: - Input

    /// Moves to, presses and releases the left button at the point.
    func mouseClick(at point: JSONValue) async throws {
        let x = JSONValue.double(point["x"].doubleValue ?? 0)
        let y = JSONValue.double(point["y"].doubleValue ?? 0)
        _ = try await session.sendInOrder([
            ("Input.dispatchMouseEvent", ["type": "mouseMoved", "x": x, "y": y]),
            ("Input.dispatchMouseEvent", ["type": "mousePressed", "x": x, "y": y, "button": "left", "buttons": 1, "clickCount": 1]),
            ("Input.dispatchMouseEvent", ["type": "mouseReleased", "x": x, "y": y, "button": "left", "buttons": 0, "clickCount": 1]),
        ], timeout: commandTimeout)
    }

    private func type(_ stroke: KeyStroke) async throws {
        var mask = 0
        for modifier in stroke.modifiers {
            try await keyEvent("rawKeyDown", modifier, mask: mask)
            mask = stroke.modifierMask
        }
        try await keyEvent(stroke.key.text == nil ? "rawKeyDown" : "keyDown", stroke.key, mask: stroke.modifierMask)
        try await keyEvent("keyUp", stroke.key, mask: stroke.modifierMask)
        for modifier in stroke.modifiers.reversed() {
            try await keyEvent("keyUp", modifier, mask: 0)
        }
    }

    private func keyEvent(_ type: String, _ key: KeyStroke.Key, mask: Int) async throws {
        var event = JSONObjectBuilder(capacity: 8)
        event.set("type", type)
        event.set("key", key.key)
        event.set("code", key.code)
        event.set("windowsVirtualKeyCode", key.keyCode)
        event.set("modifiers", mask)
        if type == "keyDown" {
            event.set("text", key.text)
            event.set("unmodifiedText", key.text)
        }
        _ = try await session.send("Input.dispatchKeyEvent", event.value, timeout: commandTimeout)
    }

    // MARK: - Navigation started by an action

    /// Runs an input action; if it made the main frame start a navigation, waits until the new
    /// document is committed, so the next step runs against it.
    func watchingNavigation<T>(_ action: String, deadline: Deadline, _ body: () async throws -> T) async throws -> (value: T, navigated: Bool) {
        let stream = session.subscribe([
            "Page.frameRequestedNavigation", "Page.frameNavigated", "Page.navigatedWithinDocument", "Page.frameStoppedLoading",
        ])
        defer { session.unsubscribe(stream) }
        let value = try await body()
        // A round trip through the page, so a navigation the input caused has been announced.
        _ = try await session.send("Page.enable", timeout: commandTimeout)
        let main = session.snapshot.mainFrameID
        let isMain: @Sendable (CDPEvent) -> Bool = { event in
            (event.params["frameId"].stringValue ?? event.params["frame"]["id"].stringValue) == main
        }
        let requested = stream.take { event in
            event.method == "Page.frameRequestedNavigation" && isMain(event)
                && (event.params["disposition"].stringValue ?? "currentTab") == "currentTab"
        }
        guard requested != nil else { return (value, false) }
        let arrived: CDPEvent
        do {
            arrived = try await stream.next(timeout: deadline.remaining + .seconds(1), waitingFor: "navigation") { event in
                event.method != "Page.frameRequestedNavigation" && isMain(event)
            }
        } catch DevToolsError.timeout {
            throw DevToolsError.stepTimedOut(action: action, seconds: deadline.limit.seconds, attempts: [
                SelectorAttempt(selector: "navigation", reason: "the navigation it started did not finish in time"),
            ])
        }
        // The new document is committed; let it finish loading, so the next step (a failIf on
        // the error the app shows) reads the page the click opened. A page that keeps loading
        // past the deadline is left to the next step's own wait.
        if arrived.method != "Page.frameStoppedLoading" {
            _ = try? await stream.next(timeout: max(deadline.remaining, .milliseconds(1)), waitingFor: "load") { event in
                event.method == "Page.frameStoppedLoading" && isMain(event)
            }
        }
        return (value, true)
    }
}

/// A call reached a document that is being replaced; try again in the new one.
struct PageNavigating: Error {
    static func matches(_ message: String) -> Bool {
        message.contains("Execution context was destroyed") || message.contains("Cannot find default execution context")
            || message.contains("Cannot find context with specified id") || message.contains("Inspected target navigated or closed")
            || message.contains("Promise was collected")
    }
}

/// A control on the page: its ARIA role, accessible name, and a selector that finds it.
public struct ElementCandidate: Sendable, Hashable, CustomStringConvertible {
    public var role: String
    public var name: String
    public var selector: String

    public var description: String { "\(role) \"\(name)\" (\(selector))" }
}
