import Foundation
import StewardProtocol

/// The messages Steward sends people, by template name, each a subject and a text with
/// `{{placeholders}}`. `messages` in `steward.json` overrides any of them:
///
/// ```json5
/// messages: { "review.reminder": { subject: "{{openItems}} reviews left", text: "…{{link}}" } }
/// ```
/// Placeholders are checked when the config loads, so a typo is an error naming the field, not
/// a message that reads `{{deadlin}}`.
public struct MessageTemplates: Sendable {
    public struct Template: Sendable, Hashable {
        public var subject: String
        public var text: String
    }

    public private(set) var templates: [String: Template] = MessageTemplates.defaults

    public init() {}

    /// The template, always present for the names below.
    public subscript(name: String) -> Template {
        templates[name] ?? Template(subject: name, text: "{{link}}")
    }

    /// What each template may use.
    public static let placeholders: [String: Set<String>] = [
        Names.launched: ["reviewer", "campaign", "description", "openItems", "deadline", "link"],
        Names.reminder: ["reviewer", "campaign", "description", "openItems", "deadline", "link", "slot"],
        Names.escalated: ["reviewer", "from", "campaign", "openItems", "deadline", "link"],
        Names.delegated: ["reviewer", "from", "campaign", "openItems", "deadline", "reason", "link"],
        Names.accessChanged: ["person", "changes"],
    ]

    public enum Names {
        public static let launched = "review.launched"
        public static let reminder = "review.reminder"
        public static let escalated = "review.escalated"
        public static let delegated = "review.delegated"
        public static let accessChanged = "access.changed"
    }

    static let defaults: [String: Template] = [
        Names.launched: Template(
            subject: "Access review {{campaign}}: {{openItems}} to review by {{deadline}}",
            text: "Hello,\n\nYou are asked to review {{openItems}} in {{campaign}}{{description}}. For each, keep it if the person still needs it, or revoke it. Please finish by {{deadline}}.\n\nOpen your review (no sign-in needed; the link is yours alone, do not forward it):\n{{link}}\n"),
        Names.reminder: Template(
            subject: "Reminder: {{openItems}} left to review in {{campaign}} (due {{deadline}})",
            text: "Hello,\n\n{{openItems}} in {{campaign}} still wait for your decision. The review closes {{deadline}}.\n\n{{link}}\n"),
        Names.escalated: Template(
            subject: "Overdue access review: {{from}} has {{openItems}} undecided in {{campaign}}",
            text: "Hello,\n\n{{from}} did not finish their part of {{campaign}}, due {{deadline}}. The {{openItems}} are now yours to decide.\n\n{{link}}\n"),
        Names.delegated: Template(
            subject: "{{from}} asked you to review {{openItems}} in {{campaign}}",
            text: "Hello,\n\n{{from}} delegated {{openItems}} in {{campaign}} to you: \"{{reason}}\". Please decide by {{deadline}}.\n\n{{link}}\n"),
        Names.accessChanged: Template(
            subject: "Your access was changed",
            text: "Hello {{person}},\n\nSteward changed your access:\n\n{{changes}}\n\nIf this is a mistake, contact your IT team.\n"),
    ]

    /// Reads `messages`, refusing unknown templates, unknown keys and unknown placeholders.
    init(_ node: JSONValue, locate: (String, String) -> ConfigFileError) throws {
        guard let object = node.objectValue else { throw locate("messages", "expected an object of templates by name") }
        for (name, value) in object.sorted(by: { $0.key < $1.key }) {
            let path = "messages.\(name)"
            guard let allowed = Self.placeholders[name] else {
                throw locate(path, "unknown template (expected one of \(Self.placeholders.keys.sorted().joined(separator: ", ")))")
            }
            guard let fields = value.objectValue else { throw locate(path, "expected {subject, text}") }
            var template = self[name]
            for (key, text) in fields.sorted(by: { $0.key < $1.key }) {
                guard key == "subject" || key == "text" else { throw locate("\(path).\(key)", "unknown key (expected subject or text)") }
                guard let text = text.stringValue else { throw locate("\(path).\(key)", "expected a string") }
                for used in Self.placeholdersIn(text) where !allowed.contains(used) {
                    throw locate("\(path).\(key)", "unknown placeholder {{\(used)}} (this template has \(allowed.sorted().map { "{{\($0)}}" }.joined(separator: ", ")))")
                }
                if key == "subject" { template.subject = text } else { template.text = text }
            }
            templates[name] = template
        }
    }

    /// `text` with each `{{name}}` replaced by its value (an unknown one by nothing).
    public static func render(_ text: String, _ values: [String: String]) -> String {
        var out = ""
        var rest = Substring(text)
        while let open = rest.range(of: "{{") {
            out += rest[..<open.lowerBound]
            guard let close = rest[open.upperBound...].range(of: "}}") else { rest = rest[open.lowerBound...]; break }
            let name = rest[open.upperBound..<close.lowerBound].trimmingCharacters(in: .whitespaces)
            out += values[name] ?? ""
            rest = rest[close.upperBound...]
        }
        return out + rest
    }

    static func placeholdersIn(_ text: String) -> [String] {
        var names: [String] = []
        var rest = Substring(text)
        while let open = rest.range(of: "{{"), let close = rest[open.upperBound...].range(of: "}}") {
            names.append(rest[open.upperBound..<close.lowerBound].trimmingCharacters(in: .whitespaces))
            rest = rest[close.upperBound...]
        }
        return names
    }
}
