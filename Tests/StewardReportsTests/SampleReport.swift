import Foundation
import StewardJournal
import StewardJSON

/// A realistic `steward-review-report/1` value, built the way the host builds one.
///
/// A two-stage campaign (managers, then app owners) over two apps, open at stage 2, with items
/// in every status: kept, revoked and verified, revoke failed (an app in observe mode), revoke
/// pending, expired (undecided at stage 1's deadline), open. It has several reviewers, a
/// delegation, a reassignment after a reviewer left, a self-review blocked at launch, an
/// escalation, reminders, sign-offs, a decision later replaced, a late decision, bulk
/// decisions, and an inclusion proof of every decision event. The population hashes are
/// computed as the host computes them.
struct SampleReport {
    /// Puts text into a reviewer's comment and a person's name, for escaping tests.
    var comment = "no longer in sales"
    var personName = "Ann Archer"
    /// Extra plain items after the scripted ones (kept at stage 1, waiting at stage 2).
    var extraItems = 0

    static let treeSize = 5000
    static let root = base64(fill: 7)
    static let checkpoint = """
    steward.local/.steward
    \(treeSize)
    \(root)
    time 2026-11-30T09:59:58.120Z

    \u{2014} steward.local/.steward kdGMv9rJ2UAVEW07xm2CRLqJPgDCWPt6xqTegMdQf4u8UJh5

    """

    var json: JSONValue {
        var builder = Builder(comment: comment, personName: personName)
        builder.scriptedItems()
        for i in 0..<extraItems { builder.plainItem(index: i) }
        return builder.report()
    }

    static func base64(fill: UInt8) -> String { Data(repeating: fill, count: 32).base64EncodedString() }
}

private struct Builder {
    let comment: String
    let personName: String
    var items: [JSONValue] = []
    var actions: [JSONValue] = []
    var proofs: [JSONValue] = []
    var seq = 4800

    static let stage1Deadline = "2026-11-25T09:00:00.000Z"

    init(comment: String, personName: String) {
        self.comment = comment
        self.personName = personName
        ann = Person(id: "E1", name: personName, email: "ann@example.com", department: "Engineering", title: "SRE", manager: "E9")
    }

    // MARK: People and their access

    struct Person {
        var id: String
        var name: String
        var email: String
        var department: String
        var title: String
        var manager: String?
        var standing = "active"
    }

    let ann: Person
    let bo = Person(id: "E2", name: "Bo Berg", email: "bo@example.com", department: "Sales", title: "Account Executive", manager: "E9")
    let cy = Person(id: "E3", name: "Cy Chen", email: "cy@example.com", department: "Finance", title: "Controller", manager: "E8")
    let dana = Person(id: "E5", name: "Dana Diaz", email: "dana@example.com", department: "Sales", title: "Sales Ops", manager: "E2")
    let gil = Person(id: "E6", name: "Gil Gray", email: "gil@example.com", department: "Finance", title: "Analyst", manager: "E3", standing: "left (terminated)")

    mutating func nextSeq() -> Int {
        seq += 1
        return seq
    }

    /// The item as the population records it at launch (the part the population hash covers).
    func launchRecord(id: String, app: String, account: String, accountName: String, person: Person?, kind: String,
                      entitlement: (type: String, id: String, name: String)?, justifications: [String], lastLogin: String?,
                      privileged: Bool, peers: (Int, Int), recommendation: (String, String)) -> [String: JSONValue] {
        var context: [String: JSONValue] = [
            "kind": .string(kind), "standing": .string(person?.standing ?? "no person"),
            "justifications": .array(justifications.map(JSONValue.string)), "privileged": .bool(privileged),
            "peersHolding": .int(peers.0), "peers": .int(peers.1),
        ]
        if let person {
            context["name"] = .string(person.name)
            context["email"] = .string(person.email)
            context["department"] = .string(person.department)
            context["title"] = .string(person.title)
            if let manager = person.manager { context["managerId"] = .string(manager) }
        }
        if let lastLogin { context["lastLoginAt"] = .string(lastLogin) }
        var record: [String: JSONValue] = [
            "id": .string(id), "app": .string(app), "account": .string(account), "accountName": .string(accountName),
            "entitlement": entitlement.map { ["type": .string($0.type), "id": .string($0.id), "name": .string($0.name)] } ?? .null,
            "context": .object(context),
            "recommendation": ["verdict": .string(recommendation.0), "reason": .string(recommendation.1)],
        ]
        if let person { record["person"] = .string(person.id) }
        return record
    }

    /// A decision with its journal event, its reviewer action and its inclusion proof.
    mutating func decide(item: String, stage: Int, _ verdict: String, by: String, at: String, comment: String? = nil,
                         bulk: Bool = false, followed: Bool = true, channel: String = "cli") -> JSONValue {
        let seq = nextSeq()
        let event = #"{"seq":\#(seq),"time":"\#(at)","type":"review.decided","actor":"\#(by)","subjects":{"campaign":"quarterly-admins-1"},"data":{"decision":"\#(verdict)","items":["\#(item)"],"stage":\#(stage)}}"#
        actions.append(["type": "decision", "at": .string(at), "by": .string(by), "item": .string(item), "stage": .int(stage),
                        "detail": .string(verdict + (comment.map { ": " + $0 } ?? "")), "seq": .int(seq)])
        proofs.append([
            "format": "steward-inclusion-proof/1", "seq": .int(seq), "leafIdx": .int(seq - 1), "treeSize": .int(SampleReport.treeSize),
            "leafHash": .string(SampleReport.base64(fill: UInt8(seq % 251))), "root": .string(SampleReport.root),
            "proof": .array((1...12).map { .string(SampleReport.base64(fill: UInt8($0))) }),
            "event": .string(event), "checkpoint": .string(SampleReport.checkpoint),
        ])
        return ["decision": .string(verdict), "by": .string(by), "channel": .string(channel), "comment": comment.map(JSONValue.string) ?? .null,
                "at": .string(at), "bulk": .bool(bulk), "followedRecommendation": .bool(followed), "seq": .int(seq)]
    }

    mutating func action(_ type: String, at: String, by: String, item: String?, stage: Int, _ detail: String) {
        actions.append(["type": .string(type), "at": .string(at), "by": .string(by), "item": item.map(JSONValue.string) ?? .null,
                        "stage": .int(stage), "detail": .string(detail), "seq": .int(nextSeq())])
    }

    func stage(_ n: Int, _ reviewer: String?, reassignment: String? = nil, selfReviewBlocked: Bool = false, _ decision: JSONValue = .null) -> JSONValue {
        ["stage": .int(n), "reviewer": reviewer.map(JSONValue.string) ?? .null, "reassignment": reassignment.map(JSONValue.string) ?? .null,
         "selfReviewBlocked": .bool(selfReviewBlocked), "decision": decision]
    }

    mutating func remediation(_ key: String, verified: Bool, error: String?, at: String) -> JSONValue {
        ["actionKey": .string(key), "verified": .bool(verified), "error": error.map(JSONValue.string) ?? .null, "at": .string(at), "seq": .int(nextSeq())]
    }

    mutating func add(_ record: [String: JSONValue], stages: [JSONValue], status: String, late: Bool = false, remediation: JSONValue = .null) {
        var item = record
        if item["person"] == nil { item["person"] = .null }
        let e = record["entitlement"] ?? .null
        item["access"] = e.isNull ? "account" : .string("\(e["type"].stringValue ?? ""):\(e["name"].stringValue ?? "")")
        item["stages"] = .array(stages)
        item["status"] = .string(status)
        item["late"] = .bool(late)
        item["remediation"] = remediation
        items.append(.object(item))
    }

    // MARK: The campaign's items

    mutating func scriptedItems() {
        let admin = (type: "role", id: "r-admin", name: "Admin")
        let viewer = (type: "role", id: "r-view", name: "Viewer")
        let sales = (type: "group", id: "g-17", name: "sales")
        let support = (type: "group", id: "g-21", name: "support")

        // 1: kept by both stages.
        var r = launchRecord(id: "1", app: "crm", account: "u-100", accountName: "ann@example.com", person: ann, kind: "access",
                             entitlement: admin, justifications: ["policy eng-admins"], lastLogin: "2026-11-17T08:12:00Z",
                             privileged: true, peers: (3, 4), recommendation: ("keep", "justified by policy eng-admins; used 1 day ago"))
        add(r, stages: [stage(1, "bo@example.com", decide(item: "1", stage: 1, "keep", by: "bo@example.com", at: "2026-11-19T10:00:00.000Z")),
                        stage(2, "dana@example.com", decide(item: "1", stage: 2, "keep", by: "dana@example.com", at: "2026-11-26T11:00:00.000Z"))],
            status: "kept")

        // 2: revoked at stage 1, verified gone.
        r = launchRecord(id: "2", app: "crm", account: "u-100", accountName: "ann@example.com", person: ann, kind: "access",
                         entitlement: sales, justifications: [], lastLogin: "2026-06-01T08:00:00Z", privileged: false, peers: (0, 4),
                         recommendation: ("revoke", "no rule justifies it; 0 of 4 peers hold it"))
        add(r, stages: [stage(1, "bo@example.com", decide(item: "2", stage: 1, "revoke", by: "bo@example.com", at: "2026-11-19T10:02:00.000Z", comment: comment))],
            status: "revoked-verified", remediation: remediation("stw-7f3a9c2e10b4", verified: true, error: nil, at: "2026-11-19T10:05:12.000Z"))

        // 3: self-review blocked at stage 2 (dana owns crm and is the subject); open.
        r = launchRecord(id: "3", app: "crm", account: "u-105", accountName: "dana@example.com", person: dana, kind: "access",
                         entitlement: admin, justifications: ["exception CHG-1042"], lastLogin: "2026-11-20T15:00:00Z", privileged: true,
                         peers: (1, 2), recommendation: ("keep", "justified by exception CHG-1042"))
        add(r, stages: [stage(1, "bo@example.com", decide(item: "3", stage: 1, "keep", by: "bo@example.com", at: "2026-11-19T10:04:00.000Z")),
                        stage(2, "sec@example.com", reassignment: "self-review: dana@example.com is the subject; sent to the fallback sec@example.com", selfReviewBlocked: true)],
            status: "open")

        // 4: delegated, revoked, the app is in observe mode: the revoke failed.
        r = launchRecord(id: "4", app: "erp", account: "cy.chen", accountName: "cy.chen", person: cy, kind: "access",
                         entitlement: (type: "role", id: "approver", name: "approver"), justifications: ["policy finance"],
                         lastLogin: nil, privileged: true, peers: (1, 1), recommendation: ("revoke", "no sign-in reported in 90 days"))
        action("delegation", at: "2026-11-20T09:00:00.000Z", by: "zed@example.com", item: "4", stage: 1, "to eve@example.com: on leave until December")
        add(r, stages: [stage(1, "eve@example.com", reassignment: "delegated by zed@example.com: on leave until December",
                              decide(item: "4", stage: 1, "revoke", by: "eve@example.com", at: "2026-11-21T14:30:00.000Z", comment: "approvals moved to the new controller"))],
            status: "revoke-failed", remediation: remediation("stw-0c5d2b8e77a1", verified: false, error: "erp is in observe mode: Steward never changes it", at: "2026-11-25T09:00:03.000Z"))

        // 5: an orphan, revoked by the fallback reviewer; the action has not run yet.
        r = launchRecord(id: "5", app: "erp", account: "svc-backup", accountName: "svc-backup", person: nil, kind: "orphan",
                         entitlement: nil, justifications: [], lastLogin: "2025-01-03T02:00:00Z", privileged: false, peers: (0, 0),
                         recommendation: ("revoke", "linked to nobody"))
        add(r, stages: [stage(1, "sec@example.com", reassignment: "no manager: the account is linked to nobody; sent to the fallback sec@example.com",
                              decide(item: "5", stage: 1, "revoke", by: "sec@example.com", at: "2026-11-24T16:00:00.000Z", comment: "unknown service account"))],
            status: "revoke-pending")

        // 6: a leaver's account nobody decided: escalated, then expired at stage 1's deadline.
        r = launchRecord(id: "6", app: "erp", account: "gil.gray", accountName: "gil.gray", person: gil, kind: "leaver",
                         entitlement: nil, justifications: [], lastLogin: "2026-09-30T17:00:00Z", privileged: false, peers: (0, 3),
                         recommendation: ("revoke", "Gil Gray left on 2026-10-31"))
        action("reminder", at: "2026-11-22T09:00:00.000Z", by: "steward", item: nil, stage: 1, "3d-before to cy@example.com: 2 open items")
        action("reminder", at: "2026-11-24T09:00:00.000Z", by: "steward", item: nil, stage: 1, "1d-before to cy@example.com: 1 open item")
        action("escalation", at: "2026-11-28T09:00:00.000Z", by: "steward", item: "6", stage: 1, "overdue since \(Self.stage1Deadline): from cy@example.com to vp@example.com")
        add(r, stages: [stage(1, "vp@example.com", reassignment: "escalated: overdue since \(Self.stage1Deadline), to cy@example.com's manager")],
            status: "expired", late: true)

        // 7: reassigned after the reviewer left; kept in bulk; waiting at stage 2.
        r = launchRecord(id: "7", app: "crm", account: "u-102", accountName: "bo@example.com", person: bo, kind: "access",
                         entitlement: support, justifications: ["role sales-base"], lastLogin: "2026-11-28T10:00:00Z", privileged: false,
                         peers: (5, 6), recommendation: ("keep", "justified by role sales-base"))
        action("reassignment", at: "2026-11-19T07:00:00.000Z", by: "steward", item: "7", stage: 1, "fay@example.com left: to cy@example.com")
        add(r, stages: [stage(1, "cy@example.com", reassignment: "reassigned: fay@example.com left",
                              decide(item: "7", stage: 1, "keep", by: "cy@example.com", at: "2026-11-23T12:00:00.000Z", bulk: true)),
                        stage(2, "dana@example.com")],
            status: "open")

        // 8: kept in the same bulk request; waiting at stage 2.
        r = launchRecord(id: "8", app: "crm", account: "u-103", accountName: "cy@example.com", person: cy, kind: "access",
                         entitlement: support, justifications: ["role finance-base"], lastLogin: "2026-11-27T10:00:00Z", privileged: false,
                         peers: (2, 2), recommendation: ("keep", "justified by role finance-base"))
        add(r, stages: [stage(1, "bo@example.com", decide(item: "8", stage: 1, "keep", by: "bo@example.com", at: "2026-11-23T12:00:00.000Z", bulk: true)),
                        stage(2, "dana@example.com")],
            status: "open")

        // 9: decided late at stage 1, kept at stage 2.
        r = launchRecord(id: "9", app: "crm", account: "u-106", accountName: "gil@example.com", person: gil, kind: "leaver",
                         entitlement: viewer, justifications: ["review q3 kept"], lastLogin: "2026-10-30T10:00:00Z", privileged: false,
                         peers: (3, 3), recommendation: ("revoke", "Gil Gray left on 2026-10-31"))
        add(r, stages: [stage(1, "cy@example.com", decide(item: "9", stage: 1, "keep", by: "cy@example.com", at: "2026-11-26T08:00:00.000Z", comment: "handover until 15 Dec", followed: false)),
                        stage(2, "dana@example.com", decide(item: "9", stage: 2, "keep", by: "dana@example.com", at: "2026-11-27T08:00:00.000Z", followed: false))],
            status: "kept", late: true)

        // 10: revoked at stage 2 by the erp owner, verified.
        r = launchRecord(id: "10", app: "erp", account: "ann.archer", accountName: "ann.archer", person: ann, kind: "access",
                         entitlement: viewer, justifications: [], lastLogin: nil, privileged: false, peers: (1, 4),
                         recommendation: ("revoke", "fewer than 10% of peers hold it (1 of 4)"))
        add(r, stages: [stage(1, "bo@example.com", decide(item: "10", stage: 1, "keep", by: "bo@example.com", at: "2026-11-19T10:06:00.000Z", followed: false)),
                        stage(2, "eve@example.com", decide(item: "10", stage: 2, "revoke", by: "eve@example.com", at: "2026-11-27T09:30:00.000Z", comment: comment))],
            status: "revoked-verified", remediation: remediation("stw-91be04d3c6f2", verified: true, error: nil, at: "2026-11-27T09:31:40.000Z"))

        // 11: revoked, then the reviewer changed their mind: kept (the first decision is replaced).
        r = launchRecord(id: "11", app: "erp", account: "bo.berg", accountName: "bo.berg", person: bo, kind: "access",
                         entitlement: viewer, justifications: ["policy sales-reporting"], lastLogin: "2026-11-29T10:00:00Z", privileged: false,
                         peers: (6, 6), recommendation: ("keep", "justified by policy sales-reporting"))
        _ = decide(item: "11", stage: 1, "revoke", by: "cy@example.com", at: "2026-11-20T10:00:00.000Z", followed: false)
        add(r, stages: [stage(1, "cy@example.com", decide(item: "11", stage: 1, "keep", by: "cy@example.com", at: "2026-11-20T10:03:00.000Z", comment: "misclick: needed for reporting")),
                        stage(2, "eve@example.com", decide(item: "11", stage: 2, "keep", by: "eve@example.com", at: "2026-11-27T09:32:00.000Z"))],
            status: "kept")

        // 12: unjustified and unused: revoked, verified.
        r = launchRecord(id: "12", app: "crm", account: "u-105", accountName: "dana@example.com", person: dana, kind: "access",
                         entitlement: sales, justifications: [], lastLogin: "2026-07-01T10:00:00Z", privileged: false, peers: (1, 2),
                         recommendation: ("revoke", "no sign-in for 152 days (threshold 90)"))
        add(r, stages: [stage(1, "bo@example.com", decide(item: "12", stage: 1, "revoke", by: "bo@example.com", at: "2026-11-19T10:08:00.000Z"))],
            status: "revoked-verified", remediation: remediation("stw-4ad0e55c9b37", verified: true, error: nil, at: "2026-11-19T10:10:02.000Z"))

        action("sign-off", at: "2026-11-23T12:05:00.000Z", by: "bo@example.com", item: nil, stage: 1, "bo@example.com signed off stage 1: 6 items decided")
        action("sign-off", at: "2026-11-26T08:10:00.000Z", by: "cy@example.com", item: nil, stage: 1, "cy@example.com signed off stage 1: 3 items decided")
        action("reminder", at: "2026-11-29T09:00:00.000Z", by: "steward", item: nil, stage: 2, "3d-before to dana@example.com: 2 open items")
    }

    /// An ordinary item: a support group kept at stage 1 in bulk, waiting at stage 2.
    mutating func plainItem(index i: Int) {
        let id = String(13 + i)
        let r = launchRecord(id: id, app: i % 3 == 0 ? "erp" : "crm", account: "u-\(1000 + i)", accountName: "user\(i)@example.com",
                             person: Person(id: "E\(100 + i)", name: "User \(i)", email: "user\(i)@example.com", department: "Support",
                                            title: "Agent", manager: "E3"),
                             kind: "access", entitlement: (type: "group", id: "g-21", name: "support"), justifications: ["role support-base"],
                             lastLogin: "2026-11-28T10:00:00Z", privileged: false, peers: (40, 42), recommendation: ("keep", "justified by role support-base"))
        add(r, stages: [stage(1, "cy@example.com", decide(item: id, stage: 1, "keep", by: "cy@example.com", at: "2026-11-23T12:00:00.000Z", bulk: true)),
                        stage(2, "dana@example.com")],
            status: "open")
    }

    // MARK: The report

    func report() -> JSONValue {
        let scope: JSONValue = ["apps": ["crm", "erp"], "entitlements": ["role:*", "group:*"], "privileged": false,
                                "people": ["department": ["Engineering", "Sales", "Finance", "Support"], "employmentType": ["not": "contractor"]],
                                "include": ["access", "leavers", "orphans"]]
        var statuses: [String: Int] = [:]
        for item in items { statuses[item["status"].stringValue ?? "", default: 0] += 1 }
        func count(_ type: String) -> Int { actions.filter { $0["type"].stringValue == type }.count }
        let decided = items.filter { ["kept", "revoke-pending", "revoked-verified", "revoke-failed"].contains($0["status"].stringValue ?? "") }.count
        return [
            "format": "steward-review-report/1",
            "generatedAt": "2026-11-30T10:00:00.000Z",
            "generator": "steward 0.1.0",
            "campaign": [
                "id": "quarterly-admins-1",
                "definition": [
                    "id": "quarterly-admins", "description": "Quarterly review of admin and group access in CRM and ERP (SOC 2 CC6.2)",
                    "scope": scope,
                    "stages": [["reviewer": "manager", "fallback": "sec@example.com", "days": 7], ["reviewer": "app-owner", "fallback": nil, "days": nil]],
                    "fallback": "sec@example.com", "days": 14, "reminders": ["before": [7, 3, 1], "overdueEvery": 1],
                    "escalateAfterDaysOverdue": 3, "defaultDecision": "none", "recommend": ["inactiveDays": 90, "peerPercent": 10],
                    "remediate": "immediately", "maxSyncAgeHours": 24, "every": "quarter",
                ],
                "launchedAt": "2026-11-18T09:00:00.000Z",
                "deadlines": [.string(Self.stage1Deadline), "2026-12-02T09:00:00.000Z"],
                "closedAt": nil, "status": "open", "stage": 2, "launchSeq": 4711,
            ],
            "population": population(scope: scope),
            "items": .array(items),
            "reviewerActions": .array(actions.sorted { ($0["at"].stringValue ?? "", $0["seq"].intValue ?? 0) < ($1["at"].stringValue ?? "", $1["seq"].intValue ?? 0) }),
            "quality": [
                "campaign": ["reviewer": "all reviewers", "decided": .int(actions.filter { $0["type"] == "decision" }.count), "medianSeconds": 120.0,
                             "bulkShare": 0.2, "followedRecommendationShare": 0.7, "kept": 9, "revoked": 6, "rubberStamp": false],
                "reviewers": [
                    ["reviewer": "bo@example.com", "decided": 6, "medianSeconds": 120.0, "bulkShare": 0.17, "followedRecommendationShare": 0.83, "kept": 4, "revoked": 2, "rubberStamp": false],
                    ["reviewer": "cy@example.com", "decided": 4, "medianSeconds": 1.5, "bulkShare": 0.25, "followedRecommendationShare": 0.5, "kept": 3, "revoked": 1, "rubberStamp": false],
                    ["reviewer": "dana@example.com", "decided": 2, "medianSeconds": 1.2, "bulkShare": 0.0, "followedRecommendationShare": 0.5, "kept": 2, "revoked": 0, "rubberStamp": true],
                    ["reviewer": "eve@example.com", "decided": 4, "medianSeconds": 3600.0, "bulkShare": 0.0, "followedRecommendationShare": 0.75, "kept": 1, "revoked": 3, "rubberStamp": false],
                    ["reviewer": "sec@example.com", "decided": 1, "medianSeconds": 540.0, "bulkShare": 0.0, "followedRecommendationShare": 1.0, "kept": 0, "revoked": 1, "rubberStamp": false],
                ],
            ],
            "summary": [
                "items": .int(items.count), "open": .int(statuses["open", default: 0]), "decided": .int(decided),
                "kept": .int(statuses["kept", default: 0]), "revokedVerified": .int(statuses["revoked-verified", default: 0]),
                "revokeFailed": .int(statuses["revoke-failed", default: 0]), "revokePending": .int(statuses["revoke-pending", default: 0]),
                "expired": .int(statuses["expired", default: 0]), "late": .int(items.filter { $0["late"] == true }.count),
                "selfReviewsBlocked": 1, "delegations": .int(count("delegation")), "reassignments": .int(count("reassignment")),
                "remindersSent": .int(count("reminder")), "escalations": .int(count("escalation")), "signOffs": .int(count("sign-off")),
            ],
            "journal": ["checkpoint": .string(SampleReport.checkpoint), "treeSize": .int(SampleReport.treeSize), "root": .string(SampleReport.root)],
            "proofs": .array(proofs),
        ]
    }

    /// Counts and hashes as the host computes them: per app, SHA-256 over each item's launch
    /// record as compact sorted JSON and a newline; the whole population, app by app.
    func population(scope: JSONValue) -> JSONValue {
        let apps = ["crm", "erp"]
        var all = SHA256()
        var perApp: [JSONValue] = []
        for app in apps {
            var hasher = SHA256()
            var count = 0
            for item in items where item["app"].stringValue == app {
                let line = JSONWriter.bytes(PopulationRecord.launchRecord(item), sortedKeys: true) + [0x0A]
                hasher.update(line)
                all.update(line)
                count += 1
            }
            perApp.append(["app": .string(app), "items": .int(count), "lastSync": app == "crm" ? "2026-11-18T08:30:00.000Z" : "2026-11-18T08:45:00.000Z",
                           "accounts": app == "crm" ? 204 : 57, "grants": app == "crm" ? 540 : 91, "sha256": .string(hasher.finalize().hex)])
        }
        return ["items": .int(items.count), "sha256": .string(all.finalize().hex), "hrSync": "2026-11-18T08:00:00.000Z", "filters": scope,
                "selfReviewsBlocked": 1, "reassigned": 3, "unassigned": 0, "apps": .array(perApp)]
    }
}

/// The launch record of a report item: the members the host hashes, `person` left out when null.
enum PopulationRecord {
    static let members = ["id", "app", "account", "accountName", "person", "entitlement", "context", "recommendation"]

    static func launchRecord(_ item: JSONValue) -> JSONValue {
        var record: [String: JSONValue] = [:]
        for key in members {
            guard let value = item.objectValue?[key], !(key == "person" && value.isNull) else { continue }
            record[key] = value
        }
        return .object(record)
    }
}
