/// How the relay takes part in DHT discovery (`discovery.*` in `martlet.yaml`).
///
/// ```swift
/// var configuration = DiscoveryConfiguration()
/// configuration.port = 6881
/// configuration.bootstrap = ["127.0.0.1:6881"]
/// configuration.republishInterval = .seconds(3600)
/// ```
public struct DiscoveryConfiguration: Sendable {
    /// The public Mainline routers (BEP 5's usual entry points).
    public static let defaultBootstrap = [
        "router.bittorrent.com:6881", "dht.transmissionbt.com:6881", "router.utorrent.com:6881",
    ]

    public var enabled = false
    /// The address and UDP port the DHT node listens on (0 picks a free port).
    public var host = "0.0.0.0"
    public var port = 6881
    /// `host:port` nodes to join the DHT through; names are resolved (IPv4) at each bootstrap.
    public var bootstrap = DiscoveryConfiguration.defaultBootstrap
    /// How often the relay's announcement is signed anew and put again (items live 2 hours).
    public var republishInterval: Duration = .seconds(3600)
    /// How often the salt space is searched for relays; each new one joins the mesh.
    public var syncInterval: Duration = .seconds(600)
    /// Slots searched: `nostr:relay:0` up to `nostr:relay:<slots - 1>`.
    public var slots = 32
    /// Lookups in flight at once during a search (each has up to 4 queries in flight).
    public var searchParallelism = 8
    /// Discovered relays kept; past it new ones are ignored until one is forgotten.
    public var maxRelays = 64
    /// Seconds after which an announcement no longer counts (3 republish periods by default).
    public var maxAnnouncementAge: Int64 = 3 * 3600
    /// How long one DHT query waits for its answer.
    public var queryTimeout: Duration = .seconds(2)

    public init() {}
}
