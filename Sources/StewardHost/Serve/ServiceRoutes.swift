import Foundation
import StewardHTTP
import StewardCore
import StewardJournal
import StewardProtocol

/// The service's HTTP endpoints: the HR webhook, health and metrics.
struct ServiceRoutes: Sendable {
    let work: ServiceWork
    /// Nil when `serve.webhookSecret` is not set: the hook then does not exist (404).
    let verifier: WebhookVerifier?
    let stateDirectory: URL
    /// The key reviewer links are signed with; nil when `serve.linkKey` is not set (no pages).
    let linkKey: [UInt8]?
    let configPath: String
    /// The campaigns the pages show, folded once and kept current.
    let reviews: ReviewView
    /// Nil when `serve.slack.signingSecret` is not set (404).
    let slack: SlackHook?
    let log: @Sendable (String) -> Void
    /// Items rendered once for every page that shows them.
    let itemBlocks = ItemBlockCache()

    func router() -> Router {
        var router = Router()
        router.add(.post, "/hooks/source", .async { request in await self.sourceHook(request) })
        router.add(.post, "/hooks/slack", .async { request in
            guard let slack = self.slack else { return .text("404 Not Found\n", status: .notFound) }
            return await slack.handle(request)
        })
        router.add(.get, "/healthz", .async { _ in await self.health() })
        router.add(.get, "/metrics", .async { _ in await self.metrics() })
        router.add(.get, "/r/:token", .async { request in await self.reviewerPage(request) })
        router.add(.post, "/r/:token", .async { request in await self.reviewerPost(request) })
        return router
    }

    /// `POST /hooks/source`: signed, fresh and never seen before, or 401 (journaled, nothing
    /// done). The body names people as a hint (`{"people": ["E1003"]}`, `{}` for everyone);
    /// the source is read again either way, so nothing in the body is trusted as HR data.
    private func sourceHook(_ request: HTTPRequest) async -> HTTPResponse {
        guard let verifier else { return .text("404 Not Found\n", status: .notFound) }
        do {
            try verifier.verify(headers: { request.headers[$0] }, body: request.body)
        } catch {
            log("webhook refused: \(error)")
            await work.recordRefusedHook(error.description)
            return .json(["accepted": false, "error": .string(error.description)], status: .unauthorized)
        }
        var people: [String]?
        if !request.body.isEmpty {
            guard let body = try? JSONParser.parse(request.body), case .object = body else {
                await work.recordRefusedHook("the body is not a JSON object")
                return .json(["accepted": false, "error": "the body must be a JSON object such as {\"people\": [\"E1003\"]}"], status: .badRequest)
            }
            if let named = body["people"].arrayValue {
                people = named.compactMap(\.stringValue)
            } else if let employees = body["employees"].arrayValue {
                // BambooHR's payload: employees[].id (a hint, like ours).
                people = employees.compactMap { $0["id"].stringValue ?? $0["id"].intValue.map(String.init) }
            }
        }
        await work.enqueue(.hook(people: people?.isEmpty == true ? nil : people))
        return .json(["accepted": true, "people": people.map { .array($0.map(JSONValue.string)) } ?? .null], status: .accepted)
    }

    // MARK: Reviewer pages

    /// The link's items, or 403 whatever is wrong with the link (nothing says which).
    private func reviewerPage(_ request: HTTPRequest, notice: String? = nil, status: HTTPStatus = .ok) async -> HTTPResponse {
        guard let (link, token) = verifiedLink(request), let key = linkKey else { return Self.notValid }
        do {
            let view = try await reviews.snapshot()
            guard view.revokedBefore(link) == nil else { return Self.notValid }
            guard let campaign = view.book.campaigns[link.campaign] else { return Self.notValid }
            let filters = Dictionary(["app", "recommendation"].compactMap { name in request.queryValue(name).map { (name, $0) } }, uniquingKeysWith: { a, _ in a })
            let page = ReviewerPage(campaign: campaign, reviewer: link.reviewer, open: view.openItems(campaign, for: link.reviewer), blocks: itemBlocks,
                                    csrf: ReviewLink.csrfToken(for: token, key: key), action: "/r/\(token)", notice: notice, filters: filters)
            var response = HTTPResponse.html(page.render(), status: status)
            response.headers.add("Cache-Control", "no-store")
            return response
        } catch {
            log("reviewer page for \(link.campaign): \(error)")
            return .text("The review could not be shown: \(error)\n", status: .serviceUnavailable)
        }
    }

    /// A decision, delegation or sign-off from the page's form: the link and its form token
    /// must match, and the engine refuses anything that is not this reviewer's to do (403,
    /// nothing recorded). Recorded with channel `link`.
    private func reviewerPost(_ request: HTTPRequest) async -> HTTPResponse {
        guard let (link, token) = verifiedLink(request), let key = linkKey else { return Self.notValid }
        guard let form = try? request.formBody(), constantTimeEqual(form["csrf"] ?? "", ReviewLink.csrfToken(for: token, key: key)) else {
            return .text("403 Forbidden: the form is not from this link's page\n", status: .forbidden)
        }
        let items = form.values(for: "item")
        let reviewer = link.reviewer, campaign = link.campaign
        do {
            let notice: String = try await work.perform { ws in
                guard try await self.reviews.snapshot().revokedBefore(link) == nil else { throw ReviewEngine.Refusal("this link was revoked") }
                let engine = ReviewEngine(workspace: ws)
                switch form["do"] ?? "decide" {
                case "signoff":
                    try await engine.signOff(campaign, as: reviewer)
                    return "Signed off: your decisions in \(campaign) are locked."
                case "delegate":
                    guard let to = form["to"].flatMap(Reviewer.init) else { throw ReviewEngine.Refusal("give the e-mail to delegate to") }
                    try await engine.delegate(campaign, items: items, to: to, reason: form["reason"] ?? "", as: reviewer)
                    return "Delegated \(items.count) item\(items.count == 1 ? "" : "s") to \(to)."
                default:
                    guard let verdict = form["verdict"].flatMap(Recommendation.Verdict.init(rawValue:)) else {
                        throw ReviewEngine.Refusal("choose keep or revoke")
                    }
                    let comment = form["comment"].flatMap { $0.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty ? nil : $0 }
                    let n = try await engine.decide(campaign, items: items, verdict: verdict, comment: comment, as: reviewer, channel: "link",
                                                    link: ReviewLink.id(of: token))
                    return "\(verdict == .keep ? "Kept" : "Revoked") \(n) item\(n == 1 ? "" : "s")."
                }
            }
            return await reviewerPage(request, notice: notice)
        } catch let refusal as ReviewEngine.Refusal {
            return await reviewerPage(request, notice: "Nothing was recorded: \(refusal)", status: .forbidden)
        } catch {
            log("reviewer post for \(campaign): \(error)")
            return .text("Nothing was recorded: \(error)\n", status: .serviceUnavailable)
        }
    }

    private static let notValid = HTTPResponse.text("403 Forbidden: this link is not valid (expired, revoked or altered); ask for a new one\n", status: .forbidden)

    private func verifiedLink(_ request: HTTPRequest) -> (ReviewLink, String)? {
        guard let key = linkKey, let token = request.parameter("token"),
              let link = try? ReviewLink.verify(token, key: key) else { return nil }
        return (link, token)
    }

    /// 200 with the last sync and apply, or 503 when the journal cannot be written.
    private func health() async -> HTTPResponse {
        let metrics = await work.snapshot
        let journal = stateDirectory.appendingPathComponent("journal")
        let writable = FileManager.default.isWritableFile(atPath: journal.path) || !FileManager.default.fileExists(atPath: journal.path)
        let body: JSONValue = [
            "ok": .bool(writable),
            "lastSync": metrics.lastSync.map { .string(Timestamp($0).rfc3339) } ?? .null,
            "lastApply": metrics.lastApply.map { .string(Timestamp($0).rfc3339) } ?? .null,
            "journalWritable": .bool(writable),
        ]
        return .json(body, status: writable ? .ok : .serviceUnavailable)
    }

    /// The Prometheus text exposition format.
    private func metrics() async -> HTTPResponse {
        let m = await work.snapshot
        var text = PrometheusText()
        text.gauge("steward_last_sync_timestamp_seconds", "When the last sync finished (unix seconds).", m.lastSync.map { $0.timeIntervalSince1970 } ?? 0)
        text.gauge("steward_last_apply_timestamp_seconds", "When the last apply finished (unix seconds).", m.lastApply.map { $0.timeIntervalSince1970 } ?? 0)
        text.gauge("steward_sync_duration_seconds", "How long the last sync took.", m.syncSeconds)
        let apps = m.apps.sorted { $0.key < $1.key }
        text.family("steward_app_sync_duration_seconds", "How long the last listing of each app took.", "gauge",
                    apps.map { ("app=\"\(label($0.key))\"", $0.value.seconds) })
        text.family("steward_app_sync_success", "Whether the last sync of each app succeeded (1) or failed (0).", "gauge",
                    apps.map { ("app=\"\(label($0.key))\"", $0.value.ok ? 1 : 0) })
        text.family("steward_app_sync_failures_total", "Failed syncs of each app.", "counter",
                    apps.map { ("app=\"\(label($0.key))\"", Double($0.value.failures)) })
        text.counter("steward_sync_failures_total", "Syncs in which the source or an app failed.", Double(m.syncFailures))
        text.counter("steward_job_failures_total", "Jobs that stopped with an error.", Double(m.jobFailures))
        text.family("steward_actions_total", "Actions the service applied, by app, operation and result (applied, alreadyApplied, failed, skipped, unverified).", "counter",
                    m.actions.sorted { ($0.key.app, $0.key.operation, $0.key.result) < ($1.key.app, $1.key.operation, $1.key.result) }
                        .map { ("app=\"\(label($0.key.app))\",operation=\"\($0.key.operation)\",result=\"\($0.key.result)\"", Double($0.value)) })
        text.family("steward_connector_restarts_total", "Connectors that stopped unexpectedly and were restarted, by app.", "counter",
                    m.connectorRestarts.sorted { $0.key < $1.key }.map { ("app=\"\(label($0.key))\"", Double($0.value)) })
        text.counter("steward_webhook_requests_total", "Webhook requests (HR source, Slack), by hook and result.",
                     ["source", "slack"].flatMap { hook in ["accepted", "refused"].map { result in
                         ("hook=\"\(hook)\",result=\"\(result)\"", Double(m.webhooks[ServiceMetrics.HookResult(hook: hook, result: result), default: 0]))
                     } })
        if let view = try? await reviews.snapshot() {
            let now = Date()
            let open = view.book.order.compactMap { view.book.campaigns[$0] }.filter { !$0.isClosed }
            text.family("steward_review_items_open", "Undecided items of each open campaign's current stage.", "gauge",
                        open.map { ("campaign=\"\(label($0.id))\"", Double($0.undecidedItems.count)) })
            text.family("steward_review_items_overdue", "Undecided items past their stage's deadline, per open campaign.", "gauge",
                        open.map { c in
                            let late = c.deadlines.indices.contains(c.stage) && now > c.deadlines[c.stage]
                            return ("campaign=\"\(label(c.id))\"", late ? Double(c.undecidedItems.count) : 0)
                        })
            text.gauge("steward_journal_events", "Events in the journal.", Double(view.throughSeq))
        }
        text.gauge("steward_journal_bytes", "Bytes of the journal's segment files.", Double(journalBytes()))
        text.gauge("process_resident_memory_bytes", "Resident memory of this process.", Double(residentMemoryBytes()))
        text.gauge("process_open_fds", "Open file descriptors of this process.", Double(openDescriptors()))
        return HTTPResponse(status: .ok, headers: ["Content-Type": "text/plain; version=0.0.4; charset=utf-8"], body: Array(text.text.utf8))
    }

    private func journalBytes() -> Int {
        let segments = stateDirectory.appendingPathComponent("journal/segments")
        let names = (try? FileManager.default.contentsOfDirectory(atPath: segments.path)) ?? []
        return names.reduce(0) { total, name in
            var info = stat()
            return total + (stat(segments.appendingPathComponent(name).path, &info) == 0 ? Int(info.st_size) : 0)
        }
    }
}

/// A label value as the exposition format writes it: backslash, quote and newline escaped.
private func label(_ value: String) -> String {
    value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"").replacingOccurrences(of: "\n", with: "\\n")
}

/// Builds the Prometheus text exposition format: `# HELP`, `# TYPE`, then the samples.
struct PrometheusText {
    private(set) var text = ""

    mutating func gauge(_ name: String, _ help: String, _ value: Double) {
        family(name, help, "gauge", [("", value)])
    }

    mutating func counter(_ name: String, _ help: String, _ value: Double) {
        family(name, help, "counter", [("", value)])
    }

    mutating func counter(_ name: String, _ help: String, _ samples: [(labels: String, value: Double)]) {
        family(name, help, "counter", samples)
    }

    mutating func family(_ name: String, _ help: String, _ type: String, _ samples: [(labels: String, value: Double)]) {
        text += "# HELP \(name) \(help.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\n", with: "\\n"))\n"
        text += "# TYPE \(name) \(type)\n"
        for sample in samples {
            text += sample.labels.isEmpty ? name : "\(name){\(sample.labels)}"
            text += " \(format(sample.value))\n"
        }
    }

    private func format(_ value: Double) -> String {
        value.rounded() == value && abs(value) < 1e15 ? String(Int64(value)) : String(value)
    }
}

/// Compares without stopping at the first difference, so the time says nothing about the value.
private func constantTimeEqual(_ a: String, _ b: String) -> Bool {
    let x = Array(a.utf8), y = Array(b.utf8)
    guard x.count == y.count else { return false }
    var difference: UInt8 = 0
    for i in x.indices { difference |= x[i] ^ y[i] }
    return difference == 0
}

private func residentMemoryBytes() -> Int {
    guard let statm = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return 0 }
    let fields = statm.split(separator: " ")
    guard fields.count > 1, let pages = Int(fields[1]) else { return 0 }
    return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
}

private func openDescriptors() -> Int {
    (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd").count) ?? 0
}
