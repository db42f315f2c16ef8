import Foundation

/// How a reviewer (or a whole campaign) reviewed: what auditors now ask for beside the
/// decisions, to tell a review from a rubber stamp.
public struct ReviewQuality: Sendable, Hashable {
    public var reviewer: String
    public var decided: Int
    /// Median seconds per decision: the time since the reviewer's previous decision (or the
    /// stage's start), shared among the items decided together.
    public var medianSeconds: Double
    /// Share of decisions made in bulk, 0...1.
    public var bulkShare: Double
    /// Share of decisions that were the item's recommendation, 0...1.
    public var followedRecommendationShare: Double
    public var kept: Int
    public var revoked: Int
    /// Every item kept, each in under `rubberStampSeconds`.
    public var rubberStamp: Bool

    /// Faster than this per item, with everything kept, reads as a rubber stamp.
    public static let rubberStampSeconds = 2.0

    /// Per reviewer, by e-mail; default decisions are not anyone's review and are left out.
    public static func perReviewer(_ campaign: Campaign) -> [ReviewQuality] {
        var byReviewer: [String: [Decision]] = [:]
        for p in campaign.progress {
            for d in p.decisions where d.by != "default" { byReviewer[d.by, default: []].append(d) }
        }
        return byReviewer.keys.sorted().map { quality(of: byReviewer[$0] ?? [], reviewer: $0, campaign: campaign) }
    }

    /// The whole campaign, as one reviewer would be measured.
    public static func campaign(_ campaign: Campaign) -> ReviewQuality {
        let perReviewer = perReviewer(campaign)
        let decisions = campaign.progress.flatMap(\.decisions).filter { $0.by != "default" }
        var total = quality(of: decisions, reviewer: "all reviewers", campaign: campaign)
        // The campaign's pace is its reviewers' pace, not the gaps between different people.
        let medians = perReviewer.map(\.medianSeconds).sorted()
        total.medianSeconds = medians.isEmpty ? 0 : medians[medians.count / 2]
        total.rubberStamp = !perReviewer.isEmpty && perReviewer.allSatisfy(\.rubberStamp)
        return total
    }

    static func quality(of decisions: [Decision], reviewer: String, campaign: Campaign) -> ReviewQuality {
        guard !decisions.isEmpty else {
            return ReviewQuality(reviewer: reviewer, decided: 0, medianSeconds: 0, bulkShare: 0, followedRecommendationShare: 0,
                                 kept: 0, revoked: 0, rubberStamp: false)
        }
        // Decisions recorded at the same moment by one request share its time.
        let sorted = decisions.sorted { $0.at < $1.at }
        var perItem: [Double] = []
        var i = 0
        while i < sorted.count {
            var j = i
            while j + 1 < sorted.count, sorted[j + 1].at == sorted[i].at, sorted[j + 1].by == sorted[i].by { j += 1 }
            let stage = sorted[i].stage
            let previous = i > 0 ? sorted[i - 1].at : (stage == 0 ? campaign.launchedAt : campaign.deadlines[stage - 1])
            let seconds = max(0, sorted[i].at.timeIntervalSince(previous)) / Double(j - i + 1)
            perItem += Array(repeating: seconds, count: j - i + 1)
            i = j + 1
        }
        perItem.sort()
        let median = perItem.count % 2 == 1 ? perItem[perItem.count / 2] : (perItem[perItem.count / 2 - 1] + perItem[perItem.count / 2]) / 2
        let kept = decisions.filter { $0.verdict == .keep }.count
        return ReviewQuality(reviewer: reviewer, decided: decisions.count, medianSeconds: median,
                             bulkShare: Double(decisions.filter(\.bulk).count) / Double(decisions.count),
                             followedRecommendationShare: Double(decisions.filter(\.followedRecommendation).count) / Double(decisions.count),
                             kept: kept, revoked: decisions.count - kept,
                             rubberStamp: kept == decisions.count && perItem.allSatisfy { $0 < rubberStampSeconds })
    }
}
