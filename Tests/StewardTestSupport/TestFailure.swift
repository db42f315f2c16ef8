/// An error a test helper throws when something the test relies on is not as expected.
public struct TestFailure: Error, CustomStringConvertible {
    public let description: String

    public init(_ description: String) { self.description = description }
}
