import Foundation
import StewardJSON

/// An event as a caller hands it to `Journal.append`; the journal adds `seq` and `time`.
///
/// `subjects` names who and what the event is about (`person`, `app`, `account`, …) and is what
/// `steward audit log --person/--app` filters on; `data` carries the rest.
public struct EventDraft: Sendable, Equatable {
    public var type: String
    public var actor: String
    public var subjects: [String: String]
    public var data: JSONValue

    public init(type: String, actor: String, subjects: [String: String] = [:], data: JSONValue = .object([:])) {
        self.type = type
        self.actor = actor
        self.subjects = subjects
        self.data = data
    }
}

/// An event as stored: one line of a segment file, in canonical form.
///
/// `line` holds the exact bytes without the trailing newline; the event's Merkle leaf is
/// `SHA-256(0x00 || line)`. Numbers in `data` come back as their JSON text reads (`2.0` is
/// written `2` and reads back as an integer).
public struct StoredEvent: Sendable, Equatable {
    public var seq: Int
    public var time: Timestamp
    public var type: String
    public var actor: String
    public var subjects: [String: String]
    public var data: JSONValue
    public var line: [UInt8]

    /// The RFC 6962 leaf hash of this event; its leaf index is `seq - 1`.
    public var leafHash: SHA256Digest { Merkle.leafHash(line) }

    /// The line as text, for printing.
    public var lineText: String { String(decoding: line, as: UTF8.self) }

    /// Parses one stored line (without its newline) and checks it is in canonical form.
    public init(line: [UInt8]) throws(EventLineError) {
        let result = line.withUnsafeBytes { raw in Result { () throws(EventLineError) in try EventLine.parse(raw) } }
        self = try result.get()
    }

    init(seq: Int, time: Timestamp, type: String, actor: String, subjects: [String: String], data: JSONValue, line: [UInt8]) {
        self.seq = seq
        self.time = time
        self.type = type
        self.actor = actor
        self.subjects = subjects
        self.data = data
        self.line = line
    }
}

/// Why a stored line is not a valid event.
public struct EventLineError: Error, Sendable, Equatable, CustomStringConvertible {
    public var reason: String

    public var description: String { reason }
}

/// The canonical line format: `{"seq":N,"time":"…","type":…,"actor":…,"subjects":{…},"data":…}`
/// with subject and data keys sorted, no spaces, and JSON escaping as `JSONWriter` does it.
enum EventLine {
    /// The longest line any reader accepts; appends are limited by `JournalOptions.maxEventBytes`.
    static let maxReadableBytes = 16 << 20

    static let seqPrefix = Array(#"{"seq":"#.utf8)
    static let timePrefix = Array(#","time":""#.utf8)

    /// Everything after the time: `"type":…,"actor":…,"subjects":{…},"data":…}`. Encoded by the
    /// caller's task so the writer only stamps sequence numbers and times.
    static func body(of draft: EventDraft) throws(JournalError) -> [UInt8] {
        try validate(draft)
        var out: [UInt8] = []
        out.reserveCapacity(256)
        appendBody(type: draft.type, actor: draft.actor, subjects: draft.subjects, data: draft.data, into: &out)
        return out
    }

    /// Appends a whole line including its newline.
    static func appendLine(seq: Int, time: Timestamp, body: [UInt8], into out: inout [UInt8]) {
        var stamp: [UInt8] = []
        time.write(into: &stamp)
        appendLine(seq: seq, timeBytes: stamp, body: body, into: &out)
    }

    /// The same with the time already formatted, as a batch that shares one time does.
    static func appendLine(seq: Int, timeBytes: [UInt8], body: [UInt8], into out: inout [UInt8]) {
        out.append(contentsOf: seqPrefix)
        appendDecimal(seq, into: &out)
        out.append(contentsOf: timePrefix)
        out.append(contentsOf: timeBytes)
        out.append(UInt8(ascii: "\""))
        out.append(UInt8(ascii: ","))
        out.append(contentsOf: body)
        out.append(0x0A)
    }

    /// Parses a line and insists it re-encodes to the same bytes, so two different byte strings
    /// can never be the same event.
    static func parse(_ line: UnsafeRawBufferPointer) throws(EventLineError) -> StoredEvent {
        let value: JSONValue
        do {
            value = try JSONParser.parse(line.assumingMemoryBound(to: UInt8.self))
        } catch {
            throw EventLineError(reason: "not valid JSON: \(error.message) at byte \(error.offset)")
        }
        guard case .object(let members) = value else { throw EventLineError(reason: "not a JSON object") }
        guard members.count == 6 else {
            let unexpected = members.keys.filter { !["seq", "time", "type", "actor", "subjects", "data"].contains($0) }.sorted()
            throw EventLineError(reason: unexpected.isEmpty ? "missing members" : "unexpected member \(unexpected[0])")
        }
        guard let seq = members["seq"]?.intValue, seq >= 1 else { throw EventLineError(reason: "seq is not a positive integer") }
        guard let timeText = members["time"]?.stringValue,
              let time = Array(timeText.utf8).withUnsafeBytes({ Timestamp(canonical: $0) }) else {
            throw EventLineError(reason: "time is not a UTC timestamp like 2026-11-27T10:00:00.123Z")
        }
        guard let type = members["type"]?.stringValue else { throw EventLineError(reason: "type is not a string") }
        guard let actor = members["actor"]?.stringValue else { throw EventLineError(reason: "actor is not a string") }
        guard case .object(let subjectValues)? = members["subjects"] else { throw EventLineError(reason: "subjects is not an object") }
        var subjects: [String: String] = [:]
        for (key, value) in subjectValues {
            guard let text = value.stringValue else { throw EventLineError(reason: "subjects.\(key) is not a string") }
            subjects[key] = text
        }
        let data = members["data"] ?? .null

        var canonical: [UInt8] = []
        canonical.reserveCapacity(line.count + 1)
        var body: [UInt8] = []
        body.reserveCapacity(line.count)
        appendBody(type: type, actor: actor, subjects: subjects, data: data, into: &body)
        appendLine(seq: seq, time: time, body: body, into: &canonical)
        canonical.removeLast()
        guard canonical.elementsEqual(line) else { throw EventLineError(reason: "not in canonical form (key order, spacing or escaping differs)") }
        return StoredEvent(seq: seq, time: time, type: type, actor: actor, subjects: subjects, data: data, line: Array(line))
    }

    /// Reads the sequence number from the start of a line without parsing the rest; nil when
    /// the line does not start the canonical way.
    static func leadingSeq(_ line: UnsafeRawBufferPointer) -> Int? {
        guard line.count > seqPrefix.count, line.starts(with: seqPrefix) else { return nil }
        var value = 0
        var index = seqPrefix.count
        while index < line.count, index < seqPrefix.count + 19 {
            let c = line[index]
            guard c >= UInt8(ascii: "0"), c <= UInt8(ascii: "9") else { break }
            value = value * 10 + Int(c - UInt8(ascii: "0"))
            index += 1
        }
        guard index > seqPrefix.count, index < line.count, line[index] == UInt8(ascii: ",") else { return nil }
        return value
    }

    /// The time of a line already known to be canonical.
    static func time(of line: UnsafeRawBufferPointer) -> Timestamp? {
        guard let seq = leadingSeq(line) else { return nil }
        let start = seqPrefix.count + String(seq).utf8.count + timePrefix.count
        guard start + Timestamp.canonicalLength <= line.count else { return nil }
        return Timestamp(canonical: UnsafeRawBufferPointer(rebasing: line[start..<(start + Timestamp.canonicalLength)]))
    }

    // MARK: Encoding helpers

    private static func appendBody(type: String, actor: String, subjects: [String: String], data: JSONValue, into out: inout [UInt8]) {
        out.append(contentsOf: #""type":"#.utf8)
        JSONWriter.writeString(type, into: &out)
        out.append(contentsOf: #","actor":"#.utf8)
        JSONWriter.writeString(actor, into: &out)
        out.append(contentsOf: #","subjects":{"#.utf8)
        var first = true
        for key in subjects.keys.sorted() {
            if !first { out.append(UInt8(ascii: ",")) }
            first = false
            JSONWriter.writeString(key, into: &out)
            out.append(UInt8(ascii: ":"))
            JSONWriter.writeString(subjects[key] ?? "", into: &out)
        }
        out.append(contentsOf: #"},"data":"#.utf8)
        JSONWriter.write(data, into: &out, sortedKeys: true)
        out.append(UInt8(ascii: "}"))
    }

    static func appendDecimal(_ value: Int, into out: inout [UInt8]) {
        if value < 10 {
            out.append(UInt8(ascii: "0") + UInt8(value))
            return
        }
        appendDecimal(value / 10, into: &out)
        out.append(UInt8(ascii: "0") + UInt8(value % 10))
    }

    private static func validate(_ draft: EventDraft) throws(JournalError) {
        guard !draft.type.isEmpty, draft.type.utf8.count <= 200 else {
            throw .invalidEvent(field: "type", reason: "must be 1 to 200 bytes")
        }
        guard !draft.type.unicodeScalars.contains(where: { $0.value < 0x20 || $0 == " " }) else {
            throw .invalidEvent(field: "type", reason: "must not contain spaces or control characters")
        }
        guard !draft.actor.isEmpty, draft.actor.utf8.count <= 200 else {
            throw .invalidEvent(field: "actor", reason: "must be 1 to 200 bytes")
        }
        for (key, value) in draft.subjects {
            guard !key.isEmpty, key.utf8.count <= 64 else { throw .invalidEvent(field: "subjects", reason: "keys must be 1 to 64 bytes") }
            guard value.utf8.count <= 1024 else { throw .invalidEvent(field: "subjects.\(key)", reason: "must be at most 1024 bytes") }
        }
        try validateNumbers(draft.data, path: "data")
    }

    /// JSON has no NaN or infinity; writing them as null would store something else than asked.
    private static func validateNumbers(_ value: JSONValue, path: String) throws(JournalError) {
        switch value {
        case .double(let d) where !d.isFinite:
            throw .invalidEvent(field: path, reason: "is not a finite number")
        case .array(let elements):
            for (i, element) in elements.enumerated() { try validateNumbers(element, path: "\(path)[\(i)]") }
        case .object(let members):
            for (key, member) in members { try validateNumbers(member, path: "\(path).\(key)") }
        default:
            break
        }
    }
}
