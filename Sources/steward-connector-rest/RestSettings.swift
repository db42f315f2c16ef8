import ConnectorKit
import Foundation
import StewardProtocol

/// One app's settings, checked at `initialize`: which definition to load, the connector's own
/// options, and the values of the settings the definition declares.
///
/// ```json
/// {"definition": "plugins/rest/apps/github.json", "baseURL": "https://api.github.com", "org": "acme"}
/// ```
struct RestSettings: Sendable {
    var definition: AppDefinition
    var baseURL: URL
    /// The definition's settings with defaults applied, plus `baseURL`: the `settings` scope.
    var values: [String: JSONValue]
    var timeout: Double
    /// The page size when the host asks for none.
    var pageSize: Int?
    /// Log every request and response (redacted) at debug level; `steward rest try` sets it.
    var trace: Bool

    static let connectorKeys = ["definition", "baseURL", "timeoutSeconds", "pageSize", "trace"]

    init(_ ctx: RequestContext) throws {
        let f = try ctx.settingsFields
        guard let path = try f.optionalString("definition"), !path.isEmpty else {
            throw ConnectorError(.configuration, "settings.definition: required, the app definition file (e.g. plugins/rest/apps/github.json)")
        }
        let resolved = ctx.resolvePath(path)
        do {
            definition = try AppDefinition.load(path: resolved, displayPath: path.hasPrefix("/") ? path : resolved)
        } catch {
            throw ConnectorError(.configuration, "invalid app definition: \(error)")
        }
        let declared = definition.settings
        for key in f.object.keys.sorted() where !Self.connectorKeys.contains(key) && !declared.contains(where: { $0.name == key }) {
            let known = Self.connectorKeys + declared.map(\.name)
            throw ConnectorError(.configuration, "settings.\(key): unknown setting for \(definition.name) (expected one of \(known.joined(separator: ", ")))")
        }
        var values: [String: JSONValue] = [:]
        for spec in declared {
            if let v = f.object[spec.name], !v.isNull {
                guard v.scalarText != nil else {
                    throw ConnectorError(.configuration, "settings.\(spec.name): expected a string, number or boolean, got \(v.typeName)")
                }
                values[spec.name] = v
            } else if let d = spec.defaultValue {
                values[spec.name] = d
            } else if spec.required {
                throw ConnectorError(.configuration, "settings.\(spec.name): required by \(definition.name)\(spec.description.map { " (\($0))" } ?? "")")
            }
        }
        let base: String
        if let configured = try f.optionalString("baseURL") {
            base = configured
        } else if let template = definition.baseURL {
            do {
                base = try template.render(["settings": .object(values)], requireValues: true)
            } catch {
                throw ConnectorError(.configuration, "baseURL: \(error.description); set settings.baseURL or the settings it uses")
            }
        } else {
            throw ConnectorError(.configuration, "settings.baseURL: required (\(definition.name)'s definition has no default base URL)")
        }
        baseURL = try Self.parseBaseURL(base)
        values["baseURL"] = .string(baseURL.absoluteString)
        self.values = values
        timeout = Double(try f.optionalInt("timeoutSeconds") ?? 30)
        guard timeout >= 1 else { throw ConnectorError(.configuration, "settings.timeoutSeconds: must be at least 1") }
        pageSize = try f.optionalInt("pageSize")
        if let p = pageSize, p < 1 { throw ConnectorError(.configuration, "settings.pageSize: must be at least 1") }
        trace = try f.bool("trace", default: false)
    }

    private static func parseBaseURL(_ text: String) throws -> URL {
        var trimmed = text.trimmingCharacters(in: .whitespaces)
        while trimmed.hasSuffix("/") { trimmed.removeLast() }
        guard let url = URL(string: trimmed), let scheme = url.scheme?.lowercased(), scheme == "https" || scheme == "http",
              url.host?.isEmpty == false, url.query == nil, url.fragment == nil else {
            throw ConnectorError(.configuration, "settings.baseURL: \"\(text)\" is not an http(s) URL without query or fragment")
        }
        return url
    }
}
