import Foundation
import StewardProtocol

/// How a listing is paged, and when it ends.
///
/// - `link`: follow the `Link: <...>; rel="next"` header (RFC 8288), or a next-page URL found in
///   the body with `from`;
/// - `cursor`: a token from the body (`from`) sent back as the query parameter `param`;
/// - `offset`: `param` counts records from `start`;
/// - `page`: `param` counts pages from `start`.
///
/// Every kind stops on an empty page; `offset` and `page` also stop on a short page (unless
/// `stopOnShortPage` is false), when `lastFrom` is true, or when `totalFrom`/`totalPagesFrom`
/// say everything was read.
struct Paging: Sendable {
    enum Kind: Sendable {
        case link(from: ValuePath?)
        case cursor(from: ValuePath, param: String)
        case offset(param: String, start: Int)
        case page(param: String, start: Int)
    }

    var kind: Kind
    /// The query parameter carrying the page size.
    var sizeParam: String?
    /// The largest page the app allows.
    var maxSize: Int?
    /// The page size when the host asks for none.
    var defaultSize: Int?
    var totalFrom: ValuePath?
    var totalPagesFrom: ValuePath?
    var lastFrom: ValuePath?
    var stopOnShortPage: Bool

    static let keys = ["type", "from", "param", "start", "sizeParam", "maxSize", "defaultSize", "totalFrom", "totalPagesFrom",
                       "lastFrom", "stopOnShortPage"]

    init(_ node: DefinitionNode) throws(DefinitionError) {
        let m = try node.members(known: Self.keys)
        let type = try node.child("type").choice(["link", "cursor", "offset", "page"])
        func param(_ fallback: String?) throws(DefinitionError) -> String {
            if let p = try m["param"]?.string(), !p.isEmpty { return p }
            guard let fallback else { throw node.child("param").error("required for \(type) paging: the query parameter to send") }
            return fallback
        }
        switch type {
        case "link":
            kind = .link(from: try m["from"]?.valuePath())
            if m["param"] != nil || m["start"] != nil { throw node.error("link paging takes no \"param\" or \"start\": the next URL is used as given") }
        case "cursor":
            guard let from = m["from"] else { throw node.child("from").error("required for cursor paging: where the next cursor is in the body") }
            kind = .cursor(from: try from.valuePath(), param: try param(nil))
        case "offset":
            kind = .offset(param: try param(nil), start: try m["start"]?.optionalInt(in: 0...1_000_000) ?? 0)
        default:
            kind = .page(param: try param(nil), start: try m["start"]?.optionalInt(in: 0...1_000_000) ?? 1)
        }
        sizeParam = try m["sizeParam"]?.string()
        maxSize = try m["maxSize"]?.optionalInt(in: 1...100_000)
        defaultSize = try m["defaultSize"]?.optionalInt(in: 1...100_000)
        totalFrom = try m["totalFrom"]?.valuePath()
        totalPagesFrom = try m["totalPagesFrom"]?.valuePath()
        lastFrom = try m["lastFrom"]?.valuePath()
        stopOnShortPage = try m["stopOnShortPage"]?.bool(default: true) ?? true
        if case .link = kind, totalFrom != nil || totalPagesFrom != nil {
            throw node.error("link paging ends when there is no next link; totalFrom and totalPagesFrom do not apply")
        }
    }

    /// The size to ask for: the host's wish, else the configured default, within `maxSize`.
    func size(requested: Int?, configured: Int?) -> Int {
        let wanted = requested ?? configured ?? defaultSize ?? maxSize ?? 100
        return min(max(1, wanted), maxSize ?? Int.max)
    }

    /// The query parameters for the page at `position` (none for a followed URL, which has them).
    func queryItems(at position: PagePosition, size: Int) -> [(String, String)] {
        var items: [(String, String)] = []
        switch (kind, position) {
        case (_, .url): return []
        case (.cursor(_, let param), .cursor(let token)): items.append((param, token))
        case (.offset(let param, let start), _): items.append((param, String(position.number ?? start)))
        case (.page(let param, let start), _): items.append((param, String(position.number ?? start)))
        default: break
        }
        if let sizeParam { items.append((sizeParam, String(size))) }
        return items
    }

    /// Where the next page is, or nil when this was the last.
    func next(after position: PagePosition, headers: [String: String], body: JSONValue, records: Int, size: Int) -> PagePosition? {
        if records == 0 { return nil }
        if let lastFrom, let last = lastFrom.resolve(in: body), last.boolValue == true || last.scalarText == "true" { return nil }
        switch kind {
        case .link(let from):
            let next: String?
            if let from {
                next = from.resolve(in: body)?.stringValue
            } else {
                next = headers["link"].flatMap { LinkHeader.target(in: $0, rel: "next") }
            }
            guard let url = next, !url.isEmpty else { return nil }
            return .url(url)
        case .cursor(let from, _):
            guard let token = from.resolve(in: body)?.scalarText, !token.isEmpty else { return nil }
            if case .cursor(let previous) = position, previous == token { return nil }
            return .cursor(token)
        case .offset(_, let start):
            let offset = (position.number ?? start) + records
            if stopOnShortPage && records < size { return nil }
            if let total = totalFrom?.resolve(in: body)?.intValue, offset - start >= total { return nil }
            return .number(offset)
        case .page(_, let start):
            let page = position.number ?? start
            if stopOnShortPage && records < size { return nil }
            if let pages = totalPagesFrom?.resolve(in: body)?.intValue, page - start + 1 >= pages { return nil }
            return .number(page + 1)
        }
    }
}

/// Where in one listing the next request starts.
enum PagePosition: Sendable, Equatable {
    case start
    /// A next-page URL given by the app.
    case url(String)
    case cursor(String)
    /// An offset or a page number.
    case number(Int)

    var number: Int? { if case .number(let n) = self { return n } else { return nil } }
}

/// `Link` header parsing (RFC 8288): `<https://...?page=2>; rel="next", <...>; rel="last"`.
enum LinkHeader {
    static func target(in header: String, rel wanted: String) -> String? {
        var rest = header[...]
        while let open = rest.firstIndex(of: "<") {
            guard let close = rest[open...].firstIndex(of: ">") else { return nil }
            let target = String(rest[rest.index(after: open)..<close])
            let afterTarget = rest[rest.index(after: close)...]
            let paramsEnd = afterTarget.firstIndex(of: "<") ?? afterTarget.endIndex
            let params = afterTarget[..<paramsEnd]
            for param in params.split(separator: ";") {
                let parts = param.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
                guard parts.count == 2, parts[0].lowercased() == "rel" else { continue }
                let rels = parts[1].trimmingCharacters(in: CharacterSet(charactersIn: "\",")).lowercased().split(separator: " ")
                if rels.contains(where: { $0 == wanted }) { return target }
            }
            rest = afterTarget[paramsEnd...]
        }
        return nil
    }
}

/// The opaque cursor handed to the host: which source, which entitlement or account of a
/// per-item listing, and where in that listing. Base64url of compact JSON.
struct ListCursor: Sendable, Equatable {
    /// Index of the entitlement type (grant listings over several types).
    var type = 0
    /// Index of the source (a listing made of several requests).
    var source = 0
    /// Index and id of the entitlement or account a per-item listing is at.
    var item = 0
    var itemId: String?
    var position: PagePosition = .start

    init(type: Int = 0, source: Int = 0, item: Int = 0, itemId: String? = nil, position: PagePosition = .start) {
        self.type = type
        self.source = source
        self.item = item
        self.itemId = itemId
        self.position = position
    }

    init(decoding text: String) throws {
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while base64.count % 4 != 0 { base64 += "=" }
        guard let data = Data(base64Encoded: base64), let json = try? JSONParser.parse(data), case .object = json,
              let type = json["t"].intValue, let source = json["s"].intValue, let item = json["i"].intValue else {
            throw ConnectorError(.invalidArgument, "params.cursor: not a cursor this connector issued")
        }
        self.type = type
        self.source = source
        self.item = item
        itemId = json["id"].stringValue
        if let url = json["u"].stringValue {
            position = .url(url)
        } else if let cursor = json["c"].stringValue {
            position = .cursor(cursor)
        } else if let n = json["n"].intValue {
            position = .number(n)
        } else {
            position = .start
        }
    }

    var encoded: String {
        var b = JSONObjectBuilder()
        b.set("t", type)
        b.set("s", source)
        b.set("i", item)
        b.set("id", itemId)
        switch position {
        case .start: break
        case .url(let u): b.set("u", u)
        case .cursor(let c): b.set("c", c)
        case .number(let n): b.set("n", n)
        }
        return Data(JSONWriter.bytes(b.value, sortedKeys: true)).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }
}
