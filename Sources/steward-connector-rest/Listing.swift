import ConnectorKit
import Foundation
import StewardProtocol

/// Reads listings page by page: one protocol page is one page of the app's answer, and the
/// protocol cursor remembers the source and the app's own paging position.
struct Lister: Sendable {
    let client: AppClient

    /// Records of one page of `source` at `position`, and where the next page is.
    func fetch(_ source: ListSource, at position: PagePosition, scope: [String: JSONValue], pageSize: Int?,
               operation: String, ctx: RequestContext) async throws -> (records: [JSONValue], next: PagePosition?) {
        let size = source.paging?.size(requested: pageSize, configured: client.settings.pageSize) ?? pageSize ?? 100
        var scope = scope
        scope["page"] = ["size": .int(size)]
        let followed: String? = { if case .url(let u) = position { return u } else { return nil } }()
        let query = source.paging?.queryItems(at: position, size: size) ?? []
        let scopeValue = JSONValue.object(scope)
        let exchange = try await client.send(source.request, scope: scopeValue, operation: operation, ctx: ctx,
                                             url: followed, extraQuery: query)
        if source.emptyOn.match(status: exchange.status, body: exchange.body, headers: exchange.response.headers) {
            return ([], nil)
        }
        _ = try client.expectSuccess(exchange, source.request, scope: scopeValue, operation: operation)
        let found = source.records.resolve(in: exchange.body) ?? .null
        let raw: [JSONValue]
        switch found {
        case .array(let items): raw = items
        case .null: raw = []
        case .object: raw = [found]
        default:
            throw ConnectorError(.internal, "\(operation): the records at \(source.records) of \(exchange.request.method) \(exchange.request.url.path) are \(found.typeName), not an array")
        }
        let records = source.filter.isEmpty ? raw : raw.filter { r in source.filter.allSatisfy { $0.holds(body: r) } }
        let next = source.paging?.next(after: position, headers: exchange.response.headers, body: exchange.body,
                                       records: raw.count, size: size)
        if let next, next == position {
            throw ConnectorError(.internal, "\(operation): the app returned the same page position twice; stopping instead of looping")
        }
        return (records, next)
    }

    /// One protocol page of a listing made of one or more sources. `cursor` carries the source
    /// index and position; `item` fields are left to per-item listings.
    func page<Item>(_ op: ListOperation, cursor: ListCursor, scope: [String: JSONValue], pageSize: Int?, operation: String,
                    ctx: RequestContext, map: (JSONValue, Int) throws -> [Item]) async throws -> (items: [Item], next: ListCursor?) {
        var cursor = cursor
        guard op.sources.indices.contains(cursor.source) else {
            throw ConnectorError(.invalidArgument, "params.cursor: not a cursor this connector issued")
        }
        let source = op.sources[cursor.source]
        let (records, next) = try await fetch(source, at: cursor.position, scope: scope, pageSize: pageSize, operation: operation, ctx: ctx)
        var items: [Item] = []
        for (i, record) in records.enumerated() { items += try map(record, i) }
        if let next {
            cursor.position = next
            return (items, cursor)
        }
        if cursor.source + 1 < op.sources.count {
            cursor.source += 1
            cursor.position = .start
            return (items, cursor)
        }
        return (items, nil)
    }

    /// Every record of a listing, following all pages (for scans and per-item listings).
    func all<Item>(_ op: ListOperation, scope: [String: JSONValue], operation: String, ctx: RequestContext,
                   limit: Int = 200_000, map: (JSONValue, Int) throws -> [Item]) async throws -> [Item] {
        var cursor: ListCursor? = ListCursor()
        var items: [Item] = []
        var pages = 0
        while let c = cursor {
            try Task.checkCancellation()
            let (page, next) = try await self.page(op, cursor: c, scope: scope, pageSize: nil, operation: operation, ctx: ctx, map: map)
            items += page
            cursor = next
            pages += 1
            if items.count > limit || pages > 10_000 {
                throw ConnectorError(.internal, "\(operation): more than \(limit) records or 10000 pages; stopping")
            }
        }
        return items
    }
}

/// Turns mapped fields into Steward records, filling the defaults the protocol needs and
/// naming the record when the app's data does not fit.
enum RecordMapper {
    static func account(_ record: JSONValue, _ fields: FieldMap, scope: [String: JSONValue], operation: String) throws -> Account {
        var o = try mapped(record, fields, scope: scope, operation: operation)
        if o["userName"] == nil { o["userName"] = o["id"] }
        return try decode(Account.self, o, record: record, operation: operation)
    }

    static func person(_ record: JSONValue, _ fields: FieldMap, scope: [String: JSONValue], operation: String) throws -> Person {
        let o = try mapped(record, fields, scope: scope, operation: operation)
        return try decode(Person.self, o, record: record, operation: operation)
    }

    static func entitlement(_ record: JSONValue, _ fields: FieldMap, type: String, scope: [String: JSONValue], operation: String) throws -> Entitlement {
        var o = try mapped(record, fields, scope: scope, operation: operation)
        o["type"] = .string(type)
        if o["name"] == nil { o["name"] = o["id"] }
        return try decode(Entitlement.self, o, record: record, operation: operation)
    }

    /// One grant per entitlement id (a record may carry a list of them).
    static func grants(_ record: JSONValue, _ fields: FieldMap, type: String, entitlementId: String?, scope: [String: JSONValue],
                       operation: String) throws -> [Grant] {
        let o = try mapped(record, fields, scope: scope, operation: operation)
        guard let accountId = o["accountId"]?.scalarText, !accountId.isEmpty else {
            throw ConnectorError(.internal, "\(operation): a record has no accountId: \(excerpt(record))")
        }
        let ids: [String]
        if let entitlementId {
            ids = [entitlementId]
        } else if case .array(let items)? = o["entitlementId"] {
            ids = items.compactMap(\.scalarText)
        } else if let id = o["entitlementId"]?.scalarText {
            ids = [id]
        } else {
            ids = []
        }
        return ids.filter { !$0.isEmpty }.map { Grant(accountId: accountId, type: type, entitlementId: $0) }
    }

    private static func mapped(_ record: JSONValue, _ fields: FieldMap, scope: [String: JSONValue], operation: String) throws -> [String: JSONValue] {
        do {
            return try fields.map(record, scope: .object(scope)).objectValue ?? [:]
        } catch let e as ConnectorError {
            throw ConnectorError(.internal, "\(operation): \(e.message) in record \(excerpt(record))")
        }
    }

    private static func decode<T: JSONConvertible>(_ type: T.Type, _ o: [String: JSONValue], record: JSONValue, operation: String) throws -> T {
        var o = o
        // Protocol string fields: numbers from the app (ids, employee numbers) become text.
        for (key, value) in o where key != "attributes" && key != "rank" {
            if case .int = value { o[key] = .string(value.scalarText ?? "") }
            if case .double = value { o[key] = .string(value.scalarText ?? "") }
            if case .bool = value { o[key] = .string(value.scalarText ?? "") }
        }
        do {
            return try T(json: .object(o), path: "")
        } catch let e as ConnectorError {
            throw ConnectorError(.internal, "\(operation): the app's record does not fit the definition's mapping (\(e.message)): \(excerpt(record))")
        }
    }

    static func excerpt(_ record: JSONValue) -> String {
        let text = JSONWriter.string(record, sortedKeys: true)
        return text.count > 300 ? String(text.prefix(300)) + "…" : text
    }
}
