import StewardProtocol

// The plan file: `steward plan --out` writes `Plan.json`, `steward apply FILE` reads it back.
// Derived members (`key`, `blocked`, `percent`, `message`) are written for readers and scripts
// and recomputed on reading.

/// A plan file Steward cannot read, with the member path at fault.
public struct PlanFormatError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public var description: String { "plan file: \(message)" }
}

extension Plan {
    public static let formatName = "steward-plan"

    public var json: JSONValue {
        var members = headMembers
        members["actions"] = .array(actions.map(\.json))
        members["findings"] = .array(findings.map(\.json))
        return .object(members)
    }

    /// Every member but the two long lists.
    private var headMembers: [String: JSONValue] {
        var b = JSONObjectBuilder(capacity: 12)
        b.set("format", Plan.formatName)
        b.set("version", Plan.formatVersion)
        b.set("journalHead", journalHead)
        b.set("computedAt", computedAt)
        b.set("allowMassDeprovision", allowMassDeprovision)
        b.set("blocked", isBlocked)
        b.set("rails", .array(rails.map(\.json)))
        b.set("apps", .array(apps.map(\.json)))
        b.set("people", .object(people.mapValues(\.json)))
        return b.members
    }

    /// The plan file's bytes, the same document as `json`, written one action at a time so a
    /// plan with hundreds of thousands of actions is never held twice as a JSON tree.
    public func jsonBytes(sortedKeys: Bool = false) -> [UInt8] {
        let head = headMembers
        var out: [UInt8] = []
        out.reserveCapacity(4096 + actions.count * 320 + findings.count * 160)
        out.append(UInt8(ascii: "{"))
        for key in head.keys.sorted() {
            JSONWriter.writeString(key, into: &out)
            out.append(UInt8(ascii: ":"))
            JSONWriter.write(head[key] ?? .null, into: &out, sortedKeys: sortedKeys)
            out.append(UInt8(ascii: ","))
        }
        writeArray("actions", actions.lazy.map(\.json), into: &out, sortedKeys: sortedKeys)
        out.append(UInt8(ascii: ","))
        writeArray("findings", findings.lazy.map(\.json), into: &out, sortedKeys: sortedKeys)
        out.append(UInt8(ascii: "}"))
        return out
    }

    /// Reads a plan file; refuses other formats and newer versions.
    public init(json: JSONValue) throws {
        do {
            let f = try JSONFields(json, path: "")
            guard try f.optionalString("format") == Plan.formatName else {
                throw PlanFormatError(message: "not a Steward plan (\"format\" is not \"\(Plan.formatName)\")")
            }
            let version = try f.int("version")
            guard version <= Plan.formatVersion else {
                throw PlanFormatError(message: "version \(version) is newer than this Steward understands (\(Plan.formatVersion))")
            }
            var people: [String: PersonSummary] = [:]
            for (id, value) in try f.objectValue("people") { people[id] = try PersonSummary(json: value, path: "people.\(id)") }
            self.init(journalHead: try f.optionalString("journalHead"), computedAt: try f.string("computedAt"),
                      actions: try f.decodeArray("actions", of: PlanAction.self),
                      findings: try f.decodeArray("findings", of: PlanFinding.self),
                      rails: try f.decodeArray("rails", of: RailViolation.self),
                      allowMassDeprovision: try f.bool("allowMassDeprovision", default: false),
                      apps: try f.decodeArray("apps", of: AppSummary.self), people: people)
        } catch let error as ConnectorError {
            throw PlanFormatError(message: error.message)
        }
    }
}

extension PlanAction: JSONConvertible {
    public var json: JSONValue {
        var b = JSONObjectBuilder(capacity: 14)
        b.set("key", key)
        b.set("app", app)
        b.set("person", personId)
        b.set("account", accountId)
        b.set("accountName", accountName)
        b.set("op", operation.name)
        b.set("cause", cause.rawValue)
        b.set("justifications", .array(justifications.map(\.json)))
        b.set("changeSet", changeSet)
        if observeOnly { b.set("observeOnly", true) }
        switch operation {
        case .createAccount(let spec): b.set("spec", spec.json)
        case .updateAccount(let changes): b.set("changes", .array(changes.map(\.json)))
        case .grant(let e), .revoke(let e): b.set("entitlement", e.json)
        case .changeTier(let from, let to):
            b.set("from", from.json)
            b.set("to", to.json)
        case .deleteAccount(let days): b.set("disabledDays", days)
        case .enableAccount, .disableAccount: break
        }
        return b.value
    }

    public init(json: JSONValue, path: String) throws {
        let f = try JSONFields(json, path: path)
        let op = try f.string("op")
        let operation: PlanOperation
        switch op {
        case "createAccount": operation = .createAccount(try f.decode("spec", as: AccountSpec.self))
        case "enableAccount": operation = .enableAccount
        case "updateAccount": operation = .updateAccount(try f.decodeArray("changes", of: AttributeChange.self))
        case "grant": operation = .grant(try f.decode("entitlement", as: EntitlementRef.self))
        case "changeTier": operation = .changeTier(from: try f.decode("from", as: EntitlementRef.self), to: try f.decode("to", as: EntitlementRef.self))
        case "revoke": operation = .revoke(try f.decode("entitlement", as: EntitlementRef.self))
        case "disableAccount": operation = .disableAccount
        case "deleteAccount": operation = .deleteAccount(disabledDays: try f.optionalInt("disabledDays"))
        default: throw ConnectorError(.invalidArgument, "\(f.childPath("op")): unknown operation \"\(op)\"")
        }
        let causeName = try f.string("cause")
        guard let cause = Cause(rawValue: causeName) else {
            throw ConnectorError(.invalidArgument, "\(f.childPath("cause")): unknown cause \"\(causeName)\"")
        }
        self.init(app: try f.nonEmptyString("app"), personId: try f.optionalString("person"), accountId: try f.optionalString("account"),
                  accountName: try f.optionalString("accountName"), operation: operation, cause: cause,
                  justifications: try f.decodeArray("justifications", of: Justification.self),
                  changeSet: try f.nonEmptyString("changeSet"), observeOnly: try f.bool("observeOnly", default: false))
    }
}

extension AttributeChange: JSONConvertible {}

extension EntitlementRef: JSONConvertible {
    public var json: JSONValue { ["type": .string(type), "id": .string(id), "name": .string(name)] }

    public init(json: JSONValue, path: String) throws {
        let f = try JSONFields(json, path: path)
        self.init(type: try f.nonEmptyString("type"), id: try f.nonEmptyString("id"), name: try f.string("name"))
    }
}

extension Justification: JSONConvertible {
    public var json: JSONValue {
        switch self {
        case .policy(let id): return ["kind": "policy", "policy": .string(id)]
        case .role(let role, let policy): return ["kind": "role", "role": .string(role), "policy": .string(policy)]
        case .exception(let id, let until):
            var b = JSONObjectBuilder(capacity: 3)
            b.set("kind", "exception")
            b.set("exception", id)
            b.set("until", until?.description)
            return b.value
        case .notGranted: return ["kind": "notGranted"]
        case .personLeft(let reason): return ["kind": "personLeft", "reason": .string(reason.rawValue)]
        case .noPerson: return ["kind": "noPerson"]
        case .finding(let kind): return ["kind": "finding", "finding": .string(kind)]
        case .hrRecord: return ["kind": "hrRecord"]
        case .review(let campaign): return ["kind": "review", "campaign": .string(campaign)]
        }
    }

    public init(json: JSONValue, path: String) throws {
        let f = try JSONFields(json, path: path)
        let kind = try f.string("kind")
        switch kind {
        case "policy": self = .policy(try f.nonEmptyString("policy"))
        case "role": self = .role(try f.nonEmptyString("role"), policy: try f.nonEmptyString("policy"))
        case "exception":
            var until: CalendarDay?
            if let text = try f.optionalString("until") {
                guard let day = CalendarDay(iso: text) else {
                    throw ConnectorError(.invalidArgument, "\(f.childPath("until")): expected a date like 2026-06-30, got \"\(text)\"")
                }
                until = day
            }
            self = .exception(try f.nonEmptyString("exception"), until: until)
        case "notGranted": self = .notGranted
        case "personLeft":
            let name = try f.string("reason")
            guard let reason = LeaveReason(rawValue: name) else {
                throw ConnectorError(.invalidArgument, "\(f.childPath("reason")): unknown leave reason \"\(name)\"")
            }
            self = .personLeft(reason)
        case "noPerson": self = .noPerson
        case "finding": self = .finding(try f.nonEmptyString("finding"))
        case "hrRecord": self = .hrRecord
        case "review": self = .review(try f.nonEmptyString("campaign"))
        default: throw ConnectorError(.invalidArgument, "\(f.childPath("kind")): unknown justification \"\(kind)\"")
        }
    }
}

extension PlanFinding: JSONConvertible {
    public var json: JSONValue {
        var b = JSONObjectBuilder(capacity: 6)
        b.set("kind", kind.rawValue)
        b.set("severity", severity.rawValue)
        b.set("app", app)
        b.set("person", personId)
        b.set("account", accountId)
        b.set("message", message)
        if !configPaths.isEmpty { b.set("configPaths", .array(configPaths.map(JSONValue.string))) }
        return b.value
    }

    public init(json: JSONValue, path: String) throws {
        let f = try JSONFields(json, path: path)
        self.init(try decodeChoice(f, "kind", Kind.self), severity: try decodeChoice(f, "severity", Severity.self),
                  app: try f.optionalString("app"), personId: try f.optionalString("person"),
                  accountId: try f.optionalString("account"), message: try f.string("message"),
                  configPaths: try f.stringArray("configPaths"))
    }
}

extension RailViolation: JSONConvertible {
    public var json: JSONValue {
        var b = JSONObjectBuilder(capacity: 7)
        b.set("rail", rail.rawValue)
        b.set("app", app)
        b.set("count", count)
        b.set("total", total)
        b.set("percent", .double(percent))
        b.set("limitPercent", .double(limitPercent))
        b.set("message", message)
        return b.value
    }

    public init(json: JSONValue, path: String) throws {
        let f = try JSONFields(json, path: path)
        guard let limit = f.object["limitPercent"]?.doubleValue else {
            throw ConnectorError(.invalidArgument, "\(f.childPath("limitPercent")): required, expected a number")
        }
        self.init(rail: try decodeChoice(f, "rail", Rail.self), app: try f.optionalString("app"), count: try f.int("count"),
                  total: try f.int("total"), limitPercent: limit)
    }
}

extension AppSummary: JSONConvertible {
    public var json: JSONValue {
        ["id": .string(id), "mode": .string(mode.rawValue), "accounts": .int(accounts), "linked": .int(linked),
         "orphans": .int(orphans), "ignored": .int(ignored), "conflicts": .int(conflicts), "actions": .int(actions)]
    }

    public init(json: JSONValue, path: String) throws {
        let f = try JSONFields(json, path: path)
        self.init(id: try f.nonEmptyString("id"), mode: try decodeChoice(f, "mode", AppSettings.Mode.self),
                  accounts: try f.optionalInt("accounts") ?? 0, linked: try f.optionalInt("linked") ?? 0,
                  orphans: try f.optionalInt("orphans") ?? 0, ignored: try f.optionalInt("ignored") ?? 0,
                  conflicts: try f.optionalInt("conflicts") ?? 0, actions: try f.optionalInt("actions") ?? 0)
    }
}

extension PersonSummary: JSONConvertible {
    public var json: JSONValue {
        var b = JSONObjectBuilder(capacity: 3)
        b.set("name", name)
        b.set("email", email)
        b.set("event", event?.rawValue)
        return b.value
    }

    public init(json: JSONValue, path: String) throws {
        let f = try JSONFields(json, path: path)
        var event: Cause?
        if f.has("event") { event = try decodeChoice(f, "event", Cause.self) }
        self.init(name: try f.string("name"), email: try f.string("email"), event: event)
    }
}

private func writeArray(_ key: String, _ items: some Sequence<JSONValue>, into out: inout [UInt8], sortedKeys: Bool) {
    JSONWriter.writeString(key, into: &out)
    out.append(contentsOf: Array(":[".utf8))
    var first = true
    for item in items {
        if !first { out.append(UInt8(ascii: ",")) }
        first = false
        JSONWriter.write(item, into: &out, sortedKeys: sortedKeys)
    }
    out.append(UInt8(ascii: "]"))
}

private func decodeChoice<T: RawRepresentable & CaseIterable>(_ f: JSONFields, _ key: String, _ type: T.Type) throws -> T where T.RawValue == String {
    let raw = try f.string(key)
    guard let value = T(rawValue: raw) else {
        throw ConnectorError(.invalidArgument, "\(f.childPath(key)): unknown value \"\(raw)\" (expected one of \(T.allCases.map(\.rawValue).joined(separator: ", ")))")
    }
    return value
}
