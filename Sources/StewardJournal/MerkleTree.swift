/// An in-memory RFC 6962 tree over leaf hashes, for proofs over data that fits in memory.
///
/// The journal uses the same proof construction over its on-disk index; this type is the
/// plain version for callers and tests.
public struct MerkleTree: Sendable {
    public private(set) var leafHashes: [SHA256Digest]

    public init(leafHashes: [SHA256Digest] = []) {
        self.leafHashes = leafHashes
    }

    public var size: Int { leafHashes.count }

    public mutating func append(leafHash: SHA256Digest) {
        leafHashes.append(leafHash)
    }

    /// The tree head over the first `size` leaves (all of them by default).
    public func root(size: Int? = nil) throws(MerkleTreeError) -> SHA256Digest {
        let size = size ?? leafHashes.count
        guard size >= 0, size <= leafHashes.count else { throw .sizeOutOfRange(size: size, available: leafHashes.count) }
        return Merkle.root(of: leafHashes[0..<size])
    }

    public func inclusionProof(leafIndex: Int, treeSize: Int? = nil) throws(MerkleTreeError) -> InclusionProof {
        let treeSize = treeSize ?? leafHashes.count
        guard treeSize <= leafHashes.count else { throw .sizeOutOfRange(size: treeSize, available: leafHashes.count) }
        return try ProofBuilder(perfectSubtree: perfectSubtree).inclusionProof(leafIndex: leafIndex, treeSize: treeSize)
    }

    public func consistencyProof(oldSize: Int, newSize: Int? = nil) throws(MerkleTreeError) -> ConsistencyProof {
        let newSize = newSize ?? leafHashes.count
        guard newSize <= leafHashes.count else { throw .sizeOutOfRange(size: newSize, available: leafHashes.count) }
        return try ProofBuilder(perfectSubtree: perfectSubtree).consistencyProof(oldSize: oldSize, newSize: newSize)
    }

    private func perfectSubtree(level: Int, index: Int) -> SHA256Digest {
        let start = index << level
        return Merkle.root(of: leafHashes[start..<(start + (1 << level))])
    }
}

/// A proof or root was asked for a size the tree cannot answer.
public enum MerkleTreeError: Error, Sendable, Equatable, CustomStringConvertible {
    case sizeOutOfRange(size: Int, available: Int)
    case leafIndexOutOfRange(leafIndex: Int, treeSize: Int)
    case oldSizeOutOfRange(oldSize: Int, newSize: Int)
    /// The leaf index backing the tree could not be read.
    case unreadable(String)

    public var description: String {
        switch self {
        case .sizeOutOfRange(let size, let available): return "tree size \(size) is not between 0 and \(available)"
        case .leafIndexOutOfRange(let index, let size): return "leaf index \(index) is not below the tree size \(size)"
        case .oldSizeOutOfRange(let old, let new): return "old size \(old) is not between 1 and \(new)"
        case .unreadable(let why): return "cannot read the tree: \(why)"
        }
    }
}

/// The frontier of a growing tree: the roots of its perfect subtrees, one per set bit of the
/// size, so appending is amortized one node hash and the root is at most 63 more.
struct MerkleFrontier: Sendable, Equatable {
    /// `nodes[level]` is meaningful only when bit `level` of `size` is set.
    private(set) var nodes: [SHA256Digest] = []
    private(set) var size = 0

    init() {}

    /// Rebuilds a frontier from its saved nodes; nil when the count does not fit the size.
    init?(size: Int, nodes: [SHA256Digest]) {
        guard size >= 0, nodes.count == 64 - size.leadingZeroBitCount else { return nil }
        self.size = size
        self.nodes = nodes
    }

    /// Adds a leaf and calls `completed(level, node)` for every perfect subtree it closes, so an
    /// index can keep the upper levels of the tree without recomputing them.
    mutating func append(_ leaf: SHA256Digest, completed: (Int, SHA256Digest) -> Void = { _, _ in }) {
        var node = leaf
        var level = 0
        var remaining = size
        while remaining & 1 == 1 {
            node = Merkle.nodeHash(nodes[level], node)
            level += 1
            remaining >>= 1
            completed(level, node)
        }
        if level == nodes.count { nodes.append(node) } else { nodes[level] = node }
        size += 1
    }

    var root: SHA256Digest {
        var running: SHA256Digest?
        for level in 0..<nodes.count where size & (1 << level) != 0 {
            if let right = running {
                running = Merkle.nodeHash(nodes[level], right)
            } else {
                running = nodes[level]
            }
        }
        return running ?? Merkle.emptyRoot
    }
}

/// Builds RFC 6962 proofs from a source of perfect-subtree hashes, so the same code serves the
/// in-memory tree and the journal's on-disk index.
struct ProofBuilder {
    /// The hash of leaves `[index << level, (index + 1) << level)`.
    var perfectSubtree: (_ level: Int, _ index: Int) throws(MerkleTreeError) -> SHA256Digest

    /// The root of the first `size` leaves, from the perfect subtrees its binary form names.
    func root(size: Int) throws(MerkleTreeError) -> SHA256Digest {
        guard size > 0 else { return Merkle.emptyRoot }
        return try rangeHash(0, size)
    }

    func inclusionProof(leafIndex: Int, treeSize: Int) throws(MerkleTreeError) -> InclusionProof {
        guard leafIndex >= 0, leafIndex < treeSize else { throw .leafIndexOutOfRange(leafIndex: leafIndex, treeSize: treeSize) }
        var hashes: [SHA256Digest] = []
        try path(leafIndex, 0, treeSize, into: &hashes)
        return InclusionProof(leafIndex: leafIndex, treeSize: treeSize, hashes: hashes)
    }

    func consistencyProof(oldSize: Int, newSize: Int) throws(MerkleTreeError) -> ConsistencyProof {
        guard oldSize > 0, oldSize <= newSize else { throw .oldSizeOutOfRange(oldSize: oldSize, newSize: newSize) }
        var hashes: [SHA256Digest] = []
        if oldSize < newSize { try subproof(oldSize, 0, newSize, complete: true, into: &hashes) }
        return ConsistencyProof(oldSize: oldSize, newSize: newSize, hashes: hashes)
    }

    /// MTH(D[low..<high]). Subtrees in RFC 6962 always start at a multiple of their split size,
    /// so every power-of-two range here is a perfect subtree.
    private func rangeHash(_ low: Int, _ high: Int) throws(MerkleTreeError) -> SHA256Digest {
        let count = high - low
        if count & (count - 1) == 0 {
            let level = count.trailingZeroBitCount
            return try perfectSubtree(level, low >> level)
        }
        let split = largestPowerOfTwo(below: count)
        return Merkle.nodeHash(try rangeHash(low, low + split), try rangeHash(low + split, high))
    }

    /// PATH(m, D[low..<high]) from RFC 6962 section 2.1.1, appended leaf-side first.
    private func path(_ m: Int, _ low: Int, _ high: Int, into hashes: inout [SHA256Digest]) throws(MerkleTreeError) {
        let count = high - low
        guard count > 1 else { return }
        let split = largestPowerOfTwo(below: count)
        if m < split {
            try path(m, low, low + split, into: &hashes)
            hashes.append(try rangeHash(low + split, high))
        } else {
            try path(m - split, low + split, high, into: &hashes)
            hashes.append(try rangeHash(low, low + split))
        }
    }

    /// SUBPROOF(m, D[low..<high], b) from RFC 6962 section 2.1.2.
    private func subproof(_ m: Int, _ low: Int, _ high: Int, complete: Bool, into hashes: inout [SHA256Digest]) throws(MerkleTreeError) {
        let count = high - low
        if m == count {
            if !complete { hashes.append(try rangeHash(low, high)) }
            return
        }
        let split = largestPowerOfTwo(below: count)
        if m <= split {
            try subproof(m, low, low + split, complete: complete, into: &hashes)
            hashes.append(try rangeHash(low + split, high))
        } else {
            try subproof(m - split, low + split, high, complete: false, into: &hashes)
            hashes.append(try rangeHash(low, low + split))
        }
    }
}

/// The largest power of two strictly below `n` (n > 1).
private func largestPowerOfTwo(below n: Int) -> Int {
    1 << (Int.bitWidth - 1 - (n - 1).leadingZeroBitCount)
}
