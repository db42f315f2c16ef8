import StewardHost
import StewardProtocol

/// The connector error `body` failed with, or nil when it succeeded. A failure that carries no
/// connector error (the process died, the host gave up) is reported as an `internal` one.
public func connectorError(_ body: () async throws -> Void) async -> ConnectorError? {
    do {
        try await body()
        return nil
    } catch let f as ConnectorFailure {
        return f.connectorError ?? ConnectorError(.internal, "\(f)")
    } catch {
        return ConnectorError(.internal, "\(error)")
    }
}
