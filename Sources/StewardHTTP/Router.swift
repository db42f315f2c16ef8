/// What answers a request. `sync` handlers run on the connection's event loop and must not
/// block (no sleeping, no disk); they are the fast path. `async` handlers run in a task.
public enum HTTPHandler: Sendable {
    case sync(@Sendable (HTTPRequest) throws -> HTTPResponse)
    case async(@Sendable (HTTPRequest) async throws -> HTTPResponse)
}

/// Routes by method and path pattern.
///
/// Patterns are `/`-separated segments: literals, `:name` (one segment) and a final `*name`
/// (the rest of the path). Literals beat parameters, which beat wildcards; a path that
/// matches with another method answers 405 with `Allow`, and `HEAD` falls back to `GET`.
/// Apps build their own router and are `mount`ed under a prefix.
public struct Router: Sendable {
    struct Route: Sendable {
        var method: HTTPMethod?
        var segments: [PatternSegment]
        var handler: HTTPHandler
    }

    enum PatternSegment: Sendable, Equatable {
        case literal(String)
        case parameter(String)
        case wildcard(String)
    }

    private(set) var routes: [Route] = []

    public init() {}

    /// Adds a route. `method` nil answers every method (a catch-all such as an app's 404).
    public mutating func add(_ method: HTTPMethod?, _ pattern: String, _ handler: HTTPHandler) {
        routes.append(Route(method: method, segments: Router.parse(pattern: pattern), handler: handler))
    }

    public mutating func get(_ pattern: String, _ handler: @escaping @Sendable (HTTPRequest) throws -> HTTPResponse) {
        add(.get, pattern, .sync(handler))
    }

    public mutating func post(_ pattern: String, _ handler: @escaping @Sendable (HTTPRequest) throws -> HTTPResponse) {
        add(.post, pattern, .sync(handler))
    }

    public mutating func put(_ pattern: String, _ handler: @escaping @Sendable (HTTPRequest) throws -> HTTPResponse) {
        add(.put, pattern, .sync(handler))
    }

    public mutating func patch(_ pattern: String, _ handler: @escaping @Sendable (HTTPRequest) throws -> HTTPResponse) {
        add(.patch, pattern, .sync(handler))
    }

    public mutating func delete(_ pattern: String, _ handler: @escaping @Sendable (HTTPRequest) throws -> HTTPResponse) {
        add(.delete, pattern, .sync(handler))
    }

    /// Adds every route of `other` under `prefix` (e.g. `/scim/v2`).
    public mutating func mount(_ prefix: String, _ other: Router) {
        let prefixSegments = Router.parse(pattern: prefix)
        for route in other.routes {
            routes.append(Route(method: route.method, segments: prefixSegments + route.segments, handler: route.handler))
        }
    }

    /// Rewrites every handler, e.g. to add authentication or fault injection to a whole app.
    public func mapHandlers(_ transform: (HTTPHandler) -> HTTPHandler) -> Router {
        var copy = self
        copy.routes = routes.map { Route(method: $0.method, segments: $0.segments, handler: transform($0.handler)) }
        return copy
    }

    static func parse(pattern: String) -> [PatternSegment] {
        precondition(pattern.hasPrefix("/"), "route pattern '\(pattern)' must start with '/'")
        var segments: [PatternSegment] = []
        let pieces = pattern.split(separator: "/", omittingEmptySubsequences: true)
        for (i, piece) in pieces.enumerated() {
            if piece.hasPrefix(":") {
                precondition(piece.count > 1, "route pattern '\(pattern)' has an unnamed parameter")
                segments.append(.parameter(String(piece.dropFirst())))
            } else if piece.hasPrefix("*") {
                precondition(i == pieces.count - 1, "route pattern '\(pattern)': a wildcard must be the last segment")
                segments.append(.wildcard(String(piece.dropFirst())))
            } else {
                segments.append(.literal(PercentEncoding.decode(piece)))
            }
        }
        return segments
    }
}

/// The outcome of routing one request.
enum RouteMatch {
    case found(HTTPHandler, [String: String])
    case methodNotAllowed([HTTPMethod])
    case notFound
}

/// A router compiled into a tree for matching. Immutable once built.
final class RouteTable: Sendable {
    private let root: RouteNode

    init(_ router: Router) {
        root = RouteNode(routes: router.routes.map { ($0.segments[...], $0.method, $0.handler) })
    }

    func match(method: HTTPMethod, path: String) -> RouteMatch {
        let decoded = RouteTable.segments(of: path)
        var captured: [(String, String)] = []
        var allowed: [HTTPMethod]?
        if let handler = root.match(decoded[...], method: method, captured: &captured, allowed: &allowed) {
            return .found(handler, captured.isEmpty ? [:] : Dictionary(captured, uniquingKeysWith: { first, _ in first }))
        }
        if let allowed { return .methodNotAllowed(allowed) }
        return .notFound
    }

    /// Decoded path segments; a trailing slash is ignored, so `/Users/` routes like `/Users`.
    static func segments(of path: String) -> [String] {
        var segments: [String] = []
        let utf8 = path.utf8
        var start = utf8.startIndex
        if start < utf8.endIndex, utf8[start] == UInt8(ascii: "/") { start = utf8.index(after: start) }
        var i = start
        while i < utf8.endIndex {
            if utf8[i] == UInt8(ascii: "/") {
                segments.append(PercentEncoding.decode(path[start..<i]))
                start = utf8.index(after: i)
            }
            i = utf8.index(after: i)
        }
        if start < utf8.endIndex { segments.append(PercentEncoding.decode(path[start..<utf8.endIndex])) }
        return segments
    }
}

private final class RouteNode: Sendable {
    typealias Entry = (segments: ArraySlice<Router.PatternSegment>, method: HTTPMethod?, handler: HTTPHandler)

    let handlers: [HTTPMethod: HTTPHandler]
    let anyMethod: HTTPHandler?
    let literals: [String: RouteNode]
    let parameter: (name: String, node: RouteNode)?
    let wildcard: (name: String, handlers: [HTTPMethod: HTTPHandler], anyMethod: HTTPHandler?)?

    init(routes: [Entry]) {
        var handlers: [HTTPMethod: HTTPHandler] = [:]
        var anyMethod: HTTPHandler?
        var literalRoutes: [String: [Entry]] = [:]
        var parameterName: String?
        var parameterRoutes: [Entry] = []
        var wildcardName: String?
        var wildcardHandlers: [HTTPMethod: HTTPHandler] = [:]
        var wildcardAny: HTTPHandler?
        // The first registration of a method and pattern wins, so later duplicates are inert.
        for route in routes {
            guard let first = route.segments.first else {
                if let method = route.method {
                    if handlers[method] == nil { handlers[method] = route.handler }
                } else if anyMethod == nil {
                    anyMethod = route.handler
                }
                continue
            }
            let rest = route.segments.dropFirst()
            switch first {
            case .literal(let text):
                literalRoutes[text, default: []].append((rest, route.method, route.handler))
            case .parameter(let name):
                if parameterName == nil { parameterName = name }
                parameterRoutes.append((rest, route.method, route.handler))
            case .wildcard(let name):
                if wildcardName == nil { wildcardName = name }
                if let method = route.method {
                    if wildcardHandlers[method] == nil { wildcardHandlers[method] = route.handler }
                } else if wildcardAny == nil {
                    wildcardAny = route.handler
                }
            }
        }
        self.handlers = handlers
        self.anyMethod = anyMethod
        literals = literalRoutes.mapValues { RouteNode(routes: $0) }
        parameter = parameterName.map { ($0, RouteNode(routes: parameterRoutes)) }
        wildcard = wildcardName.map { ($0, wildcardHandlers, wildcardAny) }
    }

    func match(
        _ segments: ArraySlice<String>, method: HTTPMethod, captured: inout [(String, String)], allowed: inout [HTTPMethod]?
    ) -> HTTPHandler? {
        guard let segment = segments.first else {
            if let handler = RouteNode.pick(handlers, anyMethod, method: method) { return handler }
            if allowed == nil, !handlers.isEmpty { allowed = RouteNode.allowList(handlers) }
            return wildcardMatch(segments, method: method, captured: &captured, allowed: &allowed)
        }
        let rest = segments.dropFirst()
        if let node = literals[segment], let handler = node.match(rest, method: method, captured: &captured, allowed: &allowed) {
            return handler
        }
        if let parameter, !segment.isEmpty {
            captured.append((parameter.name, segment))
            if let handler = parameter.node.match(rest, method: method, captured: &captured, allowed: &allowed) {
                return handler
            }
            captured.removeLast()
        }
        return wildcardMatch(segments, method: method, captured: &captured, allowed: &allowed)
    }

    private func wildcardMatch(
        _ segments: ArraySlice<String>, method: HTTPMethod, captured: inout [(String, String)], allowed: inout [HTTPMethod]?
    ) -> HTTPHandler? {
        // A path that exists with other methods answers 405 rather than falling into a catch-all.
        guard let wildcard, allowed == nil else { return nil }
        if let handler = RouteNode.pick(wildcard.handlers, wildcard.anyMethod, method: method) {
            if !wildcard.name.isEmpty { captured.append((wildcard.name, segments.joined(separator: "/"))) }
            return handler
        }
        if allowed == nil, !wildcard.handlers.isEmpty { allowed = RouteNode.allowList(wildcard.handlers) }
        return nil
    }

    private static func pick(_ handlers: [HTTPMethod: HTTPHandler], _ any: HTTPHandler?, method: HTTPMethod) -> HTTPHandler? {
        if let handler = handlers[method] { return handler }
        if method == .head, let handler = handlers[.get] { return handler }
        return any
    }

    private static func allowList(_ handlers: [HTTPMethod: HTTPHandler]) -> [HTTPMethod] {
        var methods = Array(handlers.keys)
        if handlers[.get] != nil, handlers[.head] == nil { methods.append(.head) }
        return methods.sorted { $0.rawValue < $1.rawValue }
    }
}
