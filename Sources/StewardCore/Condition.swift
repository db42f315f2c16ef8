import StewardProtocol

/// A policy's `when`: which people it applies to.
///
/// Every clause must hold (AND). A clause names a person attribute and how its value must look:
/// ```json5
/// when: { department: ["Sales", "Marketing"],        // any of these, case-insensitive
///         title: { prefix: "Lead" },                 // starts with (also a list of prefixes)
///         location: { not: ["Remote"] },             // negation of any matcher
///         managerId: { present: true } }             // has a value at all
/// ```
/// An empty `when` matches everyone in scope (see `Policy`).
public struct Condition: Sendable, Hashable {
    public var clauses: [Clause]

    public struct Clause: Sendable, Hashable {
        /// `department`, `title`, `location`, `employmentType`, `costCenter`, `managerId`, `status`,
        /// any other `Person` field, or an extra HR column.
        public var attribute: String
        public var matcher: ValueMatcher

        public init(attribute: String, matcher: ValueMatcher) {
            self.attribute = attribute
            self.matcher = matcher
        }
    }

    public init(_ clauses: [Clause] = []) { self.clauses = clauses }

    public static let everyone = Condition()

    /// Whether a clause is about `status`: such a policy decides its own scope (see `Policy`).
    public var mentionsStatus: Bool { clauses.contains { $0.attribute == "status" } }

    public var attributes: [String] { clauses.map(\.attribute) }

    /// Evaluates against any attribute source, so the planner can evaluate once per distinct
    /// combination of values instead of once per person.
    public func matches(_ valueOf: (String) -> String?) -> Bool {
        clauses.allSatisfy { $0.matcher.matches(valueOf($0.attribute)) }
    }

    public func matches(_ person: Person) -> Bool {
        matches { person.attributeValue($0) }
    }
}

/// How one attribute's value must look. Comparisons ignore case; matchers hold their operands
/// lowercased.
public indirect enum ValueMatcher: Sendable, Hashable {
    /// Equal to any of these.
    case anyOf([String])
    /// Starts with any of these.
    case prefix([String])
    /// The attribute has a non-empty value (`true`) or has none (`false`).
    case present(Bool)
    case not(ValueMatcher)
    /// Every matcher holds: an object with several keys, like `{prefix: "Lead", not: ["Lead Intern"]}`.
    case all([ValueMatcher])

    public func matches(_ value: String?) -> Bool {
        switch self {
        case .anyOf(let options):
            guard let value else { return false }
            let v = value.caseFolded
            return options.contains(v)
        case .prefix(let prefixes):
            guard let value else { return false }
            let v = value.caseFolded
            return prefixes.contains { v.hasPrefix($0) }
        case .present(let wanted):
            return ((value?.isEmpty ?? true) == false) == wanted
        case .not(let inner):
            return !inner.matches(value)
        case .all(let matchers):
            return matchers.allSatisfy { $0.matches(value) }
        }
    }
}

// MARK: - Reading from config

extension Condition {
    /// Reads a `when` object as the config writes it (journals record conditions this way).
    public init(governanceJSON json: JSONValue) throws {
        try self.init(config: ConfigNode(json))
    }

    init(config node: ConfigNode) throws {
        if node.isMissing {
            self.init()
            return
        }
        var clauses: [Clause] = []
        for (attribute, valueNode) in try node.members() {
            if attribute.isEmpty { throw valueNode.error("attribute name must not be empty") }
            clauses.append(Clause(attribute: attribute, matcher: try ValueMatcher(config: valueNode)))
        }
        self.init(clauses)
    }
}

extension ValueMatcher {
    static let keys = ["prefix", "not", "present"]

    /// A list (or one string) means any of; an object combines `prefix`, `not` and `present`.
    init(config node: ConfigNode) throws {
        switch node.value {
        case .string, .int, .array:
            // Whole numbers are accepted as text: `costCenter: [4100]` means "4100".
            let values = try node.valueList()
            if values.isEmpty { throw node.error("an empty list matches nobody; remove the clause or list values") }
            self = .anyOf(values.map(\.caseFolded))
        case .object:
            var parts: [ValueMatcher] = []
            for (key, child) in try node.members(allowedKeys: ValueMatcher.keys) {
                switch key {
                case "prefix":
                    let prefixes = try child.stringList()
                    if prefixes.isEmpty || prefixes.contains(where: \.isEmpty) { throw child.error("expected a non-empty string or list of them") }
                    parts.append(.prefix(prefixes.map(\.caseFolded)))
                case "not":
                    parts.append(.not(try ValueMatcher(config: child)))
                default:
                    guard let wanted = try child.optionalBool() else { throw child.error("expected true or false") }
                    parts.append(.present(wanted))
                }
            }
            if parts.isEmpty { throw node.error("expected one of \(ValueMatcher.keys.joined(separator: ", "))") }
            self = parts.count == 1 ? parts[0] : .all(parts)
        default:
            throw node.expected("a list of values or an object with \(ValueMatcher.keys.joined(separator: ", "))")
        }
    }
}

extension ConfigNode {
    /// A list of strings or whole numbers (as text); one value alone counts as a list of one.
    func valueList() throws -> [String] {
        switch value {
        case .string(let s): return [s]
        case .int(let i): return [String(i)]
        default:
            return try elements().map { element in
                if case .int(let i) = element.value { return String(i) }
                guard case .string(let s) = element.value else { throw element.expected("a string") }
                return s
            }
        }
    }
}

extension Person {
    /// The value a policy's `when` sees for `attribute`: a `Person` field, else an extra column.
    public func attributeValue(_ attribute: String) -> String? {
        PersonField(attribute).value(in: self)
    }
}

/// A person attribute resolved from its name once, so reading it for every person is a switch
/// on an enum rather than on strings.
enum PersonField: Sendable, Hashable {
    case id, email, firstName, lastName, displayName, department, title, managerId, location
    case employmentType, costCenter, status, startDate, endDate
    case extra(String)

    init(_ name: String) {
        switch name {
        case "id": self = .id
        case "email": self = .email
        case "firstName": self = .firstName
        case "lastName": self = .lastName
        case "displayName": self = .displayName
        case "department": self = .department
        case "title": self = .title
        case "managerId": self = .managerId
        case "location": self = .location
        case "employmentType": self = .employmentType
        case "costCenter": self = .costCenter
        case "status": self = .status
        case "startDate": self = .startDate
        case "endDate": self = .endDate
        default: self = .extra(name)
        }
    }

    func value(in person: borrowing Person) -> String? {
        switch self {
        case .id: return person.id
        case .email: return person.email
        case .firstName: return person.firstName
        case .lastName: return person.lastName
        case .displayName: return person.displayName
        case .department: return person.department
        case .title: return person.title
        case .managerId: return person.managerId
        case .location: return person.location
        case .employmentType: return person.employmentType
        case .costCenter: return person.costCenter
        case .status: return person.status.rawValue
        case .startDate: return person.startDate
        case .endDate: return person.endDate
        case .extra(let name): return person.attributes.isEmpty ? nil : person.attributes[name]
        }
    }
}

extension String {
    /// Lowercased, skipping the work for the common all-lowercase ASCII case.
    var caseFolded: String {
        var needsWork = false
        for b in utf8 where (b >= 65 && b <= 90) || b >= 0x80 {
            needsWork = true
            break
        }
        return needsWork ? lowercased() : self
    }

    /// Case-insensitive equality without allocating for ASCII text.
    func equalsIgnoringCase(_ other: String) -> Bool {
        if self == other { return true }
        var a = utf8.makeIterator()
        var b = other.utf8.makeIterator()
        while true {
            switch (a.next(), b.next()) {
            case (nil, nil): return true
            case let (x?, y?):
                if x == y { continue }
                if x >= 0x80 || y >= 0x80 { return caseFolded == other.caseFolded }
                let lx = (x >= 65 && x <= 90) ? x + 32 : x
                let ly = (y >= 65 && y <= 90) ? y + 32 : y
                if lx != ly { return false }
            default: return false
            }
        }
    }
}
