import Foundation
import StewardCore
import StewardJournal
import StewardProtocol

/// The auditor's evidence for one campaign, as one JSON value (`steward-review-report/1`,
/// described by schemas/review-report.schema.json): the definition and population, access at
/// launch item by item, every reviewer action, access after remediation, quality figures, the
/// signed checkpoint it was built from, and an inclusion proof for each decision event.
///
/// It is a query over the journal and nothing else; StewardReports renders it as HTML, CSV and
/// PDF.
public struct ReviewReportBuilder: Sendable {
    public let workspace: Workspace
    public var now: Date

    public init(workspace: Workspace, now: Date = Date()) {
        self.workspace = workspace
        self.now = now
    }

    public static let format = "steward-review-report/1"

    /// Signs a fresh checkpoint and builds the report against it.
    public func build(_ campaignId: String) throws -> JSONValue {
        guard workspace.config.checkpointKey != nil else {
            throw ReviewEngine.Refusal("a report proves its decisions against a signed checkpoint: set checkpointKey in \(workspace.config.file.lastPathComponent)")
        }
        // One pass over the campaign's events: fold it, and list its reviewer actions.
        var book = ReviewBook()
        var events: [StoredEvent] = []
        var launchSeq: Int?
        try workspace.journal.forEachEvent(matching: EventFilter(type: "review.*")) { e in
            guard e.data["campaign"].stringValue == campaignId else { return true }
            if e.type == EventType.reviewLaunched { launchSeq = e.seq }
            book.apply(e)
            if e.type != EventType.reviewItems { events.append(e) }
            return true
        }
        guard let campaign = book.campaigns[campaignId] else {
            throw ReviewEngine.Refusal("no campaign \"\(campaignId)\"")
        }
        let actions = events.compactMap { Self.action($0, campaign: campaign) }
        let checkpoint = try workspace.journal.checkpoint()
        let decisionSeqs = campaign.progress.flatMap { $0.decisions.compactMap(\.seq) }.sorted()
        let proofs = try decisionSeqs.map { try AuditProof.make(journal: workspace.journal, seq: $0, checkpoint: checkpoint).json }
        let items = campaign.items.indices.map { itemJSON(campaign, $0) }
        let quality = ReviewQuality.perReviewer(campaign)
        return [
            "format": .string(Self.format),
            "generatedAt": .string(now.rfc3339),
            "generator": .string("steward \(stewardVersion)"),
            "campaign": [
                "id": .string(campaign.id), "definition": campaign.definition.json, "launchedAt": .string(campaign.launchedAt.rfc3339),
                "deadlines": .array(campaign.deadlines.map { .string($0.rfc3339) }),
                "closedAt": campaign.closedAt.map { .string($0.rfc3339) } ?? .null,
                "status": .string(campaign.isClosed ? "closed" : "open"), "stage": .int(campaign.stage + 1),
                "launchSeq": launchSeq.map(JSONValue.int) ?? .null,
            ],
            "population": book.populations[campaignId] ?? .null,
            "items": .array(items),
            "reviewerActions": .array(actions),
            "quality": ["campaign": ReviewQuality.campaign(campaign).json, "reviewers": .array(quality.map(\.json))],
            "summary": summary(campaign, items: items, actions: actions),
            "journal": ["checkpoint": .string(checkpoint.serialized), "treeSize": .int(checkpoint.size),
                        "root": .string(Data(checkpoint.root.bytes).base64EncodedString())],
            "proofs": .array(proofs),
        ]
    }

    private func itemJSON(_ campaign: Campaign, _ p: Int) -> JSONValue {
        let item = campaign.items[p], progress = campaign.progress[p]
        var o = item.json.objectValue ?? [:]
        o["access"] = .string(item.accessName)
        o["stages"] = .array(progress.assignments.indices.map { stage in
            let a = progress.assignments[stage]
            var s: [String: JSONValue] = ["stage": .int(stage + 1), "reviewer": a.reviewer.map { .string($0.description) } ?? .null,
                                          "reassignment": a.reassignment.map(JSONValue.string) ?? .null,
                                          "selfReviewBlocked": .bool(a.selfReviewBlocked)]
            s["decision"] = progress.decision(at: stage).map { d in
                ["decision": .string(d.verdict.rawValue), "by": .string(d.by), "channel": .string(d.channel),
                 "comment": d.comment.map(JSONValue.string) ?? .null, "at": .string(d.at.rfc3339), "bulk": .bool(d.bulk),
                 "followedRecommendation": .bool(d.followedRecommendation), "seq": d.seq.map(JSONValue.int) ?? .null]
            } ?? .null
            return .object(s)
        })
        o["status"] = .string(Self.status(progress.status))
        o["late"] = .bool(isLate(campaign, p))
        o["remediation"] = progress.remediation.map { r in
            ["actionKey": .string(r.actionKey), "verified": .bool(r.verified), "error": r.error.map(JSONValue.string) ?? .null,
             "at": .string(r.at.rfc3339), "seq": .null]
        } ?? .null
        return .object(o)
    }

    /// Decided after its stage's deadline, or still undecided past it.
    private func isLate(_ campaign: Campaign, _ p: Int) -> Bool {
        let progress = campaign.progress[p]
        for stage in progress.assignments.indices where campaign.deadlines.indices.contains(stage) {
            let deadline = campaign.deadlines[stage]
            if let d = progress.decision(at: stage) {
                if d.by != "default", d.at > deadline { return true }
            } else if stage == campaign.stage, !campaign.isClosed, now > deadline {
                return true
            }
        }
        return false
    }

    static func status(_ s: ItemStatus) -> String {
        switch s {
        case .open: return "open"
        case .kept: return "kept"
        case .revoking: return "revoke-pending"
        case .revokedVerified: return "revoked-verified"
        case .revokeFailed: return "revoke-failed"
        case .expired: return "expired"
        }
    }

    private func summary(_ campaign: Campaign, items: [JSONValue], actions: [JSONValue]) -> JSONValue {
        func count(_ status: String) -> JSONValue { .int(items.filter { $0["status"].stringValue == status }.count) }
        func actionsOf(_ type: String) -> JSONValue { .int(actions.filter { $0["type"].stringValue == type }.count) }
        return [
            "items": .int(items.count), "open": count("open"),
            "decided": .int(campaign.progress.filter { !$0.decisions.isEmpty }.count),
            "kept": count("kept"), "revokedVerified": count("revoked-verified"), "revokeFailed": count("revoke-failed"),
            "revokePending": count("revoke-pending"), "expired": count("expired"),
            "late": .int(items.filter { $0["late"] == true }.count),
            "selfReviewsBlocked": .int(campaign.progress.filter { $0.assignments.contains(where: \.selfReviewBlocked) }.count),
            "delegations": actionsOf("delegation"), "reassignments": actionsOf("reassignment"), "remindersSent": actionsOf("reminder"),
            "escalations": actionsOf("escalation"), "signOffs": actionsOf("sign-off"),
        ]
    }

    /// One reviewer action, as part (c) lists them.
    static func action(_ e: StoredEvent, campaign: Campaign) -> JSONValue? {
        let d = e.data
        let type: String, detail: String, by: String
        switch e.type {
        case EventType.reviewDecided:
            type = "decision"
            by = d["reviewer"].stringValue ?? e.actor
            detail = "\(d["decision"].stringValue ?? "?") \(d["access"].stringValue ?? "")" + (d["comment"].stringValue.map { ": \($0)" } ?? "")
                + (d["bulk"] == true ? " (bulk)" : "")
        case EventType.reviewDelegated:
            type = "delegation"
            by = d["by"].stringValue ?? e.actor
            detail = "to \(d["to"].stringValue ?? "?"): \(d["reason"].stringValue ?? "")"
        case EventType.reviewReassigned:
            type = "reassignment"
            by = d["by"].stringValue ?? e.actor
            detail = "\(d["from"].stringValue ?? "nobody") → \(d["to"].stringValue ?? "nobody"): \(d["reason"].stringValue ?? "")"
        case EventType.reviewEscalated:
            type = "escalation"
            by = e.actor
            detail = "\((d["items"].arrayValue ?? []).count) overdue items of \(d["from"].stringValue ?? "?") to \(d["to"].stringValue ?? "nobody (no manager in HR)")"
        case EventType.reviewSignedOff:
            type = "sign-off"
            by = d["reviewer"].stringValue ?? e.actor
            detail = "signed off stage \((d["stage"].intValue ?? 0) + 1) after \(d["decided"].intValue ?? 0) decisions"
        case EventType.reviewReminded:
            type = "reminder"
            by = e.actor
            detail = "to \(d["reviewer"].stringValue ?? "?"): \(d["openItems"].intValue ?? 0) open items (\(d["slot"].stringValue ?? ""))"
        default:
            return nil
        }
        return ["type": .string(type), "at": .string(d["at"].stringValue ?? e.time.rfc3339), "by": .string(by),
                "item": d["item"].stringValue.map(JSONValue.string) ?? .null, "stage": .int((d["stage"].intValue ?? 0) + 1),
                "detail": .string(detail), "seq": .int(e.seq)]
    }
}

extension ReviewQuality {
    public var json: JSONValue {
        ["reviewer": .string(reviewer), "decided": .int(decided), "medianSeconds": .double(medianSeconds), "bulkShare": .double(bulkShare),
         "followedRecommendationShare": .double(followedRecommendationShare), "kept": .int(kept), "revoked": .int(revoked),
         "rubberStamp": .bool(rubberStamp)]
    }
}
