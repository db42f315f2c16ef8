/// The journal's own snapshot (`index/state`): what opening needs so it does not rehash a
/// large log. It is derived data, checksummed, and thrown away when it does not match the log.
struct OpenState: Equatable {
    var size: Int
    var lastTime: Timestamp
    var frontier: MerkleFrontier
    var upperLevels: [[SHA256Digest]]
    /// Segment files with the length each had when the state was saved.
    var segments: [SegmentLength]
    /// Where the event with seq `i * 1024 + 1` starts.
    var chunkStarts: [JournalPosition]
    /// Where the last event starts and its leaf hash, to check the log still ends the same way.
    var lastLine: JournalPosition
    var lastLeafHash: SHA256Digest

    struct SegmentLength: Equatable {
        var firstSeq: Int
        var length: Int
    }

    static let magic = Array("STEWARD-JOURNAL-STATE-1\n".utf8)

    func encoded() -> [UInt8] {
        var out = Self.magic
        func put(_ n: Int) { withUnsafeBytes(of: UInt64(n).littleEndian) { out.append(contentsOf: $0) } }
        func put(_ d: SHA256Digest) { d.append(to: &out) }
        put(size)
        put(Int(lastTime.millisecondsSince1970))
        put(frontier.nodes.count)
        frontier.nodes.forEach(put)
        put(upperLevels.count)
        for level in upperLevels {
            put(level.count)
            level.forEach(put)
        }
        put(segments.count)
        for segment in segments {
            put(segment.firstSeq)
            put(segment.length)
        }
        put(chunkStarts.count)
        for start in chunkStarts {
            put(start.segment)
            put(start.offset)
        }
        put(lastLine.segment)
        put(lastLine.offset)
        put(lastLeafHash)
        SHA256.hash(out).append(to: &out)
        return out
    }

    /// Decodes a saved state; nil when the bytes are damaged in any way.
    init?(decoding bytes: [UInt8]) {
        guard bytes.count > Self.magic.count + 32, bytes.starts(with: Self.magic) else { return nil }
        let body = bytes[0..<(bytes.count - 32)]
        guard SHA256.hash(body) == SHA256Digest(bytes: bytes[(bytes.count - 32)...]) else { return nil }
        var reader = ByteReader(bytes: Array(body.dropFirst(Self.magic.count)))
        guard let size = reader.int(), let lastMillis = reader.int(), let frontierCount = reader.int(), frontierCount <= 64,
              let nodes = reader.digests(frontierCount), let frontier = MerkleFrontier(size: size, nodes: nodes),
              let levelCount = reader.int(), levelCount <= 64 else { return nil }
        var upperLevels: [[SHA256Digest]] = []
        for _ in 0..<levelCount {
            guard let count = reader.int(), let level = reader.digests(count) else { return nil }
            upperLevels.append(level)
        }
        guard let segmentCount = reader.int(), segmentCount <= reader.remaining / 16 else { return nil }
        var segments: [SegmentLength] = []
        for _ in 0..<segmentCount {
            guard let firstSeq = reader.int(), let length = reader.int() else { return nil }
            segments.append(SegmentLength(firstSeq: firstSeq, length: length))
        }
        guard let chunkCount = reader.int(), chunkCount <= reader.remaining / 16 else { return nil }
        var chunkStarts: [JournalPosition] = []
        for _ in 0..<chunkCount {
            guard let segment = reader.int(), let offset = reader.int() else { return nil }
            chunkStarts.append(JournalPosition(segment: segment, offset: offset))
        }
        guard let lastSegment = reader.int(), let lastOffset = reader.int(), let lastLeaf = reader.digests(1)?.first,
              reader.remaining == 0 else { return nil }
        self.size = size
        self.lastTime = Timestamp(millisecondsSince1970: Int64(lastMillis))
        self.frontier = frontier
        self.upperLevels = upperLevels
        self.segments = segments
        self.chunkStarts = chunkStarts
        self.lastLine = JournalPosition(segment: lastSegment, offset: lastOffset)
        self.lastLeafHash = lastLeaf
    }

    init(size: Int, lastTime: Timestamp, frontier: MerkleFrontier, upperLevels: [[SHA256Digest]], segments: [SegmentLength],
         chunkStarts: [JournalPosition], lastLine: JournalPosition, lastLeafHash: SHA256Digest) {
        self.size = size
        self.lastTime = lastTime
        self.frontier = frontier
        self.upperLevels = upperLevels
        self.segments = segments
        self.chunkStarts = chunkStarts
        self.lastLine = lastLine
        self.lastLeafHash = lastLeafHash
    }
}

/// Reads little-endian integers and digests from a byte array, failing softly at the end.
private struct ByteReader {
    let bytes: [UInt8]
    var index = 0

    var remaining: Int { bytes.count - index }

    mutating func int() -> Int? {
        guard remaining >= 8 else { return nil }
        var value: UInt64 = 0
        for i in 0..<8 { value |= UInt64(bytes[index + i]) << (8 * UInt64(i)) }
        index += 8
        guard value <= UInt64(Int.max) else { return nil }
        return Int(value)
    }

    mutating func digests(_ count: Int) -> [SHA256Digest]? {
        guard count >= 0, remaining >= count * 32 else { return nil }
        var out: [SHA256Digest] = []
        out.reserveCapacity(count)
        for _ in 0..<count {
            guard let digest = SHA256Digest(bytes: bytes[index..<(index + 32)]) else { return nil }
            out.append(digest)
            index += 32
        }
        return out
    }
}
