import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// How to start Chromium and how long to wait for it.
public struct LaunchOptions: Sendable {
    /// The browser binary. When nil: `$STEWARD_CHROMIUM`, then the usual install locations.
    public var executablePath: String?
    /// Extra command-line switches, appended after Steward's own.
    public var extraArguments: [String] = []
    /// The browser's environment; nil inherits ours.
    public var environment: [String: String]?
    /// The viewport of new tabs in CSS pixels, fixed so screenshots have a predictable size.
    public var viewport: (width: Int, height: Int) = (1280, 800)
    /// How long Chromium may take to answer its first command.
    public var launchTimeout: Duration = .seconds(30)
    /// How long `close()` waits for a polite exit before killing the process group.
    public var closeGracePeriod: Duration = .seconds(3)
    /// The deadline of one protocol command that is not a page action.
    public var commandTimeout: Duration = .seconds(30)
    /// The default timeout of a page action or wait (`Page.defaultTimeout`).
    public var actionTimeout: Duration = .seconds(30)

    public init(executablePath: String? = nil) {
        self.executablePath = executablePath
    }

    /// The real binary, not Debian's `/usr/bin/chromium` wrapper, which adds flags of its own.
    public static let defaultExecutablePaths = [
        "/usr/lib/chromium/chromium",
        "/usr/bin/chromium",
        "/usr/bin/chromium-browser",
        "/usr/bin/google-chrome",
    ]

    func resolveExecutable(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> String {
        let override = executablePath ?? environment["STEWARD_CHROMIUM"].flatMap { $0.isEmpty ? nil : $0 }
        let candidates = override.map { [$0] } ?? Self.defaultExecutablePaths
        guard let found = candidates.first(where: { access($0, X_OK) == 0 }) else {
            throw DevToolsError.chromiumNotFound(tried: candidates)
        }
        return found
    }

    var chromiumArguments: [String] {
        var arguments = [
            "--headless",
            "--remote-debugging-pipe",
            "--no-first-run",
            "--no-default-browser-check",
            "--no-startup-window",
            "--disable-dev-shm-usage",
            "--disable-breakpad",
            "--disable-crash-reporter",
            "--disable-extensions",
            "--disable-component-update",
            "--disable-background-networking",
            "--disable-background-timer-throttling",
            "--disable-backgrounding-occluded-windows",
            "--disable-renderer-backgrounding",
            "--disable-hang-monitor",
            "--disable-sync",
            "--disable-default-apps",
            "--disable-popup-blocking",
            "--disable-prompt-on-repost",
            "--disable-features=Translate,MediaRouter,OptimizationHints,AutofillServerCommunication",
            "--metrics-recording-only",
            "--password-store=basic",
            "--use-mock-keychain",
            "--mute-audio",
            "--force-color-profile=srgb",
            "--window-size=\(viewport.width),\(viewport.height)",
        ]
        if geteuid() == 0 { arguments.append("--no-sandbox") }
        return arguments + extraArguments
    }
}
