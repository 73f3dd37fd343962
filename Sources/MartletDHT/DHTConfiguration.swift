/// How a `DHTNode` listens and how much it will hold for others.
///
///     var configuration = DHTConfiguration(host: "127.0.0.1", port: 0)
///     configuration.packetsPerSecondPerIP = 50
///     let node = try await DHTNode.start(configuration)
public struct DHTConfiguration: Sendable {
    /// The public Mainline routers, for a real deployment only; tests always pass loopback nodes.
    public static let defaultBootstrapNodes = [
        "router.bittorrent.com:6881", "dht.transmissionbt.com:6881", "router.utorrent.com:6881",
    ]

    public var host: String
    /// 0 picks a free port; `DHTNode.localAddress` tells which.
    public var port: Int
    /// Our node id; random when nil.
    public var nodeID: NodeID?
    /// How long a query waits for its answer.
    public var queryTimeout: Duration = .seconds(2)
    /// Queries awaiting an answer at once; more fail at once rather than queue.
    public var maxPendingQueries = 256
    /// Parallel queries of an iterative lookup (Kademlia's alpha).
    public var lookupParallelism = 4
    /// Rounds of an iterative lookup before it settles for what it found.
    public var lookupMaxRounds = 10
    public var maxStoredItems = 4096
    public var maxStoredBytes = 4 << 20
    public var packetsPerSecondPerIP = 200
    public var packetBurstPerIP = 400
    public var maxTrackedIPs = 4096

    public init(host: String = "0.0.0.0", port: Int = 6881, nodeID: NodeID? = nil) {
        self.host = host
        self.port = port
        self.nodeID = nodeID
    }
}

/// Why an incoming packet was dropped or refused; `DHTNode.dropCounts` counts each.
public enum DHTDropReason: String, Sendable, CaseIterable {
    /// Not bencode, not KRPC, or a field of the wrong type or size.
    case malformed
    /// A BEP 44 item whose signature or target does not match.
    case badSignature
    /// A put with a lower `seq` than the stored item, or a wrong `cas`.
    case staleSequence
    /// A value over BEP 44's 1,000 bytes or a salt over 64.
    case tooLarge
    /// Over the per-IP packet rate, or too many IPs tracked at once.
    case rateLimited
    /// A put or announce_peer with a token we did not give.
    case badToken
    /// Storage at its bound of items or bytes.
    case storageFull
    /// A response to no query of ours, or from another address than we asked.
    case unexpectedResponse
}

/// Errors of the client operations.
public enum DHTError: Error, Sendable, Equatable {
    case timeout
    case tooManyPendingQueries
    case remote(code: Int64, message: String)
    case closed
    case invalidAddress(String)
}
