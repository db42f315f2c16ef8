import Foundation
import StewardCore
import StewardJournal
import StewardProtocol

/// Runs access review campaigns: launch from the synced state, decisions, delegation,
/// sign-off, reminders and escalation, closing stages, and remediation through the executor.
///
/// Every request is checked against the campaign's rules (StewardCore/Reviews) before anything
/// is journaled; a refused request records nothing. Time comes from `now`, so tests (and
/// `STEWARD_NOW`) move it instead of waiting. Surfaces (the CLI now; links, Slack, e-mail
/// later) only call this.
public struct ReviewEngine: Sendable {
    public let workspace: Workspace
    public var now: Date

    public init(workspace: Workspace, now: Date = Date()) {
        self.workspace = workspace
        self.now = now
    }

    /// Why a review request was refused; nothing was recorded.
    public struct Refusal: Error, CustomStringConvertible {
        public enum Kind: Sendable {
            /// The request is wrong (not the reviewer, a locked item, a missing comment).
            case invalid
            /// The state is not fit to review (an app not synced recently enough).
            case stale
            /// Remediation would trip a safety rail.
            case blocked
        }

        public var kind: Kind
        public var description: String

        init(_ kind: Kind, _ description: String) {
            self.kind = kind
            self.description = description
        }

        init(_ description: String) { self.init(.invalid, description) }
    }

    private var messenger: ReviewMessenger { ReviewMessenger(workspace: workspace, now: now, groups: groups) }

    public func book() throws -> ReviewBook { try ReviewBook.load(from: workspace.journal) }

    public func campaign(_ id: String) throws -> Campaign {
        let book = try book()
        guard let c = book.campaigns[id] else {
            let known = book.order.suffix(10)
            throw Refusal("no campaign \"\(id)\"" + (known.isEmpty ? " (none launched yet)" : " (recent: \(known.joined(separator: ", ")))"))
        }
        return c
    }

    // MARK: Launch

    /// Launches a campaign of `definition`: snapshots the population, routes stage 1, and
    /// journals it all. `due` overrides the definition's length.
    public func launch(_ definition: ReviewDefinition, due: Date? = nil) async throws -> Campaign {
        if let trigger = definition.trigger {
            throw Refusal("\(definition.id) opens by itself (trigger \(trigger.name)) after a sync; it is not started by hand")
        }
        let state = try workspace.state()
        guard state.lastHRSync != nil else { throw Refusal(.stale, "nothing synced yet: run `steward sync` first") }
        let config = workspace.config.governance
        let apps = config.apps.filter { definition.scope.apps?.contains($0.id) ?? true }
        for app in apps {
            guard let last = state.apps[app.id]?.lastSync, let synced = Date(rfc3339: last) else {
                throw Refusal(.stale, "\(app.id) has never been synced successfully: run `steward sync` before launching a review")
            }
            let age = now.timeIntervalSince(synced) / 3600
            if age > definition.maxSyncAgeHours {
                throw Refusal(.stale, "\(app.id) was last synced \(last) (\(Int(age)) h ago), longer ago than \(definition.id)'s maxSyncAgeHours (\(definition.maxSyncAgeHours.compact)); run `steward sync` first")
            }
        }
        let planned = try await PlanEngine(workspace: workspace).plan(now: now, record: false, state: state)
        let inventories = apps.compactMap { state.inventory(app: $0.id) }
        let items = ReviewPopulation.items(for: definition, config: config, planned: planned, inventories: inventories, today: CalendarDay(now))
        let id = "\(definition.id)-\(state.launches[definition.id, default: 0] + 1)"
        return try await record(launchOf: definition, id: id, items: items, due: due, planned: planned, state: state, apps: apps.map(\.id))
    }

    /// After a sync: a one-item campaign for each change a triggered review covers (a new
    /// privileged grant, a new orphan, a mover's leftover access, an exception about to end).
    /// Returns the campaigns opened.
    public func openMicroCertifications(changes: [String: MicroCertification.Changes]) async throws -> [String] {
        let config = workspace.config.governance
        let triggered = config.reviews.filter { $0.trigger != nil }
        guard !triggered.isEmpty else { return [] }
        let state = try workspace.state()
        let planned = try await PlanEngine(workspace: workspace).plan(now: now, record: false, state: state)
        let book = try book()
        let movedOn = state.movedOn.compactMapValues(CalendarDay.init(iso:))
        var opened: [String] = []
        var launches: [String: Int] = [:]
        for definition in triggered {
            guard let trigger = definition.trigger else { continue }
            let apps = config.apps.filter { definition.scope.apps?.contains($0.id) ?? true }
            var covered: Set<String> = []
            for campaign in book.order.compactMap({ book.campaigns[$0] }) where campaign.definition.id == definition.id {
                for item in campaign.items {
                    let stillCovering: Bool
                    switch trigger {
                    case .moverLeftovers:
                        stillCovering = item.personId.flatMap { movedOn[$0] }.map { CalendarDay(campaign.launchedAt) >= $0 } ?? true
                    case .exceptionExpiring(let days):
                        stillCovering = now.timeIntervalSince(campaign.launchedAt) < Double(days + 1) * 86_400
                    case .privilegedGrant, .orphan:
                        stillCovering = !campaign.isClosed
                    }
                    if stillCovering { covered.insert(MicroCertification.key(item)) }
                }
            }
            let items = MicroCertification.items(for: definition, config: config, planned: planned,
                                                 inventories: apps.compactMap { state.inventory(app: $0.id) }, today: CalendarDay(now),
                                                 changes: changes, movedOn: movedOn, covered: covered)
            for item in items {
                let n = (launches[definition.id] ?? state.launches[definition.id, default: 0]) + 1
                launches[definition.id] = n
                let id = "\(definition.id)-\(n)"
                _ = try await record(launchOf: definition, id: id, items: [item], due: nil, planned: planned, state: state, apps: [item.app],
                                     trigger: trigger)
                opened.append(id)
            }
        }
        return opened
    }

    /// Journals a launch (the launch event, then the items in chunks) and returns the campaign
    /// as those events fold.
    private func record(launchOf definition: ReviewDefinition, id: String, items: [ReviewItem], due: Date?, planned: PlanResult,
                        state: GovernanceState, apps: [String], trigger: ReviewTrigger? = nil) async throws -> Campaign {
        let config = workspace.config.governance
        let people = ReviewerDirectory(directory: planned.directory)
        let assignments = items.map { item in
            ReviewerAssignment.assign(item, stage: definition.stages[0], definition: definition, app: config.app(item.app),
                                      people: people, groups: config.reviewerGroups)
        }
        let deadlines = Self.deadlines(definition, from: now, due: due)
        let itemJSON = items.map(\.json)
        let population = populationRecord(items: items, json: itemJSON, assignments: assignments, apps: apps, state: state, scope: definition.scope)
        var drafts = [workspace.event(EventType.reviewLaunched, subjects: ["campaign": id], data: [
            "campaign": .string(id), "definition": definition.json, "launchedAt": .string(now.rfc3339),
            "deadlines": .array(deadlines.map { .string($0.rfc3339) }), "population": population,
            "trigger": trigger.map { .string($0.name) } ?? .null,
        ])]
        for start in stride(from: 0, to: items.count, by: Self.itemsPerEvent) {
            let range = start..<min(start + Self.itemsPerEvent, items.count)
            drafts.append(workspace.event(EventType.reviewItems, subjects: ["campaign": id], data: [
                "campaign": .string(id),
                "entries": .array(range.map { ["item": itemJSON[$0], "assignment": assignments[$0].json] }),
            ]))
        }
        try await workspace.record(drafts)
        let campaign = Campaign(id: id, definition: definition, launchedAt: now, deadlines: deadlines, items: items, firstAssignments: assignments)
        try await messenger.launched(campaign)
        return campaign
    }

    /// Items per `review.items` event: events stay far below the journal's 1 MiB line limit.
    static let itemsPerEvent = 500

    /// Each stage's deadline: stages share the campaign's days (or the time to `due`).
    static func deadlines(_ definition: ReviewDefinition, from start: Date, due: Date?) -> [Date] {
        let days = definition.stageDays
        let total = Double(days.reduce(0, +))
        let length = due.map { $0.timeIntervalSince(start) } ?? total * 86_400
        var at = start
        return days.map { d in
            at = at.addingTimeInterval(length * Double(d) / max(total, 1))
            return at
        }
    }

    /// The population as an auditor checks it: per app the count, the sync it came from and a
    /// hash of its items; the whole population's count and hash; the filters; routing counts.
    ///
    /// A hash is SHA-256 over the items' JSON (keys sorted, as the journal stores them), one line
    /// each, in item order: an auditor recomputes it from the `review.items` events.
    func populationRecord(items: [ReviewItem], json: [JSONValue], assignments: [Assignment], apps: [String], state: GovernanceState,
                          scope: ReviewScope) -> JSONValue {
        var perApp: [JSONValue] = []
        var all = SHA256()
        var hashers = Dictionary(uniqueKeysWithValues: apps.map { ($0, SHA256()) })
        var counts: [String: Int] = [:]
        var line: [UInt8] = []
        for (item, value) in zip(items, json) {
            line.removeAll(keepingCapacity: true)
            JSONWriter.write(value, into: &line, sortedKeys: true)
            line.append(0x0A)
            hashers[item.app]?.update(line)
            all.update(line)
            counts[item.app, default: 0] += 1
        }
        for app in apps {
            let hasher = hashers[app] ?? SHA256()
            let count = counts[app] ?? 0
            perApp.append(["app": .string(app), "items": .int(count), "lastSync": state.apps[app]?.lastSync.map(JSONValue.string) ?? .null,
                           "accounts": .int(state.apps[app]?.accounts.count ?? 0), "grants": .int(state.apps[app]?.grants.count ?? 0),
                           "sha256": .string(hasher.finalize().hex)])
        }
        return [
            "items": .int(items.count), "sha256": .string(all.finalize().hex), "apps": .array(perApp), "filters": scope.json,
            "hrSync": state.lastHRSync.map(JSONValue.string) ?? .null,
            "selfReviewsBlocked": .int(assignments.filter(\.selfReviewBlocked).count),
            "reassigned": .int(assignments.filter { $0.reassignment != nil && $0.reviewer != nil }.count),
            "unassigned": .int(assignments.filter { $0.reviewer == nil }.count),
        ]
    }

    // MARK: Decisions

    /// Records `verdict` on each item, as `email`, through `channel`. All or nothing.
    @discardableResult
    public func decide(_ campaignId: String, items itemIds: [String], verdict: Recommendation.Verdict, comment: String?,
                       as email: String, channel: String = "cli", link: String? = nil) async throws -> Int {
        let campaign = try campaign(campaignId)
        let positions = try resolve(itemIds, in: campaign)
        if let refusal = campaign.refusalToDecide(positions, verdict: verdict, comment: comment, as: email, groups: groups) {
            throw Refusal(refusal)
        }
        try await record(positions.map { ($0, verdict, comment) }, in: campaign, as: email, channel: channel, link: link, bulk: positions.count > 1)
        if verdict == .revoke, campaign.definition.remediate == .immediately {
            try await remediate(campaignId)
        }
        return positions.count
    }

    /// Decides each of `email`'s open items as recommended. Items whose keep needs a comment
    /// (privileged or unjustified access) are left for a decision of their own; their ids are
    /// returned so the reviewer can see them.
    public func acceptRecommendations(_ campaignId: String, as email: String, channel: String = "cli") async throws -> (decided: Int, left: [String]) {
        let campaign = try campaign(campaignId)
        let mine = campaign.openItems(for: email, groups: groups).filter { campaign.progress[$0].decision(at: campaign.stage) == nil }
        guard !mine.isEmpty else { throw Refusal("\(email) has no undecided items in \(campaignId)") }
        var decisions: [(Int, Recommendation.Verdict, String?)] = []
        var left: [String] = []
        for p in mine {
            let verdict = campaign.items[p].recommendation.verdict
            if campaign.refusalToDecide([p], verdict: verdict, comment: nil, as: email, groups: groups) != nil {
                left.append(campaign.items[p].id)
            } else {
                decisions.append((p, verdict, nil))
            }
        }
        try await record(decisions, in: campaign, as: email, channel: channel, bulk: true)
        if decisions.contains(where: { $0.1 == .revoke }), campaign.definition.remediate == .immediately { try await remediate(campaignId) }
        return (decisions.count, left)
    }

    private func record(_ decisions: [(Int, Recommendation.Verdict, String?)], in campaign: Campaign, as email: String,
                        channel: String, link: String? = nil, bulk: Bool) async throws {
        let at = now.rfc3339
        let drafts = decisions.map { p, verdict, comment in
            let item = campaign.items[p]
            return workspace.event(EventType.reviewDecided, subjects: subjects(item, campaign.id), data: [
                "campaign": .string(campaign.id), "item": .string(item.id), "stage": .int(campaign.stage),
                "decision": .string(verdict.rawValue), "reviewer": .string(email.lowercased()), "channel": .string(channel),
                "link": link.map(JSONValue.string) ?? .null,
                "comment": comment.map(JSONValue.string) ?? .null, "bulk": .bool(bulk),
                "followedRecommendation": .bool(verdict == item.recommendation.verdict), "at": .string(at),
                "access": .string(item.accessName),
            ])
        }
        try await workspace.record(drafts)
    }

    public func delegate(_ campaignId: String, items itemIds: [String], to target: Reviewer, reason: String, as email: String) async throws {
        guard !reason.trimmingCharacters(in: .whitespaces).isEmpty else { throw Refusal("a delegation needs a reason") }
        let campaign = try campaign(campaignId)
        let positions = try resolve(itemIds, in: campaign)
        if let refusal = campaign.refusalToDelegate(positions, to: target, as: email, groups: groups) { throw Refusal(refusal) }
        try await workspace.record(positions.map { p in
            workspace.event(EventType.reviewDelegated, subjects: subjects(campaign.items[p], campaignId), data: [
                "campaign": .string(campaignId), "item": .string(campaign.items[p].id), "stage": .int(campaign.stage),
                "from": .string(campaign.progress[p].currentReviewer(campaign.stage)?.description ?? email), "to": .string(target.description),
                "reason": .string(reason), "by": .string(email.lowercased()),
            ])
        })
        try await messenger.delegated(positions, in: campaign, to: target, by: email.lowercased(), reason: reason)
    }

    public func signOff(_ campaignId: String, as email: String) async throws {
        let campaign = try campaign(campaignId)
        if let refusal = campaign.refusalToSignOff(as: email, groups: groups) { throw Refusal(refusal) }
        let decided = campaign.progress.filter { $0.decision(at: campaign.stage)?.by == email.lowercased() }.count
        try await workspace.record([workspace.event(EventType.reviewSignedOff, subjects: ["campaign": campaignId], data: [
            "campaign": .string(campaignId), "stage": .int(campaign.stage), "reviewer": .string(email.lowercased()), "decided": .int(decided),
        ])])
    }

    // MARK: Time

    /// Does what the campaign owes now: reminders by its ladder, escalations of overdue items to
    /// the reviewer's manager, and at the deadline the default decision and the stage's close.
    public func remind(_ campaignId: String) async throws -> DueWork {
        let campaign = try campaign(campaignId)
        let state = try workspace.state()
        let people = ReviewerDirectory(directory: PersonDirectory(current: Array(state.people.values), former: Array(state.formerPeople.values),
                                                                  today: CalendarDay(now)))
        let due = campaign.dueWork(at: now, people: people, groups: groups)
        var drafts: [EventDraft] = []
        for r in due.reminders {
            drafts.append(workspace.event(EventType.reviewReminded, subjects: ["campaign": campaignId], data: [
                "campaign": .string(campaignId), "stage": .int(r.stage), "reviewer": .string(r.reviewer), "slot": .string(r.slot),
                "openItems": .int(r.openItems), "deadline": .string(campaign.deadlines[r.stage].rfc3339),
                // Without a notifier the reminder is recorded and printed for the operator to pass on.
                "delivery": .string(messenger.channel(for: campaign).map { "notify:\($0.id)" } ?? "listed"),
            ]))
        }
        for e in due.escalations {
            let itemIds = e.items.map { campaign.items[$0].id }
            drafts.append(workspace.event(EventType.reviewEscalated, subjects: ["campaign": campaignId], data: [
                "campaign": .string(campaignId), "stage": .int(campaign.stage), "from": .string(e.from),
                "to": e.to.map(JSONValue.string) ?? .null, "items": .array(itemIds.map(JSONValue.string)),
            ]))
            guard let manager = e.to else { continue }
            for p in e.items where campaign.items[p].context.email?.lowercased() != manager {
                drafts.append(workspace.event(EventType.reviewReassigned, subjects: subjects(campaign.items[p], campaignId), data: [
                    "campaign": .string(campaignId), "item": .string(campaign.items[p].id), "stage": .int(campaign.stage),
                    "from": .string(e.from), "to": .string(manager), "escalation": true,
                    "reason": .string("escalated: overdue since \(campaign.deadlines[campaign.stage].rfc3339), to \(e.from)'s manager"),
                ]))
            }
        }
        try await workspace.record(drafts)
        try await messenger.dueWork(due, in: campaign)
        if due.closeStage { try await close(campaignId) }
        return due
    }

    /// After a sync: open items whose reviewer left, or whose subject's manager changed, go to
    /// the new manager or the fallback, each journaled with the reason.
    public func rerouteAfterHRChanges() async throws -> Int {
        guard try !workspace.state().openCampaigns.isEmpty else { return 0 }
        let book = try book()
        let open = book.order.compactMap { book.campaigns[$0] }.filter { !$0.isClosed }
        guard !open.isEmpty else { return 0 }
        let state = try workspace.state()
        let people = ReviewerDirectory(directory: PersonDirectory(current: Array(state.people.values), former: Array(state.formerPeople.values),
                                                                  today: CalendarDay(now)))
        var drafts: [EventDraft] = []
        for campaign in open {
            for move in campaign.rerouting(people: people, groups: groups, apps: workspace.config.governance.apps) {
                let item = campaign.items[move.item]
                drafts.append(workspace.event(EventType.reviewReassigned, subjects: subjects(item, campaign.id), data: [
                    "campaign": .string(campaign.id), "item": .string(item.id), "stage": .int(campaign.stage),
                    "from": campaign.progress[move.item].currentReviewer(campaign.stage).map { .string($0.description) } ?? .null,
                    "to": move.assignment.reviewer.map { .string($0.description) } ?? .null,
                    "reason": .string(move.reason + (move.assignment.reassignment.map { "; \($0)" } ?? "")), "by": "steward sync",
                ]))
            }
        }
        try await workspace.record(drafts)
        return drafts.count
    }

    // MARK: Closing and remediation

    /// Closes the current stage (or `stage`, which must be the current one): defaults settle
    /// undecided items where configured, the rest expire, kept items move on to the next stage,
    /// and revoke decisions become plan actions applied and verified through the connectors.
    @discardableResult
    public func close(_ campaignId: String, stage: Int? = nil, allowMassDeprovision: Bool = false) async throws -> Campaign {
        var campaign = try campaign(campaignId)
        if campaign.isClosed { throw Refusal("campaign \(campaignId) is closed") }
        if let stage, stage != campaign.stage {
            throw Refusal("stage \(stage + 1) is not the open stage of \(campaignId) (stage \(campaign.stage + 1) is)")
        }
        if campaign.stage < campaign.deadlines.count {
            let close = campaign.closing(at: now)
            let state = try workspace.state()
            let planned = try await PlanEngine(workspace: workspace).plan(now: now, record: false, state: state)
            let people = ReviewerDirectory(directory: planned.directory)
            var next: [String: JSONValue] = [:]
            let nextStage = close.stage + 1
            if nextStage < campaign.definition.stages.count {
                for itemId in close.kept + close.defaulted.filter({ $0.1 == .keep }).map(\.0) {
                    guard let item = campaign.item(itemId) else { continue }
                    next[itemId] = ReviewerAssignment.assign(item, stage: campaign.definition.stages[nextStage], definition: campaign.definition,
                                                             app: workspace.config.governance.app(item.app), people: people, groups: groups).json
                }
            }
            var drafts = [workspace.event(EventType.reviewStageClosed, subjects: ["campaign": campaignId], data: [
                "campaign": .string(campaignId), "stage": .int(close.stage),
                "kept": .array(close.kept.map(JSONValue.string)), "revoking": .array(close.revoking.map(JSONValue.string)),
                "expired": .array(close.expired.map(JSONValue.string)),
                "defaulted": .array(close.defaulted.map { ["item": .string($0.0), "decision": .string($0.1.rawValue)] }),
                "defaultDecision": .string(campaign.definition.defaultDecision.rawValue), "next": .object(next),
            ])]
            var after = campaign
            after.close(close, next: next.mapValues { Assignment(journal: $0) })
            for p in after.progress.indices {
                let status = after.progress[p].status
                guard status == .kept || status == .expired, campaign.progress[p].status != status else { continue }
                drafts.append(outcomeEvent(after, p, status: status == .kept ? "kept" : "expired"))
            }
            try await workspace.record(drafts)
            campaign = after
        }
        try await remediate(campaignId, allowMassDeprovision: allowMassDeprovision)
        campaign = try self.campaign(campaignId)
        if campaign.stage >= campaign.deadlines.count, campaign.pendingRevokes.isEmpty, !campaign.isClosed {
            let counts = Dictionary(grouping: campaign.progress, by: { $0.status.description }).mapValues { JSONValue.int($0.count) }
            try await workspace.record([workspace.event(EventType.reviewClosed, subjects: ["campaign": campaignId], data: [
                "campaign": .string(campaignId), "outcomes": .object(counts),
            ])])
            campaign = try self.campaign(campaignId)
        }
        return campaign
    }

    /// Turns revoke decisions waiting for remediation into plan actions (cause `review`),
    /// applies them through the executor, and records each item's outcome from what a fresh
    /// read of the app shows: `revoked-verified`, or `revoke-failed` with why.
    func remediate(_ campaignId: String, allowMassDeprovision: Bool = false) async throws {
        let campaign = try campaign(campaignId)
        let pending = campaign.pendingRevokes
        guard !pending.isEmpty else { return }
        let state = try workspace.state()
        var actions: [PlanAction] = []
        var actionOf: [Int: Int] = [:]
        var drafts: [EventDraft] = []
        for p in pending {
            let item = campaign.items[p]
            if workspace.config.governance.app(item.app)?.mode == .observe {
                drafts.append(outcomeEvent(campaign, p, status: "revoke-failed", error: "\(item.app) is in observe mode: Steward never changes it"))
                continue
            }
            actionOf[p] = actions.count
            actions.append(PlanAction(app: item.app, personId: item.personId, accountId: item.accountId, accountName: item.accountName,
                                      operation: item.revokeOperation, cause: .review, justifications: [.review(campaignId)],
                                      changeSet: "review/\(campaignId)/\(item.app)/\(item.accountId)", observeOnly: false))
        }
        if !actions.isEmpty {
            let counts = workspace.config.governance.apps.map { ($0, state.apps[$0.id]?.accounts.count ?? 0) }
            let plan = Plan(journalHead: workspace.journalHead, computedAt: now.rfc3339, actions: actions,
                            rails: SafetyRails.violations(actions: actions, apps: counts, lifecycle: nil, source: workspace.config.governance.source),
                            allowMassDeprovision: allowMassDeprovision)
            var executor = Executor(workspace: workspace)
            executor.now = now
            let summary: Executor.Summary
            do {
                summary = try await executor.apply(plan)
            } catch let refusal as Executor.Refusal {
                try await workspace.record(drafts)
                throw Refusal(.blocked, "remediating \(campaignId): \(refusal); \(plan.rails.map(\.message).joined(separator: "; ")) (use --allow-mass-deprovision after checking the decisions)")
            }
            let byKey = Dictionary(summary.results.map { ($0.action.key, $0) }, uniquingKeysWith: { a, _ in a })
            for (p, a) in actionOf {
                let action = actions[a]
                guard let step = byKey[action.key] else {
                    drafts.append(outcomeEvent(campaign, p, status: "revoke-failed", error: "the action did not run"))
                    continue
                }
                switch (step.outcome, step.verdict) {
                case (_, .visible?):
                    drafts.append(outcomeEvent(campaign, p, status: "revoked-verified", actionKey: step.key))
                case (.failed(let message), _):
                    drafts.append(outcomeEvent(campaign, p, status: "revoke-failed", actionKey: step.key, error: message))
                case (_, .notVisible(let seen)?):
                    drafts.append(outcomeEvent(campaign, p, status: "revoke-failed", actionKey: step.key, error: "the app still shows it: \(seen)"))
                default:
                    drafts.append(outcomeEvent(campaign, p, status: "revoke-failed", actionKey: step.key,
                                               error: "\(step.outcome.name), and not read back (--no-verify)"))
                }
            }
        }
        try await workspace.record(drafts)
    }

    private func outcomeEvent(_ campaign: Campaign, _ p: Int, status: String, actionKey: String? = nil, error: String? = nil) -> EventDraft {
        let item = campaign.items[p]
        var data: [String: JSONValue] = ["campaign": .string(campaign.id), "item": .string(item.id), "status": .string(status),
                                         "app": .string(item.app), "account": .string(item.accountId), "access": .string(item.accessName)]
        if let person = item.personId { data["person"] = .string(person) }
        if case .entitlement(let e) = item.access { data["entitlement"] = ["type": .string(e.type), "id": .string(e.id), "name": .string(e.name)] }
        if let actionKey { data["actionKey"] = .string(actionKey) }
        if let error { data["error"] = .string(error) }
        return workspace.event(EventType.reviewOutcome, subjects: subjects(item, campaign.id), data: .object(data))
    }

    // MARK: Helpers

    private var groups: [String: [String]] { workspace.config.governance.reviewerGroups }

    private func resolve(_ itemIds: [String], in campaign: Campaign) throws -> [Int] {
        guard !itemIds.isEmpty else { throw Refusal("name at least one item") }
        var positions: [Int] = []
        for id in itemIds {
            guard let p = campaign.position(of: id) else { throw Refusal("campaign \(campaign.id) has no item \(id)") }
            if !positions.contains(p) { positions.append(p) }
        }
        return positions
    }

    private func subjects(_ item: ReviewItem, _ campaign: String) -> [String: String] {
        var s = ["campaign": campaign, "app": item.app, "account": item.accountId]
        if let person = item.personId { s["person"] = person }
        return s
    }
}

extension Double {
    var compact: String { rounded() == self ? String(Int(self)) : String(self) }
}
