import Foundation
@testable import StewardHTTP
import Testing

@Suite("HTTP server descriptors are closed by their one owner")
struct OwnedDescriptorTests {
    @Test("a stopped server's listening socket is closed: connecting is refused")
    func shutdownClosesTheListener() async throws {
        let server = try HTTPServer.start(Router())
        let port = server.port
        server.shutdown()
        // The socket is closed by the listener's cancel handler, which Dispatch runs soon after.
        #expect(await eventually { connectRefused(port: port) })
    }
}

/// True when nothing listens on 127.0.0.1:`port` any more.
private func connectRefused(port: Int) -> Bool {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { return false }
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = in_port_t(UInt16(port)).bigEndian
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    let result = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    return result != 0 && errno == ECONNREFUSED
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
