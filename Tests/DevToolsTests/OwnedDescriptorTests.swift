import Foundation
@testable import DevTools
import Testing

@Suite("Browser pipes are closed by their one owner")
struct OwnedDescriptorTests {
    @Test("closing the browser closes both of our pipe ends")
    func browserClosesItsPipes() async throws {
        let browser = try await Browser.launch()
        #expect(!browser.process.commandPipe.isClosed)
        #expect(!browser.process.eventPipe.isClosed)
        await browser.close()
        #expect(browser.process.commandPipe.isClosed)
        #expect(await eventually { browser.process.eventPipe.isClosed })
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
