import Dispatch
import Foundation
import StewardHTTP
import StewardJSON
#if canImport(Glibc)
import Glibc
#endif

// steward-sandbox: stand-in SaaS apps on loopback. See `SandboxOptions.help` for the interface.

func fail(_ message: String, code: Int32) -> Never {
    FileHandle.standardError.write(Data("steward-sandbox: \(message)\n".utf8))
    exit(code)
}

/// 32 random hex characters from the system generator.
func randomToken() -> String {
    var generator = SystemRandomNumberGenerator()
    let hex = Array("0123456789abcdef".utf8)
    return String(decoding: (0..<32).map { _ in hex[Int(generator.next() & 0xF)] }, as: UTF8.self)
}

signal(SIGPIPE, SIG_IGN)
// Block the stop signals before any thread exists, so every thread inherits the mask and a
// signal sent the moment the ready line appears waits for `sigwait` below instead of being lost.
var stopSignals = sigset_t()
sigemptyset(&stopSignals)
for signalNumber in [SIGTERM, SIGINT, SIGHUP] { sigaddset(&stopSignals, signalNumber) }
pthread_sigmask(SIG_BLOCK, &stopSignals, nil)

let options: SandboxOptions
do {
    options = try SandboxOptions.parse(Array(CommandLine.arguments.dropFirst()), appNames: SandboxApp.all.map(\.name))
} catch .help {
    print(SandboxOptions.help(apps: SandboxApp.all))
    exit(0)
} catch .invalid(let message) {
    fail(message, code: 2)
}

let stateFile = options.statePath.map { StateFile(path: $0) }

/// The saved state, parsed; the caller keeps it only as long as the apps need it.
func loadState() -> [String: JSONValue] {
    do {
        return try stateFile?.load() ?? [:]
    } catch {
        fail("\(error)", code: 1)
    }
}

let context = SandboxContext(options: options, token: options.token ?? randomToken(), stateFile: stateFile, savedState: loadState())
let selectedApps = options.apps.isEmpty ? SandboxApp.all : SandboxApp.all.filter { options.apps.contains($0.name) }

var router = Router()
var mounted: [(app: SandboxApp, mount: MountedApp)] = []
for app in selectedApps {
    do {
        let mount = try app.mount(context)
        router.mount(app.prefix, mount.router)
        mounted.append((app, mount))
    } catch {
        fail("\(app.name): \(error)", code: 1)
    }
}

context.releaseSavedState()

var configuration = HTTPServer.Configuration()
configuration.port = options.port
let server: HTTPServer
do {
    server = try HTTPServer.start(router, configuration: configuration)
} catch {
    fail("cannot listen on 127.0.0.1:\(options.port): \(error)", code: 1)
}

var appURLs: [String: JSONValue] = [:]
for (app, mount) in mounted {
    let url = server.baseURL + app.prefix
    mount.didStart(url)
    appURLs[app.name] = .string(url)
}

/// Saves state, stops the server and exits. Safe to reach from several signals at once.
let stopping = NSLock()
nonisolated(unsafe) var stopped = false
func stop() -> Never {
    stopping.lock()
    if !stopped {
        stopped = true
        stateFile?.flush()
        server.shutdown()
    }
    exit(0)
}

if options.exitWithStdin {
    let blocked = stopSignals
    Thread.detachNewThread {
        var signals = blocked
        pthread_sigmask(SIG_BLOCK, &signals, nil)
        var byte: UInt8 = 0
        while true {
            let n = read(0, &byte, 1)
            if n == 0 || (n < 0 && errno != EINTR) { stop() }
        }
    }
}

let ready: JSONValue = ["apps": .object(appURLs), "token": .string(context.token)]
FileHandle.standardOutput.write(Data((JSONWriter.string(ready, sortedKeys: true) + "\n").utf8))

// The main thread waits for a stop signal; Dispatch queues and tasks do all the serving.
// (Not `dispatchMain()`: that parks this thread in a sigsuspend that unblocks every signal.)
var received: Int32 = 0
while sigwait(&stopSignals, &received) != 0 {}
stop()
