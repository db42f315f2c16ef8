import Synchronization

/// Each review item's HTML, rendered the first time a page shows it. An item never changes
/// once its campaign is launched (its decisions are kept beside it), so a block stays right for
/// the life of the service; past `limit` blocks the cache starts over, to bound its memory.
final class ItemBlockCache: Sendable {
    private struct Blocks {
        var byCampaign: [String: [Int: String]] = [:]
        var count = 0
    }

    private let blocks = Mutex(Blocks())
    let limit: Int

    init(limit: Int = 200_000) { self.limit = limit }

    /// Item `item` (its index in the campaign) of `campaign`, from the cache or `render`.
    func block(campaign: String, item: Int, render: () -> String) -> String {
        if let cached = blocks.withLock({ $0.byCampaign[campaign]?[item] }) { return cached }
        let html = render()
        blocks.withLock { b in
            if b.count >= limit { b = Blocks() }
            if b.byCampaign[campaign, default: [:]].updateValue(html, forKey: item) == nil { b.count += 1 }
        }
        return html
    }
}
