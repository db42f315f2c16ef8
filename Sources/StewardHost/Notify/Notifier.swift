import Foundation
import StewardJournal
import StewardProtocol

/// Hands messages to a `notify` connector (mail, Slack, Teams) and journals each as
/// `notify.sent`: recipient, template, subject, result. The links are never journaled: a
/// review link acts as its reviewer.
///
/// A failed send is journaled and reported, not thrown: one unreachable mail relay must not
/// stop a reminder run or a campaign launch half way. Only a journal that cannot record throws.
public struct Notifier: Sendable {
    public let workspace: Workspace

    public init(workspace: Workspace) { self.workspace = workspace }

    /// One message to one person.
    public struct Message: Sendable {
        public var template: String
        public var to: String
        public var values: [String: String]
        public var links: [String: String] = [:]
        public var actions: [NotifyAction] = []
        public var campaign: String?
        /// What makes this message this one (a reminder slot, a launch): a retry of the same
        /// message carries the same idempotency key, so a connector can drop the duplicate.
        public var occasion: String

        public init(template: String, to: String, values: [String: String], links: [String: String] = [:],
                    actions: [NotifyAction] = [], campaign: String? = nil, occasion: String) {
            self.template = template
            self.to = to
            self.values = values
            self.links = links
            self.actions = actions
            self.campaign = campaign
            self.occasion = occasion
        }
    }

    /// The notifier a message goes through: the one `named` (`none`: no message), else the
    /// first configured; nil when there is none.
    public func channel(named: String?) -> ConnectorConfig? {
        if named == "none" { return nil }
        if let named { return workspace.config.notifiers.first { $0.id == named } }
        return workspace.config.notifiers.first
    }

    /// Renders, sends and journals `message` through `channel`; returns whether it was sent.
    @discardableResult
    public func send(_ message: Message, via channel: ConnectorConfig) async throws -> Bool {
        let template = workspace.config.messages[message.template]
        let params = NotifyParams(
            idempotencyKey: "stw-" + String(SHA256.hash(Array("\(message.template)|\(message.to)|\(message.campaign ?? "")|\(message.occasion)".utf8)).hex.prefix(16)),
            to: message.to,
            subject: MessageTemplates.render(template.subject, message.values),
            text: MessageTemplates.render(template.text, message.values),
            links: message.links, template: message.template, actions: message.actions)
        var failure: String?
        do {
            _ = try await workspace.connector(channel.id).call(Method.notifySend, params: params.json, as: MutationResult.self)
        } catch {
            failure = "\(error)"
        }
        var data: [String: JSONValue] = [
            "notifier": .string(channel.id), "to": .string(message.to), "template": .string(message.template),
            "subject": .string(params.subject), "result": .string(failure == nil ? "sent" : "failed"),
        ]
        if let campaign = message.campaign { data["campaign"] = .string(campaign) }
        if let failure { data["error"] = .string(failure) }
        var subjects: [String: String] = [:]
        if let campaign = message.campaign { subjects["campaign"] = campaign }
        _ = try await workspace.record([workspace.event(EventType.notifySent, subjects: subjects, data: .object(data))])
        return failure == nil
    }
}
