public import NostrCore
import Synchronization

extension RelayConfiguration {
    /// Who may manage the relay over NIP-86.
    ///
    /// ```swift
    /// var configuration = RelayConfiguration()
    /// configuration.management.adminPubkeys = [operator]
    /// ```
    public struct Management: Sendable {
        /// Pubkeys whose NIP-98 authorization is accepted by the management API; when empty
        /// the API refuses every call.
        public var adminPubkeys: Set<PublicKey> = []

        public init() {}
    }
}

/// The relay's descriptive fields as they are now: the configuration's `info`, changed at
/// run time by NIP-86 (`changerelayname`, …). The NIP-11 document and the status page read
/// from here, so a change shows on the next request.
///
/// ```swift
/// relay.info.update { $0.name = "Renamed" }
/// relay.info.current.name // "Renamed"
/// ```
public final class RelayInfoBox: Sendable {
    private let state: Mutex<RelayInfo>

    public init(_ info: RelayInfo) {
        state = Mutex(info)
    }

    public var current: RelayInfo { state.withLock { $0 } }

    public func update(_ change: (inout RelayInfo) -> Void) {
        state.withLock { change(&$0) }
    }
}
