import Foundation
import StewardCore
import StewardJournal
import StewardProtocol

/// What the reviewer pages read: every campaign and every link revocation, folded once and
/// brought up to date only when the journal has grown.
///
/// A page used to open the folder and fold the journal's review events for each request;
/// with two hundred managers opening their links after the launch e-mail that is two hundred
/// folds of the same events. Here a request costs one `stat` of the journal's last segment
/// while nothing changed, and the events appended since the last look when something did
/// (a decision from a page, a `steward review` command in a terminal).
actor ReviewView {
    private let configPath: String
    private let segments: URL
    private var stamp: JournalStamp?
    private var current = Snapshot()

    init(configPath: String, stateDirectory: URL) {
        self.configPath = configPath
        self.segments = stateDirectory.appendingPathComponent("journal/segments")
    }

    /// The campaigns as the journal has them now.
    struct Snapshot: Sendable {
        var book = ReviewBook()
        /// `review.links-revoked`: per campaign, the reviewer (nil: everyone) and the time
        /// before which links were revoked.
        var revocations: [String: [(reviewer: String?, before: Int)]] = [:]
        var reviewerGroups: [String: [String]] = [:]
        /// The last event folded.
        var throughSeq = 0
        /// Per open campaign, the items each current-stage reviewer (`Reviewer.description`)
        /// holds: a page then costs its reviewer's items, not the whole campaign's.
        var assigned: [String: [String: [Int]]] = [:]

        /// The open items `email` may decide now in `campaign`, in item order.
        func openItems(_ campaign: Campaign, for email: String) -> [Int] {
            guard let map = assigned[campaign.id] else { return campaign.openItems(for: email, groups: reviewerGroups) }
            let email = email.lowercased()
            let keys = [Reviewer.person(email).description]
                + reviewerGroups.filter { $0.value.contains(email) }.map { Reviewer.group($0.key).description }
            return keys.flatMap { map[$0] ?? [] }.sorted().filter { i in
                campaign.progress[i].status == .open(stage: campaign.stage)
                    && campaign.progress[i].currentReviewer(campaign.stage)?.includes(email, groups: reviewerGroups) == true
            }
        }

        mutating func indexReviewers() {
            assigned = [:]
            for (id, campaign) in book.campaigns where !campaign.isClosed {
                var map: [String: [Int]] = [:]
                for i in campaign.progress.indices {
                    if let reviewer = campaign.progress[i].currentReviewer(campaign.stage) { map[reviewer.description, default: []].append(i) }
                }
                assigned[id] = map
            }
        }

        /// When links like `link` were last revoked, if ever.
        func revokedBefore(_ link: ReviewLink) -> Int? {
            (revocations[link.campaign] ?? [])
                .filter { ($0.reviewer == nil || $0.reviewer == link.reviewer) && link.issuedAt <= $0.before }
                .map(\.before).max()
        }

        mutating func apply(_ event: StoredEvent) {
            throughSeq = event.seq
            if event.type == EventType.reviewLinksRevoked {
                let d = event.data
                if let campaign = d["campaign"].stringValue, let before = d["before"].intValue {
                    revocations[campaign, default: []].append((d["reviewer"].stringValue, before))
                }
            }
            book.apply(event)
        }
    }

    /// The current view, after folding whatever was appended since the last call.
    func snapshot() throws -> Snapshot {
        let now = JournalStamp(segments: segments, previous: stamp)
        if let stamp, stamp == now { return current }
        let ws = try Workspace.open(configPath: configPath, actor: "steward serve", readOnly: true)
        defer { Task { await ws.close() } }
        var next = ws.journal.size < current.throughSeq ? Snapshot() : current
        next.reviewerGroups = ws.config.governance.reviewerGroups
        try ws.journal.forEachEvent(from: next.throughSeq + 1, matching: EventFilter(type: "review.*")) { event in
            next.apply(event)
            return true
        }
        let folded = next.throughSeq != current.throughSeq || current.assigned.isEmpty
        next.throughSeq = max(next.throughSeq, ws.journal.size)
        if folded { next.indexReviewers() }
        current = next
        stamp = now
        return next
    }
}

/// The journal's newest segment, by name, size and modification time: it changes whenever an
/// event is appended (a new segment has a new name). Taken for every page, so it costs two
/// `stat`s; the folder is listed again only when its own modification time says a segment
/// was added or removed.
struct JournalStamp: Equatable {
    var directoryModified: Int = -1
    var segment: String?
    var size: Int64 = -1
    var modified: Int = -1

    init(segments: URL, previous: JournalStamp? = nil) {
        var info = stat()
        guard stat(segments.path, &info) == 0 else { return }
        directoryModified = Self.nanoseconds(info.st_mtim)
        // File times tick coarsely (a few ms): a folder changed in the last second may change
        // again within the same tick, so only an older time is trusted.
        var clock = timespec()
        clock_gettime(CLOCK_REALTIME, &clock)
        let settled = directoryModified < Self.nanoseconds(clock) - 1_000_000_000
        if let previous, settled, previous.directoryModified == directoryModified, previous.segment != nil {
            segment = previous.segment
        } else {
            guard let names = try? FileManager.default.contentsOfDirectory(atPath: segments.path) else { return }
            segment = names.filter { $0.hasSuffix(".jsonl") }.max()
        }
        guard let segment, stat(segments.appendingPathComponent(segment).path, &info) == 0 else { return }
        size = Int64(info.st_size)
        modified = Self.nanoseconds(info.st_mtim)
    }

    private static func nanoseconds(_ t: timespec) -> Int { t.tv_sec * 1_000_000_000 + t.tv_nsec }
}
