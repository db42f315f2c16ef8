import ConnectorKit
import Foundation
import StewardProtocol

// steward-connector-notify: delivers Steward's messages to people (docs/notify.md).
//
// Settings pick a `channel`: `email` (SMTP relay), `graph` (Microsoft Graph sendMail),
// `webhook` (a JSON POST), `slack` or `teams` (incoming webhooks). Secrets: `password`
// (SMTP), `clientSecret` (Graph), `token` (webhook bearer), `webhookURL` (Slack, Teams).

let connector = Connector(name: "notify", version: "1.0.0") { setup in
    let channel = try Channel(setup)
    var handlers = Handlers()
    handlers.sendNotification = { params, ctx in
        try await channel.send(params, ctx)
        return MutationResult(alreadyApplied: false)
    }
    handlers.validate = { _ in ValidateResult(ok: true, message: try await channel.check()) }
    return handlers
}
await connector.run()
