import Foundation
import StewardJSON

/// The protocol side of one tab: its commands, and the events that keep its picture current
/// (main frame, current document, requests in flight, dialogs).
///
/// `handle` runs on the reader thread, so it only updates state and never waits.
final class PageSession: Sendable {
    let id: String
    let targetID: String
    let connection: Connection
    private let state: Locked<State>

    struct State {
        var streams: [ObjectIdentifier: EventStream] = [:]
        var failure: DevToolsError?
        var mainFrameID: String?
        var inflight: Set<String> = []
        /// The document loader each request in flight belongs to.
        var requestLoaders: [String: String] = [:]
        var lastNetworkActivity = ContinuousClock.now
        var documentStatus: [String: Int] = [:]
        var dialogPolicy: DialogPolicy = .dismiss
        var dialogs: [Dialog] = []
        var closing = false
    }

    init(id: String, targetID: String, connection: Connection) {
        self.id = id
        self.targetID = targetID
        self.connection = connection
        self.state = Locked(State())
    }

    func send(_ method: String, _ params: JSONValue = [:], timeout: Duration) async throws -> JSONValue {
        if let failure = state.withLock({ $0.failure }) { throw failure }
        return try await connection.send(method, params, session: id, timeout: timeout)
    }

    /// Writes the commands in order, then waits for every reply; input events sent this way do
    /// not each wait a frame for the one before.
    func sendInOrder(_ commands: [(method: String, params: JSONValue)], timeout: Duration) async throws -> [JSONValue] {
        if let failure = state.withLock({ $0.failure }) { throw failure }
        let pending = commands.map { connection.enqueue($0.method, $0.params, session: id) }
        var replies: [JSONValue] = []
        for reply in pending { replies.append(try await connection.reply(to: reply, timeout: timeout)) }
        return replies
    }

    /// Starts buffering events of `methods`; pair with `unsubscribe`.
    func subscribe(_ methods: Set<String>) -> EventStream {
        let stream = EventStream(methods: methods)
        let failure = state.withLock { state -> DevToolsError? in
            state.streams[ObjectIdentifier(stream)] = stream
            return state.failure
        }
        if let failure { stream.fail(failure) }
        return stream
    }

    func unsubscribe(_ stream: EventStream) {
        state.withLock { _ = $0.streams.removeValue(forKey: ObjectIdentifier(stream)) }
    }

    var snapshot: State { state.current }

    func setMainFrame(_ frameID: String) {
        state.withLock { $0.mainFrameID = frameID }
    }

    static let closedByUs = DevToolsError.pageClosed("the page was closed")

    /// Marks the coming detach as our own doing.
    func markClosing() { state.withLock { $0.closing = true } }

    var isClosing: Bool { state.withLock { $0.closing } }

    var dialogPolicy: DialogPolicy {
        get { state.withLock { $0.dialogPolicy } }
        set { state.withLock { $0.dialogPolicy = newValue } }
    }

    // MARK: Events (on the reader thread)

    func handle(_ event: CDPEvent) {
        let params = event.params
        switch event.method {
        case "Page.javascriptDialogOpening":
            answerDialog(params)
        case "Page.frameNavigated":
            let frame = params["frame"]
            if frame["parentId"].isNull, let frameID = frame["id"].stringValue {
                setMainFrame(frameID)
                // Requests of the document just replaced never report finishing (a POST that
                // redirected, a fetch the unload cut off): they are not in flight any more.
                if let loader = frame["loaderId"].stringValue {
                    state.withLock { state in
                        for (request, owner) in state.requestLoaders where owner != loader {
                            state.inflight.remove(request)
                            state.requestLoaders[request] = nil
                        }
                    }
                }
            }
        case "Network.requestWillBeSent":
            if let requestID = params["requestId"].stringValue {
                state.withLock { state in
                    state.inflight.insert(requestID)
                    if let loader = params["loaderId"].stringValue { state.requestLoaders[requestID] = loader }
                    state.lastNetworkActivity = .now
                }
            }
        case "Network.loadingFinished", "Network.loadingFailed":
            if let requestID = params["requestId"].stringValue {
                state.withLock { state in
                    state.inflight.remove(requestID)
                    state.requestLoaders[requestID] = nil
                    state.lastNetworkActivity = .now
                }
            }
        case "Network.responseReceived":
            if params["type"].stringValue == "Document", let loaderID = params["loaderId"].stringValue,
               let status = params["response"]["status"].intValue {
                state.withLock { state in
                    if state.documentStatus.count > 64 { state.documentStatus.removeAll() }
                    state.documentStatus[loaderID] = status
                }
            }
        case "Inspector.targetCrashed":
            connection.failSession(id, with: .pageClosed("the tab's renderer crashed"))
        case "Inspector.detached":
            if isClosing {
                connection.failSession(id, with: Self.closedByUs)
            } else {
                let reason = params["reason"].stringValue ?? "detached"
                connection.failSession(id, with: .pageClosed("the tab was detached (\(reason))"))
            }
        default:
            break
        }
        let streams = state.withLock { Array($0.streams.values) }
        for stream in streams where stream.methods.contains(event.method) {
            stream.deliver(event)
        }
    }

    func fail(_ error: DevToolsError) {
        let streams = state.withLock { state -> [EventStream] in
            if state.failure == nil { state.failure = error }
            return Array(state.streams.values)
        }
        streams.forEach { $0.fail(error) }
    }

    // MARK: Dialogs

    private func answerDialog(_ params: JSONValue) {
        let dialog = Dialog(
            kind: Dialog.Kind(rawValue: params["type"].stringValue ?? "") ?? .alert,
            message: params["message"].stringValue ?? "",
            defaultPrompt: params["defaultPrompt"].stringValue ?? "")
        let policy = dialogPolicy
        let answer: @Sendable () -> Void = { [self] in
            var answered = dialog
            var reply = JSONObjectBuilder(capacity: 2)
            switch policy.response(to: dialog) {
            case .accept(let text):
                answered.accepted = true
                reply.set("accept", true)
                reply.set("promptText", text ?? (dialog.kind == .prompt ? dialog.defaultPrompt : nil))
            case .dismiss:
                reply.set("accept", false)
            }
            state.withLock { state in
                if state.dialogs.count >= 100 { state.dialogs.removeFirst() }
                state.dialogs.append(answered)
            }
            connection.post("Page.handleJavaScriptDialog", reply.value, session: id)
        }
        if policy.runsCallerCode {
            DispatchQueue.global().async(execute: answer)
        } else {
            answer()
        }
    }
}
