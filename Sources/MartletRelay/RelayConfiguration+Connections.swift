extension RelayConfiguration {
    /// Bounds on connections before they become Nostr sessions: how many one address may
    /// hold open, and how long a client has to send its HTTP request head.
    ///
    /// ```swift
    /// var configuration = RelayConfiguration()
    /// configuration.connections.maxPerIP = 64
    /// configuration.connections.handshakeTimeout = .seconds(5)
    /// ```
    public struct Connections: Sendable {
        /// Open TCP connections one remote address may hold, WebSocket or plain HTTP; the
        /// next one is answered 429 and closed (0: no cap). Generous, because one address
        /// can be a whole NAT; the cap is there so that one address cannot take every
        /// file descriptor.
        public var maxPerIP = 256
        /// How long a new connection may take to send its HTTP request head (the WebSocket
        /// upgrade request included) before it is closed: a client that opens a socket and
        /// sends nothing, or sends its headers a byte at a time, holds a descriptor only
        /// this long.
        public var handshakeTimeout: Duration = .seconds(10)

        public init() {}
    }
}
