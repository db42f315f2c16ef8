/// A protocol version, `MAJOR.MINOR`. Peers agree when the majors match; a minor adds
/// optional things only.
public struct ProtocolVersion: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var major: Int
    public var minor: Int

    public init(major: Int, minor: Int) {
        self.major = major
        self.minor = minor
    }

    public init?(_ text: String) {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count), let major = Int(parts[0]), major >= 0 else { return nil }
        let minor = parts.count == 2 ? Int(parts[1]) : 0
        guard let minor, minor >= 0 else { return nil }
        self.init(major: major, minor: minor)
    }

    /// The version this build speaks.
    public static let current = ProtocolVersion(major: 1, minor: 0)

    public var description: String { "\(major).\(minor)" }

    public static func < (a: Self, b: Self) -> Bool { (a.major, a.minor) < (b.major, b.minor) }

    /// The version two peers use: the highest the host offers whose major the connector speaks,
    /// capped at the connector's own minor.
    public static func negotiate(offered: [ProtocolVersion], supported: ProtocolVersion) -> ProtocolVersion? {
        guard let best = offered.filter({ $0.major == supported.major }).max() else { return nil }
        return min(best, supported)
    }
}

/// A peer's name and version, for logs and `plugins list`.
public struct PeerInfo: JSONConvertible, Hashable {
    public var name: String
    public var version: String

    public init(name: String, version: String) {
        self.name = name
        self.version = version
    }

    public init(json: JSONValue, path: String) throws {
        let f = try JSONFields(json, path: path)
        name = try f.string("name")
        version = try f.string("version")
    }

    public var json: JSONValue { ["name": .string(name), "version": .string(version)] }
}

/// `initialize` params: everything a connector learns about its job, and nothing about any
/// other app's.
public struct InitializeParams: JSONConvertible {
    public var protocolVersions: [String]
    public var host: PeerInfo
    public var appId: String
    public var settings: JSONValue
    /// This app's secrets, resolved from their references. Never logged by either side.
    public var secrets: [String: String]
    /// A directory the connector may write to (evidence, caches); private to this app.
    public var stateDirectory: String?
    /// The directory relative paths in `settings` are relative to (the config file's).
    public var baseDirectory: String?

    public init(protocolVersions: [String] = [ProtocolVersion.current.description],
                host: PeerInfo, appId: String, settings: JSONValue = [:], secrets: [String: String] = [:],
                stateDirectory: String? = nil, baseDirectory: String? = nil) {
        self.protocolVersions = protocolVersions
        self.host = host
        self.appId = appId
        self.settings = settings
        self.secrets = secrets
        self.stateDirectory = stateDirectory
        self.baseDirectory = baseDirectory
    }

    public init(json: JSONValue, path: String) throws {
        let f = try JSONFields(json, path: path)
        protocolVersions = try f.stringArray("protocolVersions")
        if protocolVersions.isEmpty { throw ConnectorError(.invalidArgument, "\(f.childPath("protocolVersions")): required, a non-empty array of versions") }
        host = try f.decodeIfPresent("host", as: PeerInfo.self) ?? PeerInfo(name: "unknown", version: "unknown")
        appId = try f.optionalString("appId") ?? ""
        let s = f.object["settings"] ?? .null
        settings = s.isNull ? [:] : s
        if case .object = settings {} else { throw ConnectorError(.invalidArgument, "\(f.childPath("settings")): expected an object") }
        secrets = try f.stringMap("secrets")
        stateDirectory = try f.optionalString("stateDirectory")
        baseDirectory = try f.optionalString("baseDirectory")
    }

    public var json: JSONValue {
        var b = JSONObjectBuilder()
        b.set("protocolVersions", .array(protocolVersions.map { .string($0) }))
        b.set("host", host.json)
        b.set("appId", appId)
        b.set("settings", settings)
        b.set("secrets", secrets.json)
        b.set("stateDirectory", stateDirectory)
        b.set("baseDirectory", baseDirectory)
        return b.value
    }
}

/// `initialize` result.
public struct InitializeResult: JSONConvertible {
    public var protocolVersion: String
    public var connector: PeerInfo
    public var capabilities: Capabilities

    public init(protocolVersion: String, connector: PeerInfo, capabilities: Capabilities) {
        self.protocolVersion = protocolVersion
        self.connector = connector
        self.capabilities = capabilities
    }

    public init(json: JSONValue, path: String) throws {
        let f = try JSONFields(json, path: path)
        protocolVersion = try f.string("protocolVersion")
        connector = try f.decode("connector", as: PeerInfo.self)
        capabilities = try f.decodeIfPresent("capabilities", as: Capabilities.self) ?? Capabilities()
    }

    public var json: JSONValue {
        ["protocolVersion": .string(protocolVersion), "connector": connector.json, "capabilities": capabilities.json]
    }
}

/// `validate` result: whether the connector could reach the app with its credentials.
public struct ValidateResult: JSONConvertible {
    public var ok: Bool
    public var message: String?

    public init(ok: Bool, message: String? = nil) {
        self.ok = ok
        self.message = message
    }

    public init(json: JSONValue, path: String) throws {
        let f = try JSONFields(json, path: path)
        ok = try f.bool("ok", default: false)
        message = try f.optionalString("message")
    }

    public var json: JSONValue {
        var b = JSONObjectBuilder()
        b.set("ok", ok)
        b.set("message", message)
        return b.value
    }
}
