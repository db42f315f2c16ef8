import Foundation
import StewardProtocol

/// A mistake in an app definition: the file, the line, the key path and the reason.
struct DefinitionError: Error, CustomStringConvertible {
    var file: String
    var line: Int?
    /// `operations.accounts/list.fields.status`.
    var path: String
    var reason: String

    var description: String {
        "\(file)\(line.map { ":\($0)" } ?? ""): \(path.isEmpty ? "" : path + ": ")\(reason)"
    }
}

/// One value of a definition document with its key path, so every error can say where it is.
struct DefinitionNode {
    /// The file and its line table, shared by every node of one document.
    final class Document: Sendable {
        let file: String
        let lines: [String: Int]

        init(file: String, lines: [String: Int]) {
            self.file = file
            self.lines = lines
        }
    }

    let value: JSONValue
    let path: String
    let document: Document

    var isMissing: Bool { value.isNull }

    func child(_ key: String) -> DefinitionNode {
        DefinitionNode(value: value[key], path: path.isEmpty ? key : "\(path).\(key)", document: document)
    }

    func error(_ reason: String) -> DefinitionError {
        DefinitionError(file: document.file, line: line, path: path, reason: reason)
    }

    /// The line of this value, or of its nearest ancestor that has one.
    var line: Int? {
        var p = path
        while true {
            if let line = document.lines[p] { return line }
            guard let cut = p.lastIndex(where: { $0 == "." || $0 == "[" }) else { return document.lines[""] }
            p = String(p[..<cut])
        }
    }

    /// The members of an object, refusing keys not in `known` (so a typo is an error, not a
    /// silently ignored setting). `$schema` and `description` are allowed everywhere.
    func members(known: [String]) throws(DefinitionError) -> [String: DefinitionNode] {
        guard case .object(let o) = value else { throw error("expected an object, got \(value.typeName)") }
        var result: [String: DefinitionNode] = [:]
        for key in o.keys.sorted() {
            let node = child(key)
            guard known.contains(key) || key == "$schema" || key == "description" || key == "$comment" else {
                throw node.error("unknown field (expected one of \(known.sorted().joined(separator: ", ")))")
            }
            result[key] = node
        }
        return result
    }

    /// Every member of an object, for maps whose keys are names (headers, fields).
    func entries() throws(DefinitionError) -> [(key: String, node: DefinitionNode)] {
        guard case .object(let o) = value else { throw error("expected an object, got \(value.typeName)") }
        return o.keys.sorted().map { ($0, child($0)) }
    }

    func elements() throws(DefinitionError) -> [DefinitionNode] {
        guard case .array(let a) = value else { throw error("expected an array, got \(value.typeName)") }
        return a.indices.map { DefinitionNode(value: a[$0], path: "\(path)[\($0)]", document: document) }
    }

    func string() throws(DefinitionError) -> String {
        guard case .string(let s) = value else { throw error(isMissing ? "required, expected a string" : "expected a string, got \(value.typeName)") }
        return s
    }

    func optionalString() throws(DefinitionError) -> String? {
        isMissing ? nil : try string()
    }

    func bool(default defaultValue: Bool) throws(DefinitionError) -> Bool {
        if isMissing { return defaultValue }
        guard case .bool(let b) = value else { throw error("expected true or false, got \(value.typeName)") }
        return b
    }

    func optionalInt(in range: ClosedRange<Int>) throws(DefinitionError) -> Int? {
        if isMissing { return nil }
        guard let i = value.intValue else { throw error("expected an integer, got \(value.typeName)") }
        guard range.contains(i) else { throw error("\(i) is out of range (\(range.lowerBound) to \(range.upperBound))") }
        return i
    }

    func template() throws(DefinitionError) -> Template {
        let text: String
        switch value {
        case .string(let s): text = s
        case .int, .double, .bool: text = value.scalarText ?? ""
        default: throw error(isMissing ? "required, expected a string" : "expected a string, got \(value.typeName)")
        }
        do {
            return try Template(text)
        } catch {
            throw self.error(error.description)
        }
    }

    func valuePath() throws(DefinitionError) -> ValuePath {
        let text = try string()
        do {
            return try ValuePath(parsing: text)
        } catch {
            throw self.error("bad pointer or path \(error.description)")
        }
    }

    /// One status code or a list of them.
    func statusCodes() throws(DefinitionError) -> [Int] {
        let nodes: [DefinitionNode] = value.arrayValue != nil ? try elements() : [self]
        return try nodes.map { node throws(DefinitionError) in
            guard let code = node.value.intValue, (100...599).contains(code) else {
                throw node.error("expected an HTTP status code (100 to 599), got \(node.value.description)")
            }
            return code
        }
    }

    /// A choice among `options`.
    func choice(_ options: [String], default defaultValue: String? = nil) throws(DefinitionError) -> String {
        if isMissing, let defaultValue { return defaultValue }
        let s = try string()
        guard options.contains(s) else { throw error("\"\(s)\" is not one of \(options.joined(separator: ", "))") }
        return s
    }
}
