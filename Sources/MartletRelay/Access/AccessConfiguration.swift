public import NostrCore

extension RelayConfiguration {
    /// The operator's decisions about who may read and write, all set in `martlet.yaml`.
    ///
    /// ```swift
    /// var access = RelayConfiguration.Access()
    /// access.mode = .privateRelay
    /// access.allowedPubkeys = [alice]
    /// ```
    public struct Access: Sendable {
        /// How open the relay is.
        public enum Mode: String, Sendable, CaseIterable {
            /// Anyone may read and write (subject to every other rule).
            case open
            /// Anyone may read; only allowlisted authors may write.
            case allowlistWrites = "allowlist-writes"
            /// The relay sends AUTH on connect and refuses everything but AUTH until an
            /// allowlisted pubkey has authenticated.
            case privateRelay = "private"
        }

        public var mode: Mode = .open
        /// Pubkeys allowed by the operator's file (the store may allow more at run time).
        public var allowedPubkeys: Set<PublicKey> = []
        public var bannedPubkeys: Set<PublicKey> = []
        public var bannedEvents: Set<EventID> = []
        public var blockedIPs: Set<String> = []
        /// When set, only these kinds are accepted.
        public var allowedKinds: Set<Kind>?
        public var deniedKinds: Set<Kind> = []
        /// Kinds served only to a connection authenticated as a pubkey in their `p` tags
        /// (NIP-17/59 gift wraps by default).
        public var privateKinds: Set<Kind> = [.giftWrap]
        /// NIP-13 minimum difficulty (leading zero bits of the id); 0 turns it off.
        public var minPowDifficulty = 0
        /// NIP-90 job requests (kinds 5000-5999) are purged this long after creation.
        public var jobRequestLifetime: Int64 = 86_400
        /// Token buckets; a rate of 0 turns a bucket off.
        public var rateLimits = RateLimits()
        /// An outside program asked about every write, in strfry's plugin protocol.
        public var writePlugin: WritePlugin.Configuration?

        public init() {}

        /// Whether writes need some condition a client must know about (NIP-11 `restricted_writes`).
        public var restrictsWrites: Bool {
            mode != .open || minPowDifficulty > 0 || allowedKinds != nil
        }
    }

    /// Rates in events (or REQs) per second with a burst allowance.
    public struct RateLimits: Sendable {
        public var eventsPerSecondPerIP: Double = 0
        public var eventsPerSecondPerPubkey: Double = 0
        public var requestsPerSecondPerIP: Double = 0
        /// How many may come at once before the rate applies.
        public var burst: Double = 20

        public init() {}
    }
}
