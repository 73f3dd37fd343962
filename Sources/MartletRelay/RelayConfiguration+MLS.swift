public import NostrCore

extension RelayConfiguration {
    /// NIP-EE: MLS (RFC 9420) key packages, welcomes and group events, off unless the
    /// operator turns it on (`features.mls`). The relay stays cryptographically blind: it
    /// stores and serves the events as they come and never reads their MLS content.
    ///
    /// ```swift
    /// var configuration = RelayConfiguration()
    /// configuration.mls.enabled = true
    /// configuration.mls.groupEventRetention = 86_400   // kind 445 purged a day after creation
    /// ```
    public struct MLS: Sendable {
        /// Off: kinds 443, 444 and 445 are ordinary events, as on any relay.
        public var enabled = false
        /// Seconds a group event (kind 445) is kept after its `created_at`. NIP-EE publishes
        /// them "ephemerally", so the default is short; it must still cover a member who is
        /// offline for a while, since one missed `Commit` leaves that member behind the
        /// group's epoch for good, hence a week rather than minutes.
        public var groupEventRetention: Int64 = 7 * 86_400

        public init() {}

        /// NIP-11 `retention`: what the relay does with group events when MLS is on.
        public var retentionRules: [RetentionRule] {
            enabled ? [RetentionRule(kinds: [.kind(Int(Kind.mlsGroupEvent.rawValue))], time: Int(groupEventRetention))] : []
        }
    }
}

extension Kind {
    /// NIP-EE: an MLS KeyPackage, published so that others can add its author to groups.
    public static let mlsKeyPackage = Kind(443)
    /// NIP-EE: an MLS Welcome; only ever sent sealed and gift-wrapped (NIP-59), unsigned.
    public static let mlsWelcome = Kind(444)
    /// NIP-EE: an MLS group message (Proposal, Commit, Application), by a throwaway key.
    public static let mlsGroupEvent = Kind(445)
    /// NIP-EE: the relays a user publishes KeyPackages to (replaceable, 10000-19999).
    public static let mlsKeyPackageRelays = Kind(10051)
}
