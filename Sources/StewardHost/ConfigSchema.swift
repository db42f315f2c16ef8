import StewardCore
import StewardProtocol

/// `steward.json` checked against `schemas/config.schema.json`, by the same validator that
/// checks plugin settings.
///
/// The schema is built into the binary (`ConfigSchemaText`), so an installed `steward` run far
/// from the checkout checks exactly the rules the repository publishes. It runs after the
/// hand-written checks in `StewardConfig`, whose messages name the choices and give examples;
/// the schema catches what those do not look at.
public enum ConfigSchema {
    /// The schema as shipped, byte for byte `schemas/config.schema.json`.
    public static var text: String { ConfigSchemaText.json }

    /// The embedded schema, compiled once; a failure is a build mistake the tests catch.
    static let compiled: Result<JSONSchema, any Error> = Result { try JSONSchema(JSONParser.parse(ConfigSchemaText.json)) }

    /// The problems of a parsed config, earliest in the file first (by `lines`, the lines
    /// `JSONParser.parseWithLines` recorded).
    public static func problems(_ document: JSONValue, lines: [String: Int]) throws -> [JSONSchemaProblem] {
        let schema: JSONSchema
        do {
            schema = try compiled.get()
        } catch {
            throw ConfigError(path: "", "the config schema built into steward cannot be used (\(error)); this is a bug in steward")
        }
        return schema.problems(document).sorted {
            (lineOf($0.path, in: lines) ?? 0, $0.path) < (lineOf($1.path, in: lines) ?? 0, $1.path)
        }
    }

    /// Throws the first problem as a `ConfigError`, with how many more there are.
    static func check(_ document: JSONValue, lines: [String: Int]) throws {
        let found = try problems(document, lines: lines)
        guard let first = found.first else { return }
        throw ConfigError(path: first.path, first.message + moreProblems(found.count - 1))
    }
}

/// ` (and 2 more problems)`, or nothing.
func moreProblems(_ count: Int) -> String {
    count == 0 ? "" : " (and \(count) more problem\(count == 1 ? "" : "s"))"
}
