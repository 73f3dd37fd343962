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
        /// Reverse proxies whose word on the client's address is taken (addresses and CIDR
        /// ranges). Only a connection from one of these may name another address in
        /// `realIPHeader`; from anyone else the header is ignored, since a client can
        /// write any header it likes. Their connections are not capped by `maxPerIP`:
        /// each carries many clients.
        public var trustedProxies: [IPRange] = []
        /// The header a trusted proxy names the client's address in.
        public var realIPHeader = RealIPHeader.xForwardedFor
        /// Whether permessage-deflate (RFC 7692) is agreed with clients that offer it.
        /// Events are JSON with long hex strings: a REQ's answer shrinks to about half, for
        /// some CPU and a zlib context per compressing connection.
        public var compression = true

        public init() {}
    }

    /// Where a reverse proxy writes the address of the client it forwards.
    public enum RealIPHeader: String, Sendable, CaseIterable {
        /// `X-Forwarded-For: client, proxy1, proxy2` (nginx's `$proxy_add_x_forwarded_for`,
        /// Caddy's default).
        case xForwardedFor = "x-forwarded-for"
        /// `X-Real-IP: client` (nginx's `$remote_addr`).
        case xRealIP = "x-real-ip"
        /// RFC 7239: `Forwarded: for=192.0.2.60;proto=https, for="[2001:db8::1]:4711"`.
        case forwarded
    }
}
