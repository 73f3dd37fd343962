public import CoreMetrics
public import Logging
public import MartletRelay
public import NostrCore
public import ServiceLifecycle
import Synchronization

/// This relay's replication mesh: one `MeshPeer` per configured peer, all run by this one
/// service, and the router that hands each event the relay accepts to every peer it did not
/// come from.
///
/// ```swift
/// let mesh = Mesh(relay: relay, configuration: settings.mesh, metrics: exporter.factory)
/// let app = RelayServer.application(relay: relay, host: host, port: port, services: [mesh])
/// mesh.status.count(.live) // peers caught up and streaming
/// ```
public final class Mesh: Service, AcceptedEventObserver, Sendable {
    public let configuration: MeshConfiguration
    private let relay: Relay
    /// The configured peers, then those `discoveredPeers` added.
    private let current: Mutex<(peers: [MeshPeer], urls: Set<String>, discovered: Set<String>)>
    /// URLs of relays found at run time (DHT discovery), each kept in step like a configured
    /// peer, under `configuration.discoveredFilter`, at most `maxDiscoveredPeers` of them.
    private let discoveredPeers: AsyncStream<String>?
    /// URLs of discovered relays no longer seen (their announcements went stale): their
    /// peers stop and leave the mesh.
    private let forgottenPeers: AsyncStream<String>?
    private let metrics: MeshMetrics?
    private let logger: Logger

    /// - Parameter metrics: where `martlet_mesh_peers{state}` and
    ///   `martlet_mesh_events_total{direction}` are recorded, if anywhere.
    public init(
        relay: Relay, configuration: MeshConfiguration, metrics: (any MetricsFactory)? = nil,
        discoveredPeers: AsyncStream<String>? = nil, forgottenPeers: AsyncStream<String>? = nil,
        logger: Logger = Logger(label: "martlet.mesh")
    ) {
        self.relay = relay
        self.configuration = configuration
        self.discoveredPeers = discoveredPeers
        self.forgottenPeers = forgottenPeers
        self.logger = logger
        // The same peer listed twice would only double the traffic.
        var seen = Set<String>()
        let urls = configuration.peers.filter { seen.insert(RelayURL.normalize($0)).inserted }
        let metrics = metrics.map { MeshMetrics(factory: $0, peers: urls.count) }
        self.metrics = metrics
        let peers = urls.map { url in
            MeshPeer(url: url, relay: relay, configuration: configuration, metrics: metrics, logger: logger)
        }
        current = Mutex((peers, seen, []))
    }

    public var peers: [MeshPeer] { current.withLock { $0.peers } }

    /// Every peer's state and counters now.
    public var status: MeshStatus { MeshStatus(peers: peers.map(\.status)) }

    public func run() async {
        // A service that returns early would stop the whole service group with it.
        guard !peers.isEmpty || discoveredPeers != nil else { return await waitForShutdown() }
        relay.acceptedEvents.add(self)
        defer { relay.acceptedEvents.remove(self) }
        await withTaskGroup(of: Void.self) { group in
            for peer in peers {
                group.addTask { await peer.run() }
            }
            guard let discoveredPeers else { return }
            if let forgottenPeers {
                group.addTask {
                    for await url in forgottenPeers.cancelOnGracefulShutdown() { self.forget(url) }
                }
            }
            for await url in discoveredPeers.cancelOnGracefulShutdown() {
                if let peer = adopt(url) { group.addTask { await peer.run() } }
            }
            // Discovery may stop first (services stop in reverse order); the mesh runs on.
            await waitForShutdown()
        }
    }

    /// A peer for a discovered URL, unless it is known already or the bound is reached.
    private func adopt(_ url: String) -> MeshPeer? {
        var discovered = configuration
        discovered.filter = configuration.discoveredFilter ?? configuration.filter
        discovered.resyncInterval = configuration.discoveredResyncInterval
        let peer: MeshPeer? = current.withLock { current in
            let key = RelayURL.normalize(url)
            guard current.discovered.count < configuration.maxDiscoveredPeers, current.urls.insert(key).inserted
            else { return nil }
            current.discovered.insert(key)
            let peer = MeshPeer(url: url, relay: relay, configuration: discovered, metrics: metrics, logger: logger)
            current.peers.append(peer)
            return peer
        }
        if peer != nil { metrics?.added() }
        return peer
    }

    /// Stops and drops the peer of a discovered relay no longer seen; a configured peer stays.
    private func forget(_ url: String) {
        let key = RelayURL.normalize(url)
        let dropped: [MeshPeer] = current.withLock { current in
            guard current.discovered.remove(key) != nil else { return [] }
            current.urls.remove(key)
            let dropped = current.peers.filter { RelayURL.normalize($0.url) == key }
            current.peers.removeAll { RelayURL.normalize($0.url) == key }
            return dropped
        }
        for peer in dropped {
            peer.stop()
            logger.info("discovered relay forgotten; mesh peer stopped", metadata: ["peer": "\(peer.url)"])
        }
    }

    private func waitForShutdown() async {
        try? await gracefulShutdown()
    }

    public func accepted(_ event: Event, from origin: IngestOrigin) {
        for peer in peers where origin != .peer(peer.url) && peer.configuration.filter.matches(event) {
            peer.queue.append(event)
        }
    }
}

/// The mesh's figures in swift-metrics: peers per state (gauges kept equal to
/// `MeshStatus.count`) and events replicated each way.
///
/// ```swift
/// let metrics = MeshMetrics(factory: exporter.factory, peers: 2)
/// metrics.moved(from: .connecting, to: .syncing)
/// ```
final class MeshMetrics: Sendable {
    let eventsIn: Counter
    let eventsOut: Counter
    private let gauges: [MeshStatus.State: Gauge]
    private let counts: Mutex<[MeshStatus.State: Int]>

    init(factory: any MetricsFactory, peers: Int) {
        eventsIn = Counter(label: "martlet_mesh_events_total", dimensions: [("direction", "in")], factory: factory)
        eventsOut = Counter(label: "martlet_mesh_events_total", dimensions: [("direction", "out")], factory: factory)
        var gauges: [MeshStatus.State: Gauge] = [:]
        for state in MeshStatus.State.allCases {
            gauges[state] = Gauge(label: "martlet_mesh_peers", dimensions: [("state", state.rawValue)], factory: factory)
        }
        self.gauges = gauges
        // Every peer starts out connecting.
        counts = Mutex([.connecting: peers])
        for (state, gauge) in gauges { gauge.record(state == .connecting ? peers : 0) }
    }

    /// A peer joined at run time; it starts out connecting.
    func added() {
        counts.withLock { counts in
            counts[.connecting, default: 0] += 1
            gauges[.connecting]?.record(counts[.connecting, default: 0])
        }
    }

    func moved(from old: MeshStatus.State, to new: MeshStatus.State) {
        // Recorded under the lock, so that two peers moving at once leave the last word right.
        counts.withLock { counts in
            counts[old, default: 0] -= 1
            counts[new, default: 0] += 1
            gauges[old]?.record(counts[old, default: 0])
            gauges[new]?.record(counts[new, default: 0])
        }
    }
}
