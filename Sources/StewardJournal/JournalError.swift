import Foundation

/// Everything that can go wrong with the journal, each naming the file, field or position.
///
/// Messages never contain checkpoint key material.
public enum JournalError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A system call failed; `path` is the file it was about.
    case io(operation: String, path: String, errno: Int32)
    /// A record that was already durable is damaged or altered. The journal refuses to open
    /// rather than skip or truncate it.
    case corrupt(file: String, offset: Int, seq: Int?, reason: String)
    /// The log no longer hashes to a root it signed earlier.
    case checkpointMismatch(size: Int, file: String, reason: String)
    case invalidEvent(field: String, reason: String)
    case eventTooLarge(bytes: Int, limit: Int)
    /// Another process has the journal open for writing.
    case locked(path: String)
    case readOnly
    case closed
    /// An earlier write or fsync failed; the journal must be reopened so recovery can run.
    case writerFailed(reason: String)
    case noCheckpointKey
    case badCheckpointKey(reference: String, reason: String)
    case badCheckpoint(source: String, reason: String)
    case checkpointRefused(reason: String)
    case invalidSnapshotName(String)
    case seqOutOfRange(seq: Int, size: Int)
    case invalidOptions(String)
    case proof(String)

    public var description: String {
        switch self {
        case .io(let operation, let path, let code):
            return "\(operation) \(path): \(String(cString: strerror(code)))"
        case .corrupt(let file, let offset, let seq, let reason):
            let at = seq.map { "seq \($0), " } ?? ""
            return "journal corrupt or altered at \(file) (\(at)byte offset \(offset)): \(reason)"
        case .checkpointMismatch(let size, let file, let reason):
            return "journal does not match checkpoint \(file) at size \(size): \(reason)"
        case .invalidEvent(let field, let reason):
            return "invalid event: \(field) \(reason)"
        case .eventTooLarge(let bytes, let limit):
            return "event is \(bytes) bytes, more than the limit of \(limit)"
        case .locked(let path):
            return "journal \(path) is open for writing by another process"
        case .readOnly:
            return "journal is open read-only"
        case .closed:
            return "journal is closed"
        case .writerFailed(let reason):
            return "journal writer failed earlier (\(reason)); reopen the journal"
        case .noCheckpointKey:
            return "no checkpoint key is configured"
        case .badCheckpointKey(let reference, let reason):
            return "checkpoint key \(reference): \(reason)"
        case .badCheckpoint(let source, let reason):
            return "checkpoint \(source): \(reason)"
        case .checkpointRefused(let reason):
            return "refusing to sign a checkpoint: \(reason)"
        case .invalidSnapshotName(let name):
            return "snapshot name \"\(name)\" must be 1 to 100 letters, digits, '.', '_' or '-'"
        case .seqOutOfRange(let seq, let size):
            return "seq \(seq) is not in the journal (it holds seq 1 to \(size))"
        case .invalidOptions(let reason):
            return "invalid journal options: \(reason)"
        case .proof(let reason):
            return reason
        }
    }
}
