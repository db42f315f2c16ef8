import Foundation
import StewardHost
import StewardHTTP
import StewardJSON
import StewardTestSupport
import Testing

/// Review messages through `steward-connector-notify`: e-mail to a real SMTP server, Slack and
/// Teams to local receivers, and a Slack button press back through `steward serve`.
@Suite(.serialized) struct NotifyTests {
    /// The review folder with `notify` and, optionally, Slack's signing secret; serve's
    /// publicURL points at `base` so links open the running service.
    static func folder(notify: String, base: String? = nil, slack: Bool = false) throws -> ApplyTruthTests.StatefulFolder {
        let folder = try ServeTests.reviewFolder()
        try folder.write("smtp.password", "smtp-pass-7f3a\n")
        try folder.write("slack.secret", "slack-signing-secret-for-tests\n")
        var serve = "serve: { linkKey: \"file:link.key\", "
        if let base { serve += "publicURL: \"\(base)\", " }
        if slack { serve += "slack: { signingSecret: \"file:slack.secret\", users: { U0MIA: \"mia@example.com\", U0ANN: \"ann@example.com\" } }, " }
        let config = try String(contentsOf: folder.dir.appendingPathComponent("steward.json"), encoding: .utf8)
            .replacingOccurrences(of: "serve: { linkKey: \"file:link.key\", ", with: serve)
            .replacingOccurrences(of: "  policies: [", with: "  notify: [ \(notify) ],\n  policies: [")
        try folder.write("steward.json", config)
        return folder
    }

    @Test func reviewMailReachesAnSMTPServerWithALinkThatOpensThePage() async throws {
        var options = SMTPSink.Options()
        options.credentials = "steward:smtp-pass-7f3a"
        options.auth = ["LOGIN", "PLAIN"]
        let sink = try SMTPSink(options)
        defer { sink.stop() }
        let folder = try Self.folder(notify: """
            { id: "mail", plugin: "notify", settings: { channel: "email", smtp: { host: "127.0.0.1", port: \(sink.port), from: "steward@example.com", username: "steward" } },
              secrets: { password: "file:smtp.password" } }
            """)
        defer { folder.remove() }
        let service = try ServiceProcess(in: folder.dir)
        defer { service.kill() }
        let base = try #require(service.baseURL)
        // Links in the mail point at the running service.
        let config = try String(contentsOf: folder.dir.appendingPathComponent("steward.json"), encoding: .utf8)
        try folder.write("steward.json", config.replacingOccurrences(of: "serve: { ", with: "serve: { publicURL: \"\(base)\", "))

        let start = try folder.steward(["review", "start", "eng"])
        #expect(start.code == 0, "\(start.err)")
        let mail = try await eventually(timeout: .seconds(30)) { sink.received.first { $0.to == ["mia@example.com"] } }
        #expect(mail.from == "steward@example.com")
        #expect(mail.auth == "steward:smtp-pass-7f3a", "AUTH with the configured credentials")
        #expect(mail.header("Subject")?.contains("eng-1") == true, "\(mail.header("Subject") ?? "")")
        #expect(mail.header("To") == "mia@example.com")
        #expect(mail.header("Message-ID")?.hasPrefix("<stw-") == true)
        let link = try #require(mail.body.split(whereSeparator: \.isWhitespace).map(String.init).first { $0.hasPrefix(base + "/r/") }, "\(mail.body)")
        let page = try await HTTP.get(link)
        #expect(page.status == 200)
        #expect(page.text.contains("mia@example.com"))
        for id in try ServeTests.itemIds(folder, "mia@example.com") { #expect(page.text.contains("value=\"\(id)\"")) }

        // Every message journaled, never its link nor the SMTP password.
        let sent = try folder.events("notify.sent")
        #expect(sent.count == sink.received.count)
        #expect(sent.allSatisfy { $0["data"]["result"] == "sent" && $0["data"]["template"] == "review.launched" })
        let journal = try Self.journalText(folder)
        #expect(!journal.contains("/r/"), "a review link acts as its reviewer: it never goes into the journal")
        #expect(!journal.contains("smtp-pass-7f3a"))

        // A reminder, seven days before the deadline, from the CLI through the same path.
        let later = ISO8601DateFormatter().string(from: Date().addingTimeInterval(8 * 86_400))
        let remind = try folder.steward(["review", "remind", "eng-1"], environment: ["STEWARD_NOW": later])
        #expect(remind.code == 0, "\(remind.err)")
        let reminder = try await eventually(timeout: .seconds(30)) { sink.received.first { $0.to == ["mia@example.com"] && ($0.header("Subject") ?? "").hasPrefix("Reminder") } }
        #expect(reminder.body.contains("/r/"))
        #expect(try folder.events("review.reminded").allSatisfy { $0["data"]["delivery"] == "notify:mail" })
        #expect(service.terminate() == 0)
    }

    @Test func aRefusedRecipientIsJournaledAsFailedAndMailIsWellFormed() async throws {
        var options = SMTPSink.Options()
        options.refuse = ["ann@example.com"]
        options.auth = []
        let sink = try SMTPSink(options)
        defer { sink.stop() }
        let folder = try Self.folder(notify: """
            { id: "mail", plugin: "notify", settings: { channel: "email", smtp: { host: "127.0.0.1", port: \(sink.port), from: "steward@example.com" } } }
            """)
        defer { folder.remove() }
        try folder.write("steward.json", try String(contentsOf: folder.dir.appendingPathComponent("steward.json"), encoding: .utf8)
            .replacingOccurrences(of: "  policies: [", with: """
                  messages: { "review.launched": { subject: "Révision d’accès {{campaign}}", text: "Bonjour,\\n.hidden line\\n{{openItems}} à revoir: {{link}}" } },
                  policies: [
                """))
        #expect(try folder.steward(["review", "start", "eng"]).code == 0)
        let sent = try folder.events("notify.sent")
        let ann = try #require(sent.first { $0["data"]["to"] == "ann@example.com" })
        #expect(ann["data"]["result"] == "failed")
        #expect(ann["data"]["error"].stringValue?.contains("550") == true, "\(ann)")
        let mia = try #require(sink.received.first { $0.to == ["mia@example.com"] })
        #expect(mia.header("Subject")?.hasPrefix("=?UTF-8?B?") == true, "a non-ASCII subject is an encoded word")
        #expect(mia.body.contains("\n.hidden line") || mia.body.contains("\r\n.hidden line"), "a line starting with a dot survives: \(mia.body)")
        #expect(mia.body.contains("Bonjour"))
    }

    @Test func slackGetsBlockKitAndItsButtonsDecideThroughServe() async throws {
        let receiver = try StubServer { _ in .text("ok") }
        defer { receiver.stop() }
        let folder = try Self.folder(notify: """
            { id: "slack", plugin: "notify", settings: { channel: "slack", users: { "mia@example.com": "U0MIA" } }, secrets: { webhookURL: "file:slack.hook" } }
            """, slack: true)
        defer { folder.remove() }
        try folder.write("slack.hook", receiver.url("/services/T000/B000/XXXX") + "\n")
        #expect(try folder.steward(["review", "start", "eng"]).code == 0)
        let message = try #require(receiver.requests.map(\.json).first { $0["text"].stringValue?.contains("eng-1") == true && $0["blocks"].arrayValue?.dropFirst().first?["text"]["text"].stringValue?.contains("<@U0MIA>") == true })
        let blocks = try #require(message["blocks"].arrayValue)
        #expect(blocks.first?["type"] == "header")
        #expect(blocks.first?["text"]["type"] == "plain_text")
        #expect(blocks.count > 1 && blocks[1]["type"] == "section" && blocks[1]["text"]["type"] == "mrkdwn")
        let buttons = blocks.filter { $0["type"] == "actions" }.flatMap { $0["elements"].arrayValue ?? [] }
        #expect(buttons.allSatisfy { $0["type"] == "button" && $0["text"]["type"] == "plain_text" })
        let keep = try #require(buttons.first { $0["value"].stringValue?.hasPrefix("v1|keep|eng-1|") == true }, "\(buttons)")
        #expect(keep["style"] == "primary")
        #expect(buttons.contains { $0["value"].stringValue?.hasPrefix("v1|revoke|eng-1|") == true && $0["style"] == "danger" })

        let service = try ServiceProcess(in: folder.dir)
        defer { service.kill() }
        let base = try #require(service.baseURL)
        let value = try #require(keep["value"].stringValue)
        let item = String(value.split(separator: "|")[3])
        func press(_ user: String, _ value: String, secret: String = "slack-signing-secret-for-tests", at: Int = Int(Date().timeIntervalSince1970)) async throws -> HTTP.Answer {
            let payload = String(decoding: JSONWriter.bytes(["type": "block_actions", "user": ["id": .string(user)],
                                                             "actions": [["action_id": "keep", "type": "button", "value": .string(value)]]]), as: UTF8.self)
            let body = Array(("payload=" + (payload.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")).utf8)
            return try await HTTP.post(base + "/hooks/slack", body: body, headers: [
                "Content-Type": "application/x-www-form-urlencoded", "X-Slack-Request-Timestamp": String(at),
                "X-Slack-Signature": WebhookVerifier.signature(secret: Array(secret.utf8), timestamp: at, body: body, scheme: .slack)])
        }
        // Bad signature, stale, and Ann pressing Mia's button: refused, nothing decided.
        #expect(try await press("U0MIA", value, secret: "wrong").status == 401)
        #expect(try await press("U0MIA", value, at: Int(Date().timeIntervalSince1970) - 600).status == 401)
        let annPress = try await press("U0ANN", value)
        #expect(annPress.text.contains("Nothing was recorded"), "\(annPress.text)")
        #expect(try folder.events("review.decided").isEmpty)
        // Mia's own press records the keep, with channel slack.
        let good = try await press("U0MIA", value)
        #expect(good.status == 200 && good.text.contains("Kept"), "\(good.text)")
        let decided = try folder.events("review.decided")
        #expect(decided.count == 1)
        #expect(decided.first?["data"]["channel"] == "slack")
        #expect(decided.first?["data"]["item"].stringValue == item)
        #expect(decided.first?["data"]["reviewer"] == "mia@example.com")
        #expect(try folder.events("slack.action").count == 3, "each refusal journaled with its reason")
        #expect(service.terminate() == 0)
    }

    @Test func teamsGetsAnAdaptiveCard() async throws {
        let receiver = try StubServer { _ in .text("1") }
        defer { receiver.stop() }
        let folder = try Self.folder(notify: """
            { id: "teams", plugin: "notify", settings: { channel: "teams", webhookURL: "\(receiver.url("/webhookb2/abc"))" } }
            """)
        defer { folder.remove() }
        #expect(try folder.steward(["review", "start", "eng"]).code == 0)
        let message = try #require(receiver.requests.first?.json)
        #expect(message["type"] == "message")
        let attachment = message["attachments"].arrayValue?.first ?? .null
        #expect(attachment["contentType"] == "application/vnd.microsoft.card.adaptive")
        let card = attachment["content"]
        #expect(card["type"] == "AdaptiveCard")
        #expect(card["version"] == "1.4")
        let title = card["body"].arrayValue?.first ?? .null, action = card["actions"].arrayValue?.first ?? .null
        #expect(title["type"] == "TextBlock")
        #expect(title["text"].stringValue?.contains("eng-1") == true)
        #expect(action["type"] == "Action.OpenUrl")
        #expect(action["url"].stringValue?.contains("/r/") == true, "the reviewer's signed link")
    }

    static func journalText(_ folder: StewardFolder) throws -> String {
        let segments = folder.dir.appendingPathComponent(".steward/journal/segments")
        return try FileManager.default.contentsOfDirectory(atPath: segments.path).map {
            try String(contentsOf: segments.appendingPathComponent($0), encoding: .utf8)
        }.joined()
    }
}
