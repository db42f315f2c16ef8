import Foundation
import StewardHost
import StewardJournal
import StewardProtocol
import Testing

@Suite("State folded from the journal")
struct GovernanceStateTests {
    func drafts(_ n: Int) -> [EventDraft] {
        var d: [EventDraft] = []
        for i in 0..<n {
            let person = Person(id: "E\(i)", email: "p\(i)@example.com", department: i % 2 == 0 ? "Sales" : "Ops")
            d.append(EventDraft(type: EventType.personJoined, actor: "test", subjects: ["person": person.id], data: ["person": person.json]))
            let account = Account(id: "a\(i)", userName: person.email, status: i % 7 == 0 ? .disabled : .active)
            d.append(EventDraft(type: EventType.accountDiscovered, actor: "test", subjects: ["app": "crm", "account": account.id], data: ["account": account.json]))
            d.append(EventDraft(type: EventType.grantObserved, actor: "test", subjects: ["app": "crm"],
                                data: ["grant": Grant(accountId: account.id, type: "group", entitlementId: "g\(i % 5)").json]))
        }
        d.append(EventDraft(type: EventType.appSynced, actor: "test", subjects: ["app": "crm"], data: ["capabilities": Capabilities(accounts: [.list]).json]))
        d.append(EventDraft(type: EventType.accountLinked, actor: "test", subjects: ["app": "crm", "account": "a3", "person": "E4"]))
        d.append(EventDraft(type: EventType.accountIgnored, actor: "test", subjects: ["app": "crm", "account": "a5"], data: ["reason": "service"]))
        d.append(EventDraft(type: EventType.actionIntent, actor: "test", subjects: ["app": "crm"], data: ["key": "k1", "action": ["op": "disableAccount"]]))
        d.append(EventDraft(type: EventType.accountGone, actor: "test", subjects: ["app": "crm", "account": "a1"]))
        d.append(EventDraft(type: EventType.personGone, actor: "test", subjects: ["person": "E2"]))
        return d
    }

    @Test func snapshotPlusLaterEventsEqualsAFullFold() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("steward-state-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let (journal, _) = try Journal.open(directory: dir)
        _ = try journal.appendAndWait(drafts(2_000))
        // First fast load folds 6,000+ events and saves a snapshot.
        let first = try GovernanceState.loadFast(from: journal)
        #expect(try journal.loadSnapshot(name: "governance-state") != nil)
        _ = try journal.appendAndWait([EventDraft(type: EventType.personLeft, actor: "test", subjects: ["person": "E9"],
                                                  data: ["person": Person(id: "E9", email: "x@example.com", status: .terminated).json])])
        let fast = try GovernanceState.loadFast(from: journal)
        let full = try GovernanceState.load(from: journal)
        #expect(fast.lastSeq == full.lastSeq)
        #expect(fast.lastSeq == first.lastSeq + 1)
        #expect(fast.people == full.people)
        #expect(fast.formerPeople.keys.sorted() == full.formerPeople.keys.sorted())
        #expect(fast.apps["crm"]?.accounts == full.apps["crm"]?.accounts)
        #expect(fast.apps["crm"]?.grants == full.apps["crm"]?.grants)
        #expect(fast.apps["crm"]?.disabledSince == full.apps["crm"]?.disabledSince)
        #expect(fast.links == full.links)
        #expect(fast.ignores == full.ignores)
        #expect(fast.inDoubt.keys.sorted() == ["k1"])
        #expect(full.people["E9"]?.status == .terminated)
        #expect(full.apps["crm"]?.accounts["a1"] == nil)
        try journal.close()
    }
}
