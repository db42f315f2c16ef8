import StewardProtocol

/// The operations a connector implements, as closures.
///
/// Set only the ones your app supports: the capabilities a connector declares are derived from
/// which closures are set, so it can never claim an operation it does not implement, and every
/// other method answers method-not-found. Build the value in `Connector`'s `setUp` closure, which
/// runs at `initialize` with the app's settings and secrets, so capabilities can depend on what
/// the app turns out to support.
public struct Handlers: Sendable {
    public typealias List<Item: JSONConvertible> = @Sendable (ListParams, RequestContext) async throws -> Page<Item>
    public typealias Write<Params, Result> = @Sendable (Params, RequestContext) async throws -> Result

    public var validate: (@Sendable (RequestContext) async throws -> ValidateResult)?

    /// The HR source operation.
    public var listPersons: List<Person>?

    public var listAccounts: List<Account>?
    public var getAccount: Write<AccountGetParams, Account?>?
    public var createAccount: Write<AccountCreateParams, AccountCreateResult>?
    public var updateAccount: Write<AccountUpdateParams, MutationResult>?
    public var disableAccount: Write<AccountRefParams, MutationResult>?
    public var enableAccount: Write<AccountRefParams, MutationResult>?
    public var deleteAccount: Write<AccountRefParams, MutationResult>?

    /// Entitlement types in the order they are listed.
    public var entitlementTypes: [EntitlementType] = []
    public var listGrants: List<Grant>?

    public var sendNotification: Write<NotifyParams, MutationResult>?

    /// A discovery source's operation.
    public var listEvidence: List<EvidenceRecord>?

    /// Runs at `shutdown`, before the connector answers it: flush, log out, close browsers.
    public var shutdown: (@Sendable () async -> Void)?

    public init() {}

    /// One kind of entitlement and the closures that handle it.
    public struct EntitlementType: Sendable {
        public var type: String
        public var cardinality: EntitlementTypeCapability.Cardinality
        /// For single-valued types with fixed values: most privileged first.
        public var values: [String]?
        public var list: List<Entitlement>?
        public var grant: Write<GrantChangeParams, MutationResult>?
        public var revoke: Write<GrantChangeParams, MutationResult>?

        public init(_ type: String, cardinality: EntitlementTypeCapability.Cardinality, values: [String]? = nil,
                    list: List<Entitlement>? = nil,
                    grant: Write<GrantChangeParams, MutationResult>? = nil,
                    revoke: Write<GrantChangeParams, MutationResult>? = nil) {
            self.type = type
            self.cardinality = cardinality
            self.values = values
            self.list = list
            self.grant = grant
            self.revoke = revoke
        }
    }

    /// What these handlers can do, as declared in the `initialize` answer.
    public var capabilities: Capabilities {
        var accounts: Set<AccountOperation> = []
        if listAccounts != nil { accounts.insert(.list) }
        if getAccount != nil { accounts.insert(.get) }
        if createAccount != nil { accounts.insert(.create) }
        if updateAccount != nil { accounts.insert(.update) }
        if disableAccount != nil { accounts.insert(.disable) }
        if enableAccount != nil { accounts.insert(.enable) }
        if deleteAccount != nil { accounts.insert(.delete) }
        return Capabilities(
            personsList: listPersons != nil,
            accounts: accounts,
            entitlementTypes: entitlementTypes.map {
                EntitlementTypeCapability(type: $0.type, cardinality: $0.cardinality, list: $0.list != nil,
                                          grant: $0.grant != nil, revoke: $0.revoke != nil, values: $0.values)
            },
            grantsList: listGrants != nil,
            notifySend: sendNotification != nil,
            validate: validate != nil,
            evidenceList: listEvidence != nil)
    }
}
