import ConnectorKit
import StewardProtocol

/// Pages through a SCIM resource endpoint with the paging the provider offers: cursors
/// (RFC 9865) where it has them, `startIndex`/`count` (RFC 7644 §3.4.2.4) otherwise. The
/// protocol cursor it hands out is opaque to the host: `i<startIndex>` or `c<provider cursor>`.
struct ResourcePager: Sendable {
    let scim: ScimService
    let features: ProviderFeatures
    let useCursor: Bool

    init(scim: ScimService, features: ProviderFeatures, preference: String?) {
        self.scim = scim
        self.features = features
        switch preference {
        case "cursor"?: useCursor = features.cursorPaging
        case "index"?: useCursor = !features.indexPaging && features.cursorPaging
        default: useCursor = features.cursorPaging && (features.prefersCursor || !features.indexPaging)
        }
    }

    struct Page {
        var resources: [[String: JSONValue]]
        var next: String?
        var total: Int?

        /// The cursors of up to `depth` pages after this one: with index paging, the following
        /// start indexes up to the total; with cursors, only the next.
        func upcoming(depth: Int) -> [String] {
            guard let next else { return [] }
            guard next.hasPrefix("i"), let start = Int(next.dropFirst()), let total, !resources.isEmpty else { return [next] }
            return stride(from: start, through: total, by: resources.count).prefix(depth).map { "i\($0)" }
        }
    }

    /// One page of `endpoint`, starting at `cursor` (nil for the first page).
    func page(_ endpoint: String, cursor: String?, count requested: Int, query extra: [(String, String)] = [],
              ctx: RequestContext) async throws -> Page {
        let count = max(1, min(requested, features.pageLimit ?? requested))
        var query = extra
        var startIndex = 1
        if let cursor {
            if cursor.hasPrefix("i"), let n = Int(cursor.dropFirst()), n >= 1, !useCursor {
                startIndex = n
            } else if cursor.hasPrefix("c"), cursor.count > 1, useCursor {
                query.append(("cursor", String(cursor.dropFirst())))
            } else {
                throw ConnectorError(.invalidArgument, "params.cursor: not a cursor this connector issued")
            }
        } else if useCursor {
            query.append(("cursor", ""))
        }
        if !useCursor { query.append(("startIndex", String(startIndex))) }
        query.append(("count", String(count)))
        let reply = try await scim.send("GET", endpoint, query: query, ctx: ctx)
        guard reply.isSuccess else {
            var e = scim.error(reply)
            if ["invalidCursor", "expiredCursor"].contains(reply.scimType ?? "") {
                e.kind = .preconditionFailed
                e.message = "the provider no longer accepts this listing's cursor (\(reply.scimType ?? "")); list again from the start"
            }
            throw e
        }
        let json = reply.json
        let resources = (json["Resources"].arrayValue ?? []).compactMap(\.objectValue)
        let total = json["totalResults"].intValue
        let next: String?
        if useCursor {
            next = json["nextCursor"].stringValue.flatMap { $0.isEmpty ? nil : "c" + $0 }
        } else if resources.isEmpty {
            next = nil
        } else {
            // Providers may return fewer than asked (their own maximum): advance by what came.
            let answeredStart = json["startIndex"].intValue ?? startIndex
            let following = answeredStart + resources.count
            next = (total.map { following <= $0 } ?? (resources.count >= count)) ? "i\(following)" : nil
        }
        return Page(resources: resources, next: next, total: total)
    }

    /// Walks every page of `endpoint` (for lookups when the provider cannot filter).
    func forEach(_ endpoint: String, query: [(String, String)] = [], ctx: RequestContext,
                 _ body: ([String: JSONValue]) throws -> Bool) async throws {
        var cursor: String?
        repeat {
            let page = try await page(endpoint, cursor: cursor, count: features.pageLimit ?? 200, query: query, ctx: ctx)
            for resource in page.resources where try !body(resource) { return }
            cursor = page.next
        } while cursor != nil
    }
}
