import ConnectorKit
import DevTools
import Foundation
import StewardJSON
import StewardProtocol

/// The app's settings and secrets, checked at `initialize`.
///
/// Settings: `recipe` (path, relative to the config file), `baseURL` (overrides the recipe's),
/// `username`, `totp` (true: the app asks for a one-time code, so `totpSecret` is required),
/// `evidence` (`"failures"`, the default, or `"all"` to keep a screenshot of every change),
/// `chromium` (the browser binary), `pages` (tabs at once, default 2). Secrets: `password`,
/// `totpSecret`.
struct BrowserSettings: Sendable {
    enum EvidenceMode: String, Sendable {
        case failures, all
    }

    var baseURL: String
    var totp: TOTP?
    var evidence: EvidenceMode
    var launchOptions: LaunchOptions
    var stateDirectory: String?
    /// Tabs working at once, sharing the sign-in (`settings.pages`, default 2, at most the
    /// recipe's `pages`).
    var pages: Int

    static let names = ["recipe", "baseURL", "username", "totp", "evidence", "chromium", "pages"]
    static let defaultPages = 2

    /// The recipe file named by the `recipe` setting, made absolute.
    static func recipePath(_ ctx: RequestContext) throws -> String {
        guard let path = ctx.settings["recipe"].stringValue, !path.isEmpty else {
            throw ConnectorError(.configuration, "settings.recipe is required: the recipe file, e.g. plugins/browser/recipes/legacy.json")
        }
        return ctx.resolvePath(path)
    }

    /// Reads the settings; the recipe supplies the default base URL.
    init(_ ctx: RequestContext, recipe: Recipe) throws {
        guard let object = ctx.settings.objectValue else { throw ConnectorError(.configuration, "settings must be an object") }
        for key in object.keys.sorted() where !Self.names.contains(key) {
            throw ConnectorError(.configuration, "settings.\(key): unknown setting (expected one of: \(Self.names.joined(separator: ", ")))")
        }
        func string(_ name: String) throws -> String? {
            let value = ctx.settings[name]
            if value.isNull { return nil }
            guard let text = value.stringValue else { throw ConnectorError(.configuration, "settings.\(name) must be a string") }
            return text
        }
        guard var base = try string("baseURL") ?? recipe.baseURL, base.hasPrefix("http://") || base.hasPrefix("https://") else {
            throw ConnectorError(.configuration, "settings.baseURL is required (an http:// or https:// URL) when the recipe has no baseURL")
        }
        while base.hasSuffix("/") { base.removeLast() }
        baseURL = base
        if try string("username") == nil {
            throw ConnectorError(.configuration, "settings.username is required: the admin account the recipe signs in with")
        }
        _ = try ctx.secret("password")
        let wantsTOTP = ctx.settings["totp"]
        guard wantsTOTP.isNull || wantsTOTP.boolValue != nil else { throw ConnectorError(.configuration, "settings.totp must be true or false") }
        if let secret = ctx.secrets["totpSecret"], !secret.isEmpty {
            guard let totp = TOTP(base32: secret) else {
                throw ConnectorError(.configuration, "secret \"totpSecret\" is not valid base32 (RFC 4648), as authenticator apps show it")
            }
            self.totp = totp
        } else if wantsTOTP.boolValue == true {
            throw ConnectorError(.configuration, "settings.totp is true but the secret \"totpSecret\" is not configured for app \"\(ctx.appId)\"")
        }
        let mode = try string("evidence") ?? "failures"
        guard let evidence = EvidenceMode(rawValue: mode) else {
            throw ConnectorError(.configuration, "settings.evidence must be \"failures\" or \"all\", not \"\(mode)\"")
        }
        self.evidence = evidence
        var options = LaunchOptions(executablePath: try string("chromium").map(ctx.resolvePath))
        options.actionTimeout = recipe.stepTimeout
        options.closeGracePeriod = .seconds(2)
        launchOptions = options
        stateDirectory = ctx.stateDirectory
        let pagesValue = ctx.settings["pages"]
        guard pagesValue.isNull || (pagesValue.intValue.map { (1...16).contains($0) } ?? false) else {
            throw ConnectorError(.configuration, "settings.pages must be an integer from 1 to 16 (tabs working at once)")
        }
        pages = min(pagesValue.intValue ?? Self.defaultPages, recipe.maxPages ?? 16)
    }

    /// Where screenshots and HTML go: the app's state directory, or a temporary one.
    func evidenceDirectory(_ ctx: RequestContext) -> String {
        let base = stateDirectory ?? FileManager.default.temporaryDirectory.appendingPathComponent("steward-browser-\(ctx.appId)").path
        return URL(fileURLWithPath: base).appendingPathComponent("evidence").path
    }
}
