import Foundation
import StewardHTTP
import StewardJSON

/// A stand-in application the sandbox can serve. Adding one is a value here and an entry in
/// `SandboxApp.all`; its flag (`--name`), its key in the ready line and its state section
/// all come from `name`.
struct SandboxApp: Sendable {
    /// Flag, ready-line key and state-file section.
    let name: String
    /// Path prefix on the shared port, e.g. `/scim/v2`.
    let prefix: String
    let summary: String
    /// Builds the app once at startup.
    let mount: @Sendable (SandboxContext) throws -> MountedApp

    /// Every app, in the order `--help` lists them.
    static let all: [SandboxApp] = [.scim, .github, .legacy]
}

/// What an app hands back when mounted.
struct MountedApp {
    /// Routes relative to the app's prefix.
    var router: Router
    /// The app's section of the state file, when it keeps state.
    var snapshot: (@Sendable () -> JSONValue)?
    /// Called with the app's public URL once the server is listening.
    var didStart: @Sendable (String) -> Void = { _ in }
}

/// What the sandbox gives every app: the token, fault injection, saved state, options.
final class SandboxContext: @unchecked Sendable {  // `loadedState` is guarded by `lock`
    let options: SandboxOptions
    let token: String
    let faults: FaultInjector
    let stateFile: StateFile?
    private let lock = NSLock()
    private var loadedState: [String: JSONValue]

    /// Saved state sections by app name, for apps to read while they are mounted. Released
    /// once every app is mounted, because the parsed file can be far larger than the data.
    var savedState: [String: JSONValue] { lock.withLock { loadedState } }

    init(options: SandboxOptions, token: String, stateFile: StateFile?, savedState: [String: JSONValue]) {
        self.options = options
        self.token = token
        self.stateFile = stateFile
        loadedState = savedState
        faults = FaultInjector(
            latencyMilliseconds: options.latencyMilliseconds, failRate: options.failRate,
            rateLimit: options.rateLimit, seed: options.seed)
    }

    /// Hands an app its saved section and forgets it, so the parsed JSON can be freed as the
    /// app converts it.
    func takeSavedState(_ name: String) -> JSONValue? {
        lock.withLock { loadedState.removeValue(forKey: name) }
    }

    func releaseSavedState() { lock.withLock { loadedState = [:] } }

    /// Tells the state file that an app's data changed.
    func stateChanged() { stateFile?.changed() }

    /// Whether the request carries `Authorization: Bearer <token>`. Compared in constant time.
    func hasValidBearerToken(_ request: HTTPRequest) -> Bool {
        guard let header = request.headers["Authorization"], header.count > 7,
              header.prefix(7).lowercased() == "bearer "
        else { return false }
        let presented = Array(header.utf8.dropFirst(7)), expected = Array(token.utf8)
        guard presented.count == expected.count else { return false }
        var difference: UInt8 = 0
        for (a, b) in zip(presented, expected) { difference |= a ^ b }
        return difference == 0
    }

    /// Wraps every route in a bearer-token check; `deny` writes the app's 401.
    func requiringBearerToken(_ router: Router, deny: @escaping @Sendable () -> HTTPResponse) -> Router {
        router.mapHandlers { handler in
            switch handler {
            case .sync(let body):
                return .sync { [self] request in hasValidBearerToken(request) ? try body(request) : deny() }
            case .async(let body):
                return .async { [self] request in hasValidBearerToken(request) ? try await body(request) : deny() }
            }
        }
    }
}

extension SandboxApp {
    static let scim = SandboxApp(
        name: "scim", prefix: "/scim/v2",
        summary: "SCIM 2.0 service provider (Users, Groups, enterprise extension)"
    ) { context in
        let store = try SCIMPersistence.makeStore(context: context)
        let app = SCIMApp(store: store)
        let authenticated = context.requiringBearerToken(app.router()) {
            var error = SCIMError(.unauthorized, nil, "a valid bearer token is required")
            error.headers.add("WWW-Authenticate", "Bearer realm=\"steward-sandbox\"")
            return error.response
        }
        let router = context.faults.wrap(authenticated) { fault in
            switch fault {
            case .rateLimited(let seconds):
                var error = SCIMError(.tooManyRequests, nil, "rate limit exceeded; retry after \(seconds) s")
                error.headers.add("Retry-After", String(seconds))
                return error.response
            case .failure(let status):
                var error = SCIMError(status, nil, "injected fault: the sandbox failed this request on purpose")
                if status == .serviceUnavailable { error.headers.add("Retry-After", "1") }
                return error.response
            }
        }
        return MountedApp(
            router: router,
            snapshot: { SCIMPersistence.snapshot(store.snapshot()) },
            didStart: { url in _ = try? store.write { state throws(SCIMError) in state.baseURL = url } })
    }
}
