import Foundation
import StewardProtocol

/// Every schema file under one directory, read once and checked by the validator Steward itself
/// uses (`JSONSchemaLibrary`), addressed by relative path (`protocol/defs.json`).
enum SchemaFiles {
    /// Reads the `.json` files under `root` whose relative path `include` accepts.
    static func library(root: URL, include: (String) -> Bool = { _ in true }) throws -> JSONSchemaLibrary {
        var documents: [String: JSONValue] = [:]
        let base = root.resolvingSymlinksInPath().standardizedFileURL.path
        guard let walker = FileManager.default.enumerator(atPath: base) else { throw SchemaTestError("cannot read \(base)") }
        while let relative = walker.nextObject() as? String {
            guard relative.hasSuffix(".json"), include(relative) else { continue }
            let file = base + "/" + relative
            guard let data = FileManager.default.contents(atPath: file) else { throw SchemaTestError("cannot read \(file)") }
            do {
                documents[relative] = try JSONParser.parse(data)
            } catch {
                throw SchemaTestError("\(file): \(error)")
            }
        }
        return try JSONSchemaLibrary(documents: documents)
    }
}

/// A test's own failure to find or read something.
struct SchemaTestError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
