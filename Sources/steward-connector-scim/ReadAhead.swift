import StewardProtocol

/// Fetches the next pages of a listing while the host is still busy with the current one, so
/// round trips to the provider overlap each other and the host's work. With index paging the
/// following start indexes are known in advance, so several pages are fetched at once; with
/// cursors, only the next. Pages not asked for soon are dropped.
actor ReadAhead<Item: JSONConvertible> {
    private typealias Fetch = Task<Fetched, Error>
    private var pending: [String: (task: Fetch, started: ContinuousClock.Instant)] = [:]
    private var order: [String] = []
    private let limit: Int
    /// A page fetched ahead longer ago than this is fetched again: a listing that pauses
    /// should not be served old data.
    private let freshFor: Duration

    /// What a fetch returns: the page, and the cursors of the pages that will probably be asked
    /// for next, nearest first.
    struct Fetched: Sendable {
        var page: StewardProtocol.Page<Item>
        var upcoming: [String]
    }

    init(limit: Int = 8, freshFor: Duration = .seconds(30)) {
        self.limit = limit
        self.freshFor = freshFor
    }

    /// The page for `key` at `cursor`: the one fetched ahead if there is one, else fetched now.
    /// Then the upcoming pages' fetches start.
    func page(_ key: String, cursor: String?, fetch: @escaping @Sendable (String?) async throws -> Fetched) async throws -> StewardProtocol.Page<Item> {
        let task: Fetch
        if let cursor, let ahead = take(key + "\u{0}" + cursor) {
            task = ahead
        } else {
            task = Task { try await fetch(cursor) }
        }
        let fetched = try await withTaskCancellationHandler { try await task.value } onCancel: { task.cancel() }
        for next in fetched.upcoming where pending[key + "\u{0}" + next] == nil {
            put(key + "\u{0}" + next, Task { try await fetch(next) })
        }
        return fetched.page
    }

    private func take(_ key: String) -> Fetch? {
        guard let entry = pending.removeValue(forKey: key) else { return nil }
        order.removeAll { $0 == key }
        guard ContinuousClock.now - entry.started < freshFor else {
            entry.task.cancel()
            return nil
        }
        return entry.task
    }

    private func put(_ key: String, _ task: Fetch) {
        pending[key]?.task.cancel()
        pending[key] = (task, ContinuousClock.now)
        order.removeAll { $0 == key }
        order.append(key)
        while order.count > limit {
            let oldest = order.removeFirst()
            pending.removeValue(forKey: oldest)?.task.cancel()
        }
    }
}
