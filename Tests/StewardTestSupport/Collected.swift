/// Items added from any thread (a checker's results, a connector's log lines), read back in the
/// order they were added.
public final class Collected<Element: Sendable>: Sendable {
    private let items = Locked<[Element]>([])

    public init() {}

    public func add(_ item: Element) { items.withLock { $0.append(item) } }

    public var all: [Element] { items.withLock { $0 } }
}
