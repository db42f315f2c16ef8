import Foundation

/// SHA-256 (FIPS 180-4), written out so the journal needs no crypto package.
///
/// Every leaf and node of the audit tree goes through here, so the compression function is
/// fully unrolled with the message schedule in sixteen local words: no allocation per block,
/// no table lookups in the round loop. Feed it with `update` and call `finalize`, or use `hash`.
public struct SHA256: Sendable {
    private var h0: UInt32 = 0x6a09e667
    private var h1: UInt32 = 0xbb67ae85
    private var h2: UInt32 = 0x3c6ef372
    private var h3: UInt32 = 0xa54ff53a
    private var h4: UInt32 = 0x510e527f
    private var h5: UInt32 = 0x9b05688c
    private var h6: UInt32 = 0x1f83d9ab
    private var h7: UInt32 = 0x5be0cd19
    /// A partial block waiting for more input.
    private var pending: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0, 0, 0, 0, 0)
    private var pendingCount = 0
    private var totalBytes: UInt64 = 0

    /// The block size in bytes; HMAC pads keys to it.
    public static let blockSize = 64

    public init() {}

    /// The digest of `bytes` in one call.
    public static func hash(_ bytes: some ContiguousBytes) -> SHA256Digest {
        var hasher = SHA256()
        hasher.update(bytes)
        return hasher.finalize()
    }

    public mutating func update(_ bytes: some ContiguousBytes) {
        bytes.withUnsafeBytes { update(rawBytes: $0) }
    }

    public mutating func update(byte: UInt8) {
        withUnsafeBytes(of: byte) { update(rawBytes: $0) }
    }

    public mutating func update(rawBytes bytes: UnsafeRawBufferPointer) {
        guard var input = bytes.baseAddress, bytes.count > 0 else { return }
        var remaining = bytes.count
        totalBytes &+= UInt64(remaining)
        if pendingCount > 0 {
            let take = min(64 - pendingCount, remaining)
            let filled = pendingCount
            withUnsafeMutableBytes(of: &pending) { block in
                UnsafeMutableRawBufferPointer(rebasing: block[filled..<(filled + take)])
                    .copyMemory(from: UnsafeRawBufferPointer(start: input, count: take))
            }
            pendingCount += take
            input += take
            remaining -= take
            guard pendingCount == 64 else { return }
            var block = pending
            withUnsafeBytes(of: &block) { compress($0, blocks: 1) }
            pendingCount = 0
        }
        let wholeBlocks = remaining / 64
        if wholeBlocks > 0 {
            compress(UnsafeRawBufferPointer(start: input, count: wholeBlocks * 64), blocks: wholeBlocks)
            input += wholeBlocks * 64
            remaining -= wholeBlocks * 64
        }
        if remaining > 0 {
            let tail = remaining
            withUnsafeMutableBytes(of: &pending) { block in
                block.copyMemory(from: UnsafeRawBufferPointer(start: input, count: tail))
            }
            pendingCount = tail
        }
    }

    /// Pads the message and returns its digest.
    public consuming func finalize() -> SHA256Digest {
        let bitLength = totalBytes &* 8
        var block = pending
        var count = pendingCount
        withUnsafeMutableBytes(of: &block) { bytes in
            bytes[count] = 0x80
            count += 1
            if count > 56 {
                for i in count..<64 { bytes[i] = 0 }
                compress(UnsafeRawBufferPointer(bytes), blocks: 1)
                count = 0
            }
            for i in count..<56 { bytes[i] = 0 }
            bytes.storeBytes(of: bitLength.bigEndian, toByteOffset: 56, as: UInt64.self)
            compress(UnsafeRawBufferPointer(bytes), blocks: 1)
        }
        return SHA256Digest(
            UInt64(h0) << 32 | UInt64(h1), UInt64(h2) << 32 | UInt64(h3),
            UInt64(h4) << 32 | UInt64(h5), UInt64(h6) << 32 | UInt64(h7))
    }

    /// Runs the compression function over `blocks` consecutive 64-byte blocks.
    private mutating func compress(_ input: UnsafeRawBufferPointer, blocks: Int) {
        guard var p = input.baseAddress, blocks > 0 else { return }
        var a = h0, b = h1, c = h2, d = h3, e = h4, f = h5, g = h6, h = h7
        for _ in 0..<blocks {
            var w0 = loadWord(p, 0), w1 = loadWord(p, 1), w2 = loadWord(p, 2), w3 = loadWord(p, 3)
            var w4 = loadWord(p, 4), w5 = loadWord(p, 5), w6 = loadWord(p, 6), w7 = loadWord(p, 7)
            var w8 = loadWord(p, 8), w9 = loadWord(p, 9), w10 = loadWord(p, 10), w11 = loadWord(p, 11)
            var w12 = loadWord(p, 12), w13 = loadWord(p, 13), w14 = loadWord(p, 14), w15 = loadWord(p, 15)

            round(a, b, c, &d, e, f, g, &h, w0 &+ 0x428a2f98)
            round(h, a, b, &c, d, e, f, &g, w1 &+ 0x71374491)
            round(g, h, a, &b, c, d, e, &f, w2 &+ 0xb5c0fbcf)
            round(f, g, h, &a, b, c, d, &e, w3 &+ 0xe9b5dba5)
            round(e, f, g, &h, a, b, c, &d, w4 &+ 0x3956c25b)
            round(d, e, f, &g, h, a, b, &c, w5 &+ 0x59f111f1)
            round(c, d, e, &f, g, h, a, &b, w6 &+ 0x923f82a4)
            round(b, c, d, &e, f, g, h, &a, w7 &+ 0xab1c5ed5)
            round(a, b, c, &d, e, f, g, &h, w8 &+ 0xd807aa98)
            round(h, a, b, &c, d, e, f, &g, w9 &+ 0x12835b01)
            round(g, h, a, &b, c, d, e, &f, w10 &+ 0x243185be)
            round(f, g, h, &a, b, c, d, &e, w11 &+ 0x550c7dc3)
            round(e, f, g, &h, a, b, c, &d, w12 &+ 0x72be5d74)
            round(d, e, f, &g, h, a, b, &c, w13 &+ 0x80deb1fe)
            round(c, d, e, &f, g, h, a, &b, w14 &+ 0x9bdc06a7)
            round(b, c, d, &e, f, g, h, &a, w15 &+ 0xc19bf174)
            w0 = w0 &+ smallSigma1(w14) &+ w9 &+ smallSigma0(w1)
            round(a, b, c, &d, e, f, g, &h, w0 &+ 0xe49b69c1)
            w1 = w1 &+ smallSigma1(w15) &+ w10 &+ smallSigma0(w2)
            round(h, a, b, &c, d, e, f, &g, w1 &+ 0xefbe4786)
            w2 = w2 &+ smallSigma1(w0) &+ w11 &+ smallSigma0(w3)
            round(g, h, a, &b, c, d, e, &f, w2 &+ 0x0fc19dc6)
            w3 = w3 &+ smallSigma1(w1) &+ w12 &+ smallSigma0(w4)
            round(f, g, h, &a, b, c, d, &e, w3 &+ 0x240ca1cc)
            w4 = w4 &+ smallSigma1(w2) &+ w13 &+ smallSigma0(w5)
            round(e, f, g, &h, a, b, c, &d, w4 &+ 0x2de92c6f)
            w5 = w5 &+ smallSigma1(w3) &+ w14 &+ smallSigma0(w6)
            round(d, e, f, &g, h, a, b, &c, w5 &+ 0x4a7484aa)
            w6 = w6 &+ smallSigma1(w4) &+ w15 &+ smallSigma0(w7)
            round(c, d, e, &f, g, h, a, &b, w6 &+ 0x5cb0a9dc)
            w7 = w7 &+ smallSigma1(w5) &+ w0 &+ smallSigma0(w8)
            round(b, c, d, &e, f, g, h, &a, w7 &+ 0x76f988da)
            w8 = w8 &+ smallSigma1(w6) &+ w1 &+ smallSigma0(w9)
            round(a, b, c, &d, e, f, g, &h, w8 &+ 0x983e5152)
            w9 = w9 &+ smallSigma1(w7) &+ w2 &+ smallSigma0(w10)
            round(h, a, b, &c, d, e, f, &g, w9 &+ 0xa831c66d)
            w10 = w10 &+ smallSigma1(w8) &+ w3 &+ smallSigma0(w11)
            round(g, h, a, &b, c, d, e, &f, w10 &+ 0xb00327c8)
            w11 = w11 &+ smallSigma1(w9) &+ w4 &+ smallSigma0(w12)
            round(f, g, h, &a, b, c, d, &e, w11 &+ 0xbf597fc7)
            w12 = w12 &+ smallSigma1(w10) &+ w5 &+ smallSigma0(w13)
            round(e, f, g, &h, a, b, c, &d, w12 &+ 0xc6e00bf3)
            w13 = w13 &+ smallSigma1(w11) &+ w6 &+ smallSigma0(w14)
            round(d, e, f, &g, h, a, b, &c, w13 &+ 0xd5a79147)
            w14 = w14 &+ smallSigma1(w12) &+ w7 &+ smallSigma0(w15)
            round(c, d, e, &f, g, h, a, &b, w14 &+ 0x06ca6351)
            w15 = w15 &+ smallSigma1(w13) &+ w8 &+ smallSigma0(w0)
            round(b, c, d, &e, f, g, h, &a, w15 &+ 0x14292967)
            w0 = w0 &+ smallSigma1(w14) &+ w9 &+ smallSigma0(w1)
            round(a, b, c, &d, e, f, g, &h, w0 &+ 0x27b70a85)
            w1 = w1 &+ smallSigma1(w15) &+ w10 &+ smallSigma0(w2)
            round(h, a, b, &c, d, e, f, &g, w1 &+ 0x2e1b2138)
            w2 = w2 &+ smallSigma1(w0) &+ w11 &+ smallSigma0(w3)
            round(g, h, a, &b, c, d, e, &f, w2 &+ 0x4d2c6dfc)
            w3 = w3 &+ smallSigma1(w1) &+ w12 &+ smallSigma0(w4)
            round(f, g, h, &a, b, c, d, &e, w3 &+ 0x53380d13)
            w4 = w4 &+ smallSigma1(w2) &+ w13 &+ smallSigma0(w5)
            round(e, f, g, &h, a, b, c, &d, w4 &+ 0x650a7354)
            w5 = w5 &+ smallSigma1(w3) &+ w14 &+ smallSigma0(w6)
            round(d, e, f, &g, h, a, b, &c, w5 &+ 0x766a0abb)
            w6 = w6 &+ smallSigma1(w4) &+ w15 &+ smallSigma0(w7)
            round(c, d, e, &f, g, h, a, &b, w6 &+ 0x81c2c92e)
            w7 = w7 &+ smallSigma1(w5) &+ w0 &+ smallSigma0(w8)
            round(b, c, d, &e, f, g, h, &a, w7 &+ 0x92722c85)
            w8 = w8 &+ smallSigma1(w6) &+ w1 &+ smallSigma0(w9)
            round(a, b, c, &d, e, f, g, &h, w8 &+ 0xa2bfe8a1)
            w9 = w9 &+ smallSigma1(w7) &+ w2 &+ smallSigma0(w10)
            round(h, a, b, &c, d, e, f, &g, w9 &+ 0xa81a664b)
            w10 = w10 &+ smallSigma1(w8) &+ w3 &+ smallSigma0(w11)
            round(g, h, a, &b, c, d, e, &f, w10 &+ 0xc24b8b70)
            w11 = w11 &+ smallSigma1(w9) &+ w4 &+ smallSigma0(w12)
            round(f, g, h, &a, b, c, d, &e, w11 &+ 0xc76c51a3)
            w12 = w12 &+ smallSigma1(w10) &+ w5 &+ smallSigma0(w13)
            round(e, f, g, &h, a, b, c, &d, w12 &+ 0xd192e819)
            w13 = w13 &+ smallSigma1(w11) &+ w6 &+ smallSigma0(w14)
            round(d, e, f, &g, h, a, b, &c, w13 &+ 0xd6990624)
            w14 = w14 &+ smallSigma1(w12) &+ w7 &+ smallSigma0(w15)
            round(c, d, e, &f, g, h, a, &b, w14 &+ 0xf40e3585)
            w15 = w15 &+ smallSigma1(w13) &+ w8 &+ smallSigma0(w0)
            round(b, c, d, &e, f, g, h, &a, w15 &+ 0x106aa070)
            w0 = w0 &+ smallSigma1(w14) &+ w9 &+ smallSigma0(w1)
            round(a, b, c, &d, e, f, g, &h, w0 &+ 0x19a4c116)
            w1 = w1 &+ smallSigma1(w15) &+ w10 &+ smallSigma0(w2)
            round(h, a, b, &c, d, e, f, &g, w1 &+ 0x1e376c08)
            w2 = w2 &+ smallSigma1(w0) &+ w11 &+ smallSigma0(w3)
            round(g, h, a, &b, c, d, e, &f, w2 &+ 0x2748774c)
            w3 = w3 &+ smallSigma1(w1) &+ w12 &+ smallSigma0(w4)
            round(f, g, h, &a, b, c, d, &e, w3 &+ 0x34b0bcb5)
            w4 = w4 &+ smallSigma1(w2) &+ w13 &+ smallSigma0(w5)
            round(e, f, g, &h, a, b, c, &d, w4 &+ 0x391c0cb3)
            w5 = w5 &+ smallSigma1(w3) &+ w14 &+ smallSigma0(w6)
            round(d, e, f, &g, h, a, b, &c, w5 &+ 0x4ed8aa4a)
            w6 = w6 &+ smallSigma1(w4) &+ w15 &+ smallSigma0(w7)
            round(c, d, e, &f, g, h, a, &b, w6 &+ 0x5b9cca4f)
            w7 = w7 &+ smallSigma1(w5) &+ w0 &+ smallSigma0(w8)
            round(b, c, d, &e, f, g, h, &a, w7 &+ 0x682e6ff3)
            w8 = w8 &+ smallSigma1(w6) &+ w1 &+ smallSigma0(w9)
            round(a, b, c, &d, e, f, g, &h, w8 &+ 0x748f82ee)
            w9 = w9 &+ smallSigma1(w7) &+ w2 &+ smallSigma0(w10)
            round(h, a, b, &c, d, e, f, &g, w9 &+ 0x78a5636f)
            w10 = w10 &+ smallSigma1(w8) &+ w3 &+ smallSigma0(w11)
            round(g, h, a, &b, c, d, e, &f, w10 &+ 0x84c87814)
            w11 = w11 &+ smallSigma1(w9) &+ w4 &+ smallSigma0(w12)
            round(f, g, h, &a, b, c, d, &e, w11 &+ 0x8cc70208)
            w12 = w12 &+ smallSigma1(w10) &+ w5 &+ smallSigma0(w13)
            round(e, f, g, &h, a, b, c, &d, w12 &+ 0x90befffa)
            w13 = w13 &+ smallSigma1(w11) &+ w6 &+ smallSigma0(w14)
            round(d, e, f, &g, h, a, b, &c, w13 &+ 0xa4506ceb)
            w14 = w14 &+ smallSigma1(w12) &+ w7 &+ smallSigma0(w15)
            round(c, d, e, &f, g, h, a, &b, w14 &+ 0xbef9a3f7)
            w15 = w15 &+ smallSigma1(w13) &+ w8 &+ smallSigma0(w0)
            round(b, c, d, &e, f, g, h, &a, w15 &+ 0xc67178f2)

            a = a &+ h0; b = b &+ h1; c = c &+ h2; d = d &+ h3
            e = e &+ h4; f = f &+ h5; g = g &+ h6; h = h &+ h7
            h0 = a; h1 = b; h2 = c; h3 = d; h4 = e; h5 = f; h6 = g; h7 = h
            p += 64
        }
    }
}

// MARK: - Round helpers

@inline(__always)
private func loadWord(_ p: UnsafeRawPointer, _ index: Int) -> UInt32 {
    UInt32(bigEndian: p.loadUnaligned(fromByteOffset: index &* 4, as: UInt32.self))
}

@inline(__always)
private func rotateRight(_ x: UInt32, _ n: UInt32) -> UInt32 {
    (x &>> n) | (x &<< (32 &- n))
}

@inline(__always)
private func smallSigma0(_ x: UInt32) -> UInt32 {
    rotateRight(x, 7) ^ rotateRight(x, 18) ^ (x &>> 3)
}

@inline(__always)
private func smallSigma1(_ x: UInt32) -> UInt32 {
    rotateRight(x, 17) ^ rotateRight(x, 19) ^ (x &>> 10)
}

/// One round; callers rotate the roles of the eight working variables instead of moving them.
@inline(__always)
private func round(
    _ a: UInt32, _ b: UInt32, _ c: UInt32, _ d: inout UInt32,
    _ e: UInt32, _ f: UInt32, _ g: UInt32, _ h: inout UInt32, _ kw: UInt32
) {
    let bigSigma1 = rotateRight(e, 6) ^ rotateRight(e, 11) ^ rotateRight(e, 25)
    let choose = g ^ (e & (f ^ g))
    let t1 = h &+ bigSigma1 &+ choose &+ kw
    let bigSigma0 = rotateRight(a, 2) ^ rotateRight(a, 13) ^ rotateRight(a, 22)
    let majority = (a & b) ^ (a & c) ^ (b & c)
    d = d &+ t1
    h = t1 &+ bigSigma0 &+ majority
}
