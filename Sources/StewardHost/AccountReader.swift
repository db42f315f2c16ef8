import StewardCore
import StewardProtocol

/// Reads one account back from its app: the account (`accounts/get`) and, when asked, its
/// grants (`grants/list` for that account). Verification after apply and the settling of
/// in-doubt writes both use it, so "the app shows it" means the same thing everywhere.
struct AccountReader: Sendable {
    let connector: SupervisedConnector
    let capabilities: Capabilities
    /// Tries of one read when the app answers with a retryable error (rate limits).
    var attempts = 4

    /// Why an account cannot be read back; the text goes into the journal.
    struct Unreadable: Error, CustomStringConvertible {
        var description: String
    }

    static func open(_ connector: SupervisedConnector) async throws -> AccountReader {
        AccountReader(connector: connector, capabilities: try await connector.start().capabilities)
    }

    /// The account with id `accountId` and, with `grants`, everything it holds.
    func read(_ accountId: String, grants: Bool) async throws -> AccountReadback {
        let account = try await get(AccountGetParams(id: accountId))
        guard grants, account != nil else { return AccountReadback(account: account, grants: nil) }
        return AccountReadback(account: account, grants: try await self.grants(of: accountId))
    }

    /// The account a create would have made: by user name, then by e-mail.
    func find(_ spec: AccountSpec) async throws -> Account? {
        if let a = try await get(AccountGetParams(userName: spec.userName)) { return a }
        if let email = spec.email, email != spec.userName { return try await get(AccountGetParams(email: email)) }
        return nil
    }

    private func get(_ params: AccountGetParams) async throws -> Account? {
        guard capabilities.accounts.contains(.get) else {
            throw Unreadable(description: "the connector cannot read an account back (no accounts/get)")
        }
        return try await retrying(attempts: attempts) {
            try await connector.call(Method.accountsGet, params: params.json, as: AccountGetResult.self).account
        }
    }

    private func grants(of accountId: String) async throws -> [Grant]? {
        guard capabilities.grantsList else { return nil }
        var all: [Grant] = []
        try await connector.list(Method.grantsList, params: ListParams(accountId: accountId), of: Grant.self,
                                 pageRetries: attempts - 1) { page in
            all.append(contentsOf: page.filter { $0.accountId == accountId })
        }
        return all
    }
}
