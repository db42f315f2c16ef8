import Foundation
import StewardProtocol

/// An app definition: everything `steward-connector-rest` needs to provision into one app's
/// REST API, as data (`plugins/rest/apps/*.json`, described by `schemas/rest-app.schema.json`).
///
/// Loading checks the whole file before any request is made: unknown fields, malformed
/// pointers and templates, references to undeclared settings, and operations that the declared
/// capabilities claim but the file does not define (or the other way round) are errors naming
/// the file, the line, the key path and the reason.
struct AppDefinition: Sendable {
    var file: String
    var name: String
    var title: String?
    var version: String
    var documentation: String?
    /// Settings the definition reads as `{{settings.NAME}}`, beyond the connector's own.
    var settings: [SettingSpec]
    /// The base URL, unless the app's config sets `baseURL`.
    var baseURL: Template?
    var auth: AuthSpec
    var headers: [(name: String, value: Template)]
    /// The paging of listings that do not say otherwise.
    var paging: Paging?
    var rateLimit: RateLimitSpec
    var errors: [ErrorRule]
    /// Where the app puts its explanation in an error body (Okta's `/errorSummary`), tried
    /// before the usual `message`, `detail` and `error` members.
    var errorMessage: [ValuePath]
    var capabilities: Capabilities
    /// Fixed values of entitlement types that declare them, most privileged first.
    var entitlementValues: [String: [Entitlement]]
    var operations: Operations

    /// Settings every definition may read: the connector's own.
    static let connectorSettings = ["baseURL"]

    struct Operations: Sendable {
        var validate: ValidateOperation?
        var personsList: ListOperation?
        var accountsList: ListOperation?
        var accountsGet: GetOperation?
        var accountWrites: [String: WriteChoice] = [:]
        var entitlementsList: [String: ListOperation] = [:]
        var grantsList: [String: ListOperation] = [:]
        var grantsAdd: [String: WriteChoice] = [:]
        var grantsRemove: [String: WriteChoice] = [:]
    }

    static let topKeys = ["name", "title", "version", "documentation", "settings", "baseURL", "auth", "headers", "paging",
                          "rateLimit", "errors", "errorMessage", "capabilities", "operations"]
    static let accountMethods = [Method.accountsList, Method.accountsGet, Method.accountsCreate, Method.accountsUpdate,
                                 Method.accountsDisable, Method.accountsEnable, Method.accountsDelete]
    static let perTypeMethods = [Method.entitlementsList, Method.grantsList, Method.grantsAdd, Method.grantsRemove]
    static let operationKeys = [Method.validate, Method.personsList] + accountMethods + perTypeMethods

    /// Reads and checks a definition file. `displayPath` is how errors name it.
    static func load(path: String, displayPath: String? = nil) throws(DefinitionError) -> AppDefinition {
        let shown = displayPath ?? path
        guard let data = FileManager.default.contents(atPath: path) else {
            throw DefinitionError(file: shown, line: nil, path: "", reason: FileManager.default.fileExists(atPath: path)
                ? "cannot read the file" : "no such file")
        }
        let parsed: (value: JSONValue, lines: [String: Int])
        do {
            parsed = try JSONParser.parseWithLines(Array(data), options: .json5)
        } catch {
            throw DefinitionError(file: shown, line: error.line, path: "", reason: "column \(error.column): \(error.message)")
        }
        let root = DefinitionNode(value: parsed.value, path: "", document: .init(file: shown, lines: parsed.lines))
        return try AppDefinition(root)
    }

    init(_ root: DefinitionNode) throws(DefinitionError) {
        let m = try root.members(known: Self.topKeys)
        file = root.document.file
        name = try root.child("name").string()
        guard !name.isEmpty else { throw root.child("name").error("must not be empty") }
        title = try m["title"]?.string()
        version = try m["version"]?.string() ?? "1.0.0"
        documentation = try m["documentation"]?.string()
        settings = try (m["settings"]?.entries() ?? []).map { entry throws(DefinitionError) in try SettingSpec(entry.key, entry.node) }
        for s in settings where Self.connectorSettings.contains(s.name) || s.name == "definition" {
            throw root.child("settings").child(s.name).error("\"\(s.name)\" is a setting of the connector itself; do not declare it")
        }
        baseURL = try m["baseURL"]?.template()
        auth = try AuthSpec(m["auth"] ?? root.child("auth"))
        headers = try RequestSpec.templateMap(m["headers"])
        for (name, _) in headers where name.lowercased() == "authorization" {
            throw root.child("headers").child(name).error("set credentials in \"auth\", not as a header, so they are redacted and refreshed")
        }
        paging = try m["paging"].map { n throws(DefinitionError) in try Paging(n) }
        rateLimit = try RateLimitSpec(m["rateLimit"])
        errors = try ErrorRule.list(m["errors"])
        if let node = m["errorMessage"] {
            let paths: [DefinitionNode] = node.value.arrayValue != nil ? try node.elements() : [node]
            errorMessage = try paths.map { n throws(DefinitionError) in try n.valuePath() }
        } else {
            errorMessage = []
        }
        let capsNode = m["capabilities"] ?? root.child("capabilities")
        let declared = try DeclaredCapabilities(capsNode)
        capabilities = declared.capabilities
        entitlementValues = declared.values
        operations = try Self.readOperations(m["operations"] ?? root.child("operations"), capabilities: capabilities,
                                             defaultPaging: paging)
        try checkClaims(capsNode: capsNode, operationsNode: m["operations"] ?? root.child("operations"))
        try checkReferences(root)
    }

    private static func readOperations(_ node: DefinitionNode, capabilities: Capabilities,
                                       defaultPaging: Paging?) throws(DefinitionError) -> Operations {
        var ops = Operations()
        if node.isMissing { return ops }
        let m = try node.members(known: operationKeys)
        let types = capabilities.entitlementTypes.map(\.type)
        for (key, n) in m.sorted(by: { $0.key < $1.key }) where operationKeys.contains(key) {
            switch key {
            case Method.validate: ops.validate = try ValidateOperation(n)
            case Method.personsList: ops.personsList = try ListOperation(n, target: .person, defaultPaging: defaultPaging)
            case Method.accountsList: ops.accountsList = try ListOperation(n, target: .account, defaultPaging: defaultPaging)
            case Method.accountsGet: ops.accountsGet = try GetOperation(n)
            case Method.entitlementsList, Method.grantsList, Method.grantsAdd, Method.grantsRemove:
                for (type, typeNode) in try n.entries() {
                    guard types.contains(type) else {
                        throw typeNode.error("no entitlement type \"\(type)\" in capabilities.entitlementTypes (declared: \(types.isEmpty ? "none" : types.joined(separator: ", ")))")
                    }
                    switch key {
                    case Method.entitlementsList: ops.entitlementsList[type] = try ListOperation(typeNode, target: .entitlement, defaultPaging: defaultPaging)
                    case Method.grantsList: ops.grantsList[type] = try ListOperation(typeNode, target: .grant, defaultPaging: defaultPaging)
                    case Method.grantsAdd: ops.grantsAdd[type] = try WriteChoice(typeNode, method: key)
                    default: ops.grantsRemove[type] = try WriteChoice(typeNode, method: key)
                    }
                }
            default:
                ops.accountWrites[key] = try WriteChoice(n, method: key)
            }
        }
        return ops
    }

    // MARK: Cross-checks

    /// Every claimed capability has its operation, and every operation is claimed.
    private func checkClaims(capsNode: DefinitionNode, operationsNode: DefinitionNode) throws(DefinitionError) {
        func missing(_ claim: DefinitionNode, _ method: String, type: String? = nil) -> DefinitionError {
            claim.error("claims \(method)\(type.map { " for \"\($0)\"" } ?? "") but operations has no \"\(method)\"\(type.map { " entry \"\($0)\"" } ?? "")")
        }
        func unclaimed(_ method: String, type: String? = nil, capability: String) -> DefinitionError {
            var node = operationsNode.child(method)
            if let type { node = node.child(type) }
            return node.error("defined but not declared in capabilities (set \(capability) to true, or remove the operation)")
        }
        let ops = operations
        if capabilities.validate != (ops.validate != nil) {
            throw capabilities.validate ? missing(capsNode.child("validate"), Method.validate) : unclaimed(Method.validate, capability: "capabilities.validate")
        }
        if capabilities.personsList != (ops.personsList != nil) {
            throw capabilities.personsList ? missing(capsNode.child("persons").child("list"), Method.personsList)
                : unclaimed(Method.personsList, capability: "capabilities.persons.list")
        }
        for op in AccountOperation.allCases {
            let defined: Bool
            switch op {
            case .list: defined = ops.accountsList != nil
            case .get: defined = ops.accountsGet != nil
            default: defined = ops.accountWrites[op.method] != nil
            }
            let claimed = capabilities.accounts.contains(op)
            if claimed && !defined { throw missing(capsNode.child("accounts").child(op.rawValue), op.method) }
            if defined && !claimed { throw unclaimed(op.method, capability: "capabilities.accounts.\(op.rawValue)") }
        }
        if ops.accountsGet?.scan == true, ops.accountsList == nil {
            throw operationsNode.child(Method.accountsGet).child("scan").error("scanning needs accounts/list")
        }
        if ops.accountWrites[Method.accountsCreate]?.all.contains(where: { !$0.exists.isEmpty }) == true, ops.accountsGet == nil {
            throw operationsNode.child(Method.accountsCreate).child("exists")
                .error("finding the existing account needs accounts/get (a request, or {\"scan\": true})")
        }
        let typesNode = capsNode.child("entitlementTypes")
        for (i, t) in capabilities.entitlementTypes.enumerated() {
            let claim = DefinitionNode(value: typesNode.value.arrayValue?[i] ?? .null, path: "\(typesNode.path)[\(i)]", document: typesNode.document)
            let hasValues = entitlementValues[t.type] != nil
            if t.list && ops.entitlementsList[t.type] == nil && !hasValues {
                throw missing(claim.child("list"), Method.entitlementsList, type: t.type)
            }
            if !t.list && ops.entitlementsList[t.type] != nil {
                throw unclaimed(Method.entitlementsList, type: t.type, capability: "the type's \"list\"")
            }
            if t.grant != (ops.grantsAdd[t.type] != nil) {
                throw t.grant ? missing(claim.child("grant"), Method.grantsAdd, type: t.type)
                    : unclaimed(Method.grantsAdd, type: t.type, capability: "the type's \"grant\"")
            }
            if t.revoke != (ops.grantsRemove[t.type] != nil) {
                throw t.revoke ? missing(claim.child("revoke"), Method.grantsRemove, type: t.type)
                    : unclaimed(Method.grantsRemove, type: t.type, capability: "the type's \"revoke\"")
            }
            if capabilities.grantsList != (ops.grantsList[t.type] != nil) {
                throw capabilities.grantsList ? missing(capsNode.child("grants").child("list"), Method.grantsList, type: t.type)
                    : unclaimed(Method.grantsList, type: t.type, capability: "capabilities.grants.list")
            }
        }
        if capabilities.grantsList && capabilities.entitlementTypes.isEmpty {
            throw capsNode.child("grants").child("list").error("grants can only be listed for declared entitlement types")
        }
    }

    /// Every template reference points at something that exists where it is used.
    private func checkReferences(_ root: DefinitionNode) throws(DefinitionError) {
        let declared = Set(settings.map(\.name) + Self.connectorSettings)
        func check(_ templates: [(String, Template)], roots: [String: [String]?], steps: [String] = []) throws(DefinitionError) {
            for (path, template) in templates {
                let node = DefinitionNode(value: .null, path: path, document: root.document)
                for ref in template.references {
                    if ref.root == "steps" {
                        guard let m = ref.member, steps.contains(m) else {
                            throw node.error("\"\(template.source)\": no earlier step named \"\(ref.member ?? "")\"")
                        }
                        continue
                    }
                    guard let members = roots[ref.root] else {
                        throw node.error("\"\(template.source)\": unknown name \"\(ref.root)\" (here you can use \(roots.keys.sorted().joined(separator: ", ")))")
                    }
                    if ref.root == "settings" {
                        guard let m = ref.member, declared.contains(m) else {
                            throw node.error("\"\(template.source)\": setting \"\(ref.member ?? "")\" is not declared in \"settings\" (declared: \(declared.sorted().joined(separator: ", ")))")
                        }
                    } else if let allowed = members {
                        guard let m = ref.member else {
                            throw node.error("\"\(template.source)\": name a field of \(ref.root), e.g. \(ref.root).\(allowed.first ?? "id")")
                        }
                        guard allowed.contains(m) else {
                            throw node.error("\"\(template.source)\": \(ref.root) has no field \"\(m)\" (expected one of \(allowed.joined(separator: ", ")))")
                        }
                    }
                }
            }
        }
        let settingsOnly: [String: [String]?] = ["settings": nil]
        if let baseURL { try check([("baseURL", baseURL)], roots: settingsOnly) }
        try check(headers.map { ("headers.\($0.name)", $0.value) }, roots: settingsOnly)
        try check(errors.enumerated().compactMap { i, r in r.message.map { ("errors[\(i)].message", $0) } }, roots: settingsOnly)
        try check(auth.templates, roots: ["settings": nil, "secrets": nil])

        let spec = ["userName", "email", "displayName", "givenName", "familyName", "externalId", "employeeNumber", "department",
                    "title", "managerId", "attributes"]
        let accountFields = FieldMap.Target.account.fieldNames + ["attributes"]
        let listParams = ["cursor", "pageSize", "type", "accountId"]
        func listRoots(_ forEach: ListOperation.ForEach?) -> [String: [String]?] {
            var r: [String: [String]?] = ["settings": nil, "page": ["size"], "params": listParams]
            if forEach == .entitlement { r["entitlement"] = ["id", "name", "description", "type"] }
            if forEach == .account { r["account"] = accountFields }
            return r
        }
        func checkList(_ op: ListOperation?, _ path: String) throws(DefinitionError) {
            guard let op else { return }
            let roots = listRoots(op.forEach)
            var withRecord = roots
            withRecord["record"] = nil as [String]?
            for (i, s) in op.sources.enumerated() {
                let at = op.sources.count > 1 ? "\(path).sources[\(i)]" : path
                try check(s.request.templates(at: at), roots: roots)
                try check(s.fields.templates(at: "\(at).fields"), roots: withRecord)
            }
        }
        func checkWrite(_ choice: WriteChoice?, _ path: String, roots: [String: [String]?]) throws(DefinitionError) {
            guard let choice else { return }
            for (i, op) in choice.all.enumerated() {
                try checkVariant(op, choice.variants.count > 1 || choice.variants[0].when != nil ? "\(path).variants[\(i)]" : path, roots: roots)
            }
        }
        func checkVariant(_ op: WriteOperation, _ path: String, roots: [String: [String]?]) throws(DefinitionError) {
            var withRecord = roots
            withRecord["record"] = nil as [String]?
            var earlier: [String] = []
            for (i, step) in op.steps.enumerated() {
                try check(step.request.templates(at: "\(path).steps[\(i)]"), roots: roots, steps: earlier)
                try check(step.capture.compactMap { c in c.source.template.map { ("\(path).steps[\(i)].capture.\(c.name)", $0) } },
                          roots: withRecord, steps: earlier)
                earlier.append(step.name)
            }
            try check(op.request.templates(at: path), roots: roots, steps: earlier)
            try check((op.fields?.templates(at: "\(path).fields") ?? []), roots: withRecord, steps: earlier)
            if let message = op.message { try check([("\(path).message", message)], roots: withRecord, steps: earlier) }
        }
        let base = "operations."
        if let v = operations.validate { try check(v.request.templates(at: base + Method.validate), roots: settingsOnly) }
        try checkList(operations.personsList, base + Method.personsList)
        try checkList(operations.accountsList, base + Method.accountsList)
        if let get = operations.accountsGet, let request = get.request {
            let roots: [String: [String]?] = ["settings": nil, "params": GetOperation.lookupKeys]
            var earlier: [String] = []
            for (i, step) in get.steps.enumerated() {
                try check(step.request.templates(at: "\(base)\(Method.accountsGet).steps[\(i)]"), roots: roots, steps: earlier)
                earlier.append(step.name)
            }
            try check(request.templates(at: base + Method.accountsGet), roots: roots, steps: earlier)
            var withRecord = roots
            withRecord["record"] = nil as [String]?
            try check(get.fields?.templates(at: "\(base)\(Method.accountsGet).fields") ?? [], roots: withRecord, steps: earlier)
        }
        for (method, op) in operations.accountWrites {
            let roots: [String: [String]?]
            switch method {
            case Method.accountsCreate: roots = ["settings": nil, "account": spec]
            case Method.accountsUpdate: roots = ["settings": nil, "params": ["id", "idempotencyKey"], "changes": spec]
            default: roots = ["settings": nil, "params": ["id", "idempotencyKey"]]
            }
            try checkWrite(op, base + method, roots: roots)
        }
        let grantRoots: [String: [String]?] = ["settings": nil, "params": ["accountId", "type", "entitlementId", "idempotencyKey"]]
        for (type, op) in operations.grantsAdd { try checkWrite(op, "\(base)\(Method.grantsAdd).\(type)", roots: grantRoots) }
        for (type, op) in operations.grantsRemove { try checkWrite(op, "\(base)\(Method.grantsRemove).\(type)", roots: grantRoots) }
        for (type, op) in operations.entitlementsList { try checkList(op, "\(base)\(Method.entitlementsList).\(type)") }
        for (type, op) in operations.grantsList { try checkList(op, "\(base)\(Method.grantsList).\(type)") }
    }
}

/// A setting the definition reads: `"org": {"required": true, "description": "..."}`.
struct SettingSpec: Sendable {
    var name: String
    var required: Bool
    var defaultValue: JSONValue?
    var description: String?

    init(_ name: String, _ node: DefinitionNode) throws(DefinitionError) {
        let m = try node.members(known: ["required", "default", "description"])
        self.name = name
        required = try m["required"]?.bool(default: false) ?? false
        defaultValue = m["default"]?.value
        if let d = defaultValue, d.scalarText == nil { throw node.child("default").error("expected a string, number or boolean") }
        description = try m["description"]?.string()
        if required && defaultValue != nil { throw node.error("a setting with a default is not required; drop one of them") }
    }
}

/// How requests prove who they are. Values are templates over `settings` and `secrets`, and
/// secrets may appear nowhere else in a definition.
enum AuthSpec: Sendable {
    case none
    case bearer(token: Template)
    case basic(username: Template, password: Template)
    /// A fixed header, e.g. Okta's `Authorization: SSWS <token>`.
    case header(name: String, value: Template)
    /// An API key in a query parameter.
    case query(name: String, value: Template)
    case oauth2(OAuthSpec)

    struct OAuthSpec: Sendable {
        var tokenURL: Template
        var clientId: Template
        var clientSecret: Template
        var scope: Template?
        /// `basic` (RFC 6749's preference) or `body`.
        var credentials: String
        /// `client_credentials`, or another grant such as Zoom's `account_credentials`.
        var grantType: String
        /// Extra form parameters of the token request.
        var parameters: [(name: String, value: Template)]
    }

    init(_ node: DefinitionNode) throws(DefinitionError) {
        if node.isMissing {
            self = .none
            return
        }
        let type = try node.child("type").choice(["none", "bearer", "basic", "header", "query", "oauth2"])
        switch type {
        case "none":
            _ = try node.members(known: ["type"])
            self = .none
        case "bearer":
            let m = try node.members(known: ["type", "token"])
            self = .bearer(token: try (m["token"] ?? node.child("token")).template())
        case "basic":
            let m = try node.members(known: ["type", "username", "password"])
            self = .basic(username: try (m["username"] ?? node.child("username")).template(),
                          password: try (m["password"] ?? node.child("password")).template())
        case "header", "query":
            let m = try node.members(known: ["type", "name", "value"])
            let name = try (m["name"] ?? node.child("name")).string()
            guard !name.isEmpty else { throw node.child("name").error("must not be empty") }
            let value = try (m["value"] ?? node.child("value")).template()
            self = type == "header" ? .header(name: name, value: value) : .query(name: name, value: value)
        default:
            let m = try node.members(known: ["type", "tokenURL", "clientId", "clientSecret", "scope", "credentials", "grantType", "parameters"])
            self = .oauth2(OAuthSpec(
                tokenURL: try (m["tokenURL"] ?? node.child("tokenURL")).template(),
                clientId: try (m["clientId"] ?? node.child("clientId")).template(),
                clientSecret: try (m["clientSecret"] ?? node.child("clientSecret")).template(),
                scope: try m["scope"]?.template(),
                credentials: try node.child("credentials").choice(["basic", "body"], default: "basic"),
                grantType: try m["grantType"]?.string() ?? "client_credentials",
                parameters: try RequestSpec.templateMap(m["parameters"])))
        }
    }

    var templates: [(String, Template)] {
        switch self {
        case .none: return []
        case .bearer(let t): return [("auth.token", t)]
        case .basic(let u, let p): return [("auth.username", u), ("auth.password", p)]
        case .header(_, let v), .query(_, let v): return [("auth.value", v)]
        case .oauth2(let o):
            return [("auth.tokenURL", o.tokenURL), ("auth.clientId", o.clientId), ("auth.clientSecret", o.clientSecret)]
                + (o.scope.map { [("auth.scope", $0)] } ?? []) + o.parameters.map { ("auth.parameters.\($0.name)", $0.value) }
        }
    }
}

/// Which answers mean "slow down", beyond 429 (which is always one): GitHub's secondary limits
/// answer 403 with `Retry-After`, or with `x-ratelimit-remaining: 0`.
struct RateLimitSpec: Sendable {
    var status: [Int]
    /// Any of these must hold for a listed status other than 429 to count.
    var when: [Condition]
    /// The wait when the answer names none.
    var defaultWaitSeconds: Double

    init(_ node: DefinitionNode?) throws(DefinitionError) {
        guard let node, !node.isMissing else {
            status = [429]
            when = []
            defaultWaitSeconds = 1
            return
        }
        let m = try node.members(known: ["status", "when", "defaultWaitSeconds"])
        status = try m["status"]?.statusCodes() ?? [429]
        when = try (m["when"]?.elements() ?? []).map { n throws(DefinitionError) in try Condition(n) }
        defaultWaitSeconds = Double(try m["defaultWaitSeconds"]?.optionalInt(in: 0...3600) ?? 1)
    }

    func matches(status code: Int, headers: [String: String], body: JSONValue) -> Bool {
        if code == 429 { return true }
        guard status.contains(code) else { return false }
        return when.isEmpty || when.contains { $0.holds(body: body, headers: headers) }
    }
}

/// The `capabilities` section: the same shape as the connector's `initialize` answer, with
/// entitlement values that may carry display names.
struct DeclaredCapabilities {
    var capabilities: Capabilities
    var values: [String: [Entitlement]]

    init(_ node: DefinitionNode) throws(DefinitionError) {
        let m = try node.members(known: ["persons", "accounts", "entitlementTypes", "grants", "validate"])
        var caps = Capabilities()
        if let persons = m["persons"] {
            caps.personsList = try persons.members(known: ["list"])["list"]?.bool(default: false) ?? false
        }
        if let accounts = m["accounts"] {
            for (key, n) in try accounts.members(known: AccountOperation.allCases.map(\.rawValue)) {
                if let op = AccountOperation(rawValue: key), try n.bool(default: false) { caps.accounts.insert(op) }
            }
        }
        if let grants = m["grants"] {
            caps.grantsList = try grants.members(known: ["list"])["list"]?.bool(default: false) ?? false
        }
        caps.validate = try m["validate"]?.bool(default: false) ?? false
        var values: [String: [Entitlement]] = [:]
        for typeNode in try m["entitlementTypes"]?.elements() ?? [] {
            let t = try typeNode.members(known: ["type", "cardinality", "list", "grant", "revoke", "values"])
            let type = try typeNode.child("type").string()
            guard !type.isEmpty else { throw typeNode.child("type").error("must not be empty") }
            if caps.entitlementTypes.contains(where: { $0.type == type }) { throw typeNode.child("type").error("type \"\(type)\" is declared twice") }
            let cardinality = try typeNode.child("cardinality").choice(["single", "multi"], default: "multi")
            var capability = EntitlementTypeCapability(
                type: type, cardinality: cardinality == "single" ? .single : .multi,
                list: try t["list"]?.bool(default: false) ?? false, grant: try t["grant"]?.bool(default: false) ?? false,
                revoke: try t["revoke"]?.bool(default: false) ?? false)
            if let valuesNode = t["values"] {
                let elements = try valuesNode.elements()
                var list: [Entitlement] = []
                for (i, v) in elements.enumerated() {
                    let e: Entitlement
                    if case .string(let s) = v.value {
                        e = Entitlement(type: type, id: s, name: s)
                    } else {
                        let vm = try v.members(known: ["id", "name"])
                        let id = try v.child("id").string()
                        e = Entitlement(type: type, id: id, name: try vm["name"]?.string() ?? id, description: try vm["description"]?.string())
                    }
                    guard !e.id.isEmpty else { throw v.error("an entitlement value needs an id") }
                    if list.contains(where: { $0.id == e.id }) { throw v.error("value \"\(e.id)\" is listed twice") }
                    var ranked = e
                    // Most privileged first: the first value ranks highest.
                    if capability.cardinality == .single { ranked.rank = elements.count - i }
                    list.append(ranked)
                }
                if list.isEmpty { throw valuesNode.error("list at least one value, or leave \"values\" out") }
                values[type] = list
                // The protocol's values are names: what access rules call them.
                if capability.cardinality == .single { capability.values = list.map(\.name) }
            }
            caps.entitlementTypes.append(capability)
        }
        capabilities = caps
        self.values = values
    }
}
