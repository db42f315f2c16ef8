import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An open file descriptor with the few calls the journal needs, each failing with the path.
///
/// Durability is the point of the journal, so this talks to the kernel directly: positional
/// reads and writes, `fdatasync`, `ftruncate`, `flock`. Nothing here buffers.
final class FileDescriptor: Sendable {
    let fd: Int32
    let path: String

    /// Opens `path`; `flags` are `O_*` flags, new files get mode 0600.
    init(path: String, flags: Int32) throws(JournalError) {
        let fd = Glibc.open(path, flags | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw .io(operation: "open", path: path, errno: errno) }
        self.fd = fd
        self.path = path
    }

    deinit { Glibc.close(fd) }

    var size: Int {
        get throws(JournalError) {
            var info = stat()
            guard fstat(fd, &info) == 0 else { throw .io(operation: "stat", path: path, errno: errno) }
            return Int(info.st_size)
        }
    }

    /// Writes all of `bytes` at `offset`, retrying short writes.
    func write(_ bytes: UnsafeRawBufferPointer, at offset: Int) throws(JournalError) {
        var done = 0
        while done < bytes.count {
            guard let base = bytes.baseAddress else { return }
            let n = pwrite(fd, base + done, bytes.count - done, off_t(offset + done))
            if n < 0 {
                if errno == EINTR { continue }
                throw .io(operation: "write", path: path, errno: errno)
            }
            done += n
        }
    }

    func write(_ bytes: [UInt8], at offset: Int) throws(JournalError) {
        let result = bytes.withUnsafeBytes { raw in Result { () throws(JournalError) in try write(raw, at: offset) } }
        try result.get()
    }

    /// Reads up to `buffer.count` bytes at `offset`; fewer only at end of file.
    func read(into buffer: UnsafeMutableRawBufferPointer, at offset: Int) throws(JournalError) -> Int {
        var done = 0
        while done < buffer.count {
            guard let base = buffer.baseAddress else { return 0 }
            let n = pread(fd, base + done, buffer.count - done, off_t(offset + done))
            if n < 0 {
                if errno == EINTR { continue }
                throw .io(operation: "read", path: path, errno: errno)
            }
            if n == 0 { break }
            done += n
        }
        return done
    }

    func read(count: Int, at offset: Int) throws(JournalError) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        let result = bytes.withUnsafeMutableBytes { raw in Result { () throws(JournalError) in try read(into: raw, at: offset) } }
        let n = try result.get()
        if n < count { bytes.removeLast(count - n) }
        return bytes
    }

    /// Makes written data durable; an append returns only after this.
    func sync() throws(JournalError) {
        guard fdatasync(fd) == 0 else { throw .io(operation: "fdatasync", path: path, errno: errno) }
    }

    func truncate(to length: Int) throws(JournalError) {
        guard ftruncate(fd, off_t(length)) == 0 else { throw .io(operation: "truncate", path: path, errno: errno) }
    }

    /// Takes an exclusive advisory lock, failing at once if another process holds it.
    func lockExclusively() throws(JournalError) {
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            if errno == EWOULDBLOCK { throw .locked(path: path) }
            throw .io(operation: "flock", path: path, errno: errno)
        }
    }
}

/// Small filesystem helpers shared by the journal's files.
enum FileSystem {
    static func exists(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0
    }

    /// Creates `path` and any missing parents, private to the owner.
    static func createDirectory(_ path: String) throws(JournalError) {
        if mkdir(path, 0o700) == 0 || errno == EEXIST { return }
        guard errno == ENOENT else { throw .io(operation: "mkdir", path: path, errno: errno) }
        let parent = (path as NSString).deletingLastPathComponent
        guard !parent.isEmpty, parent != path else { throw .io(operation: "mkdir", path: path, errno: ENOENT) }
        try createDirectory(parent)
        if mkdir(path, 0o700) != 0 && errno != EEXIST { throw .io(operation: "mkdir", path: path, errno: errno) }
    }

    /// Makes a directory entry (a new or renamed file) durable.
    static func syncDirectory(_ path: String) throws(JournalError) {
        let directory = try FileDescriptor(path: path, flags: O_RDONLY | O_DIRECTORY)
        guard fsync(directory.fd) == 0 else { throw .io(operation: "fsync", path: path, errno: errno) }
    }

    /// Replaces `path` with `bytes` so a crash leaves either the old or the new file, never a mix.
    static func writeAtomically(_ bytes: [UInt8], to path: String) throws(JournalError) {
        let temporary = path + ".tmp"
        let file = try FileDescriptor(path: temporary, flags: O_WRONLY | O_CREAT | O_TRUNC)
        try file.write(bytes, at: 0)
        try file.sync()
        guard rename(temporary, path) == 0 else { throw .io(operation: "rename", path: temporary, errno: errno) }
        try syncDirectory((path as NSString).deletingLastPathComponent)
    }

    /// The whole file, or nil when it does not exist.
    static func readFile(_ path: String) throws(JournalError) -> [UInt8]? {
        let file: FileDescriptor
        do {
            file = try FileDescriptor(path: path, flags: O_RDONLY)
        } catch {
            if case .io(_, _, let code) = error, code == ENOENT { return nil }
            throw error
        }
        return try file.read(count: try file.size, at: 0)
    }

    /// Names in a directory, sorted; empty when it does not exist.
    static func list(_ path: String) throws(JournalError) -> [String] {
        guard let directory = opendir(path) else {
            if errno == ENOENT { return [] }
            throw .io(operation: "opendir", path: path, errno: errno)
        }
        defer { closedir(directory) }
        var names: [String] = []
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names.sorted()
    }

    static func remove(_ path: String) throws(JournalError) {
        if unlink(path) != 0 && errno != ENOENT { throw .io(operation: "unlink", path: path, errno: errno) }
    }
}
