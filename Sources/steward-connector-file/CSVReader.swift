/// An RFC 4180 CSV reader: quoted fields with `""` escapes, embedded commas and line breaks,
/// CRLF or LF line ends, and a UTF-8 byte order mark.
///
/// Each record keeps the line it starts on, so errors about the data can name it.
struct CSVReader {
    struct Record {
        var line: Int
        var fields: [String]
    }

    struct SyntaxError: Error {
        var line: Int
        var message: String
    }

    static func parse(_ bytes: [UInt8]) throws -> [Record] {
        var records: [Record] = []
        var fields: [String] = []
        var field: [UInt8] = []
        var line = 1
        var recordLine = 1
        var i = 0
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { i = 3 }
        var inQuotes = false
        var fieldWasQuoted = false
        var atFieldStart = true

        func endField() throws {
            guard let s = String(validating: field, as: UTF8.self) else {
                throw SyntaxError(line: recordLine, message: "field \(fields.count + 1) is not valid UTF-8")
            }
            fields.append(fieldWasQuoted ? s : s)
            field.removeAll(keepingCapacity: true)
            fieldWasQuoted = false
            atFieldStart = true
        }

        func endRecord() throws {
            try endField()
            // A line with nothing on it is not a record.
            if !(fields.count == 1 && fields[0].isEmpty) {
                records.append(Record(line: recordLine, fields: fields))
            }
            fields.removeAll(keepingCapacity: true)
        }

        while i < bytes.count {
            let c = bytes[i]
            if inQuotes {
                if c == UInt8(ascii: "\"") {
                    if i + 1 < bytes.count, bytes[i + 1] == UInt8(ascii: "\"") {
                        field.append(c)
                        i += 2
                        continue
                    }
                    inQuotes = false
                    i += 1
                    // After a closing quote only a separator or line end may follow.
                    if i < bytes.count, ![UInt8(ascii: ","), 0x0A, 0x0D].contains(bytes[i]) {
                        throw SyntaxError(line: line, message: "unexpected character after a closing quote in field \(fields.count + 1)")
                    }
                    continue
                }
                if c == 0x0A { line += 1 }
                field.append(c)
                i += 1
                continue
            }
            switch c {
            case UInt8(ascii: "\""):
                guard atFieldStart else {
                    throw SyntaxError(line: line, message: "a quote inside unquoted field \(fields.count + 1); quote the whole field and double the quote")
                }
                inQuotes = true
                fieldWasQuoted = true
                atFieldStart = false
                i += 1
            case UInt8(ascii: ","):
                try endField()
                i += 1
            case 0x0D:
                try endRecord()
                i += (i + 1 < bytes.count && bytes[i + 1] == 0x0A) ? 2 : 1
                line += 1
                recordLine = line
            case 0x0A:
                try endRecord()
                i += 1
                line += 1
                recordLine = line
            default:
                field.append(c)
                atFieldStart = false
                i += 1
            }
        }
        if inQuotes { throw SyntaxError(line: recordLine, message: "a quoted field is never closed") }
        if !field.isEmpty || !fields.isEmpty || fieldWasQuoted { try endRecord() }
        return records
    }
}

/// A CSV export as its header and its rows, each row a column → value map with the line it
/// starts on: what the HR and discovery readers both check field by field.
struct CSVTable {
    var columns: [String]
    var headerLine: Int
    var rows: [(line: Int, values: [String: String])]

    /// Reads `bytes` (the file `name`); a syntax error, an empty file, a repeated column or a row
    /// with the wrong number of fields fails the whole file, naming its line.
    static func read(_ bytes: [UInt8], name: String) throws(CSVTableError) -> CSVTable {
        let records: [CSVReader.Record]
        do {
            records = try CSVReader.parse(bytes)
        } catch let e as CSVReader.SyntaxError {
            throw CSVTableError(message: "\(name): line \(e.line): \(e.message)")
        } catch {
            throw CSVTableError(message: "\(name): \(error)")
        }
        guard let header = records.first else { throw CSVTableError(message: "\(name): the file is empty (expected a header line)") }
        let columns = header.fields.map { $0.trimmingCharacters(in: .whitespaces) }
        var seen: Set<String> = []
        for c in columns where !seen.insert(c).inserted {
            throw CSVTableError(message: "\(name): line \(header.line): column \"\(c)\" appears twice in the header")
        }
        var rows: [(line: Int, values: [String: String])] = []
        rows.reserveCapacity(records.count - 1)
        for record in records.dropFirst() {
            guard record.fields.count == columns.count else {
                throw CSVTableError(message: "\(name): line \(record.line): \(record.fields.count) fields, but the header has \(columns.count)")
            }
            var values: [String: String] = [:]
            values.reserveCapacity(columns.count)
            for (c, v) in zip(columns, record.fields) { values[c] = v }
            rows.append((record.line, values))
        }
        return CSVTable(columns: columns, headerLine: header.line, rows: rows)
    }
}

/// Why a CSV file could not be read as a table: its name, line and what is wrong.
struct CSVTableError: Error {
    var message: String
}
