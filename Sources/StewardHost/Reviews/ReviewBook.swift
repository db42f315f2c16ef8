import Foundation
import StewardCore
import StewardJournal
import StewardProtocol

/// Every campaign in the journal, folded from its `review.*` events. A campaign is data in the
/// journal, not a process: this is a view of it, rebuilt on each command.
public struct ReviewBook: Sendable {
    public var campaigns: [String: Campaign] = [:]
    /// Launch order.
    public var order: [String] = []
    /// Per campaign, what the launch recorded about the population (counts, sync times, hashes).
    public var populations: [String: JSONValue] = [:]
    /// Per campaign and item, the events behind its decisions, routing and outcome, for proofs.
    public var eventSeqs: [String: [String: [Int]]] = [:]

    public init() {}

    public static func load(from journal: Journal) throws -> ReviewBook {
        var book = ReviewBook()
        try journal.forEachEvent(matching: EventFilter(type: "review.*")) { event in
            book.apply(event)
            return true
        }
        return book
    }

    /// How many campaigns were launched from `definition` (the next one is numbered after).
    public func launches(of definition: String) -> Int { order.filter { campaigns[$0]?.definition.id == definition }.count }

    public mutating func apply(_ e: StoredEvent) {
        let d = e.data
        guard let id = d["campaign"].stringValue else { return }
        if e.type == EventType.reviewLaunched {
            let deadlines = (d["deadlines"].arrayValue ?? []).compactMap { Date(rfc3339: $0.stringValue) }
            campaigns[id] = Campaign(id: id, definition: ReviewDefinition(journal: d["definition"]),
                                     launchedAt: Date(rfc3339: d["launchedAt"].stringValue) ?? e.time.date,
                                     deadlines: deadlines, items: [], firstAssignments: [])
            order.append(id)
            populations[id] = d["population"]
            return
        }
        guard var campaign = campaigns[id] else { return }
        defer { campaigns[id] = campaign }
        let at = e.time.date
        func positions() -> [Int] {
            (d["items"].arrayValue ?? []).compactMap { $0.stringValue.flatMap(campaign.position(of:)) }
                + (d["item"].stringValue.flatMap(campaign.position(of:)).map { [$0] } ?? [])
        }
        func note(_ itemIds: [String]) {
            for item in itemIds { eventSeqs[id, default: [:]][item, default: []].append(e.seq) }
        }
        switch e.type {
        case EventType.reviewItems:
            var items: [ReviewItem] = []
            var assignments: [Assignment] = []
            for entry in d["entries"].arrayValue ?? [] {
                guard let item = ReviewItem(journal: entry["item"]) else { continue }
                items.append(item)
                assignments.append(Assignment(journal: entry["assignment"]))
            }
            campaign.append(items, assignments: assignments)
            note(items.map(\.id))
        case EventType.reviewDecided:
            guard let verdict = d["decision"].stringValue.flatMap(Recommendation.Verdict.init), let by = d["reviewer"].stringValue,
                  let p = d["item"].stringValue.flatMap(campaign.position(of:)) else { return }
            let decision = Decision(stage: d["stage"].intValue ?? campaign.stage, verdict: verdict, by: by,
                                    channel: d["channel"].stringValue ?? "cli", comment: d["comment"].stringValue,
                                    at: Date(rfc3339: d["at"].stringValue) ?? at, bulk: d["bulk"].boolValue ?? false,
                                    followedRecommendation: d["followedRecommendation"].boolValue ?? false, seq: e.seq)
            campaign.record(decision, at: [p])
            note([campaign.items[p].id])
        case EventType.reviewDelegated, EventType.reviewReassigned:
            let kind: Routing.Kind = e.type == EventType.reviewDelegated ? .delegated : d["escalation"].boolValue == true ? .escalated : .reassigned
            let routing = Routing(kind: kind, stage: d["stage"].intValue ?? campaign.stage, from: d["from"].stringValue.flatMap(Reviewer.init),
                                  to: d["to"].stringValue.flatMap(Reviewer.init), reason: d["reason"].stringValue ?? "",
                                  by: d["by"].stringValue ?? e.actor, at: at)
            let ps = positions()
            campaign.route(routing, at: ps)
            note(ps.map { campaign.items[$0].id })
        case EventType.reviewReminded:
            campaign.reminders.append(Reminder(stage: d["stage"].intValue ?? campaign.stage, reviewer: d["reviewer"].stringValue ?? "",
                                               slot: d["slot"].stringValue ?? "", openItems: d["openItems"].intValue ?? 0, at: at))
        case EventType.reviewEscalated:
            campaign.escalations.append(Escalation(stage: d["stage"].intValue ?? campaign.stage, from: d["from"].stringValue ?? "",
                                                   to: d["to"].stringValue, items: d["items"].arrayValue?.count ?? 0, at: at))
        case EventType.reviewSignedOff:
            if let by = d["reviewer"].stringValue { campaign.signOff(by) }
        case EventType.reviewStageClosed:
            var close = StageClose(stage: d["stage"].intValue ?? campaign.stage, at: at)
            close.kept = (d["kept"].arrayValue ?? []).compactMap(\.stringValue)
            close.revoking = (d["revoking"].arrayValue ?? []).compactMap(\.stringValue)
            close.expired = (d["expired"].arrayValue ?? []).compactMap(\.stringValue)
            close.defaulted = (d["defaulted"].arrayValue ?? []).compactMap { v in
                guard let item = v["item"].stringValue, let verdict = v["decision"].stringValue.flatMap(Recommendation.Verdict.init) else { return nil }
                return (item, verdict)
            }
            var next: [String: Assignment] = [:]
            for (item, a) in d["next"].objectValue ?? [:] { next[item] = Assignment(journal: a) }
            campaign.close(close, next: next)
            note(close.defaulted.map(\.0))
        case EventType.reviewOutcome:
            guard let item = d["item"].stringValue, let status = d["status"].stringValue else { return }
            if status == "revoked-verified" || status == "revoke-failed" {
                campaign.remediated(item, Remediation(actionKey: d["actionKey"].stringValue ?? "", verified: status == "revoked-verified",
                                                      error: d["error"].stringValue, at: at))
            }
            note([item])
        case EventType.reviewClosed:
            campaign.closedAt = at
        default:
            break
        }
    }
}
