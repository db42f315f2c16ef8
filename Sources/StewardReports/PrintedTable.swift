/// A long table set as monospaced text, for the PDF.
///
/// Chromium prints plain preformatted text several times faster than table markup: a
/// 10,000-item report as tables is about 2,000 pages and several minutes (and, as one table,
/// fails to print at all), while the same rows as text print in seconds. So the PDF form of the
/// long tables (items, the action log, the proofs) is this: fixed-width columns, each cell's
/// lines wrapped inside its column, a header line repeated every `rowsPerBlock` rows. Every
/// value is kept whole; nothing is cut off.
///
/// It reads the rows the HTML parts wrote (our own markup: `<tr>`, `<td>`, `<small>` and `<br>`
/// start lines, other tags are dropped, entities decoded), so both forms come from one piece of
/// code per part and cannot drift apart.
struct PrintedTable {
    /// Characters across the printed page at the print stylesheet's `pre.rows` size.
    static let lineWidth = 180
    static let rowsPerBlock = 40

    let headers: [String]
    var rows: [[[String]]] = []

    init(headers: [String]) { self.headers = headers }

    /// Reads the `<tr>` rows of `markup` (what a part's table body wrote).
    mutating func read(rowsOf markup: [UInt8]) {
        var reader = MarkupReader(bytes: markup)
        rows.append(contentsOf: reader.rows())
    }

    /// The table as `<pre class="rows">` blocks.
    func write(into html: inout HTMLWriter) {
        let widths = columnWidths()
        let header = line(headers.map { [$0] }, widths: widths)
        let rule = widths.map { String(repeating: "-", count: $0) }.joined(separator: "  ")
        var start = 0
        repeat {
            html.raw("<pre class=\"rows\">")
            html.text(header.joined(separator: "\n"))
            html.raw("\n")
            html.text(rule)
            html.raw("\n")
            for row in rows[start..<min(rows.count, start + Self.rowsPerBlock)] {
                html.text(line(row, widths: widths).joined(separator: "\n"))
                html.raw("\n")
            }
            html.raw("</pre>\n")
            start += Self.rowsPerBlock
        } while start < rows.count
    }

    /// Each column as wide as its longest line (at least its header's first word), then the
    /// widest shrunk in turn until the row fits the page.
    private func columnWidths() -> [Int] {
        var widths = headers.map { header in min(header.count, max(4, header.split(separator: " ").map(\.count).max() ?? 4)) }
        for row in rows {
            for (c, cell) in row.enumerated() where c < widths.count {
                for text in cell { widths[c] = max(widths[c], min(text.count, 60)) }
            }
        }
        let available = Self.lineWidth - 2 * (widths.count - 1)
        while widths.reduce(0, +) > available, let widest = widths.indices.max(by: { widths[$0] < widths[$1] }), widths[widest] > 8 {
            widths[widest] -= 1
        }
        return widths
    }

    /// One row as printed lines: each cell's lines wrapped to its column, side by side.
    private func line(_ cells: [[String]], widths: [Int]) -> [String] {
        let wrapped = widths.indices.map { c in (c < cells.count ? cells[c] : []).flatMap { wrap($0, width: widths[c]) } }
        let height = max(1, wrapped.map(\.count).max() ?? 1)
        return (0..<height).map { l in
            var out = ""
            for c in widths.indices {
                let text = l < wrapped[c].count ? wrapped[c][l] : ""
                out += text
                if c < widths.count - 1 { out += String(repeating: " ", count: widths[c] - text.count + 2) }
            }
            while out.last == " " { out.removeLast() }
            return out
        }
    }

    /// `text` in lines of at most `width` characters, broken at spaces where it can be.
    private func wrap(_ text: String, width: Int) -> [String] {
        guard text.count > width else { return [text] }
        var lines: [String] = []
        var rest = Substring(text)
        while rest.count > width {
            let window = rest.prefix(width + 1)
            let cut = window.lastIndex(of: " ").flatMap { $0 > rest.startIndex ? $0 : nil } ?? rest.index(rest.startIndex, offsetBy: width)
            lines.append(String(rest[..<cut]))
            rest = rest[cut...].drop { $0 == " " }
        }
        if !rest.isEmpty { lines.append(String(rest)) }
        return lines
    }
}

/// Reads rows of cells of lines out of the table markup the HTML parts write.
private struct MarkupReader {
    let bytes: [UInt8]
    var i = 0

    init(bytes: [UInt8]) { self.bytes = bytes }

    mutating func rows() -> [[[String]]] {
        var rows: [[[String]]] = []
        var row: [[String]] = []
        var cell: [String]? = nil
        var line: [UInt8] = []

        func endLine() {
            let text = String(decoding: line, as: UTF8.self).trimmingSpaces()
            if !text.isEmpty { cell?.append(text) }
            line.removeAll(keepingCapacity: true)
        }

        while i < bytes.count {
            let byte = bytes[i]
            if byte == UInt8(ascii: "<") {
                let end = bytes[i...].firstIndex(of: UInt8(ascii: ">")) ?? bytes.count - 1
                let tag = name(of: bytes[(i + 1)..<end])
                i = end + 1
                switch tag {
                case "td", "th":
                    cell = []
                case "/td", "/th":
                    endLine()
                    if let done = cell { row.append(done) }
                    cell = nil
                case "small", "/small", "br":
                    endLine()
                case "/tr":
                    if !row.isEmpty { rows.append(row) }
                    row = []
                default:
                    break
                }
            } else if byte == UInt8(ascii: "&") {
                let end = bytes[i...].prefix(8).firstIndex(of: UInt8(ascii: ";"))
                if let end, let decoded = entity(bytes[(i + 1)..<end]) {
                    if cell != nil { line.append(decoded) }
                    i = end + 1
                } else {
                    if cell != nil { line.append(byte) }
                    i += 1
                }
            } else {
                if cell != nil { line.append(byte == 0x0A ? 0x20 : byte) }
                i += 1
            }
        }
        return rows
    }

    /// `td` from `td class="n"`, `/td` from `/td`, `br` from `br/`.
    private func name(of tag: ArraySlice<UInt8>) -> String {
        var name = tag[tag.startIndex..<(tag.firstIndex(of: UInt8(ascii: " ")) ?? tag.endIndex)]
        if name.count > 1, name.last == UInt8(ascii: "/") { name = name.dropLast() }
        return String(decoding: name, as: UTF8.self).lowercased()
    }

    private func entity(_ name: ArraySlice<UInt8>) -> UInt8? {
        switch String(decoding: name, as: UTF8.self) {
        case "amp": return UInt8(ascii: "&")
        case "lt": return UInt8(ascii: "<")
        case "gt": return UInt8(ascii: ">")
        case "quot": return UInt8(ascii: "\"")
        case "#39": return UInt8(ascii: "'")
        default: return nil
        }
    }
}

private extension String {
    func trimmingSpaces() -> String {
        var s = Substring(self)
        while s.first == " " { s.removeFirst() }
        while s.last == " " { s.removeLast() }
        return String(s)
    }
}
