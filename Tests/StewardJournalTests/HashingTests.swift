import Foundation
import Testing
@testable import StewardJournal

@Suite struct SHA256Tests {
    @Test("FIPS 180-4 examples", arguments: [
        ("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
        ("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
        ("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
         "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"),
        ("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu",
         "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1"),
    ])
    func fipsExamples(message: String, expected: String) {
        #expect(SHA256.hash(Array(message.utf8)).hex == expected)
    }

    @Test func oneMillionA() {
        let message = [UInt8](repeating: UInt8(ascii: "a"), count: 1_000_000)
        #expect(SHA256.hash(message).hex == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
        // The same message fed in awkward pieces must give the same digest.
        var hasher = SHA256()
        var offset = 0
        var piece = 1
        while offset < message.count {
            let end = min(message.count, offset + piece)
            hasher.update(message[offset..<end])
            offset = end
            piece = piece % 131 + 7
        }
        #expect(hasher.finalize().hex == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    @Test func everyPaddingBoundary() throws {
        // Lengths around the 55/56/64-byte padding edges, against openssl when present,
        // and always against one-byte-at-a-time feeding.
        for length in 0...130 {
            let message = (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
            var bytewise = SHA256()
            for byte in message { bytewise.update(byte: byte) }
            #expect(bytewise.finalize() == SHA256.hash(message), "length \(length)")
        }
    }

    @Test(.enabled(if: OpenSSL.isAvailable))
    func matchesOpenSSLOnRandomInputs() throws {
        var generator = SystemRandomNumberGenerator()
        let directory = try TemporaryDirectory()
        var lengths = [0, 1, 55, 56, 63, 64, 65, 100_000]
        for _ in 0..<24 { lengths.append(Int.random(in: 0...100_000, using: &generator)) }
        for (i, length) in lengths.enumerated() {
            let message = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
            let file = directory.url.appendingPathComponent("input-\(i)")
            try Data(message).write(to: file)
            let expected = try OpenSSL.sha256Hex(of: file)
            #expect(SHA256.hash(message).hex == expected, "length \(length)")
        }
    }

    @Test func digestEncodings() throws {
        let digest = SHA256.hash(Array("abc".utf8))
        #expect(SHA256Digest(hex: digest.hex) == digest)
        #expect(SHA256Digest(base64: digest.base64) == digest)
        #expect(SHA256Digest(bytes: digest.bytes) == digest)
        #expect(SHA256Digest(bytes: [UInt8](repeating: 0, count: 31)) == nil)
        #expect(SHA256Digest(base64: "ZG9uJ3QgY2FyZSAy") == nil)
    }
}

@Suite struct HMACTests {
    @Test("RFC 4231 test cases", arguments: [
        ([UInt8](repeating: 0x0b, count: 20), Array("Hi There".utf8),
         "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"),
        (Array("Jefe".utf8), Array("what do ya want for nothing?".utf8),
         "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"),
        ([UInt8](repeating: 0xaa, count: 20), [UInt8](repeating: 0xdd, count: 50),
         "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe"),
        (Array(1...25), [UInt8](repeating: 0xcd, count: 50),
         "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b"),
        ([UInt8](repeating: 0x0c, count: 20), Array("Test With Truncation".utf8),
         "a3b6167473100ee06e0c796c2955552b"),
        ([UInt8](repeating: 0xaa, count: 131), Array("Test Using Larger Than Block-Size Key - Hash Key First".utf8),
         "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"),
        ([UInt8](repeating: 0xaa, count: 131),
         Array("This is a test using a larger than block-size key and a larger than block-size data. The key needs to be hashed before being used by the HMAC algorithm.".utf8),
         "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2"),
    ])
    func rfc4231(key: [UInt8], message: [UInt8], expected: String) {
        // Test case 5 publishes only the first 128 bits.
        #expect(HMACSHA256.authenticate(message, key: key).hex.hasPrefix(expected))
    }

    @Test func validationRejectsAnyChange() {
        let key = Array("a checkpoint key of reasonable length".utf8)
        let message = Array("steward.local/journal\n3\n".utf8)
        var mac = HMACSHA256.authenticate(message, key: key).bytes
        #expect(HMACSHA256.isValid(mac, for: message, key: key))
        mac[7] ^= 0x01
        #expect(!HMACSHA256.isValid(mac, for: message, key: key))
        #expect(!HMACSHA256.isValid(mac.prefix(16), for: message, key: key))
    }
}
