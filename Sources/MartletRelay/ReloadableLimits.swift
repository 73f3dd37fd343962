import Synchronization

/// The relay's limits, which SIGHUP may replace while connections stay open: every reader
/// takes the current value at the start of its work (a REQ, an EVENT's check), so a change
/// applies from the next message on.
///
/// ```swift
/// let limits = ReloadableLimits(configuration.limits)
/// limits.replace(with: reloaded.limits)
/// ```
public final class ReloadableLimits: Sendable {
    private let value: Mutex<RelayConfiguration.Limits>

    public init(_ limits: RelayConfiguration.Limits) {
        value = Mutex(limits)
    }

    public var current: RelayConfiguration.Limits { value.withLock { $0 } }

    public func replace(with limits: RelayConfiguration.Limits) {
        value.withLock { $0 = limits }
    }
}
