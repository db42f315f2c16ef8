import ConnectorKit
import Foundation
import StewardProtocol

/// The app's settings and secrets, checked once at `initialize` with errors naming the setting.
struct ScimSettings: Sendable {
    var baseURL: URL
    var auth: HTTPAuth
    /// The page size when the host asks for none.
    var pageSize: Int
    var timeout: Double
    var mapping: UserMapping
    /// When set, `role` is single-valued with these tiers, most privileged first.
    var roleTiers: [String]?
    /// Known values of `roles` and `entitlements`, so they can be listed.
    var roleValues: [String]
    var entitlementValues: [String]
    /// `index`, `cursor`, or nil for the provider's preference.
    var pagination: String?
    /// The attribute user listings are sorted by, for providers whose default order is not
    /// stable from one page to the next (used only where the provider can sort).
    var sortBy: String?

    static let knownSettings: Set<String> = [
        "baseURL", "auth", "tokenURL", "scope", "tokenAuth", "pageSize", "timeoutSeconds", "attributeMapping",
        "roleTiers", "roles", "entitlements", "pagination", "sortBy",
    ]

    init(_ ctx: RequestContext) throws {
        let f = try ctx.settingsFields
        for key in f.object.keys where !Self.knownSettings.contains(key) {
            throw ConnectorError(.configuration, "settings.\(key): unknown setting (expected one of \(Self.knownSettings.sorted().joined(separator: ", ")))")
        }
        guard let base = try f.optionalString("baseURL") else {
            throw ConnectorError(.configuration, "settings.baseURL: required (the SCIM service's base URL, e.g. https://example.com/scim/v2)")
        }
        baseURL = try Self.parseBaseURL(base)
        auth = try Self.auth(f, ctx)
        pageSize = try f.optionalInt("pageSize") ?? 200
        guard (1...10_000).contains(pageSize) else {
            throw ConnectorError(.configuration, "settings.pageSize: \(pageSize) is out of range (1 to 10000)")
        }
        timeout = Double(try f.optionalInt("timeoutSeconds") ?? 30)
        guard timeout >= 1 else { throw ConnectorError(.configuration, "settings.timeoutSeconds: must be at least 1") }
        mapping = try UserMapping(overrides: try f.objectValue("attributeMapping"))
        let tiers = try f.stringArray("roleTiers")
        roleTiers = tiers.isEmpty ? nil : tiers
        if Set(tiers).count != tiers.count {
            throw ConnectorError(.configuration, "settings.roleTiers: a tier is listed twice")
        }
        roleValues = try f.stringArray("roles")
        entitlementValues = try f.stringArray("entitlements")
        sortBy = try f.optionalString("sortBy")
        if let sortBy { _ = try AttributePath(parsing: sortBy, field: "settings.sortBy") }
        pagination = try f.optionalString("pagination")
        if let p = pagination, p != "index", p != "cursor" {
            throw ConnectorError(.configuration, "settings.pagination: \"\(p)\" is not index or cursor")
        }
    }

    private static func parseBaseURL(_ text: String) throws -> URL {
        var trimmed = text.trimmingCharacters(in: .whitespaces)
        while trimmed.hasSuffix("/") { trimmed.removeLast() }
        guard let url = URL(string: trimmed), let scheme = url.scheme?.lowercased(), scheme == "https" || scheme == "http",
              url.host?.isEmpty == false else {
            throw ConnectorError(.configuration, "settings.baseURL: \"\(text)\" is not an http(s) URL")
        }
        if url.query != nil || url.fragment != nil {
            throw ConnectorError(.configuration, "settings.baseURL: must not have a query or fragment")
        }
        return url
    }

    private static func auth(_ f: JSONFields, _ ctx: RequestContext) throws -> HTTPAuth {
        let kind = try f.optionalString("auth") ?? (ctx.secrets["token"] != nil ? "bearer" : nil)
        switch kind {
        case "bearer":
            return .bearer(try ctx.secret("token"))
        case "basic":
            return .basic(username: try ctx.secret("username"), password: try ctx.secret("password"))
        case "oauth2":
            guard let text = try f.optionalString("tokenURL") else {
                throw ConnectorError(.configuration, "settings.tokenURL: required when auth is oauth2")
            }
            guard let tokenURL = URL(string: text), let scheme = tokenURL.scheme?.lowercased(), scheme == "https" || scheme == "http" else {
                throw ConnectorError(.configuration, "settings.tokenURL: \"\(text)\" is not an http(s) URL")
            }
            let tokenAuth = try f.optionalString("tokenAuth") ?? "basic"
            guard tokenAuth == "basic" || tokenAuth == "body" else {
                throw ConnectorError(.configuration, "settings.tokenAuth: \"\(tokenAuth)\" is not basic or body")
            }
            return .oauth2(OAuthClientCredentials(tokenURL: tokenURL, clientId: try ctx.secret("clientId"),
                                                  clientSecret: try ctx.secret("clientSecret"),
                                                  scope: try f.optionalString("scope"), credentialsInBody: tokenAuth == "body"))
        case "none":
            return .none
        case nil:
            throw ConnectorError(.configuration, "settings.auth: not set and no \"token\" secret is configured; set auth to bearer (with secret token), basic (username, password), oauth2 (clientId, clientSecret, settings.tokenURL) or none")
        case let other?:
            throw ConnectorError(.configuration, "settings.auth: \"\(other)\" is not bearer, basic, oauth2 or none")
        }
    }
}
