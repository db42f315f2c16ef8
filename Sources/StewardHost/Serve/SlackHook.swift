import Foundation
import StewardCore
import StewardHTTP
import StewardJournal
import StewardProtocol

/// `POST /hooks/slack`: a keep or revoke pressed on a Slack message's button (the Slack app's
/// interactivity Request URL points here).
///
/// Slack signs each request (`v0`, five-minute window; a signature seen before is refused, so
/// Slack's own retries never decide twice). The button names the item; the reviewer is the
/// Slack user who pressed it, mapped to an e-mail by `serve.slack.users`, and the review engine
/// refuses an item that is not theirs, exactly as for the page. Refusals are journaled as
/// `slack.action` with the reason; decisions as `review.decided` with channel `slack`.
struct SlackHook: Sendable {
    let verifier: WebhookVerifier
    /// Slack user id → reviewer e-mail.
    let users: [String: String]
    let work: ServiceWork
    let log: @Sendable (String) -> Void

    func handle(_ request: HTTPRequest) async -> HTTPResponse {
        do {
            try verifier.verify(headers: { request.headers[$0] }, body: request.body)
        } catch {
            await refuse("signature: \(error)", user: nil)
            return .json(["ok": false, "error": .string(error.description)], status: .unauthorized)
        }
        guard let text = URLEncodedForm(parsing: request.body)["payload"],
              let payload = try? JSONParser.parse(Array(text.utf8)) else {
            await refuse("the body has no JSON payload field", user: nil)
            return .json(["ok": false, "error": "expected a form with a JSON payload field"], status: .badRequest)
        }
        let user = payload["user"]["id"].stringValue
        guard payload["type"].stringValue == "block_actions" else {
            return Self.reply("Steward only takes button presses here.")
        }
        guard let user, let reviewer = users[user] else {
            await refuse("Slack user \(user ?? "(none)") is not in serve.slack.users", user: user)
            return Self.reply("Steward does not know your Slack user; decide from the link in your e-mail, or ask your admin to add you to serve.slack.users.")
        }
        guard let value = payload["actions"].arrayValue?.first?["value"].stringValue, let decision = SlackDecision(value: value) else {
            await refuse("the button's value is not a Steward decision", user: user)
            return Self.reply("That button is not one of Steward's.")
        }
        do {
            try await work.perform { ws in
                let engine = ReviewEngine(workspace: ws)
                let campaign = try engine.campaign(decision.campaign)
                if let p = campaign.position(of: decision.item),
                   !campaign.definition.chatButtons.allows(privileged: campaign.items[p].context.privileged) {
                    throw ReviewEngine.Refusal("\(campaign.id) decides this item on the review page only")
                }
                _ = try await engine.decide(decision.campaign, items: [decision.item], verdict: decision.verdict, comment: nil,
                                            as: reviewer, channel: "slack")
            }
            await work.count(hook: "slack", result: "accepted")
            return Self.reply("\(decision.verdict == .keep ? "Kept" : "Revoked"): \(decision.item) in \(decision.campaign), recorded for \(reviewer).")
        } catch let refusal as ReviewEngine.Refusal {
            await refuse("\(refusal)", user: user, decision: decision)
            return Self.reply("Nothing was recorded: \(refusal). Open your review page to decide it there.")
        } catch {
            log("slack decision \(decision.value): \(error)")
            return .json(["ok": false, "error": .string("\(error)")], status: .serviceUnavailable)
        }
    }

    /// Slack shows `text` to the one who pressed (the body of an interactivity answer may be
    /// ignored; the status must be 200 or Slack reports an error).
    private static func reply(_ text: String) -> HTTPResponse {
        .json(["response_type": "ephemeral", "replace_original": false, "text": .string(text)])
    }

    private func refuse(_ reason: String, user: String?, decision: SlackDecision? = nil) async {
        log("slack action refused: \(reason)")
        var data: [String: JSONValue] = ["result": "refused", "reason": .string(reason)]
        if let user { data["slackUser"] = .string(user) }
        if let decision {
            data["campaign"] = .string(decision.campaign)
            data["item"] = .string(decision.item)
            data["decision"] = .string(decision.verdict.rawValue)
        }
        await work.count(hook: "slack", result: "refused")
        await work.journal(EventType.slackAction, data: .object(data))
    }
}
