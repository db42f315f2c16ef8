import Foundation

/// RFC 6962 Merkle tree hashing: the prefixes that keep a leaf from posing as a node.
///
/// A journal of `n` events is the tree over its lines in order; the event with sequence number
/// `seq` is the leaf at index `seq - 1`, and the tree of the first `n` events has size `n`.
public enum Merkle {
    /// The root of the empty tree: SHA-256 of nothing.
    public static let emptyRoot = SHA256.hash([UInt8]())

    /// `SHA-256(0x00 || entry)`.
    public static func leafHash(_ entry: some ContiguousBytes) -> SHA256Digest {
        entry.withUnsafeBytes { leafHash(rawBytes: $0) }
    }

    public static func leafHash(rawBytes entry: UnsafeRawBufferPointer) -> SHA256Digest {
        var hasher = SHA256()
        hasher.update(byte: 0x00)
        hasher.update(rawBytes: entry)
        return hasher.finalize()
    }

    /// `SHA-256(0x01 || left || right)`.
    public static func nodeHash(_ left: SHA256Digest, _ right: SHA256Digest) -> SHA256Digest {
        var block: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt8) = (0, 0, 0, 0, 0, 0, 0, 0, 0)
        return withUnsafeMutableBytes(of: &block) { raw in
            raw[0] = 0x01
            left.store(into: raw.baseAddress?.advanced(by: 1))
            right.store(into: raw.baseAddress?.advanced(by: 33))
            var hasher = SHA256()
            hasher.update(rawBytes: UnsafeRawBufferPointer(rebasing: raw[0..<65]))
            return hasher.finalize()
        }
    }

    /// The tree head over `leafHashes`, in one pass with a compact frontier.
    public static func root(of leafHashes: some Sequence<SHA256Digest>) -> SHA256Digest {
        var frontier = MerkleFrontier()
        for leaf in leafHashes { frontier.append(leaf) }
        return frontier.root
    }
}

/// An inclusion proof: the audit path that links one leaf to the root of a tree of a given size.
public struct InclusionProof: Sendable, Equatable {
    public var leafIndex: Int
    public var treeSize: Int
    public var hashes: [SHA256Digest]

    public init(leafIndex: Int, treeSize: Int, hashes: [SHA256Digest]) {
        self.leafIndex = leafIndex
        self.treeSize = treeSize
        self.hashes = hashes
    }
}

/// A consistency proof: the nodes that show a tree of `oldSize` is a prefix of one of `newSize`.
public struct ConsistencyProof: Sendable, Equatable {
    public var oldSize: Int
    public var newSize: Int
    public var hashes: [SHA256Digest]

    public init(oldSize: Int, newSize: Int, hashes: [SHA256Digest]) {
        self.oldSize = oldSize
        self.newSize = newSize
        self.hashes = hashes
    }
}

/// Why a proof was refused. Verifiers fail closed: anything odd is an error, never a pass.
public enum MerkleProofError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A hash that is not 32 bytes; `field` names it (`leafHash`, `root`, `proof[2]`).
    case badHashLength(field: String, count: Int)
    case leafIndexOutOfRange(leafIndex: Int, treeSize: Int)
    case negativeSize
    /// A consistency proof from the empty tree proves nothing, so it is refused.
    case oldSizeZero
    case oldSizeAfterNewSize(oldSize: Int, newSize: Int)
    case wrongProofLength(expected: Int, actual: Int)
    case rootMismatch
    case oldRootMismatch

    public var description: String {
        switch self {
        case .badHashLength(let field, let count): return "\(field) is \(count) bytes, not 32"
        case .leafIndexOutOfRange(let index, let size): return "leaf index \(index) is not below the tree size \(size)"
        case .negativeSize: return "a tree size or leaf index is negative"
        case .oldSizeZero: return "a consistency proof from the empty tree proves nothing"
        case .oldSizeAfterNewSize(let old, let new): return "old size \(old) is larger than new size \(new)"
        case .wrongProofLength(let expected, let actual): return "the proof has \(actual) hashes, expected \(expected)"
        case .rootMismatch: return "the proof does not lead to the expected root"
        case .oldRootMismatch: return "the proof does not lead to the expected old root"
        }
    }
}

/// Checks inclusion and consistency proofs (RFC 9162 sections 2.1.3.2 and 2.1.4.2).
///
/// Hashes come in as raw bytes, as they arrive in a proof file, so a hash of the wrong length
/// is refused with the field it was found in rather than silently padded or truncated.
public enum MerkleVerifier {
    /// The root an inclusion proof leads to; the caller compares it with a trusted root.
    public static func rootFromInclusionProof(
        leafIndex: Int, treeSize: Int, leafHash: [UInt8], proof: [[UInt8]]
    ) throws(MerkleProofError) -> SHA256Digest {
        guard leafIndex >= 0, treeSize >= 0 else { throw .negativeSize }
        guard leafIndex < treeSize else { throw .leafIndexOutOfRange(leafIndex: leafIndex, treeSize: treeSize) }
        let leaf = try digest(leafHash, field: "leafHash")
        let path = try digests(proof)
        let expected = inclusionProofLength(leafIndex: leafIndex, treeSize: treeSize)
        guard path.count == expected else { throw .wrongProofLength(expected: expected, actual: path.count) }

        var index = UInt64(leafIndex)
        var last = UInt64(treeSize - 1)
        var running = leaf
        for sibling in path {
            if index & 1 == 1 || index == last {
                running = Merkle.nodeHash(sibling, running)
                while index & 1 == 0 && index != 0 {
                    index >>= 1
                    last >>= 1
                }
            } else {
                running = Merkle.nodeHash(running, sibling)
            }
            index >>= 1
            last >>= 1
        }
        guard last == 0 else { throw .wrongProofLength(expected: expected, actual: path.count) }
        return running
    }

    public static func verifyInclusion(
        leafIndex: Int, treeSize: Int, leafHash: [UInt8], proof: [[UInt8]], root: [UInt8]
    ) throws(MerkleProofError) {
        let expectedRoot = try digest(root, field: "root")
        let computed = try rootFromInclusionProof(leafIndex: leafIndex, treeSize: treeSize, leafHash: leafHash, proof: proof)
        guard computed == expectedRoot else { throw .rootMismatch }
    }

    public static func verifyInclusion(_ proof: InclusionProof, leafHash: SHA256Digest, root: SHA256Digest) throws(MerkleProofError) {
        try verifyInclusion(
            leafIndex: proof.leafIndex, treeSize: proof.treeSize, leafHash: leafHash.bytes,
            proof: proof.hashes.map(\.bytes), root: root.bytes)
    }

    /// Checks that the tree with `oldRoot` at `oldSize` is a prefix of the tree with `newRoot`.
    public static func verifyConsistency(
        oldSize: Int, newSize: Int, oldRoot: [UInt8], newRoot: [UInt8], proof: [[UInt8]]
    ) throws(MerkleProofError) {
        guard oldSize >= 0, newSize >= 0 else { throw .negativeSize }
        guard oldSize > 0 else { throw .oldSizeZero }
        guard oldSize <= newSize else { throw .oldSizeAfterNewSize(oldSize: oldSize, newSize: newSize) }
        let old = try digest(oldRoot, field: "root1")
        let new = try digest(newRoot, field: "root2")
        var path = try digests(proof)
        if oldSize == newSize {
            guard path.isEmpty else { throw .wrongProofLength(expected: 0, actual: path.count) }
            guard old == new else { throw .rootMismatch }
            return
        }
        let expected = consistencyProofLength(oldSize: oldSize, newSize: newSize)
        guard path.count == expected else { throw .wrongProofLength(expected: expected, actual: path.count) }

        // When the old tree is a complete subtree, its root is the first node of the walk.
        if oldSize & (oldSize - 1) == 0 { path.insert(old, at: 0) }
        var index = UInt64(oldSize - 1)
        var last = UInt64(newSize - 1)
        while index & 1 == 1 {
            index >>= 1
            last >>= 1
        }
        var oldRunning = path[0]
        var newRunning = path[0]
        for node in path.dropFirst() {
            guard last != 0 else { throw .wrongProofLength(expected: expected, actual: proof.count) }
            if index & 1 == 1 || index == last {
                oldRunning = Merkle.nodeHash(node, oldRunning)
                newRunning = Merkle.nodeHash(node, newRunning)
                while index & 1 == 0 && index != 0 {
                    index >>= 1
                    last >>= 1
                }
            } else {
                newRunning = Merkle.nodeHash(newRunning, node)
            }
            index >>= 1
            last >>= 1
        }
        guard last == 0 else { throw .wrongProofLength(expected: expected, actual: proof.count) }
        guard oldRunning == old else { throw .oldRootMismatch }
        guard newRunning == new else { throw .rootMismatch }
    }

    public static func verifyConsistency(_ proof: ConsistencyProof, oldRoot: SHA256Digest, newRoot: SHA256Digest) throws(MerkleProofError) {
        try verifyConsistency(
            oldSize: proof.oldSize, newSize: proof.newSize, oldRoot: oldRoot.bytes, newRoot: newRoot.bytes,
            proof: proof.hashes.map(\.bytes))
    }

    // MARK: Helpers

    /// The number of hashes in an inclusion proof: the inner path below the split where the
    /// leaf's path and the right border part, plus one per set bit on the border.
    static func inclusionProofLength(leafIndex: Int, treeSize: Int) -> Int {
        let index = UInt64(leafIndex)
        let last = UInt64(treeSize - 1)
        let inner = 64 - (index ^ last).leadingZeroBitCount
        let border = (index >> UInt64(inner)).nonzeroBitCount
        return inner + border
    }

    static func consistencyProofLength(oldSize: Int, newSize: Int) -> Int {
        let old = UInt64(oldSize)
        let inner = 64 - ((old - 1) ^ UInt64(newSize - 1)).leadingZeroBitCount
        let shift = UInt64(old.trailingZeroBitCount)
        let border = ((old - 1) >> UInt64(inner)).nonzeroBitCount
        let start = old & (old - 1) == 0 ? 0 : 1
        return start + inner - Int(shift) + border
    }

    private static func digest(_ bytes: [UInt8], field: String) throws(MerkleProofError) -> SHA256Digest {
        guard let digest = SHA256Digest(bytes: bytes) else { throw .badHashLength(field: field, count: bytes.count) }
        return digest
    }

    private static func digests(_ proof: [[UInt8]]) throws(MerkleProofError) -> [SHA256Digest] {
        var out: [SHA256Digest] = []
        out.reserveCapacity(proof.count)
        for (i, bytes) in proof.enumerated() { out.append(try digest(bytes, field: "proof[\(i)]")) }
        return out
    }
}
