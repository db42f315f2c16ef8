import Foundation
import StewardCore
import StewardProtocol

/// The messages a campaign owes its reviewers: at launch, by the reminder ladder, on
/// escalation and on delegation, each with the reviewer's signed link when `serve.linkKey` is
/// set, and in chat with keep/revoke buttons for a few items the campaign lets chat decide.
///
/// Nothing is sent when no notifier is configured or the campaign says `notify: "none"`: the
/// events are journaled either way, and `steward review remind` prints who is owed what.
struct ReviewMessenger {
    let workspace: Workspace
    let now: Date
    let groups: [String: [String]]

    /// At most this many items get buttons of their own in a chat message; more, and the
    /// message offers the page instead (a wall of buttons is not a review).
    static let maxButtonItems = 5

    /// The notifier for the campaign, or nil when it sends nothing.
    func channel(for campaign: Campaign) -> ConnectorConfig? {
        Notifier(workspace: workspace).channel(named: campaign.definition.notify)
    }

    /// `review.launched` to each reviewer of the first stage (each member of a group).
    func launched(_ campaign: Campaign) async throws {
        for (reviewer, items) in openItemsByReviewer(campaign) {
            try await send(Names.launched, to: reviewer, in: campaign, items: items, occasion: "launch")
        }
    }

    /// `review.reminder` for each reminder due, `review.escalated` to the managers taking over.
    func dueWork(_ due: DueWork, in campaign: Campaign) async throws {
        let open = Dictionary(openItemsByReviewer(campaign), uniquingKeysWith: { a, _ in a })
        for reminder in due.reminders {
            for person in people(reminder.reviewer) {
                try await send(Names.reminder, to: person, in: campaign, items: open[person] ?? [],
                               extra: ["slot": reminder.slot], occasion: "reminder.\(reminder.stage).\(reminder.slot)")
            }
        }
        for escalation in due.escalations {
            guard let manager = escalation.to else { continue }
            try await send(Names.escalated, to: manager, in: campaign, items: escalation.items,
                           extra: ["from": escalation.from], occasion: "escalation.\(campaign.stage).\(escalation.from)")
        }
    }

    /// `review.delegated` to whoever took the items.
    func delegated(_ items: [Int], in campaign: Campaign, to target: Reviewer, by from: String, reason: String) async throws {
        for person in people(target.description) {
            try await send(Names.delegated, to: person, in: campaign, items: items, extra: ["from": from, "reason": reason],
                           occasion: "delegation.\(now.timeIntervalSince1970).\(from)")
        }
    }

    private typealias Names = MessageTemplates.Names

    private func send(_ template: String, to person: String, in campaign: Campaign, items: [Int],
                      extra: [String: String] = [:], occasion: String) async throws {
        guard let channel = channel(for: campaign) else { return }
        let deadline = campaign.deadlines.indices.contains(campaign.stage) ? campaign.deadlines[campaign.stage] : now
        var values = extra
        values["reviewer"] = person
        values["campaign"] = campaign.id
        values["description"] = campaign.definition.description.map { " (\($0))" } ?? ""
        values["openItems"] = items.count == 1 ? "1 item" : "\(items.count) items"
        values["deadline"] = Self.day.string(from: deadline)
        var links: [String: String] = [:]
        if let issuer = try ReviewLinkIssuer(config: workspace.config) {
            // Valid until a week after the last stage's deadline: a late reviewer still gets in.
            let lifetime = max(86_400, (campaign.deadlines.last ?? deadline).timeIntervalSince(now) + 7 * 86_400)
            let url = issuer.url(reviewer: person, campaign: campaign.id, now: now, lifetime: lifetime)
            links["Open your review"] = url
            values["link"] = url
        } else {
            values["link"] = "Run: steward review items \(campaign.id) --reviewer \(person)"
        }
        let message = Notifier.Message(template: template, to: person, values: values, links: links,
                                       actions: buttons(for: items, in: campaign), campaign: campaign.id, occasion: occasion)
        try await Notifier(workspace: workspace).send(message, via: channel)
    }

    /// Keep and revoke per item, when there are few enough and the campaign lets chat decide
    /// them. The value is what `/hooks/slack` reads back: `v1|keep|CAMPAIGN|ITEM`.
    private func buttons(for items: [Int], in campaign: Campaign) -> [NotifyAction] {
        let decidable = items.filter { campaign.definition.chatButtons.allows(privileged: campaign.items[$0].context.privileged) }
        guard !decidable.isEmpty, decidable.count == items.count, items.count <= Self.maxButtonItems else { return [] }
        return decidable.flatMap { p -> [NotifyAction] in
            let item = campaign.items[p]
            let name = String("\(item.context.email ?? item.personId ?? item.accountName): \(item.accessName)".prefix(60))
            return [NotifyAction(id: "keep-\(item.id)", label: "Keep \(name)", value: SlackDecision(verdict: .keep, campaign: campaign.id, item: item.id).value, style: "primary"),
                    NotifyAction(id: "revoke-\(item.id)", label: "Revoke \(name)", value: SlackDecision(verdict: .revoke, campaign: campaign.id, item: item.id).value, style: "danger")]
        }
    }

    /// The current stage's undecided items by reviewer e-mail (a group's items under each member).
    private func openItemsByReviewer(_ campaign: Campaign) -> [(String, [Int])] {
        var by: [String: [Int]] = [:]
        for p in campaign.undecidedItems {
            guard let reviewer = campaign.progress[p].currentReviewer(campaign.stage) else { continue }
            for person in people(reviewer.description) { by[person, default: []].append(p) }
        }
        return by.sorted { $0.key < $1.key }
    }

    /// An e-mail, or a group's members.
    private func people(_ reviewer: String) -> [String] {
        if reviewer.hasPrefix("group:") { return (groups[String(reviewer.dropFirst(6))] ?? []).map { $0.lowercased() } }
        return [reviewer.lowercased()]
    }

    private static let day: DateFormatter = {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "UTC")
        f.dateFormat = "EEEE d MMMM yyyy, HH:mm 'UTC'"
        return f
    }()
}

/// What a Slack button carries: `v1|keep|CAMPAIGN|ITEM`. It names the item, not the reviewer:
/// `/hooks/slack` takes the reviewer from the Slack user who pressed it, and the engine
/// refuses an item that is not theirs.
struct SlackDecision: Equatable {
    var verdict: Recommendation.Verdict
    var campaign: String
    var item: String

    var value: String { "v1|\(verdict.rawValue)|\(campaign)|\(item)" }

    init(verdict: Recommendation.Verdict, campaign: String, item: String) {
        self.verdict = verdict
        self.campaign = campaign
        self.item = item
    }

    init?(value: String) {
        let parts = value.split(separator: "|", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 4, parts[0] == "v1", let verdict = Recommendation.Verdict(rawValue: parts[1]),
              !parts[2].isEmpty, !parts[3].isEmpty else { return nil }
        self.init(verdict: verdict, campaign: parts[2], item: parts[3])
    }
}
