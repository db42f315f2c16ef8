import Foundation
import StewardProtocol

/// Serves a listing in pages from one read of the app.
///
/// A recipe reads a whole table at once, and driving a browser is slow, so the first page of a
/// listing runs the flow and keeps what it read; later pages come from that snapshot. So pages
/// honour `pageSize`, the same cursor gives the same page (the host asks again after a
/// retryable failure), and one listing is one consistent view. The few most recent snapshots
/// are kept; an older cursor answers `preconditionFailed`, and the host lists again.
final class ListingPager<Item: JSONConvertible>: @unchecked Sendable {  // `snapshots` and `nextId` are guarded by `lock`
    private let lock = NSLock()
    private var snapshots: [(id: Int, items: [Item])] = []
    private var nextId = 1
    private let keep = 4

    /// The page `params` asks for; `read` reads the whole listing, for a first page.
    func page(_ params: ListParams, read: () async throws -> [Item]) async throws -> Page<Item> {
        guard let cursor = params.cursor else {
            let items = try await read()
            guard let size = params.pageSize, items.count > size else { return Page(items: items) }
            let id = lock.withLock {
                let id = nextId
                nextId += 1
                snapshots.append((id, items))
                if snapshots.count > keep { snapshots.removeFirst() }
                return id
            }
            return slice(items, snapshot: id, from: 0, size: size)
        }
        let parts = cursor.split(separator: ".")
        guard parts.count == 2, let id = Int(parts[0]), let start = Int(parts[1]), start >= 0 else {
            throw ConnectorError(.invalidArgument, "params.cursor: \"\(cursor)\" is not a cursor this connector issued")
        }
        guard let items = lock.withLock({ snapshots.first { $0.id == id }?.items }) else {
            throw ConnectorError(.preconditionFailed, "params.cursor: the listing this cursor belongs to is no longer kept; list again from the start")
        }
        return slice(items, snapshot: id, from: min(start, items.count), size: params.pageSize ?? items.count)
    }

    private func slice(_ items: [Item], snapshot: Int, from start: Int, size: Int) -> Page<Item> {
        let end = min(start + max(1, size), items.count)
        return Page(items: Array(items[start..<end]), nextCursor: end < items.count ? "\(snapshot).\(end)" : nil)
    }
}
