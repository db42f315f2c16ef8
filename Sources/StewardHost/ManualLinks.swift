import Foundation
import StewardCore
import StewardProtocol

/// A person's decision about whose an account is, which correlation rules then never override:
/// `steward link` (this account is that person's) and `steward ignore` (it is nobody's, a
/// service account). Both are journaled, with who decided and why.
extension Workspace {
    /// Why a link or ignore was refused; nothing was recorded.
    public struct ManualLinkError: Error, CustomStringConvertible {
        public var description: String
    }

    public func link(app: String, account: String, to person: String) async throws {
        let state = try state()
        guard config.app(app) != nil else { throw ManualLinkError(description: "no app \"\(app)\" in the config") }
        guard state.apps[app]?.accounts[account] != nil else {
            throw ManualLinkError(description: "app \(app) has no account \"\(account)\" (run `steward sync`?)")
        }
        guard state.people[person] != nil || state.formerPeople[person] != nil else { throw ManualLinkError(description: "no person \"\(person)\"") }
        try await record([event(EventType.accountLinked, subjects: ["app": app, "account": account, "person": person], data: ["source": "manual"])])
        try? await FindingsLedger(workspace: self).update(now: Date())
    }

    public func ignore(app: String, account: String, reason: String) async throws {
        guard !reason.isEmpty else { throw ManualLinkError(description: "a reason is required") }
        guard try state().apps[app]?.accounts[account] != nil else {
            throw ManualLinkError(description: "app \(app) has no account \"\(account)\" (run `steward sync`?)")
        }
        try await record([event(EventType.accountIgnored, subjects: ["app": app, "account": account], data: ["reason": .string(reason)])])
        try? await FindingsLedger(workspace: self).update(now: Date())
    }
}
