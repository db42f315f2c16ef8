import Foundation
import StewardJSON

enum ResourceKind: String, Sendable {
    case user = "User"
    case group = "Group"

    var type: SCIMResourceType { self == .user ? SCIMSchemas.userType : SCIMSchemas.groupType }
    /// The path segment of the endpoint: `Users` or `Groups`.
    var endpoint: String { self == .user ? "Users" : "Groups" }
}

/// A resource as kept: client attributes in canonical form, plus what the provider owns.
struct StoredResource: Sendable {
    var id: String
    /// Creation order, the order lists are returned in.
    var sequence: Int
    /// Core attributes by name; extension attributes in an object under the extension URN.
    var attributes: [String: JSONValue]
    var created: Int64
    var lastModified: Int64
    var version: Int

    /// The weak entity tag of `meta.version` and the `ETag` header.
    var etag: String { "W/\"\(version)\"" }
}

/// Resources in creation order with lookup by id. A delete leaves a hole that is squeezed out
/// once holes are a quarter of the array, so scans and paging walk an array instead of
/// hashing every id.
struct ResourceCollection: Sendable {
    private(set) var slots: [StoredResource?] = []
    private var slotOfID: [String: Int] = [:]
    private var holes = 0

    var count: Int { slotOfID.count }

    subscript(id: String) -> StoredResource? { slotOfID[id].flatMap { slots[$0] } }

    mutating func insert(_ resource: StoredResource) {
        slotOfID[resource.id] = slots.count
        slots.append(resource)
    }

    mutating func update(_ resource: StoredResource) {
        if let slot = slotOfID[resource.id] { slots[slot] = resource }
    }

    mutating func remove(_ id: String) {
        guard let slot = slotOfID.removeValue(forKey: id) else { return }
        slots[slot] = nil
        holes += 1
        if holes > 1024, holes * 4 > slots.count {
            slots = slots.filter { $0 != nil }
            slotOfID = Dictionary(uniqueKeysWithValues: slots.enumerated().compactMap { index, resource in resource.map { ($0.id, index) } })
            holes = 0
        }
    }

    /// Every resource in creation order.
    var all: [StoredResource] { slots.compactMap { $0 } }

    /// `count` resources from the 0-based position `first`, in creation order.
    func page(first: Int, count: Int) -> [StoredResource] {
        guard count > 0, first < self.count else { return [] }
        if holes == 0 { return slots[first..<min(slots.count, first + count)].compactMap { $0 } }
        var skipped = 0
        var out: [StoredResource] = []
        for case let resource? in slots {
            if skipped < first {
                skipped += 1
                continue
            }
            out.append(resource)
            if out.count == count { break }
        }
        return out
    }
}

/// What a list or search request asks for, already compiled.
struct ListQuery {
    var filter: CompiledFilter?
    var sortBy: ResolvedAttribute?
    var descending = false
    /// 1-based, as in RFC 7644 §3.4.2.4.
    var startIndex = 1
    var count: Int
}

/// Every User and Group, with the indexes that keep lookups by userName and externalId fast.
/// A value type, so saving copies it under the lock and serializes it outside.
struct SCIMState: Sendable {
    var users = ResourceCollection()
    var groups = ResourceCollection()
    /// Lowercased userName to id: userName is unique and not case-exact.
    var userNames: [String: String] = [:]
    var userExternalIDs: [String: [String]] = [:]
    /// Member id to the ids of the groups it directly belongs to.
    var groupsOfMember: [String: Set<String>] = [:]
    var nextSequence = 1
    var baseURL = ""
    var ids: SeededGenerator
    /// What the provider serves; rendering follows it (derived `groups`, decorated members, versions).
    let profile: SCIMProfile

    init(seed: UInt64, profile: SCIMProfile = .full) {
        ids = SeededGenerator(seed: seed ^ 0x5C1A_5C1A_5C1A_5C1A)
        self.profile = profile
    }

    func collection(_ kind: ResourceKind) -> ResourceCollection { kind == .user ? users : groups }

    func get(_ kind: ResourceKind, _ id: String) -> StoredResource? { collection(kind)[id] }

    // MARK: Writes

    mutating func create(_ kind: ResourceKind, _ attributes: [String: JSONValue], now: Int64) throws(SCIMError) -> StoredResource {
        var attributes = attributes
        try checkUniqueness(kind, attributes, excluding: nil)
        if kind == .group { attributes["members"] = try normalizedMembers(attributes["members"], of: nil) }
        var id = ids.nextUUID()
        while users[id] != nil || groups[id] != nil { id = ids.nextUUID() }
        let resource = StoredResource(id: id, sequence: nextSequence, attributes: attributes, created: now, lastModified: now, version: 1)
        nextSequence += 1
        insert(resource, kind)
        return resource
    }

    mutating func replace(
        _ kind: ResourceKind, _ id: String, _ attributes: [String: JSONValue], ifMatch: String?, now: Int64
    ) throws(SCIMError) -> StoredResource {
        guard let existing = get(kind, id) else { throw SCIMError.notFound("no \(kind.rawValue) has id '\(id)'") }
        try SCIMState.checkPrecondition(ifMatch, existing)
        var attributes = attributes
        if kind == .group { attributes["members"] = try normalizedMembers(attributes["members"], of: id) }
        return try commit(kind, existing, attributes, now: now)
    }

    mutating func patch(
        _ kind: ResourceKind, _ id: String, _ operations: [PatchOperation], ifMatch: String?, now: Int64
    ) throws(SCIMError) -> StoredResource {
        guard let existing = get(kind, id) else { throw SCIMError.notFound("no \(kind.rawValue) has id '\(id)'") }
        try SCIMState.checkPrecondition(ifMatch, existing)
        var applier = PatchApplier(type: kind.type, attributes: existing.attributes)
        for operation in operations { try applier.apply(operation) }
        var attributes = applier.attributes
        try ResourceInput(type: kind.type).checkRequired(attributes)
        if kind == .group { attributes["members"] = try normalizedMembers(attributes["members"], of: id) }
        return try commit(kind, existing, attributes, now: now)
    }

    mutating func delete(_ kind: ResourceKind, _ id: String, ifMatch: String?, now: Int64) throws(SCIMError) {
        guard let existing = get(kind, id) else { throw SCIMError.notFound("no \(kind.rawValue) has id '\(id)'") }
        try SCIMState.checkPrecondition(ifMatch, existing)
        remove(existing, kind)
        // It leaves every group it was in, and a deleted group leaves its members.
        for groupID in groupsOfMember[id] ?? [] {
            guard var group = groups[groupID] else { continue }
            let kept = (group.attributes["members"]?.arrayValue ?? []).filter { $0["value"].stringValue != id }
            group.attributes["members"] = kept.isEmpty ? nil : .array(kept)
            group.version += 1
            group.lastModified = now
            groups.update(group)
        }
        groupsOfMember[id] = nil
    }

    /// Stores new attributes if they differ; a no-op change keeps the version (§3.5.2.1).
    private mutating func commit(
        _ kind: ResourceKind, _ existing: StoredResource, _ attributes: [String: JSONValue], now: Int64
    ) throws(SCIMError) -> StoredResource {
        guard attributes != existing.attributes else { return existing }
        try checkUniqueness(kind, attributes, excluding: existing.id)
        var updated = existing
        updated.attributes = attributes
        updated.version += 1
        updated.lastModified = max(now, existing.lastModified)
        unindex(existing, kind)
        index(updated, kind)
        if kind == .user { users.update(updated) } else { groups.update(updated) }
        return updated
    }

    mutating func insert(_ resource: StoredResource, _ kind: ResourceKind) {
        if kind == .user { users.insert(resource) } else { groups.insert(resource) }
        index(resource, kind)
    }

    /// Replaces a group's attributes (its members) without a new version: for loading state.
    mutating func reindexMembers(of groupID: String, attributes: [String: JSONValue]) {
        guard let group = groups[groupID] else { return }
        unindex(group, .group)
        var updated = group
        updated.attributes = attributes
        groups.update(updated)
        index(updated, .group)
    }

    private mutating func remove(_ resource: StoredResource, _ kind: ResourceKind) {
        unindex(resource, kind)
        if kind == .user { users.remove(resource.id) } else { groups.remove(resource.id) }
    }

    private mutating func index(_ resource: StoredResource, _ kind: ResourceKind) {
        switch kind {
        case .user:
            if let name = resource.attributes["userName"]?.stringValue { userNames[name.lowercased()] = resource.id }
            if let external = resource.attributes["externalId"]?.stringValue { userExternalIDs[external, default: []].append(resource.id) }
        case .group:
            for member in resource.attributes["members"]?.arrayValue ?? [] {
                if let memberID = member["value"].stringValue { groupsOfMember[memberID, default: []].insert(resource.id) }
            }
        }
    }

    private mutating func unindex(_ resource: StoredResource, _ kind: ResourceKind) {
        switch kind {
        case .user:
            if let name = resource.attributes["userName"]?.stringValue, userNames[name.lowercased()] == resource.id {
                userNames[name.lowercased()] = nil
            }
            if let external = resource.attributes["externalId"]?.stringValue {
                userExternalIDs[external]?.removeAll { $0 == resource.id }
                if userExternalIDs[external]?.isEmpty == true { userExternalIDs[external] = nil }
            }
        case .group:
            for member in resource.attributes["members"]?.arrayValue ?? [] {
                guard let memberID = member["value"].stringValue else { continue }
                groupsOfMember[memberID]?.remove(resource.id)
                if groupsOfMember[memberID]?.isEmpty == true { groupsOfMember[memberID] = nil }
            }
        }
    }

    private func checkUniqueness(_ kind: ResourceKind, _ attributes: [String: JSONValue], excluding id: String?) throws(SCIMError) {
        guard kind == .user, let name = attributes["userName"]?.stringValue else { return }
        if let owner = userNames[name.lowercased()], owner != id {
            throw SCIMError(.conflict, .uniqueness, "userName '\(name)' is already taken")
        }
    }

    /// Members reduced to `value` and `type`, each checked to exist. `$ref` and `display` are
    /// the provider's to fill in.
    func normalizedMembers(_ value: JSONValue?, of groupID: String?) throws(SCIMError) -> JSONValue? {
        guard case .array(let items)? = value else { return nil }
        var seen = Set<String>()
        var out: [JSONValue] = []
        out.reserveCapacity(items.count)
        for item in items {
            guard let memberID = item["value"].stringValue, !memberID.isEmpty else {
                throw SCIMError.badRequest(.invalidValue, "every member needs a 'value' with the member's id")
            }
            guard memberID != groupID else { throw SCIMError.badRequest(.invalidValue, "a group cannot be a member of itself") }
            let type: String
            if users[memberID] != nil {
                type = "User"
            } else if groups[memberID] != nil {
                type = "Group"
            } else {
                throw SCIMError.badRequest(.invalidValue, "member '\(memberID)' is neither a User nor a Group")
            }
            if seen.insert(memberID).inserted { out.append(["value": .string(memberID), "type": .string(type)]) }
        }
        return out.isEmpty ? nil : .array(out)
    }

    static func checkPrecondition(_ ifMatch: String?, _ resource: StoredResource) throws(SCIMError) {
        guard let ifMatch else { return }
        if SCIMState.etag(resource, matchesAnyOf: ifMatch) { return }
        var error = SCIMError(.preconditionFailed, nil, "the resource was modified; its version is now \(resource.etag)")
        error.headers.add("ETag", resource.etag)
        throw error
    }

    /// Weak comparison against an `If-Match` / `If-None-Match` list, `*` included.
    static func etag(_ resource: StoredResource, matchesAnyOf header: String) -> Bool {
        for raw in header.split(separator: ",") {
            var tag = raw.trimmingSpaces()[...]
            if tag == "*" { return true }
            if tag.hasPrefix("W/") { tag = tag.dropFirst(2) }
            if tag.hasPrefix("\""), tag.hasSuffix("\""), tag.count >= 2 { tag = tag.dropFirst().dropLast() }
            if tag == String(resource.version) { return true }
        }
        return false
    }

    // MARK: Reads

    /// Matching resources in creation order (or sorted), and their total before paging.
    func list(_ kind: ResourceKind, _ query: ListQuery) -> (total: Int, page: [StoredResource]) {
        let collection = collection(kind)
        let first = max(query.startIndex, 1) - 1
        if query.filter == nil, query.sortBy == nil {
            return (collection.count, collection.page(first: first, count: query.count))
        }
        var matches: [StoredResource]
        if let filter = query.filter {
            let shared = StateReference(self)
            if let candidates = candidates(kind, filter) {
                matches = candidates.compactMap { collection[$0] }.filter {
                    FilterEvaluator.matches(filter, ResourceView(resource: $0, kind: kind, state: shared))
                }
                matches.sort { $0.sequence < $1.sequence }
            } else {
                matches = []
                for case let resource? in collection.slots
                where FilterEvaluator.matches(filter, ResourceView(resource: resource, kind: kind, state: shared)) {
                    matches.append(resource)
                }
            }
        } else {
            matches = collection.all
        }
        if let sortBy = query.sortBy { matches = sorted(matches, kind, by: sortBy, descending: query.descending) }
        let total = matches.count
        guard first < total, query.count > 0 else { return (total, []) }
        return (total, Array(matches[first..<min(total, first + query.count)]))
    }

    /// Ids that can possibly match, from the indexes; nil when the filter needs a full scan.
    private func candidates(_ kind: ResourceKind, _ filter: CompiledFilter) -> [String]? {
        switch filter {
        case .and(let a, let b):
            return candidates(kind, a) ?? candidates(kind, b)
        case .or(let a, let b):
            guard let left = candidates(kind, a), let right = candidates(kind, b) else { return nil }
            return Array(Set(left).union(right))
        default:
            guard let (attribute, value) = filter.indexableEquality else { return nil }
            switch attribute {
            case "id": return collection(kind)[value] != nil ? [value] : []
            case "userName" where kind == .user: return userNames[value.lowercased()].map { [$0] } ?? []
            case "externalId" where kind == .user: return userExternalIDs[value] ?? []
            default: return nil
            }
        }
    }

    /// Sorted per RFC 7644 §3.4.2.3: by the attribute's type and case rules, a multi-valued
    /// attribute by its primary (or first) value, unassigned values last.
    private func sorted(_ resources: [StoredResource], _ kind: ResourceKind, by attribute: ResolvedAttribute, descending: Bool) -> [StoredResource] {
        let shared = StateReference(self)
        let keyed = resources.map { resource -> (StoredResource, JSONValue?) in
            let view = ResourceView(resource: resource, kind: kind, state: shared)
            guard var value = view.value(container: attribute.container, name: attribute.attribute.name) else { return (resource, nil) }
            if case .array(let items) = value {
                guard let chosen = items.first(where: { $0["primary"] == .bool(true) }) ?? items.first else { return (resource, nil) }
                value = chosen
            }
            if let sub = attribute.sub ?? (attribute.attribute.isComplex ? attribute.attribute.subAttribute(named: "value") : nil) {
                value = value[sub.name]
            }
            if case .string(let s) = value, !attribute.leaf.caseExact { value = .string(s.lowercased()) }
            return (resource, value.isNull ? nil : value)
        }
        return keyed.sorted { a, b in
            switch (a.1, b.1) {
            case (nil, nil): return a.0.sequence < b.0.sequence
            case (nil, _): return false
            case (_, nil): return true
            case (let x?, let y?):
                if x == y { return a.0.sequence < b.0.sequence }
                let less = SCIMState.less(x, y)
                return descending ? !less : less
            }
        }.map(\.0)
    }

    private static func less(_ a: JSONValue, _ b: JSONValue) -> Bool {
        switch (a, b) {
        case (.string(let x), .string(let y)): return x < y
        case (.bool(let x), .bool(let y)): return !x && y
        default:
            if let x = a.doubleValue, let y = b.doubleValue { return x < y }
            return a.description < b.description
        }
    }

    func view(_ resource: StoredResource, _ kind: ResourceKind) -> ResourceView {
        ResourceView(resource: resource, kind: kind, state: StateReference(self))
    }

    // MARK: Rendering

    /// The resource as clients see it: attributes plus `id`, `schemas`, `meta` and references.
    func render(_ resource: StoredResource, _ kind: ResourceKind) -> [String: JSONValue] {
        var out = resource.attributes
        out["id"] = .string(resource.id)
        var schemas: [JSONValue] = [.string(kind.type.schema.id)]
        for ext in kind.type.extensions where out[ext.id] != nil { schemas.append(.string(ext.id)) }
        out["schemas"] = .array(schemas)
        out["meta"] = meta(resource, kind)
        switch kind {
        case .user:
            if let groups = groupsValue(of: resource.id) { out["groups"] = groups }
            if case .object(var enterprise)? = out[SCIMSchemas.enterpriseURN], case .object(var manager)? = enterprise["manager"],
               let managerID = manager["value"]?.stringValue, let boss = users[managerID] {
                manager["$ref"] = .string("\(baseURL)/Users/\(managerID)")
                manager["displayName"] = boss.attributes["displayName"] ?? boss.attributes["userName"]
                enterprise["manager"] = .object(manager)
                out[SCIMSchemas.enterpriseURN] = .object(enterprise)
            }
        case .group:
            if profile.decoratesMembers, case .array(let members)? = out["members"] {
                out["members"] = .array(members.map { member in
                    guard case .object(var object) = member, let memberID = object["value"]?.stringValue else { return member }
                    let isGroup = object["type"]?.stringValue == "Group"
                    object["$ref"] = .string("\(baseURL)/\(isGroup ? "Groups" : "Users")/\(memberID)")
                    if isGroup {
                        object["display"] = groups[memberID]?.attributes["displayName"]
                    } else if let user = users[memberID] {
                        object["display"] = user.attributes["displayName"] ?? user.attributes["userName"]
                    }
                    return .object(object)
                })
            }
        }
        return out
    }

    func meta(_ resource: StoredResource, _ kind: ResourceKind) -> JSONValue {
        var meta: [String: JSONValue] = [
            "resourceType": .string(kind.rawValue),
            "created": .string(SCIMTime.format(resource.created)),
            "lastModified": .string(SCIMTime.format(resource.lastModified)),
            "location": .string("\(baseURL)/\(kind.endpoint)/\(resource.id)"),
        ]
        if profile.hasETags { meta["version"] = .string(resource.etag) }
        return .object(meta)
    }

    /// A user's (or group's) direct groups, as the read-only `groups` attribute; nil when it
    /// has none or the profile never fills it in.
    func groupsValue(of memberID: String) -> JSONValue? {
        guard profile.fillsUserGroups, let groupIDs = groupsOfMember[memberID], !groupIDs.isEmpty else { return nil }
        let found = groupIDs.compactMap { groups[$0] }.sorted { $0.sequence < $1.sequence }
        return .array(found.map { group in
            [
                "value": .string(group.id), "$ref": .string("\(baseURL)/Groups/\(group.id)"),
                "display": group.attributes["displayName"] ?? .null, "type": "direct",
            ]
        })
    }
}

/// One copy of the state shared by every view of a query, instead of one copy per resource.
final class StateReference: Sendable {
    let state: SCIMState
    init(_ state: SCIMState) { self.state = state }
}

/// A resource seen by the filter evaluator, with the provider-owned attributes filled in.
struct ResourceView: FilterSubject {
    let resource: StoredResource
    let kind: ResourceKind
    let state: StateReference

    func value(container: String?, name: String) -> JSONValue? {
        if let container { return resource.attributes[container]?[name].nonNull }
        switch name {
        case "id": return .string(resource.id)
        case "meta": return state.state.meta(resource, kind)
        case "groups" where kind == .user: return state.state.groupsValue(of: resource.id)
        default: return resource.attributes[name]
        }
    }
}

/// The lock around the state. Handlers run on several event loops at once.
final class SCIMStore: @unchecked Sendable {  // `state` and `rendered` are only touched while holding `lock`
    private let lock = NSLock()
    private var state: SCIMState
    private let onChange: @Sendable () -> Void
    /// The state's profile, readable without the lock because it never changes.
    let profile: SCIMProfile
    /// Serialized default representations, valid while `revision` is unchanged. Any write
    /// bumps the revision, which is crude but exact: reads dominate, and a user's JSON also
    /// depends on its groups and its manager.
    private var rendered: [String: (revision: UInt64, body: [UInt8])] = [:]
    private var revision: UInt64 = 0
    private static let maxRendered = 50_000

    init(state: SCIMState, onChange: @escaping @Sendable () -> Void) {
        self.state = state
        self.onChange = onChange
        profile = state.profile
    }

    /// A resource in its default representation as JSON bytes, rendered once per revision.
    func renderedBody(_ kind: ResourceKind, _ id: String) throws(SCIMError) -> (resource: StoredResource, body: [UInt8], location: String) {
        lock.lock()
        defer { lock.unlock() }
        guard let resource = state.get(kind, id) else { throw SCIMError.notFound("no \(kind.rawValue) has id '\(id)'") }
        let location = "\(state.baseURL)/\(kind.endpoint)/\(id)"
        if let cached = rendered[id], cached.revision == revision { return (resource, cached.body, location) }
        let body = JSONWriter.bytes(.object(state.render(resource, kind)))
        if rendered.count >= SCIMStore.maxRendered { rendered.removeAll(keepingCapacity: true) }
        rendered[id] = (revision, body)
        return (resource, body, location)
    }

    /// A page of a list in default representation, each resource's bytes from the cache.
    func renderedPage(_ kind: ResourceKind, _ query: ListQuery) -> (total: Int, bodies: [[UInt8]]) {
        lock.lock()
        defer { lock.unlock() }
        let (total, page) = state.list(kind, query)
        let bodies = page.map { resource -> [UInt8] in
            if let cached = rendered[resource.id], cached.revision == revision { return cached.body }
            let body = JSONWriter.bytes(.object(state.render(resource, kind)))
            if rendered.count >= SCIMStore.maxRendered { rendered.removeAll(keepingCapacity: true) }
            rendered[resource.id] = (revision, body)
            return body
        }
        return (total, bodies)
    }

    func read<T>(_ body: (SCIMState) throws(SCIMError) -> T) throws(SCIMError) -> T {
        lock.lock()
        defer { lock.unlock() }
        return try body(state)
    }

    /// Runs a change; listeners hear about it only if it succeeded.
    func write<T>(_ body: (inout SCIMState) throws(SCIMError) -> T) throws(SCIMError) -> T {
        lock.lock()
        let result: T
        do {
            result = try body(&state)
        } catch {
            lock.unlock()
            throw error
        }
        revision &+= 1
        lock.unlock()
        onChange()
        return result
    }

    func snapshot() -> SCIMState {
        lock.lock()
        defer { lock.unlock() }
        return state
    }
}

/// SplitMix64: tiny, fast and fully determined by its seed, which is what fault injection
/// and generated data need (not cryptography).
struct SeededGenerator: RandomNumberGenerator, Sendable {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A random (version 4 layout) UUID string in lowercase.
    mutating func nextUUID() -> String {
        let a = next(), b = next()
        let hex = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(36)
        for i in 0..<32 {
            var nibble = Int(((i < 16 ? a : b) >> UInt64((15 - i % 16) * 4)) & 0xF)
            if i == 12 { nibble = 4 }
            if i == 16 { nibble = 8 | (nibble & 3) }
            if i == 8 || i == 12 || i == 16 || i == 20 { out.append(UInt8(ascii: "-")) }
            out.append(hex[nibble])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
