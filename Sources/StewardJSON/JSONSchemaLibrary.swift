/// Schema documents that refer to each other by relative name (`defs.json#/$defs/Account`), as
/// Steward's published schemas do (they carry no `$id` to resolve against).
///
/// Every document is checked in full when the library is built (`JSONSchemaVocabulary`), so a
/// schema taken from it can validate without ever meeting a rule it cannot apply.
public struct JSONSchemaLibrary: Sendable {
    /// Name (a relative path such as `protocol/defs.json`, or `""` for a lone schema) to document.
    public let documents: [String: JSONValue]

    public init(documents: [String: JSONValue]) throws(JSONSchemaError) {
        self.documents = documents
        var checker = JSONSchemaVocabulary.Checker(documents: documents)
        for name in documents.keys.sorted() {
            try checker.check(Location(document: name, pointer: "", value: documents[name] ?? .null))
        }
    }

    /// The schema at `reference`: a document name, optionally with a `#/json/pointer`.
    public func schema(_ reference: String) throws(JSONSchemaError) -> JSONSchema {
        JSONSchema(library: self, root: try resolve(reference, from: ""))
    }

    /// A subschema and the document it lives in, for resolving the references inside it.
    public struct Location: Sendable, CustomStringConvertible {
        public let document: String
        /// A JSON Pointer (RFC 6901) into the document; empty for its root.
        public let pointer: String
        public let value: JSONValue

        public var description: String { document + "#" + pointer }

        /// The subschema under this one at `relativePointer` (already escaped), or `false` if
        /// there is none.
        func child(_ relativePointer: String) -> Location {
            Location(document: document, pointer: pointer + "/" + relativePointer,
                     value: JSONSchemaLibrary.follow("/" + relativePointer, in: value) ?? .bool(false))
        }
    }

    /// Resolves `reference` (`#/$defs/X`, `other.json#/$defs/X`, `../x.json`) against `document`.
    public func resolve(_ reference: String, from document: String) throws(JSONSchemaError) -> Location {
        try Self.resolve(reference, from: document, in: documents)
    }

    static func resolve(_ reference: String, from document: String, in documents: [String: JSONValue]) throws(JSONSchemaError) -> Location {
        let parts = reference.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false)
        let filePart = String(parts[0])
        let fragment = parts.count > 1 ? percentDecoded(String(parts[1])) : ""
        let here = document + "#"
        if filePart.contains(":") {
            throw JSONSchemaError(location: here, keyword: "$ref", message: "$ref \"\(reference)\": only references inside this schema (#/$defs/Name) or to a file beside it (other.json#/$defs/Name) are supported")
        }
        if !fragment.isEmpty && !fragment.hasPrefix("/") {
            throw JSONSchemaError(location: here, keyword: "$ref", message: "$ref \"\(reference)\": anchors are not supported; refer by JSON pointer (#/$defs/Name)")
        }
        let target = filePart.isEmpty ? document : join(document, filePart)
        guard let root = documents[target] else {
            throw JSONSchemaError(location: here, keyword: "$ref", message: "$ref \"\(reference)\": no schema \(target.isEmpty ? "document" : "file " + target)")
        }
        guard let value = follow(fragment, in: root) else {
            throw JSONSchemaError(location: here, keyword: "$ref", message: "$ref \"\(reference)\": \(target.isEmpty ? "the schema" : target) has nothing at #\(fragment)")
        }
        return Location(document: target, pointer: fragment, value: value)
    }

    /// The value at a JSON Pointer (RFC 6901), or nil.
    public static func follow(_ pointer: String, in root: JSONValue) -> JSONValue? {
        var current = root
        for raw in pointer.split(separator: "/", omittingEmptySubsequences: false).dropFirst() {
            let token = String(raw).replacing("~1", with: "/").replacing("~0", with: "~")
            switch current {
            case .object(let members):
                guard let next = members[token] else { return nil }
                current = next
            case .array(let items):
                guard let i = Int(token), items.indices.contains(i) else { return nil }
                current = items[i]
            default:
                return nil
            }
        }
        return current
    }

    /// A member name escaped for use in a JSON Pointer.
    static func escape(_ name: String) -> String {
        name.replacing("~", with: "~0").replacing("/", with: "~1")
    }

    /// `relative` resolved against the directory of `document`, with `.` and `..` folded.
    private static func join(_ document: String, _ relative: String) -> String {
        var components = Array(document.split(separator: "/").map(String.init).dropLast())
        for part in relative.split(separator: "/").map(String.init) {
            switch part {
            case ".": continue
            case "..": if !components.isEmpty { components.removeLast() }
            default: components.append(part)
            }
        }
        return components.joined(separator: "/")
    }

    /// URI fragments may percent-encode characters (`#/%24defs/X`).
    private static func percentDecoded(_ text: String) -> String {
        guard text.contains("%") else { return text }
        var bytes: [UInt8] = []
        var utf8 = Array(text.utf8)[...]
        while let b = utf8.first {
            utf8 = utf8.dropFirst()
            if b == UInt8(ascii: "%"), utf8.count >= 2,
               let hex = UInt8(String(decoding: utf8.prefix(2), as: UTF8.self), radix: 16) {
                bytes.append(hex)
                utf8 = utf8.dropFirst(2)
            } else {
                bytes.append(b)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
