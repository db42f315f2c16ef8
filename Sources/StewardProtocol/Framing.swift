#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Reads newline-delimited messages from a file descriptor with a hard line limit.
///
/// Not thread-safe: one reader thread owns it. Lines are handed out as buffer views valid only
/// inside the callback, so the hot path never copies a message.
public final class LineReader {
    public enum Failure: Error, Sendable, Equatable, CustomStringConvertible {
        case lineTooLong(limit: Int)
        case readFailed(errno: Int32)

        public var description: String {
            switch self {
            case .lineTooLong(let limit): return "a line is longer than the \(limit / (1024 * 1024)) MiB limit"
            case .readFailed(let e): return "read failed: \(String(cString: strerror(e)))"
            }
        }
    }

    private let fd: Int32
    private let maxLine: Int
    private var buffer: UnsafeMutableRawBufferPointer
    private var start = 0
    private var end = 0
    private var eof = false

    public init(fd: Int32, maxLine: Int = maxLineBytes, initialCapacity: Int = 64 * 1024) {
        self.fd = fd
        self.maxLine = maxLine
        buffer = .allocate(byteCount: initialCapacity, alignment: 1)
    }

    deinit { buffer.deallocate() }

    /// Calls `body` with the next line (without its `\n` or a trailing `\r`). Returns false at
    /// end of input. A last line without a newline is still delivered.
    public func nextLine(_ body: (UnsafeBufferPointer<UInt8>) throws -> Void) throws -> Bool {
        var scanFrom = start
        while true {
            if scanFrom < end, let base = buffer.baseAddress {
                let found = memchr(base + scanFrom, 0x0A, end - scanFrom)
                if let found {
                    let newline = base.distance(to: found)
                    var lineEnd = newline
                    if lineEnd > start, buffer[lineEnd - 1] == 0x0D { lineEnd -= 1 }
                    if lineEnd - start > maxLine { throw Failure.lineTooLong(limit: maxLine) }
                    let line = UnsafeBufferPointer(start: (base + start).assumingMemoryBound(to: UInt8.self), count: lineEnd - start)
                    start = newline + 1
                    try body(line)
                    return true
                }
                scanFrom = end
            }
            if end - start > maxLine { throw Failure.lineTooLong(limit: maxLine) }
            if eof {
                guard end > start, let base = buffer.baseAddress else { return false }
                let line = UnsafeBufferPointer(start: (base + start).assumingMemoryBound(to: UInt8.self), count: end - start)
                start = end
                try body(line)
                return true
            }
            scanFrom -= compactIfNeeded()
            growIfFull()
            guard let base = buffer.baseAddress else { return false }
            let n = read(fd, base + end, buffer.count - end)
            if n > 0 {
                end += n
            } else if n == 0 {
                eof = true
            } else if errno != EINTR {
                throw Failure.readFailed(errno: errno)
            }
        }
    }

    /// Grows the buffer when it is full, up to a little past the line limit.
    private func growIfFull() {
        if end < buffer.count { return }
        let newSize = min(buffer.count * 2, maxLine + 64 * 1024 + 2)
        guard newSize > buffer.count else { return }
        let bigger = UnsafeMutableRawBufferPointer.allocate(byteCount: newSize, alignment: 1)
        bigger.copyMemory(from: UnsafeRawBufferPointer(rebasing: buffer[0..<end]))
        buffer.deallocate()
        buffer = bigger
    }

    /// Moves unread bytes to the front when the free tail is small; returns how far they moved.
    private func compactIfNeeded() -> Int {
        guard start > 0, buffer.count - end < buffer.count / 4 || start == end else { return 0 }
        let shift = start
        if end > start, let base = buffer.baseAddress {
            memmove(base, base + start, end - start)
        }
        end -= start
        start = 0
        return shift
    }
}

/// Writes whole buffers to a file descriptor, retrying short writes and EINTR.
public enum FDWrite {
    /// Returns false when the other end is gone (EPIPE) or the write failed otherwise.
    @discardableResult
    public static func all(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) -> Bool {
        guard var p = bytes.baseAddress else { return true }
        var remaining = bytes.count
        while remaining > 0 {
            let n = write(fd, p, remaining)
            if n > 0 {
                p += n
                remaining -= n
            } else if n < 0 && errno == EINTR {
                continue
            } else {
                return false
            }
        }
        return true
    }

    @discardableResult
    public static func all(_ fd: Int32, _ bytes: [UInt8]) -> Bool {
        bytes.withUnsafeBytes { all(fd, $0) }
    }
}
