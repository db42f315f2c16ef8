import Foundation
import StewardJSON

/// Something a step waits for before going on.
public enum WaitCondition: Sendable, Equatable {
    /// One of the selectors finds a visible element.
    case visible(Selectors)
    /// None of the selectors finds a visible element (gone or hidden).
    case hidden(Selectors)
    /// One of the selectors finds an element, visible or not (an empty one has no box).
    case attached(Selectors)
    /// Visible text anywhere on the page, with `text=` rules: `"quoted"` is exact, otherwise a
    /// case-insensitive substring.
    case text(String)
    /// The page's address matches a glob: `*` is any run of characters except `/`, `**` any run
    /// at all; everything else, `?` included, is literal. `**/users/*/edit` matches
    /// `http://host/users/42/edit`.
    case url(String)
    /// No request in flight for `idleTime` (500 ms is what people mean by "the page settled").
    case networkIdle(idleTime: Duration = .milliseconds(500))
}

/// Rows of an HTML table (or ARIA grid), across every page of a paginated list.
public struct Table: Sendable, Equatable {
    /// Column names from the header row; empty when the table has none.
    public var headers: [String]
    public var rows: [[String]]
    /// How many pages were read.
    public var pages: Int
    /// Per row and cell, the attributes of the cell and of the first link or control in it
    /// (`href`, `value`, `data-*`, …), for columns read from an attribute.
    public var attributes: [[[String: String]]]

    public init(headers: [String], rows: [[String]], pages: Int = 1, attributes: [[[String: String]]] = []) {
        self.headers = headers
        self.rows = rows
        self.pages = pages
        self.attributes = attributes
    }

    /// Row `index`'s cell attributes by header name.
    public func attributes(ofRow index: Int) -> [String: [String: String]] {
        guard index < attributes.count else { return [:] }
        var record: [String: [String: String]] = [:]
        for (header, cell) in zip(headers, attributes[index]) { record[header] = cell }
        return record
    }

    /// Each row as header name to cell text; cells past the headers are left out.
    public var records: [[String: String]] {
        rows.map { row in
            var record: [String: String] = [:]
            for (header, cell) in zip(headers, row) { record[header] = cell }
            return record
        }
    }

    /// The cells of the column named `header`, or nil if there is no such column.
    public func column(_ header: String) -> [String]? {
        guard let index = headers.firstIndex(of: header) else { return nil }
        return rows.map { index < $0.count ? $0[index] : "" }
    }
}

extension Page {
    /// Waits until `condition` holds, polling in the page on every animation frame.
    public func waitFor(_ condition: WaitCondition, timeout: Duration? = nil) async throws {
        let limit = timeout ?? defaultTimeout
        let deadline = Deadline(limit)
        let name: String
        let engineCondition: JSONValue
        switch condition {
        case .networkIdle(let idleTime):
            return try await waitForNetworkIdle(idleTime, deadline: deadline)
        case .visible(let selectors):
            name = "waitFor visible"
            engineCondition = ["kind": "visible", "selectors": try selectors.parsed()]
        case .hidden(let selectors):
            name = "waitFor hidden"
            engineCondition = ["kind": "hidden", "selectors": try selectors.parsed()]
        case .attached(let selectors):
            name = "waitFor attached"
            engineCondition = ["kind": "attached", "selectors": try selectors.parsed()]
        case .text(let text):
            name = "waitFor text"
            let selector = "text=" + text
            engineCondition = ["kind": "visible", "selectors": try Selectors(selector).parsed()]
        case .url(let pattern):
            name = "waitFor url \(pattern)"
            engineCondition = ["kind": "url", "regex": .string(globRegex(pattern))]
        }
        try await waitInPage(engineCondition, name: name, deadline: deadline)
    }

    /// Reads a table's header and rows; with `nextPage`, clicks that control and reads again
    /// until it is gone or disabled (at most `maxPages` pages). `timeout` applies per page.
    public func extractTable(_ table: Selectors, nextPage: Selectors? = nil, maxPages: Int = 100,
                             timeout: Duration? = nil) async throws -> Table {
        let tableSelectors = try table.parsed()
        let pagerSelectors = try nextPage?.parsed()
        var result = Table(headers: [], rows: [], pages: 0)
        while true {
            let deadline = Deadline(timeout ?? defaultTimeout)
            try await waitFor(.visible(table), timeout: deadline.remaining)
            let current = try await readTable(tableSelectors, deadline: deadline)
            if result.pages == 0 { result.headers = current["headers"].arrayValue?.compactMap(\.stringValue) ?? [] }
            result.rows += (current["rows"].arrayValue ?? []).map { $0.arrayValue?.compactMap(\.stringValue) ?? [] }
            result.attributes += (current["attrs"].arrayValue ?? []).map { row in
                (row.arrayValue ?? []).map { cell in (cell.objectValue ?? [:]).compactMapValues(\.stringValue) }
            }
            result.pages += 1
            guard let nextPage, let pagerSelectors else { return result }
            let pager = try await callEngine("pagerState", [pagerSelectors], deadline: deadline).stringValue
            guard pager == "ready" else { return result }
            guard result.pages < maxPages else {
                throw DevToolsError.actionFailed(action: "extractTable", reason: "more than \(maxPages) pages; \(nextPage) is still enabled")
            }
            try await click(nextPage, timeout: deadline.remaining)
            let signature = current["signature"]
            try await waitInPage(["kind": "tableChanged", "selectors": tableSelectors, "signature": signature],
                                 name: "extractTable next page", deadline: deadline)
        }
    }

    /// A row found by `findRow`: its cells' text and attributes by header name.
    public struct Row: Sendable, Equatable {
        public var cells: [String: String]
        public var attributes: [String: [String: String]]
    }

    /// Finds the first row whose `column` reads `value` (case and spacing ignored), following
    /// `nextPage` for at most `maxPages` pages, and marks it `data-steward-within="mark"` so
    /// selectors can be scoped to it. Nil when no page has it.
    public func findRow(_ table: Selectors, column: String, equals value: String, nextPage: Selectors? = nil, maxPages: Int = 20,
                        mark: String, timeout: Duration? = nil) async throws -> Row? {
        let tableSelectors = try table.parsed()
        let pagerSelectors = try nextPage?.parsed()
        var pages = 0
        while true {
            let deadline = Deadline(timeout ?? defaultTimeout)
            try await waitFor(.visible(table), timeout: deadline.remaining)
            let reply = try await callEngine("findRow", [tableSelectors, .string(column), .string(value), .string(mark)], deadline: deadline)
            if let reason = reply["reason"].stringValue { throw DevToolsError.actionFailed(action: "findRow", reason: reason) }
            pages += 1
            if reply["found"].boolValue == true {
                let headers = reply["headers"].arrayValue?.compactMap(\.stringValue) ?? []
                let cells = reply["cells"].arrayValue?.compactMap(\.stringValue) ?? []
                let attrs = (reply["attrs"].arrayValue ?? []).map { ($0.objectValue ?? [:]).compactMapValues(\.stringValue) }
                return Row(cells: Dictionary(zip(headers, cells), uniquingKeysWith: { a, _ in a }),
                           attributes: Dictionary(zip(headers, attrs), uniquingKeysWith: { a, _ in a }))
            }
            guard let nextPage, let pagerSelectors, pages < maxPages,
                  try await callEngine("pagerState", [pagerSelectors], deadline: deadline).stringValue == "ready" else { return nil }
            try await click(nextPage, timeout: deadline.remaining)
            try await waitInPage(["kind": "tableChanged", "selectors": tableSelectors, "signature": reply["signature"]],
                                 name: "findRow next page", deadline: deadline)
        }
    }

    // MARK: - Helpers

    private func readTable(_ selectors: JSONValue, deadline: Deadline) async throws -> JSONValue {
        while true {
            do {
                let table = try await callEngine("table", [selectors], deadline: deadline)
                if let reason = table["reason"].stringValue {
                    throw DevToolsError.actionFailed(action: "extractTable", reason: reason)
                }
                return table
            } catch is PageNavigating {
                if deadline.expired { throw DevToolsError.actionFailed(action: "extractTable", reason: "the page kept navigating") }
                try await Task.sleep(for: .milliseconds(20))
            }
        }
    }

    /// Runs the engine's in-page wait in slices of at most two seconds, so a navigation in the
    /// middle (which destroys the waiting script) only costs a retry in the new document.
    private func waitInPage(_ condition: JSONValue, name: String, deadline: Deadline) async throws {
        var attempts: [SelectorAttempt] = []
        while true {
            let slice = min(deadline.remaining, .seconds(2))
            let budget = Int(slice.seconds * 1000)
            do {
                let reply = try await callEngine("waitFor", [condition, .int(budget)], deadline: deadline, extraTime: .seconds(3))
                if reply["ok"].boolValue == true { return }
                if let reason = reply["invalid"].stringValue {
                    throw DevToolsError.invalidSelector(selector: condition["selectors"].arrayValue?.first?["text"].stringValue ?? "?", reason: reason)
                }
                attempts = Self.attempts(in: reply["attempts"])
            } catch is PageNavigating {
                try await Task.sleep(for: min(.milliseconds(20), deadline.remaining))
            } catch DevToolsError.timeout {
                attempts = [SelectorAttempt(selector: "page", reason: "did not respond")]
            }
            if deadline.expired {
                throw DevToolsError.stepTimedOut(action: name, seconds: deadline.limit.seconds, attempts: attempts)
            }
        }
    }

    private func waitForNetworkIdle(_ idleTime: Duration, deadline: Deadline) async throws {
        while true {
            let state = session.snapshot
            let quietFor = ContinuousClock.now - state.lastNetworkActivity
            if state.inflight.isEmpty, quietFor >= idleTime { return }
            if deadline.expired {
                throw DevToolsError.stepTimedOut(action: "waitFor networkIdle", seconds: deadline.limit.seconds, attempts: [
                    SelectorAttempt(selector: "network", reason: "\(state.inflight.count) request(s) still in flight"),
                ])
            }
            let wait = state.inflight.isEmpty ? idleTime - quietFor : .milliseconds(25)
            try await Task.sleep(for: min(max(wait, .milliseconds(5)), deadline.remaining))
        }
    }
}

/// A URL glob as an anchored JavaScript regular expression.
func globRegex(_ glob: String) -> String {
    var regex = "^"
    var characters = Array(glob)[...]
    while let character = characters.popFirst() {
        switch character {
        case "*":
            if characters.first == "*" {
                characters.removeFirst()
                regex += ".*"
            } else {
                regex += "[^/]*"
            }
        case "\\", ".", "+", "?", "^", "$", "(", ")", "[", "]", "{", "}", "|", "/":
            regex += "\\" + String(character)
        default:
            regex.append(character)
        }
    }
    return regex + "$"
}
