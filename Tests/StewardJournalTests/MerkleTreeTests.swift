import Foundation
import Testing
@testable import StewardJournal

/// Random trees checked against a naive, line-by-line transcription of RFC 6962 section 2.1.
@Suite struct MerkleTreeTests {
    @Test func rootsMatchNaiveRecomputation() throws {
        var tree = MerkleTree()
        #expect(try tree.root() == Merkle.emptyRoot)
        #expect(Merkle.emptyRoot.hex == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        for i in 0..<300 {
            tree.append(leafHash: Merkle.leafHash(Array("leaf \(i)".utf8)))
            #expect(try tree.root() == NaiveMerkle.root(tree.leafHashes[...]), "size \(i + 1)")
        }
    }

    @Test func knownRootOfEightLeaves() throws {
        // The tree behind the reference vectors: leaves are these eight entries.
        let entries: [[UInt8]] = [[], [0x00], [0x10], [0x20, 0x21], [0x30, 0x31], [0x40, 0x41, 0x42, 0x43],
                                  [0x50, 0x51, 0x52, 0x53, 0x54, 0x55, 0x56, 0x57],
                                  [0x60, 0x61, 0x62, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69, 0x6a, 0x6b, 0x6c, 0x6d, 0x6e, 0x6f]]
        let tree = MerkleTree(leafHashes: entries.map { Merkle.leafHash($0) })
        #expect(try tree.root().base64 == "XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=")
        #expect(try tree.root(size: 1).base64 == "bjQLnP+zepicpUTmu3gKLHiQHT+zNzh2hRGjBhevoB0=")
    }

    @Test func proofsMatchNaiveAndVerify() throws {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<40 {
            let size = Int.random(in: 1...200, using: &generator)
            let leaves = (0..<size).map { _ in Merkle.leafHash((0..<8).map { _ in UInt8.random(in: 0...255, using: &generator) }) }
            let tree = MerkleTree(leafHashes: leaves)
            for _ in 0..<10 {
                let treeSize = Int.random(in: 1...size, using: &generator)
                let index = Int.random(in: 0..<treeSize, using: &generator)
                let proof = try tree.inclusionProof(leafIndex: index, treeSize: treeSize)
                #expect(proof.hashes == NaiveMerkle.path(index, leaves[0..<treeSize]))
                let root = try tree.root(size: treeSize)
                try MerkleVerifier.verifyInclusion(proof, leafHash: leaves[index], root: root)
                // Any other leaf must fail against the same path.
                if treeSize > 1 {
                    let other = (index + 1) % treeSize
                    #expect(throws: MerkleProofError.self) {
                        try MerkleVerifier.verifyInclusion(proof, leafHash: leaves[other], root: root)
                    }
                }

                let oldSize = Int.random(in: 1...treeSize, using: &generator)
                let consistency = try tree.consistencyProof(oldSize: oldSize, newSize: treeSize)
                #expect(consistency.hashes == NaiveMerkle.consistency(oldSize, leaves[0..<treeSize]))
                try MerkleVerifier.verifyConsistency(consistency, oldRoot: try tree.root(size: oldSize), newRoot: root)
                if !consistency.hashes.isEmpty {
                    var tampered = consistency
                    tampered.hashes[tampered.hashes.count - 1] = Merkle.leafHash([0xFF])
                    #expect(throws: MerkleProofError.self) {
                        try MerkleVerifier.verifyConsistency(tampered, oldRoot: try tree.root(size: oldSize), newRoot: root)
                    }
                }
            }
        }
    }

    @Test func frontierReportsCompletedSubtrees() {
        var frontier = MerkleFrontier()
        var completed: [(Int, SHA256Digest)] = []
        let leaves = (0..<16).map { Merkle.leafHash([UInt8($0)]) }
        for leaf in leaves { frontier.append(leaf) { completed.append(($0, $1)) } }
        // 8 nodes at level 1, 4 at 2, 2 at 3, 1 at 4.
        #expect(completed.count == 15)
        #expect(completed.last?.0 == 4)
        #expect(completed.last?.1 == NaiveMerkle.root(leaves[...]))
    }
}

/// RFC 6962 section 2.1 as written: MTH, PATH and SUBPROOF by recursion over the leaves.
enum NaiveMerkle {
    static func root(_ leaves: ArraySlice<SHA256Digest>) -> SHA256Digest {
        if leaves.isEmpty { return Merkle.emptyRoot }
        if leaves.count == 1 { return leaves[leaves.startIndex] }
        let k = split(leaves.count)
        return Merkle.nodeHash(root(leaves.prefix(k)), root(leaves.dropFirst(k)))
    }

    static func path(_ m: Int, _ leaves: ArraySlice<SHA256Digest>) -> [SHA256Digest] {
        if leaves.count <= 1 { return [] }
        let k = split(leaves.count)
        if m < k { return path(m, leaves.prefix(k)) + [root(leaves.dropFirst(k))] }
        return path(m - k, leaves.dropFirst(k)) + [root(leaves.prefix(k))]
    }

    static func consistency(_ m: Int, _ leaves: ArraySlice<SHA256Digest>) -> [SHA256Digest] {
        m == leaves.count ? [] : subproof(m, leaves, true)
    }

    private static func subproof(_ m: Int, _ leaves: ArraySlice<SHA256Digest>, _ b: Bool) -> [SHA256Digest] {
        if m == leaves.count { return b ? [] : [root(leaves)] }
        let k = split(leaves.count)
        if m <= k { return subproof(m, leaves.prefix(k), b) + [root(leaves.dropFirst(k))] }
        return subproof(m - k, leaves.dropFirst(k), false) + [root(leaves.prefix(k))]
    }

    /// The largest power of two smaller than n.
    private static func split(_ n: Int) -> Int {
        var k = 1
        while k * 2 < n { k *= 2 }
        return k
    }
}
