import StewardJSON

/// `steward report discovery`: every open finding with its evidence and next step, and the
/// findings resolved since, as a self-contained HTML page, one CSV, or JSON
/// (`steward-discovery-report/1`, built by the host from the journal and the latest sync).
public enum DiscoveryReport {
    public static let format = "steward-discovery-report/1"

    public enum Format: String, Sendable, CaseIterable {
        case html, csv, json
    }

    public static func render(_ report: JSONValue, as format: Format) throws -> [UInt8] {
        guard report["format"].stringValue == Self.format else {
            throw DiscoveryReportError(description: "not a \(Self.format) document (format is \(report["format"].stringValue ?? "missing"))")
        }
        switch format {
        case .json: return JSONWriter.prettyBytes(report)
        case .csv: return csv(report)
        case .html: return html(report)
        }
    }

    /// The CSV's columns: one row per finding, open ones first, then those resolved.
    static let columns = ["status", "kind", "urgent", "app", "account", "accountName", "person", "summary", "ageDays", "monthlyCost",
                          "currency", "users", "firstSeen", "lastSeen", "openedAt", "resolvedAt", "resolution", "evidence", "suggestion"]

    static func csv(_ report: JSONValue) -> [UInt8] {
        var out = CSVWriter(capacity: 1 << 16)
        for c in columns { out.field(c) }
        out.endRow()
        for f in report["findings"].arrayValue ?? [] {
            out.field("open")
            for c in columns.dropFirst() {
                switch c {
                case "users": out.field(.array((f["users"].arrayValue ?? []).compactMap { $0["email"].isNull ? nil : $0["email"] }))
                case "resolvedAt", "resolution": out.field(JSONValue.null)
                default: out.field(f[c])
                }
            }
            out.endRow()
        }
        for r in report["resolved"].arrayValue ?? [] {
            out.field("resolved")
            for c in columns.dropFirst() { out.field(r[c]) }
            out.endRow()
        }
        return out.bytes
    }

    static let titles: [(kind: String, title: StaticString)] = [
        ("leftover", "Leavers' leftover access"), ("orphan", "Accounts linked to nobody"), ("privileged", "Privileged access no rule grants"),
        ("service", "Shared or service accounts without an owner"), ("dormant", "Dormant accounts"), ("licences", "Licences"),
        ("shadow", "Apps in use that Steward does not manage"),
    ]

    static func html(_ report: JSONValue) -> [UInt8] {
        var w = HTMLWriter(capacity: 1 << 16)
        w.raw("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>Discovery report</title><style>")
        w.raw(HTMLStyle.css)
        w.raw("</style></head><body>\n<h1>Discovery report</h1>\n<p class=\"sub\">")
        w.text("Generated \(report["generatedAt"].stringValue ?? "") from \(report["config"].stringValue ?? "") at journal head \(report["journalHead"].stringValue ?? "")")
        w.raw("</p>\n<div class=\"figures\">")
        let findings = report["findings"].arrayValue ?? []
        for (kind, title) in titles {
            let count = findings.filter { $0["kind"].stringValue == kind }.count
            guard count > 0 else { continue }
            w.raw(kind == "leftover" ? "<div class=\"figure bad\"><b>" : "<div class=\"figure\"><b>")
            w.int(count)
            w.raw("</b><span>")
            w.raw(title)
            w.raw("</span></div>")
        }
        w.raw("</div>\n")
        if findings.isEmpty { w.raw("<p>No open findings.</p>\n") }
        for (kind, title) in titles {
            let group = findings.filter { $0["kind"].stringValue == kind }
            guard !group.isEmpty else { continue }
            w.raw("<h2>")
            w.raw(title)
            w.raw("</h2>\n")
            if kind == "shadow" {
                w.table("items", headers: ["App", "Category", "Users", "Spend a month", "First seen", "Last seen", "Evidence", "Next step"]) { w in
                    for f in group {
                        w.raw("<tr>")
                        w.cell(f["app"])
                        w.cell(f["category"].stringValue ?? "unknown")
                        w.raw("<td>")
                        for u in f["users"].arrayValue ?? [] {
                            w.text(u["email"].stringValue ?? "")
                            if let person = u["person"].stringValue { w.text(" (\(person)\(u["hasLeft"].boolValue == true ? ", left" : ""))") }
                            w.raw("<br>")
                        }
                        w.raw("</td>")
                        w.numberCell(f["monthlyCost"].doubleValue.map { .string(money($0, f["currency"].stringValue)) } ?? .null)
                        w.cell(f["firstSeen"])
                        w.cell(f["lastSeen"])
                        evidenceCell(&w, f)
                        w.cell(f["suggestion"])
                        w.raw("</tr>\n")
                    }
                }
            } else {
                w.table("items", headers: ["App", "Account", "Person", "Finding", "Days", "Found", "Evidence", "Next step"]) { w in
                    for f in group {
                        w.raw(f["urgent"].boolValue == true ? "<tr class=\"urgent\">" : "<tr>")
                        w.cell(f["app"])
                        w.cell(f["accountName"].stringValue ?? f["account"].stringValue ?? "")
                        w.cell(f["person"])
                        w.raw("<td>")
                        if f["urgent"].boolValue == true { w.raw("<b>URGENT</b> ") }
                        w.text(f["summary"])
                        for c in f["candidates"].arrayValue ?? [] {
                            w.raw("<small>")
                            w.text("likely \(c["person"].stringValue ?? "") \(c["name"].stringValue ?? c["email"].stringValue ?? "")")
                            w.raw("</small>")
                        }
                        w.raw("</td>")
                        w.numberCell(f["ageDays"])
                        w.cell(f["openedAt"].stringValue.map { String($0.prefix(10)) } ?? "")
                        evidenceCell(&w, f)
                        w.cell(f["suggestion"])
                        w.raw("</tr>\n")
                    }
                }
            }
        }
        let resolved = report["resolved"].arrayValue ?? []
        if !resolved.isEmpty {
            w.raw("<h2>Resolved</h2>\n")
            w.table("log", headers: ["Resolved", "How", "Kind", "App", "Account", "Person", "Finding", "Opened"]) { w in
                for r in resolved {
                    w.raw("<tr>")
                    w.cell(r["resolvedAt"])
                    w.cell(r["resolution"])
                    w.cell(r["kind"])
                    w.cell(r["app"])
                    w.cell(r["account"])
                    w.cell(r["person"])
                    w.cell(r["summary"])
                    w.cell(r["openedAt"])
                    w.raw("</tr>\n")
                }
            }
        }
        w.raw("<p class=\"note\">Findings are computed from the latest sync of each app and discovery source; each was journaled when first seen (finding.opened) and is journaled when resolved (finding.resolved). Verify the journal with <code>steward audit verify</code>.</p>\n</body></html>\n")
        return w.bytes
    }

    private static func evidenceCell(_ w: inout HTMLWriter, _ f: JSONValue) {
        w.raw("<td><small>")
        for e in (f["evidence"].arrayValue ?? []).prefix(8) {
            w.text(e)
            w.raw("<br>")
        }
        w.raw("</small></td>")
    }

    static func money(_ amount: Double, _ currency: String?) -> String {
        let cents = Int((amount * 100).rounded())
        let text = "\(cents / 100).\(cents % 100 < 10 ? "0" : "")\(cents % 100)"
        return "\(text) \(currency ?? "")"
    }
}

public struct DiscoveryReportError: Error, CustomStringConvertible {
    public var description: String
}
