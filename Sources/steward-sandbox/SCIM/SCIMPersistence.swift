import StewardJSON

/// The SCIM app's section of the state file and its generated demo users.
///
/// Resources are saved as SCIM JSON, as `GET` returns them (minus what the provider derives:
/// `groups`, `meta.location`, member `display` and `$ref`), so the file reads like the API.
enum SCIMPersistence {
    static func makeStore(context: SandboxContext) throws -> SCIMStore {
        let profile = context.options.scimProfile
        var state = SCIMState(seed: context.options.seed, profile: profile)
        if let saved = context.takeSavedState("scim") {
            do {
                state = try restore(saved, seed: context.options.seed, profile: profile)
            } catch {
                throw StateFile.LoadError(description: "state file \(context.stateFile?.path ?? ""): scim: \(error.detail)")
            }
        }
        if context.options.generatedUsers > 0 {
            generateUsers(context.options.generatedUsers, into: &state, seed: context.options.seed)
        }
        let store = SCIMStore(state: state) { context.stateChanged() }
        if let stateFile = context.stateFile {
            stateFile.register("scim") { snapshot(store.snapshot()) }
            if context.options.generatedUsers > 0 { stateFile.changed() }
        }
        return store
    }

    static func snapshot(_ state: SCIMState) -> JSONValue {
        func saved(_ kind: ResourceKind) -> JSONValue {
            let collection = state.collection(kind)
            return .array(collection.all.map { resource -> JSONValue in
                var out = state.render(resource, kind)
                out["groups"] = nil
                if case .object(var meta)? = out["meta"] {
                    meta["location"] = nil
                    out["meta"] = .object(meta)
                }
                if case .array(let members)? = resource.attributes["members"] { out["members"] = .array(members) }
                if let ext = resource.attributes[SCIMSchemas.enterpriseURN] { out[SCIMSchemas.enterpriseURN] = ext }
                return .object(out)
            })
        }
        return ["Users": saved(.user), "Groups": saved(.group)]
    }

    /// Rebuilds the state from a saved section, releasing each saved resource once converted.
    static func restore(_ saved: consuming JSONValue, seed: UInt64, profile: SCIMProfile = .full) throws(SCIMError) -> SCIMState {
        var state = SCIMState(seed: seed, profile: profile)
        let now = SCIMTime.nowMilliseconds()
        var groupMembers: [(id: String, members: JSONValue)] = []
        var sections = saved.objectValue ?? [:]
        saved = .null
        for kind in [ResourceKind.user, .group] {
            guard let items = sections.removeValue(forKey: kind.endpoint), !items.isNull else { continue }
            guard case .array(var list) = consume items else {
                throw SCIMError.badRequest(.invalidSyntax, "'\(kind.endpoint)' must be an array")
            }
            for index in list.indices {
                let item = list[index]
                list[index] = .null
                let place = "\(kind.endpoint)[\(index)]"
                guard let id = item["id"].stringValue, !id.isEmpty else {
                    throw SCIMError.badRequest(.invalidValue, "\(place): 'id' is missing")
                }
                guard state.users[id] == nil, state.groups[id] == nil else {
                    throw SCIMError.badRequest(.uniqueness, "\(place): id '\(id)' appears twice")
                }
                var attributes: [String: JSONValue]
                do {
                    attributes = try ResourceInput(type: kind.type).attributes(from: item)
                } catch {
                    throw SCIMError.badRequest(error.kind ?? .invalidValue, "\(place): \(error.detail)")
                }
                if kind == .user, let name = attributes["userName"]?.stringValue, state.userNames[name.lowercased()] != nil {
                    throw SCIMError.badRequest(.uniqueness, "\(place): userName '\(name)' appears twice")
                }
                if kind == .group, let members = attributes.removeValue(forKey: "members") {
                    groupMembers.append((id, members))
                }
                let meta = item["meta"]
                let created = meta["created"].stringValue.flatMap(SCIMTime.parse) ?? now
                let version = meta["version"].stringValue.flatMap(parseVersion) ?? 1
                state.insert(StoredResource(
                    id: id, sequence: state.nextSequence, attributes: attributes, created: created,
                    lastModified: meta["lastModified"].stringValue.flatMap(SCIMTime.parse) ?? created, version: version), kind)
                state.nextSequence += 1
            }
        }
        // Members last, so a group may list users and groups saved after it.
        for (id, members) in groupMembers {
            guard let group = state.groups[id] else { continue }
            var attributes = group.attributes
            do {
                attributes["members"] = try state.normalizedMembers(members, of: id)
            } catch {
                throw SCIMError.badRequest(.invalidValue, "group '\(id)': \(error.detail)")
            }
            state.reindexMembers(of: id, attributes: attributes)
        }
        return state
    }

    private static func parseVersion(_ etag: String) -> Int? {
        var tag = etag[...]
        if tag.hasPrefix("W/") { tag = tag.dropFirst(2) }
        if tag.hasPrefix("\""), tag.hasSuffix("\""), tag.count >= 2 { tag = tag.dropFirst().dropLast() }
        return Int(tag)
    }

    /// Deterministic people for demos and benchmarks: `user000001@example.com` and so on.
    static func generateUsers(_ count: Int, into state: inout SCIMState, seed: UInt64) {
        let given = ["Ada", "Grace", "Alan", "Barbara", "Edsger", "Frances", "Donald", "Margaret", "Ken", "Radia",
                     "Dennis", "Shafi", "Leslie", "Hedy", "Tim", "Karen", "Niklaus", "Sophie", "John", "Anita"]
        let family = ["Lovelace", "Hopper", "Turing", "Liskov", "Dijkstra", "Allen", "Knuth", "Hamilton", "Thompson",
                      "Perlman", "Ritchie", "Goldwasser", "Lamport", "Lamarr", "Berners-Lee", "Jones", "Wirth", "Wilson",
                      "McCarthy", "Borg"]
        let departments = ["Engineering", "Sales", "Finance", "Support", "Marketing", "Legal", "Operations", "People"]
        var random = SeededGenerator(seed: seed ^ 0x0005_EED0_05E2)
        let now = SCIMTime.nowMilliseconds()
        for n in 1...count {
            let number = String(repeating: "0", count: max(0, 6 - String(n).count)) + String(n)
            let userName = "user\(number)@example.com"
            guard state.userNames[userName] == nil else { continue }
            let first = given[Int(random.next() % UInt64(given.count))]
            let last = family[Int(random.next() % UInt64(family.count))]
            let department = departments[Int(random.next() % UInt64(departments.count))]
            let attributes: [String: JSONValue] = [
                "userName": .string(userName),
                "externalId": .string("emp-\(number)"),
                "name": ["givenName": .string(first), "familyName": .string(last), "formatted": .string("\(first) \(last)")],
                "displayName": .string("\(first) \(last)"),
                "emails": [["value": .string(userName), "type": "work", "primary": true]],
                "active": true,
                "title": "Staff",
                SCIMSchemas.enterpriseURN: ["employeeNumber": .string(number), "department": .string(department)],
            ]
            _ = try? state.create(.user, attributes, now: now)
        }
    }
}
