import StewardProtocol

/// An entitlement as configuration names it, `type:name` (`role:Admin`, `group:sales`), where the
/// name is what the app shows; the planner resolves it to the app's id.
public struct EntitlementName: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var type: String
    public var name: String

    public init(type: String, name: String) {
        self.type = type
        self.name = name
    }

    /// Splits at the first colon, so names may contain colons (`group:team:core`). Nil when either
    /// side is empty.
    public init?(parsing text: String) {
        guard let colon = text.firstIndex(of: ":") else { return nil }
        let type = String(text[..<colon]).trimmingSpaces
        let name = String(text[text.index(after: colon)...]).trimmingSpaces
        guard !type.isEmpty, !name.isEmpty else { return nil }
        self.init(type: String(type), name: String(name))
    }

    public var description: String { type + ":" + name }

    public static func < (a: EntitlementName, b: EntitlementName) -> Bool {
        (a.type, a.name) < (b.type, b.name)
    }
}
