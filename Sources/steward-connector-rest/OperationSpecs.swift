import StewardProtocol

/// A request made before an operation's own, whose answer feeds it: look a user's numeric id
/// up by login, then invite by id.
///
/// ```json
/// {"name": "user", "path": "/users/{{account.userName}}", "capture": {"id": "/id"}}
/// ```
/// The captured values are `{{steps.user.id}}` in later templates.
struct Step: Sendable {
    var name: String
    var request: RequestSpec
    var capture: [(name: String, source: FieldSource)]

    init(_ node: DefinitionNode) throws(DefinitionError) {
        let m = try node.members(known: RequestSpec.keys + ["name", "capture"])
        name = try node.child("name").string()
        guard !name.isEmpty, name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }) else {
            throw node.child("name").error("a step name is letters, digits and _")
        }
        request = try RequestSpec(m, node: node, defaultMethod: "GET")
        capture = try (m["capture"]?.entries() ?? []).map { entry throws(DefinitionError) in (entry.key, try FieldSource(entry.node)) }
    }
}

/// A write, or variants of it chosen by the request: GitHub invites by user id when given a
/// login, and by email when given an address.
///
/// ```json
/// {"variants": [{"when": {"from": "account.userName", "contains": "@"}, "path": "...", ...},
///               {"path": "...", ...}]}
/// ```
/// The first variant whose `when` holds for the operation's names (`account`, `params`,
/// `settings`) is used; a variant without `when` always applies.
struct WriteChoice: Sendable {
    var variants: [(when: Condition?, operation: WriteOperation)]

    init(_ node: DefinitionNode, method: String) throws(DefinitionError) {
        let variantsNode = node.child("variants")
        if variantsNode.isMissing {
            variants = [(nil, try WriteOperation(node, method: method))]
            return
        }
        _ = try node.members(known: ["variants"])
        var variants: [(when: Condition?, operation: WriteOperation)] = []
        for n in try variantsNode.elements() {
            let whenNode = n.child("when")
            var when: Condition?
            if !whenNode.isMissing {
                let condition = try Condition(whenNode)
                if case .header = condition.source {
                    throw whenNode.error("a variant is chosen by the request (e.g. from: \"account.userName\"), not by a header")
                }
                when = condition
            }
            variants.append((when, try WriteOperation(n, method: method, isVariant: true)))
        }
        if variants.isEmpty { throw variantsNode.error("needs at least one variant") }
        self.variants = variants
    }

    var all: [WriteOperation] { variants.map(\.operation) }

    /// The variant for a request whose names are `scope`.
    func choose(_ scope: [String: JSONValue], operation: String) throws -> WriteOperation {
        let value = JSONValue.object(scope)
        for v in variants where v.when?.holds(body: value) ?? true { return v.operation }
        throw ConnectorError(.invalidArgument, "\(operation): none of the definition's variants applies to this request")
    }
}

/// A write: `accounts/create|update|disable|enable|delete`, `grants/add|remove`.
struct WriteOperation: Sendable {
    var steps: [Step]
    var request: RequestSpec
    /// Statuses meaning the target was already in the requested state (a 404 on delete).
    var alreadyApplied: [StatusRule]
    /// `accounts/create`: statuses meaning the account exists (409, 422); it is looked up and
    /// returned as `alreadyExists`.
    var exists: [StatusRule]
    /// Where the resulting account is in the answer, mapped with `fields`.
    var record: ValuePath
    var fields: FieldMap?
    /// `accounts/create`: what a success means (`created`, or `actionRequired` for invitations).
    var result: AccountCreateResult.Status
    var message: Template?

    static let keys = RequestSpec.keys + ["steps", "alreadyApplied", "exists", "record", "fields", "result", "message"]

    init(_ node: DefinitionNode, method: String, isVariant: Bool = false) throws(DefinitionError) {
        let m = try node.members(known: Self.keys + (isVariant ? ["when"] : []))
        let isCreate = method == Method.accountsCreate
        let defaultMethod: String
        switch method {
        case Method.accountsCreate: defaultMethod = "POST"
        case Method.accountsUpdate: defaultMethod = "PATCH"
        case Method.accountsDelete, Method.grantsRemove: defaultMethod = "DELETE"
        default: defaultMethod = "POST"
        }
        steps = try (m["steps"]?.elements() ?? []).map { n throws(DefinitionError) in try Step(n) }
        var names: Set<String> = []
        for (i, s) in steps.enumerated() where !names.insert(s.name).inserted {
            throw node.child("steps[\(i)]").child("name").error("step \"\(s.name)\" is defined twice")
        }
        request = try RequestSpec(m, node: node, defaultMethod: defaultMethod)
        alreadyApplied = try StatusRule.list(m["alreadyApplied"])
        exists = try StatusRule.list(m["exists"])
        if !isCreate, let e = m["exists"] { throw e.error("only accounts/create has \"exists\"; use \"alreadyApplied\"") }
        if isCreate, let a = m["alreadyApplied"] { throw a.error("accounts/create uses \"exists\" (the account is looked up and returned)") }
        record = try m["record"]?.valuePath() ?? .root
        fields = try m["fields"].map { n throws(DefinitionError) in try FieldMap(n, target: .account) }
        if let f = fields, let fieldsNode = m["fields"], !f.has("id") {
            throw fieldsNode.error("an account mapping needs \"id\"")
        }
        let resultNode = m["result"] ?? node.child("result")
        if !isCreate, m["result"] != nil { throw resultNode.error("only accounts/create has \"result\"") }
        let resultName = try resultNode.choice(["created", "actionRequired", "inProgress"], default: "created")
        result = AccountCreateResult.Status(rawValue: resultName) ?? .created
        message = try m["message"]?.template()
    }
}

/// One request chain of a listing and how its records map.
struct ListSource: Sendable {
    var request: RequestSpec
    var paging: Paging?
    /// Where the array of records is; the body itself by default.
    var records: ValuePath
    /// Records that must hold all of these to count.
    var filter: [Condition]
    var fields: FieldMap
    /// Statuses meaning "nothing here" (a per-team listing of a team that has gone).
    var emptyOn: [StatusRule]

    static let keys = RequestSpec.keys + ["paging", "records", "where", "fields", "emptyOn"]

    init(_ node: DefinitionNode, target: FieldMap.Target, defaultPaging: Paging?) throws(DefinitionError) {
        let m = try node.members(known: Self.keys + ["sources", "forEach"])
        request = try RequestSpec(m, node: node, defaultMethod: "GET")
        if let p = m["paging"] {
            paging = p.value == .string("none") ? nil : try Paging(p)
        } else {
            paging = defaultPaging
        }
        records = try m["records"]?.valuePath() ?? .root
        filter = try (m["where"].map { n throws(DefinitionError) in
            n.value.arrayValue != nil ? try n.elements() : [n]
        } ?? []).map { n throws(DefinitionError) in try Condition(n) }
        guard let fieldsNode = m["fields"] else { throw node.child("fields").error("required: how records map to \(target.rawValue) fields") }
        fields = try FieldMap(fieldsNode, target: target)
        let required: [String]
        switch target {
        case .account: required = ["id"]
        case .person: required = ["id", "email"]
        case .entitlement: required = ["id"]
        case .grant: required = ["accountId"]
        }
        for name in required where !fields.has(name) {
            throw fieldsNode.error("a \(target.rawValue) mapping needs \"\(name)\"")
        }
        emptyOn = try StatusRule.list(m["emptyOn"])
    }
}

/// A listing: one source, or several read one after the other (members, then pending
/// invitations). Grant listings may run once per entitlement or per account.
struct ListOperation: Sendable {
    enum ForEach: String, Sendable {
        case entitlement, account
    }

    var sources: [ListSource]
    var forEach: ForEach?

    init(sources: [ListSource], forEach: ForEach? = nil) {
        self.sources = sources
        self.forEach = forEach
    }

    init(_ node: DefinitionNode, target: FieldMap.Target, defaultPaging: Paging?) throws(DefinitionError) {
        let forEachNode = node.child("forEach")
        if !forEachNode.isMissing {
            guard target == .grant else { throw forEachNode.error("only grant listings run per entitlement or account") }
            forEach = ForEach(rawValue: try forEachNode.choice(["entitlement", "account"]))
        }
        let sourcesNode = node.child("sources")
        if sourcesNode.isMissing {
            sources = [try ListSource(node, target: target, defaultPaging: defaultPaging)]
        } else {
            let m = try node.members(known: ["sources", "forEach"])
            _ = m
            sources = try sourcesNode.elements().map { n throws(DefinitionError) in
                if !n.child("forEach").isMissing { throw n.child("forEach").error("set forEach beside \"sources\", not inside one") }
                return try ListSource(n, target: target, defaultPaging: defaultPaging)
            }
            if sources.isEmpty { throw sourcesNode.error("needs at least one source") }
        }
        if forEach == .entitlement, target == .grant {
            // The entitlement is implied; an explicit entitlementId would contradict it.
            for (i, s) in sources.enumerated() where s.fields.has("entitlementId") {
                throw node.child(sourcesNode.isMissing ? "fields" : "sources[\(i)].fields").child("entitlementId")
                    .error("with forEach \"entitlement\" the entitlement is the one being listed; leave entitlementId out")
            }
        } else if target == .grant {
            for (i, s) in sources.enumerated() where !s.fields.has("entitlementId") {
                throw node.child(sourcesNode.isMissing ? "fields" : "sources[\(i)].fields")
                    .error("a grant mapping needs \"entitlementId\" (or set forEach to \"entitlement\")")
            }
        }
    }
}

/// `accounts/get`: a request by id or another key, or a scan of `accounts/list`.
struct GetOperation: Sendable {
    var scan: Bool
    /// Which lookup keys the request can use (`id`, `userName`, `email`...); other keys scan.
    var by: [String]
    var steps: [Step]
    var request: RequestSpec?
    var notFound: [StatusRule]
    var record: ValuePath
    var fields: FieldMap?

    static let lookupKeys = ["id", "userName", "email", "externalId", "employeeNumber"]

    init(_ node: DefinitionNode) throws(DefinitionError) {
        let m = try node.members(known: RequestSpec.keys + ["scan", "by", "steps", "notFound", "record", "fields"])
        scan = try m["scan"]?.bool(default: false) ?? false
        if scan {
            for key in m.keys where !["scan", "description", "$comment", "$schema"].contains(key) { throw node.child(key).error("a scanning accounts/get takes nothing but \"scan\"") }
            by = []
            steps = []
            request = nil
            notFound = []
            record = .root
            fields = nil
            return
        }
        let byNode = m["by"] ?? node.child("by")
        by = try byNode.isMissing ? ["id"] : byNode.elements().map { n throws(DefinitionError) in try n.choice(Self.lookupKeys) }
        steps = try (m["steps"]?.elements() ?? []).map { n throws(DefinitionError) in try Step(n) }
        request = try RequestSpec(m, node: node, defaultMethod: "GET")
        notFound = try StatusRule.list(m["notFound"] ?? node.child("notFound"))
        if notFound.isEmpty { notFound = [StatusRule(codes: [404], when: nil)] }
        record = try m["record"]?.valuePath() ?? .root
        guard let fieldsNode = m["fields"] else { throw node.child("fields").error("required: how the answer maps to account fields") }
        fields = try FieldMap(fieldsNode, target: .account)
        if fields?.has("id") != true { throw fieldsNode.error("an account mapping needs \"id\"") }
    }
}

/// `validate`: one cheap request that proves the settings and credentials work.
struct ValidateOperation: Sendable {
    var request: RequestSpec
    var message: Template?

    init(_ node: DefinitionNode) throws(DefinitionError) {
        let m = try node.members(known: RequestSpec.keys + ["message"])
        request = try RequestSpec(m, node: node, defaultMethod: "GET")
        message = try m["message"]?.template()
    }
}
