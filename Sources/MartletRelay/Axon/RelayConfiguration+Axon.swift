public import MartletAxon

extension RelayConfiguration {
    /// The axon profile (docs/axon.md): MessagePack frames for private agent relays, chosen
    /// by the `axon` WebSocket subprotocol on the relay's own port.
    ///
    /// ```swift
    /// var configuration = RelayConfiguration()
    /// configuration.axon.enabled = true
    /// configuration.axon.allowlist = [AxonAuthKey(hex: "…")!]
    /// ```
    public struct Axon: Sendable {
        /// Off: a client asking for the `axon` subprotocol is served NIP-01 JSON as any other.
        public var enabled = false
        /// The ed25519 keys that may authenticate (more can be added through NIP-86).
        public var allowlist: Set<AxonAuthKey> = []
        /// The most content one event may carry, in UTF-8 bytes; more is answered 413.
        public var maxContentBytes = 65_536
        /// Kinds fanned out to subscribers and never stored, as NIP-01's 20000-29999 are,
        /// for every client of the relay, axon or JSON alike (one store, one pipeline).
        public var ephemeralKinds: ClosedRange<UInt16>? = 3000...3999
        /// The URL auth signatures must name; nil: any URL this relay is known by
        /// (`RelayAddresses`, the same ones NIP-42 accepts).
        public var relayURL: String?

        public init() {}
    }
}
