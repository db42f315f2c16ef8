import Foundation
@testable import StewardHost
import StewardProtocol
import Testing

@Suite("Connector descriptors are closed by their one owner")
struct OwnedDescriptorTests {
    @Test("a connector that is killed has its stdin closed, not left open until the connection goes away")
    func killClosesStdin() async throws {
        let child = try ChildProcess.spawn(["/bin/cat"], environment: [:])
        let connection = ConnectorConnection(appId: "cat", child: child, options: ConnectorConnection.Options(), events: ConnectorEvents(log: { _ in }))
        #expect(!child.input.isClosed)
        await connection.kill()
        #expect(await eventually { child.input.isClosed && child.output.isClosed && child.errorOutput.isClosed })
    }
}

/// Polls `condition` until it holds or `timeout` passes.
private func eventually(timeout: Duration = .seconds(10), _ condition: () -> Bool) async -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if condition() { return true }
        try? await Task.sleep(for: .milliseconds(10))
    }
    return condition()
}
