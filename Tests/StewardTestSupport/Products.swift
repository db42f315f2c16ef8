import Foundation
import Testing

/// Where the build put what the tests run: the executables beside the test binary, and the
/// repository they were built from.
public enum Products {
    /// The directory of the running test binary, where SwiftPM puts every executable product.
    public static var directory: URL {
        let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        return URL(fileURLWithPath: exe).deletingLastPathComponent()
    }

    /// The path of the product `name`, whether or not it was built.
    public static func path(_ name: String) -> String {
        directory.appendingPathComponent(name).path
    }

    /// The path of the executable `name`; fails the test, naming the path, when it was not built.
    public static func executable(_ name: String) throws -> String {
        let path = path(name)
        try #require(FileManager.default.isExecutableFile(atPath: path), "\(name) was not built next to the tests (\(path))")
        return path
    }

    /// The repository root (this file is Tests/StewardTestSupport/Products.swift).
    public static var repoRoot: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }
}
