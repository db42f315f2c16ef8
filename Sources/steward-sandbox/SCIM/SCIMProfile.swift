/// How much of RFC 7643/7644 the SCIM app serves (`--scim-profile`).
///
/// `full` is a generous provider: User.groups filled in, decorated members, filters on every
/// attribute, value-filter PATCH paths and ETags. `minimal` behaves the way many real providers
/// do, so connectors are tested against the common subset: it declares `groups` on User in
/// /Schemas and never fills it, serves group members as bare ids, cannot filter on `members`,
/// refuses value-filter PATCH paths (`members[value eq "id"]`) and has no ETags.
enum SCIMProfile: String, Sendable, CaseIterable {
    case full
    case minimal

    /// Whether a User carries its derived, read-only `groups` attribute.
    var fillsUserGroups: Bool { self == .full }
    /// Whether group members carry `$ref` and `display` besides `value` and `type`.
    var decoratesMembers: Bool { self == .full }
    /// Whether filters may name Group `members` (or User `groups`).
    var filtersOnMemberships: Bool { self == .full }
    /// Whether PATCH accepts paths with a value filter, `attr[sub eq "x"]`.
    var acceptsValueFilterPaths: Bool { self == .full }
    /// Whether resources have versions: `meta.version`, `ETag`, `If-Match`, `If-None-Match`.
    var hasETags: Bool { self == .full }
}
