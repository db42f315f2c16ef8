#if canImport(Glibc)
import Glibc
#endif

/// The journal's Merkle tree, kept so roots and proofs for any size cost O(log n) hashes.
///
/// Leaf hashes live in `index/leaves`; nodes at level 10 and above (one per 1,024 leaves and
/// up) live in memory and in the open-state snapshot. A perfect subtree below level 10 is
/// recomputed from at most 1,024 leaf hashes read from the file.
final class TreeIndex {
    static let storedLevel = 10

    let leaves: LeafStore
    private(set) var frontier: MerkleFrontier
    /// `upperLevels[i]` holds the perfect subtree hashes at level `storedLevel + i`, in order.
    private(set) var upperLevels: [[SHA256Digest]]
    private(set) var root: SHA256Digest

    init(leaves: LeafStore, frontier: MerkleFrontier = MerkleFrontier(), upperLevels: [[SHA256Digest]] = []) {
        self.leaves = leaves
        self.frontier = frontier
        self.upperLevels = upperLevels
        self.root = frontier.root
    }

    var size: Int { frontier.size }

    /// Adds leaves: stores their hashes, then folds them into the frontier.
    func append(_ hashes: [SHA256Digest]) throws(JournalError) {
        try leaves.append(hashes)
        for leaf in hashes {
            frontier.append(leaf) { level, node in
                guard level >= Self.storedLevel else { return }
                let slot = level - Self.storedLevel
                if slot == upperLevels.count { upperLevels.append([]) }
                upperLevels[slot].append(node)
            }
        }
        root = frontier.root
    }

    func root(size: Int) throws(MerkleTreeError) -> SHA256Digest {
        guard size >= 0, size <= self.size else { throw .sizeOutOfRange(size: size, available: self.size) }
        if size == self.size { return root }
        return try ProofBuilder(perfectSubtree: perfectSubtree).root(size: size)
    }

    func inclusionProof(leafIndex: Int, treeSize: Int) throws(MerkleTreeError) -> InclusionProof {
        guard treeSize <= size else { throw .sizeOutOfRange(size: treeSize, available: size) }
        return try ProofBuilder(perfectSubtree: perfectSubtree).inclusionProof(leafIndex: leafIndex, treeSize: treeSize)
    }

    func consistencyProof(oldSize: Int, newSize: Int) throws(MerkleTreeError) -> ConsistencyProof {
        guard newSize <= size else { throw .sizeOutOfRange(size: newSize, available: size) }
        return try ProofBuilder(perfectSubtree: perfectSubtree).consistencyProof(oldSize: oldSize, newSize: newSize)
    }

    func leafHash(at index: Int) throws(MerkleTreeError) -> SHA256Digest {
        guard index >= 0, index < size else { throw .leafIndexOutOfRange(leafIndex: index, treeSize: size) }
        return try readLeaves(index..<(index + 1))[0]
    }

    private func perfectSubtree(level: Int, index: Int) throws(MerkleTreeError) -> SHA256Digest {
        if level >= Self.storedLevel {
            let slot = level - Self.storedLevel
            if slot < upperLevels.count, index < upperLevels[slot].count { return upperLevels[slot][index] }
        }
        let start = index << level
        return Merkle.root(of: try readLeaves(start..<(start + (1 << level))))
    }

    private func readLeaves(_ range: Range<Int>) throws(MerkleTreeError) -> [SHA256Digest] {
        do {
            return try leaves.read(range)
        } catch {
            throw .unreadable(error.description)
        }
    }
}

/// Leaf hashes by leaf index: in the `index/leaves` file (32 bytes each) and, for a read-only
/// journal that may not write there, in memory after the part the file already holds.
final class LeafStore {
    private let file: FileDescriptor?
    private let writable: Bool
    /// Leaves `[0, fileCount)` are in the file.
    private(set) var fileCount: Int
    private var memory: [SHA256Digest] = []

    /// `trusted` is how many leading entries of the file are known to match the log.
    init(file: FileDescriptor?, writable: Bool, trusted: Int) {
        self.file = file
        self.writable = writable && file != nil
        self.fileCount = file == nil ? 0 : trusted
    }

    var count: Int { fileCount + memory.count }

    func append(_ hashes: [SHA256Digest]) throws(JournalError) {
        guard writable, let file else {
            memory.append(contentsOf: hashes)
            return
        }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(hashes.count * SHA256Digest.byteCount)
        for hash in hashes { hash.append(to: &bytes) }
        try file.write(bytes, at: fileCount * SHA256Digest.byteCount)
        fileCount += hashes.count
    }

    func read(_ range: Range<Int>) throws(JournalError) -> [SHA256Digest] {
        var out: [SHA256Digest] = []
        out.reserveCapacity(range.count)
        let fromFile = range.lowerBound..<max(range.lowerBound, min(range.upperBound, fileCount))
        if !fromFile.isEmpty, let file {
            let bytes = try file.read(count: fromFile.count * SHA256Digest.byteCount, at: fromFile.lowerBound * SHA256Digest.byteCount)
            guard bytes.count == fromFile.count * SHA256Digest.byteCount else {
                throw .corrupt(file: file.path, offset: bytes.count, seq: nil, reason: "leaf index is shorter than expected")
            }
            bytes.withUnsafeBytes { raw in
                guard let base = raw.baseAddress else { return }
                for i in 0..<fromFile.count { out.append(SHA256Digest(loading: base + i * SHA256Digest.byteCount)) }
            }
        }
        let fromMemory = min(max(range.lowerBound, fileCount), range.upperBound)..<range.upperBound
        if !fromMemory.isEmpty { out.append(contentsOf: memory[(fromMemory.lowerBound - fileCount)..<(fromMemory.upperBound - fileCount)]) }
        return out
    }

    /// Drops entries past `count` (after recovery shortened the log).
    func truncate(to count: Int) throws(JournalError) {
        if count < fileCount {
            fileCount = count
            memory.removeAll()
            if writable, let file { try file.truncate(to: count * SHA256Digest.byteCount) }
        } else {
            memory.removeLast(self.count - count)
        }
    }

    func sync() throws(JournalError) {
        if writable, let file { try file.sync() }
    }
}
