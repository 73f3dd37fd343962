public import NostrCore

/// The relays this relay keeps in step with, and how (`mesh.*` in `martlet.yaml`).
///
/// ```swift
/// var configuration = MeshConfiguration()
/// configuration.peers = ["wss://relay-b.example.com", "wss://relay-c.example.com"]
/// configuration.filter = Filter(kinds: [0, 1, 3])
/// let mesh = Mesh(relay: relay, configuration: configuration)
/// ```
public struct MeshConfiguration: Sendable {
    /// The peers' WebSocket URLs (`ws://` or `wss://`).
    public var peers: [String] = []
    /// The events replicated, both ways (its `limit` is ignored): everything by default.
    public var filter = Filter()
    /// The events replicated with discovered peers (`discovery.sync_filter`); nil: `filter`.
    public var discoveredFilter: Filter?
    /// Discovered peers kept in step at once; more are ignored.
    public var maxDiscoveredPeers = 64
    /// How often a discovered peer is reconciled again while connected
    /// (`discovery.sync_interval`); nil: only when a connection opens.
    public var discoveredResyncInterval: Duration?
    /// How often this peer is reconciled again while connected; nil: only when a connection
    /// opens (configured peers; `Mesh` sets it from `discoveredResyncInterval` for discovered ones).
    public var resyncInterval: Duration?
    /// The key that answers a peer's NIP-42 challenge, for peers that require AUTH.
    public var secretKey: SecretKey?
    /// Whether a connection waits for the peer's NIP-42 challenge and authenticates before
    /// it asks or sends anything (a hosted relay's writer: the peer decides by the node key
    /// what it may replicate, so nothing should go out as an anonymous client).
    public var authenticatesFirst = false
    public var backoff = Backoff()
    /// How long any reply from a peer may take before the connection counts as failed.
    public var replyTimeout: Duration = .seconds(30)
    /// How often a peer is pinged, so that a silent partition ends the connection.
    public var pingInterval: Duration = .seconds(20)
    /// Events waiting to be sent to one peer; past it the peer is too slow for the live
    /// stream, and the connection starts over with a catch-up.
    public var maxQueuedEvents = 50_000
    /// Events sent to one peer and awaiting their `OK` at once.
    public var eventsInFlight = 32
    /// Bytes of one negentropy message this side writes (before hex).
    public var frameSizeLimit = 60_000

    public init() {}

    /// The live stream: new events only (NIP-01's `limit: 0`), since the catch-up covers the
    /// stored ones. Not `since`, which live delivery applies too: an event published late
    /// with an older `created_at` would never come.
    var liveFilter: Filter {
        var live = filter
        live.limit = 0
        return live
    }
}
