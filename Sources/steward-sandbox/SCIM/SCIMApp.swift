import StewardHTTP
import StewardJSON

/// A SCIM 2.0 service provider (RFC 7643, RFC 7644) over `SCIMStore`: Users and Groups,
/// discovery, filters, PATCH, paging, sorting, attribute selection and ETags, less what the
/// store's `SCIMProfile` leaves out.
struct SCIMApp: Sendable {
    static let contentType = "application/scim+json"
    /// The most resources one page returns; larger `count`s are cut to this.
    static let maxResults = 1000
    /// The page size when the client gives no `count`.
    static let defaultCount = 100

    let store: SCIMStore
    private var profile: SCIMProfile { store.profile }

    /// Routes relative to the app's prefix (`/scim/v2`).
    func router() -> Router {
        var router = Router()
        let app = self
        router.get("/ServiceProviderConfig", scim { _ in app.serviceProviderConfig() })
        router.get("/ResourceTypes", scim { _ in app.resourceTypes() })
        router.get("/ResourceTypes/:name", scim { request in try app.resourceType(request.parameter("name") ?? "") })
        router.get("/Schemas", scim { _ in app.schemas() })
        router.get("/Schemas/:id", scim { request in try app.schema(request.parameter("id") ?? "") })
        for kind in [ResourceKind.user, .group] {
            let base = "/\(kind.endpoint)"
            router.get(base, scim { request in try app.list(kind, request) })
            router.post(base, scim { request in try app.create(kind, request) })
            router.post("\(base)/.search", scim { request in try app.search(kind, request) })
            router.get("\(base)/:id", scim { request in try app.get(kind, request) })
            router.put("\(base)/:id", scim { request in try app.replace(kind, request) })
            router.patch("\(base)/:id", scim { request in try app.patch(kind, request) })
            router.delete("\(base)/:id", scim { request in try app.delete(kind, request) })
            router.add(nil, base, .sync(scim { _ in throw SCIMApp.methodNotAllowed("GET, POST") }))
            router.add(nil, "\(base)/:id", .sync(scim { _ in throw SCIMApp.methodNotAllowed("GET, PUT, PATCH, DELETE") }))
        }
        router.add(nil, "/Bulk", .sync(scim { _ in throw SCIMError(.notImplemented, nil, "bulk operations are not supported") }))
        router.add(nil, "/Me", .sync(scim { _ in throw SCIMError(.notImplemented, nil, "/Me is not supported") }))
        router.add(nil, "/*", .sync(scim { request in throw SCIMError.notFound("no SCIM endpoint at \(request.path)") }))
        return router
    }

    // MARK: Users and Groups

    func get(_ kind: ResourceKind, _ request: HTTPRequest) throws(SCIMError) -> HTTPResponse {
        let id = request.parameter("id") ?? ""
        if request.query.isEmpty {
            // The hot path: the default representation, serialized once per revision.
            let (resource, body, location) = try store.renderedBody(kind, id)
            if let notModified = notModified(resource, request) { return notModified }
            var headers: HTTPHeaders = ["Content-Type": SCIMApp.contentType, "Location": location]
            if profile.hasETags { headers.add("ETag", resource.etag) }
            return HTTPResponse(status: .ok, headers: headers, body: body)
        }
        let query = request.queryItems
        let selection = try AttributeSelection.parse(attributes: query["attributes"], excluded: query["excludedAttributes"], type: kind.type)
        let (resource, rendered) = try store.read { state throws(SCIMError) in
            guard let resource = state.get(kind, id) else { throw SCIMError.notFound("no \(kind.rawValue) has id '\(id)'") }
            return (resource, state.render(resource, kind))
        }
        if let notModified = notModified(resource, request) { return notModified }
        return resourceResponse(selection.apply(rendered, type: kind.type), resource, location: rendered["meta"]?["location"].stringValue, status: .ok)
    }

    /// 304 when `If-None-Match` names the resource's version; providers without ETags ignore it.
    private func notModified(_ resource: StoredResource, _ request: HTTPRequest) -> HTTPResponse? {
        guard profile.hasETags, let ifNoneMatch = request.headers["If-None-Match"],
              SCIMState.etag(resource, matchesAnyOf: ifNoneMatch) else { return nil }
        return HTTPResponse(status: .notModified, headers: ["ETag": resource.etag])
    }

    /// The `If-Match` precondition of a write; providers without ETags ignore it.
    private func ifMatch(_ request: HTTPRequest) -> String? {
        profile.hasETags ? request.headers["If-Match"] : nil
    }

    func list(_ kind: ResourceKind, _ request: HTTPRequest) throws(SCIMError) -> HTTPResponse {
        let query = request.queryItems
        return try runQuery(
            kind, filter: query["filter"], sortBy: query["sortBy"], sortOrder: query["sortOrder"],
            startIndex: try SCIMApp.integer(query["startIndex"], "startIndex"), count: try SCIMApp.integer(query["count"], "count"),
            attributes: query["attributes"], excludedAttributes: query["excludedAttributes"])
    }

    /// `POST /Users/.search` (RFC 7644 §3.4.3): the query in a body, out of URLs and logs.
    func search(_ kind: ResourceKind, _ request: HTTPRequest) throws(SCIMError) -> HTTPResponse {
        guard case .object(let body) = try SCIMApp.json(request) else {
            throw SCIMError.badRequest(.invalidSyntax, "a search request must be a JSON object")
        }
        func text(_ name: String) throws(SCIMError) -> String? {
            guard let value = body[name], !value.isNull else { return nil }
            if case .array(let items) = value { return items.compactMap(\.stringValue).joined(separator: ",") }
            guard let text = value.stringValue else { throw SCIMError.badRequest(.invalidValue, "'\(name)' must be a string") }
            return text
        }
        func integer(_ name: String) throws(SCIMError) -> Int? {
            guard let value = body[name], !value.isNull else { return nil }
            guard let number = value.intValue else { throw SCIMError.badRequest(.invalidValue, "'\(name)' must be an integer") }
            return number
        }
        return try runQuery(
            kind, filter: text("filter"), sortBy: text("sortBy"), sortOrder: text("sortOrder"),
            startIndex: integer("startIndex"), count: integer("count"),
            attributes: text("attributes"), excludedAttributes: text("excludedAttributes"))
    }

    private func runQuery(
        _ kind: ResourceKind, filter: String?, sortBy: String?, sortOrder: String?, startIndex: Int?, count: Int?,
        attributes: String?, excludedAttributes: String?
    ) throws(SCIMError) -> HTTPResponse {
        var query = ListQuery(count: min(max(count ?? SCIMApp.defaultCount, 0), SCIMApp.maxResults))
        query.startIndex = max(startIndex ?? 1, 1)
        if let filter, !filter.isEmpty {
            let compiled = try FilterCompiler(type: kind.type, errorKind: .invalidFilter).compile(try FilterParser.parse(filter))
            let membership = kind == .group ? "members" : "groups"
            if !profile.filtersOnMemberships, compiled.mentions(membership) {
                throw SCIMError.badRequest(.invalidFilter, "filtering on '\(membership)' is not supported")
            }
            query.filter = compiled
        }
        if let sortBy, !sortBy.isEmpty {
            guard let resolved = kind.type.resolve(sortBy) else {
                throw SCIMError.badRequest(.invalidPath, "sortBy '\(sortBy)' is not an attribute of \(kind.rawValue)")
            }
            query.sortBy = resolved
        }
        switch sortOrder?.lowercased() {
        case nil, "", "ascending": query.descending = false
        case "descending": query.descending = true
        default: throw SCIMError.badRequest(.invalidValue, "sortOrder must be 'ascending' or 'descending'")
        }
        let selection = try AttributeSelection.parse(attributes: attributes, excluded: excludedAttributes, type: kind.type)
        if case .all = selection.mode {
            let (total, bodies) = store.renderedPage(kind, query)
            return SCIMApp.listResponse(total: total, startIndex: query.startIndex, bodies: bodies)
        }
        let (total, rendered) = try store.read { state throws(SCIMError) in
            let (total, page) = state.list(kind, query)
            return (total, page.map { state.render($0, kind) })
        }
        let resources = rendered.map { JSONValue.object(selection.apply($0, type: kind.type)) }
        return SCIMApp.respond([
            "schemas": [.string(SCIMSchemas.listResponseURN)],
            "totalResults": .int(total),
            "startIndex": .int(query.startIndex),
            "itemsPerPage": .int(resources.count),
            "Resources": .array(resources),
        ])
    }

    func create(_ kind: ResourceKind, _ request: HTTPRequest) throws(SCIMError) -> HTTPResponse {
        let attributes = try ResourceInput(type: kind.type).attributes(from: try SCIMApp.json(request))
        let now = SCIMTime.nowMilliseconds()
        let (resource, rendered) = try store.write { state throws(SCIMError) in
            let resource = try state.create(kind, attributes, now: now)
            return (resource, state.render(resource, kind))
        }
        return try selected(rendered, resource, kind, request, status: .created)
    }

    func replace(_ kind: ResourceKind, _ request: HTTPRequest) throws(SCIMError) -> HTTPResponse {
        let id = request.parameter("id") ?? ""
        let body = try SCIMApp.json(request)
        if let bodyID = body["id"].stringValue, bodyID != id {
            throw SCIMError.badRequest(.mutability, "'id' is '\(bodyID)' in the body but '\(id)' in the URL")
        }
        let attributes = try ResourceInput(type: kind.type).attributes(from: body)
        let ifMatch = ifMatch(request)
        let now = SCIMTime.nowMilliseconds()
        let (resource, rendered) = try store.write { state throws(SCIMError) in
            let resource = try state.replace(kind, id, attributes, ifMatch: ifMatch, now: now)
            return (resource, state.render(resource, kind))
        }
        return try selected(rendered, resource, kind, request, status: .ok)
    }

    func patch(_ kind: ResourceKind, _ request: HTTPRequest) throws(SCIMError) -> HTTPResponse {
        let id = request.parameter("id") ?? ""
        let operations = try PatchOperation.parseRequest(try SCIMApp.json(request), type: kind.type)
        if !profile.acceptsValueFilterPaths, let filtered = operations.first(where: { $0.path?.filter != nil }), let path = filtered.path {
            throw SCIMError.badRequest(.invalidPath, "value filters in PATCH paths are not supported: '\(path.text)'")
        }
        let ifMatch = ifMatch(request)
        let now = SCIMTime.nowMilliseconds()
        let (resource, rendered) = try store.write { state throws(SCIMError) in
            let resource = try state.patch(kind, id, operations, ifMatch: ifMatch, now: now)
            return (resource, state.render(resource, kind))
        }
        return try selected(rendered, resource, kind, request, status: .ok)
    }

    func delete(_ kind: ResourceKind, _ request: HTTPRequest) throws(SCIMError) -> HTTPResponse {
        let id = request.parameter("id") ?? ""
        let ifMatch = ifMatch(request)
        let now = SCIMTime.nowMilliseconds()
        try store.write { state throws(SCIMError) in try state.delete(kind, id, ifMatch: ifMatch, now: now) }
        return HTTPResponse(status: .noContent)
    }

    private func selected(
        _ rendered: [String: JSONValue], _ resource: StoredResource, _ kind: ResourceKind, _ request: HTTPRequest, status: HTTPStatus
    ) throws(SCIMError) -> HTTPResponse {
        let query = request.queryItems
        let selection = try AttributeSelection.parse(attributes: query["attributes"], excluded: query["excludedAttributes"], type: kind.type)
        return resourceResponse(
            selection.apply(rendered, type: kind.type), resource, location: rendered["meta"]?["location"].stringValue, status: status)
    }

    private func resourceResponse(_ body: [String: JSONValue], _ resource: StoredResource, location: String?, status: HTTPStatus) -> HTTPResponse {
        var response = SCIMApp.respond(.object(body), status: status)
        if profile.hasETags { response.headers.add("ETag", resource.etag) }
        if let location { response.headers.add("Location", location) }
        return response
    }

    // MARK: Discovery

    func serviceProviderConfig() -> HTTPResponse {
        let base = baseURL
        return SCIMApp.respond([
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"],
            "documentationUri": "https://github.com/steward-iga/steward",
            "patch": ["supported": true],
            "bulk": ["supported": false, "maxOperations": 0, "maxPayloadSize": 0],
            "filter": ["supported": true, "maxResults": .int(SCIMApp.maxResults)],
            "changePassword": ["supported": false],
            "sort": ["supported": true],
            "etag": ["supported": .bool(profile.hasETags)],
            "authenticationSchemes": [[
                "type": "oauthbearertoken", "name": "OAuth Bearer Token", "primary": true,
                "description": "Authentication with the bearer token printed by steward-sandbox at startup.",
            ]],
            "meta": [
                "resourceType": "ServiceProviderConfig", "location": .string("\(base)/ServiceProviderConfig"),
            ],
        ])
    }

    func resourceTypes() -> HTTPResponse {
        let base = baseURL
        let types = [ResourceKind.user, .group].map { $0.type.definition(location: "\(base)/ResourceTypes/\($0.rawValue)") }
        return SCIMApp.listResponse(types)
    }

    func resourceType(_ name: String) throws(SCIMError) -> HTTPResponse {
        guard let kind = [ResourceKind.user, .group].first(where: { $0.rawValue.lowercased() == name.lowercased() }) else {
            throw SCIMError.notFound("no resource type '\(name)'")
        }
        return SCIMApp.respond(kind.type.definition(location: "\(baseURL)/ResourceTypes/\(kind.rawValue)"))
    }

    func schemas() -> HTTPResponse {
        let base = baseURL
        return SCIMApp.listResponse(SCIMSchemas.all.map { $0.definition(location: "\(base)/Schemas/\($0.id)") })
    }

    func schema(_ id: String) throws(SCIMError) -> HTTPResponse {
        guard let schema = SCIMSchemas.all.first(where: { $0.id.lowercased() == id.lowercased() }) else {
            throw SCIMError.notFound("no schema '\(id)'")
        }
        return SCIMApp.respond(schema.definition(location: "\(baseURL)/Schemas/\(schema.id)"))
    }

    private var baseURL: String { (try? store.read { $0.baseURL }) ?? "" }

    // MARK: Helpers

    static func respond(_ body: JSONValue, status: HTTPStatus = .ok) -> HTTPResponse {
        HTTPResponse.json(body, status: status, contentType: contentType)
    }

    static func listResponse(_ resources: [JSONValue]) -> HTTPResponse {
        respond([
            "schemas": [.string(SCIMSchemas.listResponseURN)],
            "totalResults": .int(resources.count), "startIndex": 1, "itemsPerPage": .int(resources.count),
            "Resources": .array(resources),
        ])
    }

    /// A `ListResponse` assembled from already serialized resources.
    static func listResponse(total: Int, startIndex: Int, bodies: [[UInt8]]) -> HTTPResponse {
        var out = Array("{\"schemas\":[\"\(SCIMSchemas.listResponseURN)\"],\"totalResults\":\(total),\"startIndex\":\(startIndex),\"itemsPerPage\":\(bodies.count),\"Resources\":[".utf8)
        out.reserveCapacity(out.count + bodies.reduce(2) { $0 + $1.count + 1 })
        for (index, body) in bodies.enumerated() {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            out.append(contentsOf: body)
        }
        out.append(contentsOf: Array("]}".utf8))
        return HTTPResponse(status: .ok, headers: ["Content-Type": contentType], body: out)
    }

    static func json(_ request: HTTPRequest) throws(SCIMError) -> JSONValue {
        guard !request.body.isEmpty else { throw SCIMError.badRequest(.invalidSyntax, "the request body is empty") }
        do {
            return try JSONParser.parse(request.body)
        } catch {
            throw SCIMError.badRequest(.invalidSyntax, "the request body is not valid JSON: \(error)")
        }
    }

    static func integer(_ text: String?, _ name: String) throws(SCIMError) -> Int? {
        guard let text, !text.isEmpty else { return nil }
        guard let value = Int(text) else { throw SCIMError.badRequest(.invalidValue, "'\(name)' must be an integer, not '\(text)'") }
        return value
    }

    static func methodNotAllowed(_ allowed: String) -> SCIMError {
        var error = SCIMError(.methodNotAllowed, nil, "this endpoint allows \(allowed)")
        error.headers.add("Allow", allowed)
        return error
    }

    /// Adapts a SCIM handler: its errors become SCIM error bodies, never a bare 500 with text.
    func scim(_ body: @escaping @Sendable (HTTPRequest) throws -> HTTPResponse) -> @Sendable (HTTPRequest) -> HTTPResponse {
        { request in
            do {
                return try body(request)
            } catch let error as SCIMError {
                return error.response
            } catch let error as HTTPError {
                return SCIMError(error.status, nil, error.message).response
            } catch {
                return SCIMError(.internalServerError, nil, "internal error").response
            }
        }
    }
}
