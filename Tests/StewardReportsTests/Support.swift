import Foundation
import StewardJSON
import StewardTestSupport
#if canImport(Glibc)
import Glibc
#endif

/// Files of the checkout the tests read: the schema and the auditor's guide.
enum Repository {
    static var root: URL { Products.repoRoot }

    static func text(_ path: String) throws -> String {
        try String(contentsOf: root.appendingPathComponent(path), encoding: .utf8)
    }

    static func schema() throws -> JSONSchema {
        try JSONSchema(JSONParser.parse(text("schemas/review-report.schema.json")))
    }
}

/// Whether tests that need outside programs run. In CI (`CI` or `STEWARD_REQUIRE_CHROMIUM` set)
/// they always run, so a missing program fails them; elsewhere they are skipped, saying why.
enum Tools {
    static let chromiumPaths = ["/usr/lib/chromium/chromium", "/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"]

    static var required: Bool {
        let environment = ProcessInfo.processInfo.environment
        return environment["CI"] != nil || environment["STEWARD_REQUIRE_CHROMIUM"] != nil
    }

    static var chromiumInstalled: Bool {
        if let path = ProcessInfo.processInfo.environment["STEWARD_CHROMIUM"], !path.isEmpty { return access(path, X_OK) == 0 }
        return chromiumPaths.contains { access($0, X_OK) == 0 }
    }

    /// The full path of `name` on PATH, if it is there.
    static func find(_ name: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        return path.split(separator: ":").map { "\($0)/\(name)" }.first { access($0, X_OK) == 0 }
    }

    static func enabled(_ what: String, installed: Bool) -> Bool {
        if installed || required { return true }
        FileHandle.standardError.write(Data("StewardReportsTests: skipped, \(what) is not installed\n".utf8))
        return false
    }

    static var pdfTestsEnabled: Bool {
        enabled("Chromium or pdftoppm (apt-get install chromium poppler-utils)", installed: chromiumInstalled && find("pdftoppm") != nil)
    }

    static var jqTestsEnabled: Bool { enabled("jq (apt-get install jq)", installed: find("jq") != nil) }
}

/// Runs a program to completion (in `directory`, if given); returns its stdout and exit status.
func run(_ executable: String, _ arguments: [String], in directory: URL? = nil) throws -> (output: [UInt8], status: Int32) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    process.currentDirectoryURL = directory
    let stdout = Pipe()
    process.standardOutput = stdout
    try process.run()
    let output = stdout.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (Array(output), process.terminationStatus)
}
