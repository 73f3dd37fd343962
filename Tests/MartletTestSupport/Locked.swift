import Synchronization

/// A value shared between test tasks behind a lock.
///
/// ```swift
/// let clock = Locked<Int64>(now())
/// clock.withLock { $0 += 61 }
/// clock.value
/// ```
public final class Locked<Value: Sendable>: Sendable {
    private let mutex: Mutex<Value>

    public init(_ value: Value) { mutex = Mutex(value) }

    public func withLock<R: Sendable>(_ body: (inout Value) -> R) -> R { mutex.withLock { body(&$0) } }
    public var value: Value { mutex.withLock { $0 } }
}
