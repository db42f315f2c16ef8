// swift-tools-version:6.0
// Steward: identity governance as a plugin host. No package dependencies, ever (see DESIGN.md).
import PackageDescription

// Linux only (tested on Debian 12, x86_64): the code calls Glibc directly and uses APIs that
// need macOS 15 (Synchronization's Mutex and Atomic). `platforms` can only name Apple minimums,
// so it is left out rather than claiming a macOS version nobody builds or tests on.
let package = Package(
    name: "Steward",
    products: [
        .executable(name: "steward", targets: ["steward"]),
        .executable(name: "steward-connector-file", targets: ["steward-connector-file"]),
        .executable(name: "steward-connector-scim", targets: ["steward-connector-scim"]),
        .executable(name: "steward-connector-rest", targets: ["steward-connector-rest"]),
        .executable(name: "steward-connector-browser", targets: ["steward-connector-browser"]),
        .executable(name: "steward-connector-notify", targets: ["steward-connector-notify"]),
        .executable(name: "steward-sandbox", targets: ["steward-sandbox"]),
        .library(name: "ConnectorKit", targets: ["ConnectorKit"]),
        .library(name: "StewardProtocol", targets: ["StewardProtocol"]),
    ],
    targets: [
        // Libraries, lowest first. Dependencies point downward only.
        .target(name: "StewardJSON", linkerSettings: [.linkedLibrary("m", .when(platforms: [.linux]))]),
        .target(name: "StewardProtocol", dependencies: ["StewardJSON"]),
        .target(name: "ConnectorKit", dependencies: ["StewardProtocol"]),
        .target(name: "StewardJournal", dependencies: ["StewardJSON"]),
        .target(name: "StewardCore", dependencies: ["StewardProtocol"]),
        .target(name: "StewardHTTP", dependencies: ["StewardJSON", "StewardSystem"]),
        // The one owner of a file descriptor, shared by everything that holds one.
        .target(name: "StewardSystem"),
        .target(name: "DevTools", dependencies: ["StewardJSON", "StewardSystem"]),
        .target(name: "StewardReports", dependencies: ["StewardJSON", "DevTools"]),
        .target(name: "StewardHost", dependencies: ["StewardProtocol", "ConnectorKit", "StewardJournal", "StewardCore", "StewardHTTP", "StewardSystem"]),
        // `steward demo` and the sandbox launcher: for the CLI, benchmarks and tests, never the core.
        .target(name: "StewardDemo", dependencies: ["StewardHost", "StewardCore", "StewardJournal", "StewardProtocol", "StewardReports"]),

        // Executables.
        .executableTarget(name: "steward", dependencies: ["StewardHost", "StewardDemo", "StewardProtocol", "StewardJournal", "StewardCore", "StewardReports"]),
        .executableTarget(name: "steward-connector-file", dependencies: ["ConnectorKit"]),
        .executableTarget(name: "steward-connector-scim", dependencies: ["ConnectorKit"]),
        .executableTarget(name: "steward-connector-rest", dependencies: ["ConnectorKit"]),
        .executableTarget(name: "steward-connector-browser", dependencies: ["ConnectorKit", "DevTools"]),
        .executableTarget(name: "steward-connector-notify", dependencies: ["ConnectorKit"]),
        .executableTarget(name: "steward-sandbox", dependencies: ["StewardHTTP", "StewardJSON"]),

        // A deliberately misbehaving connector the supervisor tests drive.
        .executableTarget(name: "steward-test-connector", dependencies: ["ConnectorKit"], path: "Tests/Fixtures/TestConnector"),

        // Benchmarks: `swift run -c release <Name>`.
        .executableTarget(name: "ProtocolBench", dependencies: ["StewardHost", "StewardProtocol"], path: "Benchmarks/ProtocolBench"),
        .executableTarget(name: "JournalBench", dependencies: ["StewardJournal"], path: "Benchmarks/JournalBench"),
        .executableTarget(name: "LifecycleBench", dependencies: ["StewardDemo", "StewardHost", "StewardProtocol"], path: "Benchmarks/LifecycleBench"),
        .executableTarget(name: "PlanBench", dependencies: ["StewardCore"], path: "Benchmarks/PlanBench"),
        .executableTarget(name: "DiscoveryBench", dependencies: ["StewardCore"], path: "Benchmarks/DiscoveryBench"),
        .executableTarget(name: "ScimBench", dependencies: ["StewardHost", "StewardProtocol"], path: "Benchmarks/ScimBench"),
        .executableTarget(name: "BrowserBench", dependencies: ["DevTools"], path: "Benchmarks/BrowserBench"),
        .executableTarget(name: "ReviewBench", dependencies: ["StewardHost", "StewardCore", "StewardJournal", "StewardProtocol", "StewardReports"],
                          path: "Benchmarks/ReviewBench"),
        .executableTarget(name: "SandboxBench", dependencies: ["StewardHTTP", "StewardJSON"], path: "Benchmarks/SandboxBench"),
        .executableTarget(name: "ServeBench", dependencies: ["StewardDemo", "StewardHost", "StewardCore", "StewardJournal", "StewardProtocol"],
                          path: "Benchmarks/ServeBench"),
        .executableTarget(name: "ReportBench", dependencies: ["StewardReports", "StewardJSON"], path: "Benchmarks/ReportBench"),

        // A child process for the journal's crash tests: appends and prints what was acknowledged.
        .executableTarget(name: "journal-crash-child", dependencies: ["StewardJournal"], path: "Tests/Fixtures/JournalCrashChild"),

        // What the end-to-end tests share (temporary folders, the built products, the sandbox, a
        // Steward folder run through `steward`, a stub HTTP server); every end-to-end target uses it.
        .target(name: "StewardTestSupport",
                dependencies: ["StewardDemo", "StewardHost", "StewardHTTP", "StewardJournal", "StewardProtocol", "StewardJSON"],
                path: "Tests/StewardTestSupport"),

        // Tests.
        .testTarget(name: "StewardJSONTests", dependencies: ["StewardJSON"]),
        .testTarget(name: "StewardProtocolTests", dependencies: ["StewardProtocol"]),
        .testTarget(name: "ConnectorKitTests", dependencies: ["ConnectorKit", "StewardProtocol"]),
        .testTarget(name: "StewardHostTests", dependencies: ["StewardHost", "StewardProtocol", "StewardJournal", "StewardTestSupport"],
                    resources: [.copy("Fixtures")]),
        .testTarget(name: "StewardJournalTests", dependencies: ["StewardJournal"], resources: [.copy("TestData")]),
        .testTarget(name: "StewardCoreTests", dependencies: ["StewardCore"]),
        .testTarget(name: "StewardSystemTests", dependencies: ["StewardSystem"]),
        .testTarget(name: "StewardHTTPTests", dependencies: ["StewardHTTP"]),
        .testTarget(name: "DevToolsTests", dependencies: ["DevTools", "StewardHTTP", "StewardTestSupport"]),
        .testTarget(name: "StewardReportsTests", dependencies: ["StewardReports", "StewardJSON", "StewardJournal", "StewardTestSupport"]),
        .testTarget(name: "SandboxTests", dependencies: ["StewardHTTP", "StewardJSON", "StewardTestSupport"]),
        .testTarget(name: "SchemaTests", dependencies: ["StewardProtocol"]),
        .testTarget(name: "ScimConnectorTests", dependencies: ["StewardHost", "StewardProtocol", "ConnectorKit", "StewardHTTP", "StewardTestSupport"]),
        .testTarget(name: "BrowserConnectorTests", dependencies: ["StewardHost", "StewardProtocol", "ConnectorKit", "DevTools", "StewardHTTP", "StewardJSON", "StewardTestSupport"]),
        .testTarget(name: "LifecycleTests", dependencies: ["StewardHost", "StewardCore", "StewardJournal", "StewardProtocol", "StewardJSON", "StewardTestSupport", "DevTools"],
                    exclude: ["Fixtures"]),
        .testTarget(name: "RestConnectorTests", dependencies: ["StewardHost", "StewardProtocol", "ConnectorKit", "StewardHTTP", "StewardJSON", "StewardTestSupport"],
                    exclude: ["Fixtures"]),
    ],
    swiftLanguageModes: [.v6]
)
