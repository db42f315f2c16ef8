import StewardJSON

/// An HTML document built in one byte buffer.
///
/// Markup is written with `raw` from string literals; every value that comes from the report
/// goes through `text`, which escapes it for element content and quoted attributes alike. A
/// 100,000-item report is a few hundred megabytes of HTML, so nothing here concatenates strings.
struct HTMLWriter {
    private(set) var bytes: [UInt8] = []
    /// The PDF's form: long tables (items, log, proofs) as monospaced text (see `PrintedTable`).
    var printsLongTablesAsText = false

    init(capacity: Int, printsLongTablesAsText: Bool = false) {
        bytes.reserveCapacity(capacity)
        self.printsLongTablesAsText = printsLongTablesAsText
    }

    /// Markup from the source code, written as it is.
    mutating func raw(_ markup: StaticString) {
        markup.withUTF8Buffer { bytes.append(contentsOf: $0) }
    }

    /// Markup built at run time from trusted parts only (never from report values).
    mutating func rawString(_ markup: String) {
        bytes.append(contentsOf: markup.utf8)
    }

    /// A value as text: `&`, `<`, `>`, `"` and `'` become entities.
    mutating func text(_ value: String) {
        var value = value
        value.withUTF8 { utf8 in
            var runStart = 0
            for i in 0..<utf8.count {
                let entity: StaticString
                switch utf8[i] {
                case UInt8(ascii: "&"): entity = "&amp;"
                case UInt8(ascii: "<"): entity = "&lt;"
                case UInt8(ascii: ">"): entity = "&gt;"
                case UInt8(ascii: "\""): entity = "&quot;"
                case UInt8(ascii: "'"): entity = "&#39;"
                default: continue
                }
                if runStart < i { bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[runStart..<i])) }
                raw(entity)
                runStart = i + 1
            }
            if runStart < utf8.count { bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[runStart..<utf8.count])) }
        }
    }

    /// A scalar from the report as text (see `ReportText.plain`).
    mutating func text(_ value: JSONValue) {
        switch value {
        case .string(let s): text(s)
        case .int(let i): int(i)
        default: text(ReportText.plain(value))
        }
    }

    mutating func int(_ value: Int) {
        if value < 0 { bytes.append(UInt8(ascii: "-")) }
        var magnitude = value.magnitude
        var digits: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                     UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) =
            (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        var count = 0
        withUnsafeMutableBytes(of: &digits) { buffer in
            repeat {
                buffer[19 - count] = UInt8(magnitude % 10) + 0x30
                magnitude /= 10
                count += 1
            } while magnitude > 0
            bytes.append(contentsOf: buffer[(20 - count)...])
        }
    }

    // MARK: Building blocks

    /// `<td>value</td>`.
    mutating func cell(_ value: String) {
        raw("<td>")
        text(value)
        raw("</td>")
    }

    mutating func cell(_ value: JSONValue) {
        raw("<td>")
        text(value)
        raw("</td>")
    }

    /// A number cell, right-aligned.
    mutating func numberCell(_ value: JSONValue) {
        raw("<td class=\"n\">")
        text(value)
        raw("</td>")
    }

    /// A label and value as a row of a two-column table.
    mutating func fact(_ label: String, _ value: String) {
        raw("<tr><th scope=\"row\">")
        text(label)
        raw("</th><td>")
        text(value)
        raw("</td></tr>\n")
    }

    /// A table with a header row that is repeated on every printed page, and the rows `body` writes.
    mutating func table(_ className: StaticString, headers: [StaticString], body: (inout HTMLWriter) -> Void) {
        if printsLongTablesAsText, ["items", "log", "proofs"].contains(className.description) {
            var rows = HTMLWriter(capacity: 1 << 16)
            body(&rows)
            var table = PrintedTable(headers: headers.map(\.description))
            table.read(rowsOf: rows.bytes)
            table.write(into: &self)
            return
        }
        raw("<table class=\"")
        raw(className)
        raw("\"><thead><tr>")
        for header in headers {
            raw("<th>")
            raw(header)
            raw("</th>")
        }
        raw("</tr></thead>\n<tbody>\n")
        body(&self)
        raw("</tbody></table>\n")
    }

    /// A link to an item's row in part 2.
    mutating func itemLink(_ id: JSONValue) {
        raw("<a href=\"#item-")
        text(id)
        raw("\">")
        text(id)
        raw("</a>")
    }
}
