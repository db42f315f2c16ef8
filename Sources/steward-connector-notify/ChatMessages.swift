import Foundation
import StewardProtocol

/// The JSON Slack and Teams incoming webhooks take for one message.
enum ChatMessages {
    /// Slack Block Kit: a header, the text, then buttons (links open the page; actions post
    /// their value to the Slack app's interactivity URL, `steward serve`'s `/hooks/slack`).
    /// Slack allows 25 elements in an actions block and 50 blocks in a message.
    static func slack(_ params: NotifyParams, mention: String?) -> JSONValue {
        var blocks: [JSONValue] = [
            ["type": "header", "text": ["type": "plain_text", "text": .string(truncate(params.subject, 150)), "emoji": true]],
            ["type": "section", "text": ["type": "mrkdwn", "text": .string(truncate((mention.map { "\($0) " } ?? "") + escape(params.text), 3000))]],
        ]
        var elements: [JSONValue] = params.links.sorted { $0.key < $1.key }.map { label, url in
            ["type": "button", "text": ["type": "plain_text", "text": .string(truncate(label, 75))], "url": .string(url), "style": "primary"]
        }
        elements += params.actions.map { action in
            var button: [String: JSONValue] = ["type": "button", "action_id": .string(truncate(action.id, 255)),
                                               "text": ["type": "plain_text", "text": .string(truncate(action.label, 75))],
                                               "value": .string(truncate(action.value, 2000))]
            if action.style == "primary" || action.style == "danger" { button["style"] = .string(action.style ?? "") }
            return .object(button)
        }
        for start in stride(from: 0, to: elements.count, by: 25) where blocks.count < 50 {
            blocks.append(["type": "actions", "elements": .array(Array(elements[start..<min(start + 25, elements.count)]))])
        }
        return ["text": .string(truncate(params.subject, 3000)), "blocks": .array(blocks)]
    }

    /// A Teams message with an Adaptive Card (1.4): the subject, the text, a link button each.
    /// Teams webhooks cannot post a button's value back, so actions are left to the links.
    static func teams(_ params: NotifyParams) -> JSONValue {
        let card: JSONValue = [
            "$schema": "http://adaptivecards.io/schemas/adaptive-card.json", "type": "AdaptiveCard", "version": "1.4",
            "body": [
                ["type": "TextBlock", "text": .string(params.subject), "weight": "Bolder", "size": "Medium", "wrap": true],
                ["type": "TextBlock", "text": .string(params.text), "wrap": true],
            ],
            "actions": .array(params.links.sorted { $0.key < $1.key }.map { label, url in
                ["type": "Action.OpenUrl", "title": .string(label), "url": .string(url)]
            }),
        ]
        return ["type": "message", "attachments": [["contentType": "application/vnd.microsoft.card.adaptive", "contentUrl": .null, "content": card]]]
    }

    /// Slack's mrkdwn escapes: &, < and > (https://api.slack.com/reference/surfaces/formatting#escaping).
    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
    }

    static func truncate(_ text: String, _ limit: Int) -> String {
        text.count <= limit ? text : String(text.prefix(limit - 1)) + "…"
    }
}
