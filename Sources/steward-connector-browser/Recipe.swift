import DevTools
import Foundation
import StewardJSON
import StewardProtocol

/// One app's admin UI as data: how to sign in, and a flow of steps per protocol operation.
/// `docs/browser-recipes.md` describes the format; `schemas/browser-recipe.schema.json` checks it.
struct Recipe: Sendable {
    var app: String
    /// Where relative `goto` URLs point; the `baseURL` setting overrides it.
    var baseURL: String?
    /// The timeout of a step that does not set `timeoutMs`.
    var stepTimeout: Duration
    /// `pages`: the most tabs the app takes at once (1 for an app whose sessions cannot share).
    var maxPages: Int?
    var login: Login
    /// Account flows by operation: list, get, create, disable, enable, delete.
    var accounts: [AccountOperation: Flow]
    var grantsList: Flow?
    var entitlementTypes: [EntitlementType]

    struct Login: Sendable {
        var url: Template
        var steps: [Step]
        /// A URL containing this text means "signed out": sign in and load the page again.
        var loggedOutURLContains: String
    }

    struct EntitlementType: Sendable {
        var type: String
        var cardinality: EntitlementTypeCapability.Cardinality
        /// Fixed values, most privileged first, with display names.
        var values: [(id: String, name: String)]?
        var list: Flow?
        var add: Flow?
        var remove: Flow?
    }

    /// Loads and checks a recipe file; errors name the file and the member.
    static func load(path: String) throws -> Recipe {
        let name = URL(fileURLWithPath: path).lastPathComponent
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw ConnectorError(.configuration, "cannot read the recipe \(path): \(error.localizedDescription)")
        }
        let json: JSONValue
        do {
            json = try JSONParser.parse(Array(data))
        } catch {
            throw ConnectorError(.configuration, "\(name) is not valid JSON: \(error)")
        }
        do {
            return try Recipe(json: json)
        } catch {
            throw ConnectorError(.configuration, "\(name): \(error.description)")
        }
    }

    init(json: JSONValue) throws(RecipeError) {
        let root = try Members(json, at: "")
        try root.allow(["$schema", "app", "description", "baseURL", "timeoutMs", "pages", "login", "accounts", "grants", "entitlementTypes"])
        app = try root.string("app")
        baseURL = try root.optionalString("baseURL")
        stepTimeout = .milliseconds(try root.optionalInt("timeoutMs", in: 1...600_000) ?? 10_000)
        maxPages = try root.optionalInt("pages", in: 1...16)

        let login = try Members(root["login"], at: "login")
        try login.allow(["url", "steps", "loggedOutWhen"])
        let loggedOut = try Members(login["loggedOutWhen"], at: "login.loggedOutWhen")
        try loggedOut.allow(["urlContains"])
        self.login = Login(url: try Template(try login.string("url"), at: "login.url"),
                           steps: try Step.list(login["steps"], at: "login.steps"),
                           loggedOutURLContains: try loggedOut.string("urlContains"))

        accounts = [:]
        if !root["accounts"].isNull {
            let accountFlows = try Members(root["accounts"], at: "accounts")
            let supported: [AccountOperation] = [.list, .get, .create, .disable, .enable, .delete]
            try accountFlows.allow(supported.map(\.rawValue))
            for operation in supported where !accountFlows[operation.rawValue].isNull {
                let results: [String]
                switch operation {
                case .list: results = ["table", "account"]
                case .get, .create: results = ["account"]
                default: results = []
                }
                accounts[operation] = try Flow(accountFlows[operation.rawValue], at: "accounts.\(operation.rawValue)", resultMembers: results)
            }
        }
        if !root["grants"].isNull {
            let grants = try Members(root["grants"], at: "grants")
            try grants.allow(["list"])
            grantsList = try Flow(grants["list"], at: "grants.list", resultMembers: ["table", "accountId", "grants"])
        }
        entitlementTypes = []
        guard root["entitlementTypes"].isNull || root["entitlementTypes"].arrayValue != nil else {
            throw RecipeError("entitlementTypes", "must be an array")
        }
        for (index, item) in (root["entitlementTypes"].arrayValue ?? []).enumerated() {
            let at = "entitlementTypes[\(index)]"
            let spec = try Members(item, at: at)
            try spec.allow(["type", "cardinality", "values", "list", "add", "remove"])
            let cardinalityName = try spec.string("cardinality")
            guard let cardinality = EntitlementTypeCapability.Cardinality(rawValue: cardinalityName) else {
                throw RecipeError("\(at).cardinality", "must be \"single\" or \"multi\", not \"\(cardinalityName)\"")
            }
            var values: [(String, String)]?
            if !spec["values"].isNull {
                guard let items = spec["values"].arrayValue, !items.isEmpty else { throw RecipeError("\(at).values", "must be a non-empty array") }
                values = try items.enumerated().map { (i, value) throws(RecipeError) in
                    if let id = value.stringValue { return (id, id) }
                    let member = try Members(value, at: "\(at).values[\(i)]")
                    let id = try member.string("id")
                    return (id, try member.optionalString("name") ?? id)
                }
            }
            let type = try spec.string("type")
            if entitlementTypes.contains(where: { $0.type == type }) { throw RecipeError("\(at).type", "\"\(type)\" is declared twice") }
            entitlementTypes.append(EntitlementType(
                type: type, cardinality: cardinality, values: values,
                list: try spec["list"].isNull ? nil : Flow(spec["list"], at: "\(at).list", resultMembers: ["table", "entitlement"]),
                add: try spec["add"].isNull ? nil : Flow(spec["add"], at: "\(at).add"),
                remove: try spec["remove"].isNull ? nil : Flow(spec["remove"], at: "\(at).remove")))
        }
    }
}

/// Steps to run and, for reads and creates, how to turn what they found into protocol records.
struct Flow: Sendable {
    var steps: [Step]
    var result: JSONValue
    /// Where the flow sits in the recipe, for errors.
    var path: String

    /// `resultMembers`: what this kind of flow's `result` may hold (none for writes), so a typo
    /// such as `"acount"` fails when the recipe loads.
    init(_ json: JSONValue, at path: String, resultMembers: [String] = []) throws(RecipeError) {
        let members = try Members(json, at: path)
        try members.allow(resultMembers.isEmpty ? ["steps"] : ["steps", "result"])
        steps = try Step.list(members["steps"], at: "\(path).steps")
        result = members["result"]
        self.path = path
        guard !result.isNull else { return }
        let result = try Members(self.result, at: "\(path).result")
        try result.allow(resultMembers)
        if result["accountId"].stringValue == nil, !result["accountId"].isNull {
            try Self.checkField(result["accountId"], at: result.at("accountId"), templated: false)
        }
        for name in ["account", "entitlement", "grants"] where !result[name].isNull {
            let fields = try Members(result[name], at: result.at(name))
            for (field, spec) in fields.object.sorted(by: { $0.key < $1.key }) {
                try Self.checkField(spec, at: fields.at(field), templated: name == "account" && result["table"].isNull)
            }
        }
    }

    /// A result field: a column name (or a template, for flows without a table), or
    /// `{"column"/"value": ..., "map": {...}, "split": ...}`.
    private static func checkField(_ spec: JSONValue, at path: String, templated: Bool) throws(RecipeError) {
        if let text = spec.stringValue {
            if templated { _ = try Template(text, at: path) }
            return
        }
        let m = try Members(spec, at: path)
        let source = templated ? "value" : "column"
        try m.allow(templated ? [source, "map"] : [source, "map", "split", "attribute", "match"])
        let text = try m.string(source)
        if templated { _ = try Template(text, at: m.at(source)) }
        if let pattern = try m.optionalString("match") { try ValueMatch.check(pattern, at: m.at("match")) }
        _ = try m.optionalString("attribute")
        if !m["map"].isNull {
            let map = try Members(m["map"], at: m.at("map"))
            for (key, value) in map.object where value.stringValue == nil {
                throw RecipeError(map.at(key), "must be a string (what the app shows → what Steward means)")
            }
        }
        _ = try m.optionalString("split")
    }
}

/// A recipe error, naming the member (`accounts.disable.steps[2].selector`).
struct RecipeError: Error, CustomStringConvertible {
    let path: String
    let message: String

    init(_ path: String, _ message: String) {
        self.path = path
        self.message = message
    }

    var description: String { path.isEmpty ? message : "\(path): \(message)" }
}

/// An object's members with errors that name them.
struct Members {
    let object: [String: JSONValue]
    let path: String

    init(_ value: JSONValue, at path: String) throws(RecipeError) {
        guard let object = value.objectValue else {
            throw RecipeError(path, value.isNull ? "is required (an object)" : "must be an object, not \(value.typeName)")
        }
        self.object = object
        self.path = path
    }

    subscript(name: String) -> JSONValue { object[name] ?? .null }

    func at(_ name: String) -> String { path.isEmpty ? name : "\(path).\(name)" }

    /// Rejects unknown members, so a typo does not silently do nothing.
    func allow(_ names: [String]) throws(RecipeError) {
        for key in object.keys.sorted() where !names.contains(key) {
            throw RecipeError(at(key), "unknown member (expected one of: \(names.joined(separator: ", ")))")
        }
    }

    func string(_ name: String) throws(RecipeError) -> String {
        guard let value = try optionalString(name), !value.isEmpty else { throw RecipeError(at(name), "is required (a non-empty string)") }
        return value
    }

    func optionalString(_ name: String) throws(RecipeError) -> String? {
        let value = self[name]
        if value.isNull { return nil }
        guard let text = value.stringValue else { throw RecipeError(at(name), "must be a string, not \(value.typeName)") }
        return text
    }

    func optionalInt(_ name: String, in range: ClosedRange<Int>) throws(RecipeError) -> Int? {
        let value = self[name]
        if value.isNull { return nil }
        guard let number = value.intValue, range.contains(number) else {
            throw RecipeError(at(name), "must be an integer from \(range.lowerBound) to \(range.upperBound)")
        }
        return number
    }
}
