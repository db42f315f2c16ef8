import Foundation

/// A 32-byte SHA-256 value: a leaf hash, a node hash or a tree root.
///
/// Kept as four big-endian words so equality, hashing and copying cost a few instructions,
/// which matters when a verifier compares a million leaves.
public struct SHA256Digest: Hashable, Sendable {
    /// The length of every digest, and the only hash length the Merkle verifiers accept.
    public static let byteCount = 32

    fileprivate var word0: UInt64
    fileprivate var word1: UInt64
    fileprivate var word2: UInt64
    fileprivate var word3: UInt64

    init(_ word0: UInt64, _ word1: UInt64, _ word2: UInt64, _ word3: UInt64) {
        self.word0 = word0
        self.word1 = word1
        self.word2 = word2
        self.word3 = word3
    }

    /// The digest in `bytes`, or nil unless there are exactly 32 of them.
    public init?(bytes: some Collection<UInt8>) {
        guard bytes.count == Self.byteCount else { return nil }
        var words: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
        withUnsafeMutableBytes(of: &words) { raw in
            for (i, byte) in bytes.enumerated() { raw[i] = byte }
        }
        self.init(UInt64(bigEndian: words.0), UInt64(bigEndian: words.1), UInt64(bigEndian: words.2), UInt64(bigEndian: words.3))
    }

    /// Reads 32 bytes at `pointer`.
    init(loading pointer: UnsafeRawPointer) {
        self.init(
            UInt64(bigEndian: pointer.loadUnaligned(fromByteOffset: 0, as: UInt64.self)),
            UInt64(bigEndian: pointer.loadUnaligned(fromByteOffset: 8, as: UInt64.self)),
            UInt64(bigEndian: pointer.loadUnaligned(fromByteOffset: 16, as: UInt64.self)),
            UInt64(bigEndian: pointer.loadUnaligned(fromByteOffset: 24, as: UInt64.self)))
    }

    /// Standard base64 (RFC 4648 section 4), as checkpoints and proof files carry it; nil when
    /// the text is not base64 or does not decode to 32 bytes.
    public init?(base64: String) {
        guard let data = Data(base64Encoded: base64) else { return nil }
        self.init(bytes: data)
    }

    /// Lowercase hexadecimal, 64 characters.
    public init?(hex: String) {
        let utf8 = Array(hex.utf8)
        guard utf8.count == 64 else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(32)
        var i = 0
        while i < 64 {
            guard let high = hexNibble(utf8[i]), let low = hexNibble(utf8[i + 1]) else { return nil }
            bytes.append(high << 4 | low)
            i += 2
        }
        self.init(bytes: bytes)
    }

    public var bytes: [UInt8] {
        var out = [UInt8](repeating: 0, count: Self.byteCount)
        out.withUnsafeMutableBytes { store(into: $0.baseAddress) }
        return out
    }

    public var base64: String { Data(bytes).base64EncodedString() }

    public var hex: String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(64)
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Writes the 32 bytes at `pointer`, which must have room for them.
    func store(into pointer: UnsafeMutableRawPointer?) {
        guard let pointer else { return }
        pointer.storeBytes(of: word0.bigEndian, toByteOffset: 0, as: UInt64.self)
        pointer.storeBytes(of: word1.bigEndian, toByteOffset: 8, as: UInt64.self)
        pointer.storeBytes(of: word2.bigEndian, toByteOffset: 16, as: UInt64.self)
        pointer.storeBytes(of: word3.bigEndian, toByteOffset: 24, as: UInt64.self)
    }

    /// Appends the 32 bytes to `out`.
    func append(to out: inout [UInt8]) {
        withUnsafeBytes(of: (word0.bigEndian, word1.bigEndian, word2.bigEndian, word3.bigEndian)) {
            out.append(contentsOf: $0)
        }
    }
}

extension SHA256Digest: CustomStringConvertible {
    public var description: String { hex }
}

private func hexNibble(_ c: UInt8) -> UInt8? {
    switch c {
    case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - UInt8(ascii: "0")
    case UInt8(ascii: "a")...UInt8(ascii: "f"): return c - UInt8(ascii: "a") + 10
    case UInt8(ascii: "A")...UInt8(ascii: "F"): return c - UInt8(ascii: "A") + 10
    default: return nil
    }
}
