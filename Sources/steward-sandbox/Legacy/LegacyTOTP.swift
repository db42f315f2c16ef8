import Foundation

/// One-time codes as an authenticator app makes them (RFC 6238: HMAC-SHA1, 30 s, 6 digits).
/// The connector computes the same codes on its side; this is the server's half.
struct LegacyTOTP: Sendable {
    let key: [UInt8]

    /// Nil when `base32` is not valid base32 (RFC 4648, padding and spaces ignored).
    init?(base32: String) {
        var bits = 0, buffer = 0
        var key: [UInt8] = []
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567".utf8)
        for byte in base32.uppercased().utf8 where byte != UInt8(ascii: "=") && byte != UInt8(ascii: " ") {
            guard let value = alphabet.firstIndex(of: byte) else { return nil }
            buffer = ((buffer << 5) | value) & 0xFFFF
            bits += 5
            if bits >= 8 {
                bits -= 8
                key.append(UInt8((buffer >> bits) & 0xFF))
            }
        }
        guard !key.isEmpty else { return nil }
        self.key = key
    }

    /// Whether `code` is right for now, one step either side (clocks drift).
    func accepts(_ code: String, at date: Date = Date()) -> Bool {
        let step = Int64(date.timeIntervalSince1970) / 30
        return (-1...1).contains { code == self.code(counter: UInt64(step + Int64($0))) }
    }

    func code(counter: UInt64) -> String {
        var message = [UInt8](repeating: 0, count: 8)
        for i in 0..<8 { message[7 - i] = UInt8((counter >> (8 * UInt64(i))) & 0xFF) }
        let mac = hmacSHA1(key: key, message: message)
        let offset = Int(mac[19] & 0x0F)
        let binary = (UInt32(mac[offset] & 0x7F) << 24) | (UInt32(mac[offset + 1]) << 16)
            | (UInt32(mac[offset + 2]) << 8) | UInt32(mac[offset + 3])
        let text = String(binary % 1_000_000)
        return String(repeating: "0", count: 6 - text.count) + text
    }
}

func hmacSHA1(key: [UInt8], message: [UInt8]) -> [UInt8] {
    var block = key.count > 64 ? sha1(key) : key
    block += [UInt8](repeating: 0, count: 64 - block.count)
    let inner = sha1(block.map { $0 ^ 0x36 } + message)
    return sha1(block.map { $0 ^ 0x5C } + inner)
}

func sha1(_ message: [UInt8]) -> [UInt8] {
    var h: [UInt32] = [0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476, 0xC3D2E1F0]
    var data = message
    let bitLength = UInt64(message.count) * 8
    data.append(0x80)
    while data.count % 64 != 56 { data.append(0) }
    for i in (0..<8).reversed() { data.append(UInt8((bitLength >> (8 * UInt64(i))) & 0xFF)) }
    var w = [UInt32](repeating: 0, count: 80)
    for chunk in stride(from: 0, to: data.count, by: 64) {
        for i in 0..<16 {
            w[i] = (0..<4).reduce(UInt32(0)) { $0 << 8 | UInt32(data[chunk + 4 * i + $1]) }
        }
        for i in 16..<80 {
            let x = w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16]
            w[i] = (x << 1) | (x >> 31)
        }
        var (a, b, c, d, e) = (h[0], h[1], h[2], h[3], h[4])
        for i in 0..<80 {
            let f: UInt32, k: UInt32
            switch i {
            case 0..<20: (f, k) = ((b & c) | (~b & d), 0x5A827999)
            case 20..<40: (f, k) = (b ^ c ^ d, 0x6ED9EBA1)
            case 40..<60: (f, k) = ((b & c) | (b & d) | (c & d), 0x8F1BBCDC)
            default: (f, k) = (b ^ c ^ d, 0xCA62C1D6)
            }
            let t = ((a << 5) | (a >> 27)) &+ f &+ e &+ k &+ w[i]
            (e, d, c, b, a) = (d, c, (b << 30) | (b >> 2), a, t)
        }
        h[0] = h[0] &+ a; h[1] = h[1] &+ b; h[2] = h[2] &+ c; h[3] = h[3] &+ d; h[4] = h[4] &+ e
    }
    return h.flatMap { word in (0..<4).map { UInt8((word >> (24 - 8 * UInt32($0))) & 0xFF) } }
}
