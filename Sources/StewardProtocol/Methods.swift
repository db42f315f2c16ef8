/// Method and notification names of protocol version 1.
public enum Method {
    public static let initialize = "initialize"
    public static let shutdown = "shutdown"
    public static let ping = "ping"
    public static let validate = "validate"

    public static let personsList = "persons/list"

    public static let accountsList = "accounts/list"
    public static let accountsGet = "accounts/get"
    public static let accountsCreate = "accounts/create"
    public static let accountsUpdate = "accounts/update"
    public static let accountsDisable = "accounts/disable"
    public static let accountsEnable = "accounts/enable"
    public static let accountsDelete = "accounts/delete"

    public static let entitlementsList = "entitlements/list"
    public static let grantsList = "grants/list"
    public static let grantsAdd = "grants/add"
    public static let grantsRemove = "grants/remove"

    public static let notifySend = "notify/send"

    /// A discovery source: evidence of apps in use (expenses, OAuth grants, sign-ins, visits).
    public static let evidenceList = "evidence/list"

    /// Writes: they carry an idempotency key and may fail with an `outcome`.
    public static let mutations: Set<String> = [
        accountsCreate, accountsUpdate, accountsDisable, accountsEnable, accountsDelete, grantsAdd, grantsRemove, notifySend,
    ]
}

/// Notification names.
public enum Notification {
    /// Connector to host: a log line with a level.
    public static let log = "log"
    /// Connector to host: progress of a long request.
    public static let progress = "progress"
    /// Connector to host: the app's rate-limit budget, so the host can pace other work.
    public static let rateLimit = "rateLimit"
    /// Host to connector: stop working on a request; it is still answered (with `cancelled`).
    public static let cancel = "cancel"
}

/// The environment variable the host sets for every connector it starts. A connector started
/// without it from a terminal explains itself instead of waiting silently for JSON.
public let connectorEnvironmentVariable = "STEWARD_CONNECTOR_PROTOCOL"

/// The longest line either side accepts: 16 MiB.
public let maxLineBytes = 16 * 1024 * 1024
