import StewardCore
import StewardProtocol
import Testing

@Suite("App inventory")
struct InventoryTests {
    @Test func grantsAreIndexedSortedAndDeduplicated() throws {
        let inventory = AppInventory(
            appId: "crm",
            entitlements: [Entitlement(type: "group", id: "g2", name: "b"), Entitlement(type: "group", id: "g1", name: "a")],
            accounts: [Account(id: "a1", userName: "x"), Account(id: "a2", userName: "y")],
            grants: [Grant(accountId: "a1", type: "group", entitlementId: "g1"),
                     Grant(accountId: "a1", type: "group", entitlementId: "g2"),
                     Grant(accountId: "a1", type: "group", entitlementId: "g1"),
                     Grant(accountId: "a2", type: "license", entitlementId: "l-9"),
                     Grant(accountId: "ghost", type: "group", entitlementId: "g1")])
        #expect(Array(inventory.grants(ofAccount: 0)) == [0, 1])
        // A grant of something the app did not list is kept under its id, so it can be revoked.
        let unknown = try #require(inventory.entitlementIndex(type: "license", id: "l-9"))
        #expect(Array(inventory.grants(ofAccount: 1)) == [Int32(unknown)])
        #expect(inventory.entitlements[unknown].name == "l-9")
        #expect(inventory.danglingGrants == 1)
        #expect(inventory.grantCount == 3)
    }

    @Test func namesResolveExactlyThenIgnoringCaseWhenUnambiguous() {
        let inventory = AppInventory(appId: "crm", entitlements: [
            Entitlement(type: "group", id: "1", name: "Sales"), Entitlement(type: "group", id: "2", name: "ops"),
            Entitlement(type: "group", id: "3", name: "OPS"), Entitlement(type: "role", id: "4", name: "sales"),
        ], accounts: [], grants: [])
        #expect(inventory.entitlementIndex(named: EntitlementName(type: "group", name: "sales")) == 0)
        #expect(inventory.entitlementIndex(named: EntitlementName(type: "group", name: "OPS")) == 2)
        #expect(inventory.entitlementIndex(named: EntitlementName(type: "group", name: "Ops")) == nil)
        #expect(inventory.entitlementIndex(named: EntitlementName(type: "role", name: "Sales")) == 3)
    }
}
