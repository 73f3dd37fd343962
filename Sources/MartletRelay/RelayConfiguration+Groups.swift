extension RelayConfiguration {
    /// NIP-29 relay-based groups and NIP-43 relay membership (`groups.*`).
    public struct GroupSettings: Sendable {
        /// Off by default: with it on, group events are checked and the relay publishes
        /// the groups' state, and NIP-11 lists 29 and 43.
        public var enabled = false
        /// How old, in seconds, a group event's `created_at` may be (NIP-29's "late
        /// publication").
        public var latePublicationWindow: Int64 = 3600
        /// Groups one relay hosts at most: anyone may create one, and every node keeps all
        /// of them in memory for its read rules.
        public var maxGroups = 10_000
        /// Members of one group at most: an open group admits anyone who asks, and the
        /// relay lists them all in kind 39002.
        public var maxMembers = 10_000

        public init() {}
    }
}
