import Foundation

/// HMAC-SHA-256 (RFC 2104), which signs checkpoints with a key kept outside the state directory.
public struct HMACSHA256: Sendable {
    private var inner: SHA256
    private var outer: SHA256

    /// Starts a MAC with `key`; keys longer than a block are hashed first, as RFC 2104 says.
    public init(key: some ContiguousBytes) {
        var block = [UInt8](repeating: 0, count: SHA256.blockSize)
        key.withUnsafeBytes { raw in
            if raw.count > SHA256.blockSize {
                let digest = SHA256.hash(raw).bytes
                block.replaceSubrange(0..<digest.count, with: digest)
            } else {
                block.replaceSubrange(0..<raw.count, with: raw)
            }
        }
        inner = SHA256()
        inner.update(block.map { $0 ^ 0x36 })
        outer = SHA256()
        outer.update(block.map { $0 ^ 0x5c })
    }

    /// The MAC of `message` under `key` in one call.
    public static func authenticate(_ message: some ContiguousBytes, key: some ContiguousBytes) -> SHA256Digest {
        var mac = HMACSHA256(key: key)
        mac.update(message)
        return mac.finalize()
    }

    /// Whether `mac` is the MAC of `message`; compares in constant time so a forger learns
    /// nothing from how long a rejection took.
    public static func isValid(_ mac: some Collection<UInt8>, for message: some ContiguousBytes, key: some ContiguousBytes) -> Bool {
        let expected = authenticate(message, key: key).bytes
        guard mac.count == expected.count else { return false }
        var difference: UInt8 = 0
        for (a, b) in zip(mac, expected) { difference |= a ^ b }
        return difference == 0
    }

    public mutating func update(_ bytes: some ContiguousBytes) {
        inner.update(bytes)
    }

    public consuming func finalize() -> SHA256Digest {
        let innerDigest = inner.finalize()
        outer.update(innerDigest.bytes)
        return outer.finalize()
    }
}
