import StewardJSON

/// RFC 4180 CSV in one byte buffer: CRLF line ends, a field in double quotes when it holds a
/// comma, a quote, CR or LF (quotes doubled inside), and UTF-8 with a byte order mark so that
/// spreadsheets read names like "Zoë" correctly.
///
/// A text value a spreadsheet would take for a formula (starting with `=`, `+`, `-`, `@`, tab
/// or CR) gets a leading `'`, so opening the file never runs anything a report value carried
/// (OWASP "CSV injection"). Numbers and booleans the report holds as such are written as they are.
struct CSVWriter {
    private(set) var bytes: [UInt8] = [0xEF, 0xBB, 0xBF]
    private var fieldsInRow = 0

    init(capacity: Int) { bytes.reserveCapacity(capacity) }

    /// A text field, neutralised and quoted as needed.
    mutating func field(_ text: String) {
        separate()
        var text = text
        text.withUTF8 { utf8 in
            guard let first = utf8.first else { return }
            let formula = first == UInt8(ascii: "=") || first == UInt8(ascii: "+") || first == UInt8(ascii: "-")
                || first == UInt8(ascii: "@") || first == 0x09 || first == 0x0D
            let quoted = utf8.contains { $0 == UInt8(ascii: ",") || $0 == UInt8(ascii: "\"") || $0 == 0x0A || $0 == 0x0D }
            if quoted { bytes.append(UInt8(ascii: "\"")) }
            if formula { bytes.append(UInt8(ascii: "'")) }
            if quoted {
                for byte in utf8 {
                    if byte == UInt8(ascii: "\"") { bytes.append(byte) }
                    bytes.append(byte)
                }
                bytes.append(UInt8(ascii: "\""))
            } else {
                bytes.append(contentsOf: utf8)
            }
        }
    }

    /// A value from the report: text as text, numbers and booleans as JSON writes them, null
    /// empty, a list of texts joined with "; ", anything else as compact JSON.
    mutating func field(_ value: JSONValue) {
        switch value {
        case .null: separate()
        case .string(let s): field(s)
        case .int, .double, .bool:
            separate()
            JSONWriter.write(value, into: &bytes)
        case .array(let elements) where elements.allSatisfy({ $0.stringValue != nil }):
            field(elements.compactMap(\.stringValue).joined(separator: "; "))
        case .array, .object:
            field(JSONWriter.string(value, sortedKeys: true))
        }
    }

    mutating func endRow() {
        bytes.append(0x0D)
        bytes.append(0x0A)
        fieldsInRow = 0
    }

    private mutating func separate() {
        if fieldsInRow > 0 { bytes.append(UInt8(ascii: ",")) }
        fieldsInRow += 1
    }
}
