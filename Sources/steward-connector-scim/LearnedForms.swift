import Foundation

/// What the provider has refused while the connector ran, so it is not asked again.
///
/// Discovery cannot tell these apart: /ServiceProviderConfig has no word for value-filter
/// PATCH paths or for filtering on group `members`, and many providers that say
/// `filter.supported` still refuse both. The connector starts with the RFC 7644 form and
/// switches for good after the first 400 that names it (`invalidPath`, `invalidFilter`).
final class LearnedForms: @unchecked Sendable {  // both flags are only read and written while holding `lock`
    private let lock = NSLock()
    private var valuePathsRefused = false
    private var membersFilterRefused = false

    /// Whether PATCH must avoid paths like `members[value eq "id"]`.
    var avoidsValueFilterPaths: Bool { lock.withLock { valuePathsRefused } }
    /// Whether `filter=members.value eq "id"` on /Groups is known not to work.
    var avoidsMembersFilter: Bool { lock.withLock { membersFilterRefused } }

    func refuseValueFilterPaths() { lock.withLock { valuePathsRefused = true } }
    func refuseMembersFilter() { lock.withLock { membersFilterRefused = true } }
}
