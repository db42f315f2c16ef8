import ConnectorKit
import StewardProtocol

/// What the service provider says it supports, read at `initialize` from
/// `/ServiceProviderConfig`, `/ResourceTypes` and `/Schemas` (RFC 7643 §5–7), so the connector
/// declares only what it can do there and picks the requests that work.
struct ProviderFeatures: Sendable {
    var patch = false
    var filter = false
    /// The most resources the provider returns in one answer.
    var maxResults: Int?
    var etag = false
    var sort = false
    var bulk = false
    var bulkMaxOperations = 0
    /// Cursor paging (RFC 9865) and index paging, and which the provider prefers.
    var cursorPaging = false
    var indexPaging = true
    var prefersCursor = false
    var maxPageSize: Int?

    var userEndpoint = "/Users"
    /// Nil when the provider has no Group resource type.
    var groupEndpoint: String? = "/Groups"
    var enterpriseExtension = true
    /// Lower-cased top-level attributes of the User schema, when `/Schemas` told us.
    var userAttributes: Set<String>?
    /// `canonicalValues` of `roles.value` and `entitlements.value`, when the schema lists them.
    var roleCanonicalValues: [String] = []
    var entitlementCanonicalValues: [String] = []

    func userHas(_ attribute: String) -> Bool { userAttributes?.contains(attribute.lowercased()) ?? false }

    /// The largest page worth asking for.
    var pageLimit: Int? {
        switch (maxResults, maxPageSize) {
        case (let a?, let b?): return min(a, b)
        case (let a?, nil): return a
        case (nil, let b?): return b
        case (nil, nil): return nil
        }
    }

    /// Reads the three discovery endpoints. `/ServiceProviderConfig` is required; providers
    /// that lack the other two get RFC 7643's defaults, and no optional entitlement types.
    static func discover(_ scim: ScimService, ctx: RequestContext) async throws -> ProviderFeatures {
        var features = ProviderFeatures()
        let config = try await scim.send("GET", "/ServiceProviderConfig", ctx: ctx)
        guard config.isSuccess else {
            var e = scim.error(config, "cannot read \(scim.baseURL.absoluteString)/ServiceProviderConfig: HTTP \(config.status)")
            if config.status == 404 {
                e.kind = .configuration
                e.message += "; is settings.baseURL the SCIM base (ending in /scim/v2 or similar)?"
            }
            throw e
        }
        features.read(serviceProviderConfig: config.json)

        let types = try await scim.send("GET", "/ResourceTypes", ctx: ctx)
        if types.isSuccess {
            features.read(resourceTypes: Self.resources(types.json))
        } else if types.status >= 500 && types.status != 501 {
            throw scim.error(types)
        } else {
            ctx.log(.info, "the provider has no /ResourceTypes (HTTP \(types.status)); assuming /Users and /Groups")
        }

        let schemas = try await scim.send("GET", "/Schemas", ctx: ctx)
        if schemas.isSuccess {
            features.read(schemas: Self.resources(schemas.json))
        } else if schemas.status >= 500 && schemas.status != 501 {
            throw scim.error(schemas)
        } else {
            ctx.log(.info, "the provider has no /Schemas (HTTP \(schemas.status)); roles and entitlements are not offered")
        }
        return features
    }

    /// A list answer's `Resources`; some providers answer with a bare array.
    private static func resources(_ json: JSONValue) -> [[String: JSONValue]] {
        let items = json.arrayValue ?? json["Resources"].arrayValue ?? []
        return items.compactMap(\.objectValue)
    }

    mutating func read(serviceProviderConfig json: JSONValue) {
        patch = json["patch"]["supported"].boolValue ?? false
        filter = json["filter"]["supported"].boolValue ?? false
        maxResults = json["filter"]["maxResults"].intValue.flatMap { $0 > 0 ? $0 : nil }
        etag = json["etag"]["supported"].boolValue ?? false
        sort = json["sort"]["supported"].boolValue ?? false
        bulk = json["bulk"]["supported"].boolValue ?? false
        bulkMaxOperations = json["bulk"]["maxOperations"].intValue ?? 0
        let pagination = json["pagination"]
        if !pagination.isNull {
            cursorPaging = pagination["cursor"].boolValue ?? false
            indexPaging = pagination["index"].boolValue ?? true
            prefersCursor = pagination["defaultPaginationMethod"].stringValue?.lowercased() == "cursor"
            maxPageSize = pagination["maxPageSize"].intValue.flatMap { $0 > 0 ? $0 : nil }
        }
    }

    mutating func read(resourceTypes: [[String: JSONValue]]) {
        var sawGroup = false
        for type in resourceTypes {
            let schema = type["schema"]?.stringValue?.lowercased()
            let name = type["name"]?.stringValue?.lowercased()
            let endpoint = type["endpoint"]?.stringValue.map { $0.hasPrefix("/") ? $0 : "/" + $0 }
            if schema == UserMapping.coreURN.lowercased() || name == "user" {
                if let endpoint { userEndpoint = endpoint }
                let extensions = (type["schemaExtensions"]?.arrayValue ?? []).compactMap { $0["schema"].stringValue?.lowercased() }
                enterpriseExtension = extensions.contains(UserMapping.enterpriseURN.lowercased())
            } else if schema == GroupOperations.coreURN.lowercased() || name == "group" {
                sawGroup = true
                if let endpoint { groupEndpoint = endpoint }
            }
        }
        if !sawGroup { groupEndpoint = nil }
    }

    mutating func read(schemas: [[String: JSONValue]]) {
        guard let user = schemas.first(where: { $0["id"]?.stringValue?.lowercased() == UserMapping.coreURN.lowercased() }) else { return }
        let attributes = (user["attributes"]?.arrayValue ?? []).compactMap(\.objectValue)
        userAttributes = Set(attributes.compactMap { $0["name"]?.stringValue?.lowercased() })
        func canonicalValues(_ name: String) -> [String] {
            guard let attribute = attributes.first(where: { $0["name"]?.stringValue?.lowercased() == name }) else { return [] }
            let subs = (attribute["subAttributes"]?.arrayValue ?? []).compactMap(\.objectValue)
            let value = subs.first { $0["name"]?.stringValue?.lowercased() == "value" }
            return (value?["canonicalValues"]?.arrayValue ?? []).compactMap(\.stringValue)
        }
        roleCanonicalValues = canonicalValues("roles")
        entitlementCanonicalValues = canonicalValues("entitlements")
    }

    /// One line for `validate` and the log.
    var summary: String {
        var parts: [String] = []
        parts.append("PATCH " + (patch ? "yes" : "no (updates use PUT)"))
        parts.append("filter " + (filter ? "yes" : "no (lookups scan)"))
        parts.append("ETag " + (etag ? "yes" : "no"))
        parts.append("sort " + (sort ? "yes" : "no"))
        parts.append("bulk " + (bulk ? "yes (\(bulkMaxOperations) ops)" : "no"))
        parts.append("paging " + (cursorPaging ? "cursor" + (indexPaging ? "+index" : "") : "index"))
        if let pageLimit { parts.append("max \(pageLimit) per page") }
        if groupEndpoint == nil { parts.append("no groups") }
        return parts.joined(separator: ", ")
    }
}
