import StewardJSON
#if canImport(Glibc)
import Glibc
#endif

/// Which events a query wants; every field that is set must match.
public struct EventFilter: Sendable, Equatable {
    /// `subjects["person"]` must equal this.
    public var person: String?
    /// `subjects["app"]` must equal this.
    public var app: String?
    /// The event type; a trailing `*` matches a prefix (`person.*`).
    public var type: String?
    /// Events at or after this time.
    public var since: Timestamp?
    /// Events before this time.
    public var until: Timestamp?

    public init(person: String? = nil, app: String? = nil, type: String? = nil, since: Timestamp? = nil, until: Timestamp? = nil) {
        self.person = person
        self.app = app
        self.type = type
        self.since = since
        self.until = until
    }

    public func matches(_ event: StoredEvent) -> Bool {
        if let person, event.subjects["person"] != person { return false }
        if let app, event.subjects["app"] != app { return false }
        if let type {
            if type.hasSuffix("*") {
                guard event.type.hasPrefix(type.dropLast()) else { return false }
            } else if event.type != type {
                return false
            }
        }
        if let since, event.time < since { return false }
        if let until, event.time >= until { return false }
        return true
    }

    /// Byte strings every matching line must contain, so most lines are skipped unparsed.
    var needles: [[UInt8]] {
        var out: [[UInt8]] = []
        func member(_ key: String, _ value: String, closed: Bool) {
            var bytes: [UInt8] = []
            JSONWriter.writeString(key, into: &bytes)
            bytes.append(UInt8(ascii: ":"))
            JSONWriter.writeString(value, into: &bytes)
            if !closed { bytes.removeLast() }
            out.append(bytes)
        }
        if let person { member("person", person, closed: true) }
        if let app { member("app", app, closed: true) }
        if let type {
            if type.hasSuffix("*") { member("type", String(type.dropLast()), closed: false) } else { member("type", type, closed: true) }
        }
        return out
    }
}

/// What a reader needs from the committed state, copied so reading holds no lock.
struct ReadView {
    var segments: [SegmentState]
    var chunkStarts: [JournalPosition]
    var size: Int

    init(_ state: CommittedState) {
        segments = state.segments
        chunkStarts = state.chunkStarts
        size = state.tree.size
    }
}

/// Streams committed events from the segment files.
struct JournalReading {
    let view: ReadView
    let maxLineBytes: Int

    func forEach(from seq: Int, matching filter: EventFilter, _ body: (StoredEvent) throws -> Bool) throws {
        let first = max(seq, 1)
        guard first <= view.size else { return }
        let chunk = (first - 1) / 1024
        guard chunk < view.chunkStarts.count else { return }
        let start = view.chunkStarts[chunk]
        var current = chunk * 1024 + 1
        let needles = filter.needles
        var failure: Error?
        var finished = false

        for index in start.segment..<view.segments.count where !finished {
            let segment = view.segments[index]
            let file = try FileDescriptor(path: segment.path, flags: O_RDONLY)
            let from = index == start.segment ? start.offset : 0
            _ = try LineScanner(file: file, maxLineBytes: maxLineBytes).scan(from: from, to: segment.length) { offset, line in
                let lineSeq = current
                current += 1
                if lineSeq > view.size {
                    finished = true
                    return false
                }
                if lineSeq < first { return true }
                for needle in needles where !contains(line, needle) { return true }
                do {
                    let event = try EventLine.parse(line)
                    guard event.seq == lineSeq else {
                        throw JournalError.corrupt(file: segment.path, offset: offset, seq: lineSeq, reason: "found seq \(event.seq)")
                    }
                    guard filter.matches(event) else { return true }
                    if try !body(event) {
                        finished = true
                        return false
                    }
                    return true
                } catch let error as EventLineError {
                    failure = JournalError.corrupt(file: segment.path, offset: offset, seq: lineSeq, reason: error.reason)
                } catch {
                    failure = error
                }
                finished = true
                return false
            }
            if let failure { throw failure }
        }
    }

    private func contains(_ haystack: UnsafeRawBufferPointer, _ needle: [UInt8]) -> Bool {
        guard let first = needle.first else { return true }
        guard haystack.count >= needle.count, let base = haystack.baseAddress else { return false }
        var index = 0
        let last = haystack.count - needle.count
        while index <= last {
            guard let hit = memchr(base + index, Int32(first), last - index + 1) else { return false }
            index = base.distance(to: UnsafeRawPointer(hit))
            let equal = needle.withUnsafeBytes { n in n.elementsEqual(UnsafeRawBufferPointer(start: base + index, count: needle.count)) }
            if equal { return true }
            index += 1
        }
        return false
    }
}
