import StewardJSON

/// Words and numbers as the report shows them: the same labels and phrasing in HTML and CSV,
/// so an auditor comparing the two sees the same thing.
enum ReportText {
    /// The summary figures in the order they are shown, with their labels.
    static let summaryFigures: [(key: String, label: String)] = [
        ("items", "Items in the population"),
        ("decided", "Decided"),
        ("open", "Still open"),
        ("kept", "Kept"),
        ("revokedVerified", "Revoked and verified gone"),
        ("revokePending", "Revoke pending"),
        ("revokeFailed", "Revoke failed"),
        ("expired", "Expired without a decision"),
        ("late", "Late"),
        ("selfReviewsBlocked", "Self-reviews blocked"),
        ("delegations", "Delegations"),
        ("reassignments", "Reassignments"),
        ("escalations", "Escalations"),
        ("remindersSent", "Reminders sent"),
        ("signOffs", "Sign-offs"),
    ]

    /// Item statuses in the order part 4 counts them, with what each means.
    static let statuses: [(status: String, label: String, meaning: String)] = [
        ("kept", "kept", "every stage kept it; the access stays"),
        ("revoked-verified", "revoked, verified", "a fresh read of the app shows the access gone"),
        ("revoke-pending", "revoke pending", "revoke decided, the change not yet applied and verified"),
        ("revoke-failed", "revoke failed", "the revoke did not run or the app still shows the access: an exception"),
        ("expired", "expired", "nobody decided by the deadline and there is no default: the access stays, an exception"),
        ("open", "open", "waiting for a decision"),
    ]

    static func statusLabel(_ status: String) -> String {
        statuses.first { $0.status == status }?.label ?? status
    }

    /// A scalar as text: strings as they are, numbers without a trailing .0, booleans yes/no,
    /// null and anything else empty.
    static func plain(_ value: JSONValue) -> String {
        switch value {
        case .string(let s): return s
        case .int(let i): return String(i)
        case .double(let d): return number(d)
        case .bool(let b): return b ? "yes" : "no"
        case .null, .array, .object: return ""
        }
    }

    /// Whole numbers without a fraction, others to at most two decimals.
    static func number(_ d: Double) -> String {
        guard d.isFinite else { return "" }
        if d.rounded() == d, abs(d) < 1e15 { return String(Int(d)) }
        let hundredths = (d * 100).rounded() / 100
        return hundredths.rounded() == hundredths ? String(Int(hundredths)) : String(hundredths)
    }

    /// A 0...1 share as a whole percentage.
    static func percent(_ value: JSONValue) -> String {
        guard let d = value.doubleValue else { return "" }
        return number((d * 100).rounded()) + "%"
    }

    /// Seconds as a person reads them: 4.5 s, 3 min 20 s, 2 h 5 min.
    static func duration(_ value: JSONValue) -> String {
        guard let s = value.doubleValue, s.isFinite, s >= 0 else { return "" }
        if s < 60 { return number(s < 10 ? (s * 10).rounded() / 10 : s.rounded()) + " s" }
        let whole = Int(s.rounded())
        if whole < 3600 { return "\(whole / 60) min \(whole % 60) s" }
        if whole < 86400 { return "\(whole / 3600) h \(whole % 3600 / 60) min" }
        return "\(whole / 86400) d \(whole % 86400 / 3600) h"
    }

    static func list(_ value: JSONValue, empty: String = "") -> String {
        let parts = (value.arrayValue ?? []).map(plain)
        return parts.isEmpty ? empty : parts.joined(separator: ", ")
    }

    // MARK: The campaign definition

    /// The scope (or population filters), one line per rule.
    static func scope(_ scope: JSONValue) -> [(label: String, value: String)] {
        [
            ("Apps", scope["apps"].isNull ? "every app" : list(scope["apps"], empty: "none")),
            ("Entitlements", list(scope["entitlements"], empty: "every entitlement")),
            ("Privileged only", scope["privileged"].boolValue == true ? "yes: only entitlements marked privileged" : "no"),
            ("People", scope["people"].isNull ? "everyone" : condition(scope["people"])),
            ("Includes", list(scope["include"], empty: "access")),
        ]
    }

    /// A `when` condition in words: `department is eng; title starts with Sen`.
    static func condition(_ condition: JSONValue) -> String {
        guard let clauses = condition.objectValue, !clauses.isEmpty else { return "everyone" }
        return clauses.keys.sorted().map { "\($0) \(matcher(clauses[$0] ?? .null))" }.joined(separator: "; ")
    }

    private static func matcher(_ m: JSONValue) -> String {
        switch m {
        case .string(let s): return "is \(s)"
        case .array: return "is one of \(list(m))"
        case .object(let o):
            if let prefix = o["prefix"] { return "starts with \(prefix.arrayValue != nil ? list(prefix) : plain(prefix))" }
            if let inner = o["not"] { return "not (\(matcher(inner)))" }
            if let present = o["present"] { return present.boolValue == true ? "is present" : "is absent" }
            return m.description
        default: return m.description
        }
    }

    /// The rules the campaign ran under, one line each.
    static func definition(_ d: JSONValue) -> [(label: String, value: String)] {
        var lines: [(String, String)] = []
        if let description = d["description"].stringValue { lines.append(("Purpose", description)) }
        lines.append(("Definition", plain(d["id"])))
        let stages = (d["stages"].arrayValue ?? []).enumerated().map { i, s in
            var text = "\(i + 1). \(plain(s["reviewer"]))"
            if let fallback = s["fallback"].stringValue { text += " (fallback \(fallback))" }
            if let days = s["days"].intValue { text += ", \(days) days" }
            return text
        }
        lines.append(("Stages", stages.joined(separator: "; ")))
        lines.append(("Fallback reviewer", d["fallback"].stringValue ?? "none: items without a reviewer stay unassigned"))
        lines.append(("Length", d["days"].intValue.map { "\($0) days" } ?? ""))
        let reminders = d["reminders"]
        var ladder = list(reminders["before"]).isEmpty ? "none before the deadline" : "\(list(reminders["before"])) days before the deadline"
        ladder += reminders["overdueEvery"].intValue.map { "; every \($0) days while overdue" } ?? "; none while overdue"
        lines.append(("Reminders", ladder))
        lines.append(("Escalation", d["escalateAfterDaysOverdue"].intValue.map { "\($0) days after the deadline, to the reviewer's manager" } ?? "never"))
        let defaults = ["none": "none: undecided items expire and stay as they are", "keep": "keep", "revoke": "revoke",
                        "recommendation": "the item's recommendation"]
        let defaultDecision = plain(d["defaultDecision"])
        lines.append(("Default decision at the deadline", defaults[defaultDecision] ?? defaultDecision))
        let recommend = d["recommend"]
        lines.append(("Recommendations", "revoke when there was no sign-in for \(plain(recommend["inactiveDays"])) days, or fewer than \(plain(recommend["peerPercent"]))% of peers hold the access"))
        let remediate = plain(d["remediate"])
        lines.append(("Remediation", remediate == "atClose" ? "when each stage closes" : remediate == "immediately" ? "as each revoke is decided" : remediate))
        lines.append(("Freshest data required", "synced within \(plain(d["maxSyncAgeHours"])) hours of launch"))
        lines.append(("Cadence", d["every"].stringValue.map { "every \($0)" } ?? "launched by hand"))
        return lines
    }
}
