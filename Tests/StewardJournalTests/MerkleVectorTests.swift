import Foundation
import StewardJSON
import Testing
@testable import StewardJournal

/// The RFC 6962 reference vectors from transparency-dev/merkle (see TestData/merkle/README.md),
/// run unchanged: every happy path must verify and every mutated probe must be refused.
@Suite struct MerkleVectorTests {
    @Test func inclusionVectors() throws {
        let files = try vectorFiles("inclusion")
        #expect(files.count > 80)
        for file in files {
            let probe = try loadVector(file)
            let wantError = try #require(probe["wantErr"].boolValue as Bool?, "\(file.lastPathComponent)")
            let result = Result { () throws(MerkleProofError) in
                try MerkleVerifier.verifyInclusion(
                    leafIndex: try field(probe, "leafIdx"), treeSize: try field(probe, "treeSize"),
                    leafHash: base64(probe["leafHash"]), proof: (probe["proof"].arrayValue ?? []).map(base64),
                    root: base64(probe["root"]))
            }
            #expect(result.isFailure == wantError, "\(relative(file)): \(probe["desc"].stringValue ?? "")")
        }
    }

    @Test func consistencyVectors() throws {
        let files = try vectorFiles("consistency")
        #expect(files.count > 80)
        for file in files {
            let probe = try loadVector(file)
            var wantError = try #require(probe["wantErr"].boolValue as Bool?)
            let name = relative(file)
            let result = Result { () throws(MerkleProofError) in
                try MerkleVerifier.verifyConsistency(
                    oldSize: try field(probe, "size1"), newSize: try field(probe, "size2"),
                    oldRoot: base64(probe["root1"]), newRoot: base64(probe["root2"]),
                    proof: (probe["proof"].arrayValue ?? []).map(base64))
            }
            if name == "consistency/additional/sizes-are-equal-one-and-proof-is-empty.json" {
                // The one documented difference: 12-byte placeholder roots are refused here.
                #expect(result.error == .badHashLength(field: "root1", count: 12))
                wantError = true
            }
            #expect(result.isFailure == wantError, "\(name): \(probe["desc"].stringValue ?? "")")
        }
    }

    @Test func verifiersRefuseOddInputs() {
        let leaf = Merkle.leafHash([UInt8]())
        #expect(throws: MerkleProofError.badHashLength(field: "leafHash", count: 31)) {
            try MerkleVerifier.verifyInclusion(leafIndex: 0, treeSize: 1, leafHash: Array(leaf.bytes.prefix(31)), proof: [], root: leaf.bytes)
        }
        #expect(throws: MerkleProofError.badHashLength(field: "root", count: 33)) {
            try MerkleVerifier.verifyInclusion(leafIndex: 0, treeSize: 1, leafHash: leaf.bytes, proof: [], root: leaf.bytes + [0])
        }
        #expect(throws: MerkleProofError.leafIndexOutOfRange(leafIndex: 1, treeSize: 1)) {
            try MerkleVerifier.verifyInclusion(leafIndex: 1, treeSize: 1, leafHash: leaf.bytes, proof: [], root: leaf.bytes)
        }
        #expect(throws: MerkleProofError.oldSizeZero) {
            try MerkleVerifier.verifyConsistency(oldSize: 0, newSize: 0, oldRoot: Merkle.emptyRoot.bytes, newRoot: Merkle.emptyRoot.bytes, proof: [])
        }
        #expect(throws: MerkleProofError.badHashLength(field: "proof[1]", count: 0)) {
            try MerkleVerifier.verifyConsistency(oldSize: 3, newSize: 8, oldRoot: leaf.bytes, newRoot: leaf.bytes, proof: [leaf.bytes, []])
        }
    }

    // MARK: Loading

    private func vectorFiles(_ kind: String) throws -> [URL] {
        let base = try #require(Bundle.module.resourceURL).appendingPathComponent("TestData/merkle/\(kind)")
        let enumerator = try #require(FileManager.default.enumerator(at: base, includingPropertiesForKeys: nil))
        var files: [URL] = []
        for case let url as URL in enumerator where url.pathExtension == "json" { files.append(url) }
        return files.sorted { $0.path < $1.path }
    }

    private func loadVector(_ file: URL) throws -> JSONValue {
        try JSONParser.parse(Array(try Data(contentsOf: file)))
    }

    private func relative(_ file: URL) -> String {
        let parts = file.pathComponents
        guard let index = parts.lastIndex(where: { $0 == "inclusion" || $0 == "consistency" }) else { return file.path }
        return parts[index...].joined(separator: "/")
    }
}

private func field(_ probe: JSONValue, _ name: String) throws(MerkleProofError) -> Int {
    // The vectors always carry these; a missing one would read as -1 and fail the probe loudly.
    probe[name].intValue ?? -1
}

private func base64(_ value: JSONValue) -> [UInt8] {
    guard let text = value.stringValue, let data = Data(base64Encoded: text) else { return [] }
    return Array(data)
}

extension Result {
    var isFailure: Bool { if case .failure = self { return true } else { return false } }
    var error: Failure? { if case .failure(let e) = self { return e } else { return nil } }
}
