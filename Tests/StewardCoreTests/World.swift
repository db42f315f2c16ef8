import Foundation
import StewardCore
import StewardProtocol
import Testing

/// A small company for planner tests: two apps (crm enforced, wiki observed), roles with a
/// tier order, and people in Engineering, Sales and Finance.
enum World {
    /// 2026-03-05T09:00:00Z.
    static let now = Date(timeIntervalSince1970: 1_772_701_200)
    static let today = CalendarDay(now)

    static let configText = """
    {
      apps: [
        { id: "crm", plugin: "scim", mode: "enforce", correlate: ["employeeNumber", "email", "userName"],
          deprovision: { action: "disable", deleteAfterDays: 30, maxPercent: 50 } },
        { id: "wiki", plugin: "scim", mode: "observe" },
      ],
      roles: {
        "sales-rep": [ { app: "crm", entitlements: ["role:User", "group:sales"] } ],
        "engineer": [ { app: "crm", entitlements: ["group:engineering"] } ],
      },
      policies: [
        { id: "everyone-crm", when: {}, grant: [ { app: "crm", entitlements: ["role:Viewer"] } ] },
        { id: "everyone-wiki", when: {}, grant: [ { app: "wiki", entitlements: ["group:staff"] } ] },
        { id: "sales", when: { department: ["Sales"] }, roles: ["sales-rep"] },
        { id: "eng", when: { department: ["engineering"] }, roles: ["engineer"] },
        { id: "eng-leads", when: { department: ["Engineering"], title: { prefix: "Lead" } },
          grant: [ { app: "crm", entitlements: ["role:Admin"] } ] },
      ],
    }
    """

    static func config(_ text: String = configText) throws -> GovernanceConfig {
        try GovernanceConfig(json: JSONParser.parse(text, options: .json5))
    }

    static func person(_ id: String, _ first: String, _ department: String, _ title: String,
                       status: PersonStatus = .active, endDate: String? = nil, email: String? = nil) -> Person {
        Person(id: id, email: email ?? "\(first.lowercased())@example.com", firstName: first, lastName: "Test",
               department: department, title: title, status: status, endDate: endDate)
    }

    static let ada = person("E1", "Ada", "Engineering", "Lead Engineer")
    static let bob = person("E2", "Bob", "Engineering", "Engineer")
    static let cy = person("E3", "Cy", "Sales", "Account Executive")
    static let dee = person("E4", "Dee", "Finance", "Analyst")
    static var everyone: [Person] { [ada, bob, cy, dee] }

    static let crmTypes = [
        EntitlementTypeCapability(type: "role", cardinality: .single, values: ["Admin", "User", "Viewer"]),
        EntitlementTypeCapability(type: "group", cardinality: .multi),
        EntitlementTypeCapability(type: "license", cardinality: .multi),
    ]
    static let crmEntitlements = [
        Entitlement(type: "role", id: "r-admin", name: "Admin"),
        Entitlement(type: "role", id: "r-user", name: "User"),
        Entitlement(type: "role", id: "r-viewer", name: "Viewer"),
        Entitlement(type: "group", id: "g-eng", name: "engineering"),
        Entitlement(type: "group", id: "g-sales", name: "sales"),
        Entitlement(type: "group", id: "g-fin", name: "finance"),
        Entitlement(type: "license", id: "l-pro", name: "pro"),
    ]

    /// An account as Steward would have created it for `person`.
    static func account(_ id: String, for person: Person, status: AccountStatus = .active) -> Account {
        Account(id: id, userName: person.email, email: person.email, displayName: person.fullName,
                givenName: person.firstName, familyName: person.lastName, externalId: person.id,
                employeeNumber: person.id, status: status)
    }

    /// crm with the given accounts, each holding entitlement ids.
    static func crm(_ accounts: [(Account, [String])], disabledSince: [String: CalendarDay] = [:],
                    operations: Set<AccountOperation> = Set(AccountOperation.allCases)) -> AppInventory {
        inventory("crm", crmEntitlements, crmTypes, accounts, disabledSince: disabledSince, operations: operations)
    }

    static func wiki(_ accounts: [(Account, [String])]) -> AppInventory {
        inventory("wiki", [Entitlement(type: "group", id: "w-staff", name: "staff")],
                  [EntitlementTypeCapability(type: "group", cardinality: .multi)], accounts)
    }

    static func inventory(_ app: String, _ entitlements: [Entitlement], _ types: [EntitlementTypeCapability],
                          _ accounts: [(Account, [String])], disabledSince: [String: CalendarDay] = [:],
                          operations: Set<AccountOperation> = Set(AccountOperation.allCases)) -> AppInventory {
        let typeOf = Dictionary(uniqueKeysWithValues: entitlements.map { ($0.id, $0.type) })
        let grants = accounts.flatMap { account, ids in
            ids.map { Grant(accountId: account.id, type: typeOf[$0] ?? "group", entitlementId: $0) }
        }
        return AppInventory(appId: app, entitlements: entitlements, accounts: accounts.map(\.0), grants: grants,
                            entitlementTypes: types, accountOperations: operations, disabledSince: disabledSince)
    }

    /// crm and wiki exactly as the policies want them for `ada`, `bob`, `cy` and `dee`.
    static func convergedCRM() -> [(Account, [String])] {
        [(account("c1", for: ada), ["r-admin", "g-eng"]),
         (account("c2", for: bob), ["r-viewer", "g-eng"]),
         (account("c3", for: cy), ["r-user", "g-sales"]),
         (account("c4", for: dee), ["r-viewer"])]
    }

    static func convergedWiki() -> [(Account, [String])] {
        everyone.enumerated().map { (account("w\($0.offset + 1)", for: $0.element), ["w-staff"]) }
    }

    static func plan(people: [Person] = everyone, crm: AppInventory? = nil, wiki: AppInventory? = nil,
                     config: GovernanceConfig? = nil, lifecycle: LifecycleChanges? = nil, former: [Person] = [],
                     overrides: CorrelationOverrides = CorrelationOverrides(), previousConfig: GovernanceConfig? = nil,
                     allowMassDeprovision: Bool = false) throws -> PlanResult {
        let request = PlanRequest(config: try config ?? World.config(), people: people,
                                  inventories: [crm ?? World.crm(convergedCRM()), wiki ?? World.wiki(convergedWiki())],
                                  now: now, formerPeople: former, lifecycle: lifecycle, overrides: overrides,
                                  previousConfig: previousConfig, allowMassDeprovision: allowMassDeprovision)
        return Planner.makePlan(request)
    }
}

extension Plan {
    func actions(app: String, person: String? = nil) -> [PlanAction] {
        actions.filter { $0.app == app && (person == nil || $0.personId == person) }
    }

    /// Compact `op target` strings, for asserting on sequences.
    func steps(app: String, person: String? = nil) -> [String] {
        actions(app: app, person: person).map { action in
            switch action.operation {
            case .createAccount(let spec): return "create \(spec.userName)"
            case .enableAccount: return "enable"
            case .updateAccount(let changes): return "update " + changes.map(\.attribute).joined(separator: ",")
            case .grant(let e): return "grant \(e.type):\(e.name)"
            case .changeTier(let from, let to): return "tier \(from.name)>\(to.name)"
            case .revoke(let e): return "revoke \(e.type):\(e.name)"
            case .disableAccount: return "disable"
            case .deleteAccount(let days): return "delete \(days.map(String.init) ?? "-")"
            }
        }
    }
}
