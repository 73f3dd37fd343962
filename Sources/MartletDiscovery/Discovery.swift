public import CoreMetrics
import Foundation
public import Logging
public import MartletDHT
public import MartletRelay
public import MartletStore
public import NostrCore
import NIOCore
import NIOPosix
public import ServiceLifecycle
import Synchronization

/// Relay discovery over the Mainline DHT, as a service of `martlet serve`: a DHT node that
/// announces this relay in a slot of the salt space (`RelaySlots`, `RelayAnnouncement`),
/// signed anew and put again every `republishInterval`, and that searches every slot every
/// `syncInterval`, verifying each announcement; the relays found are in `relays`, and their
/// URLs go out on `relays.urls` (the mesh's source of extra peers).
///
/// ```swift
/// let discovery = Discovery(configuration: settings.discovery, identity: identity,
///                           url: "wss://relay.example", supportedNIPs: [1, 11, 77])
/// let mesh = Mesh(relay: relay, configuration: settings.mesh, discoveredPeers: discovery.relays.urls)
/// // run both in the relay's ServiceGroup
/// ```
public final class Discovery: Service, Sendable {
    public let configuration: DiscoveryConfiguration
    public let identity: RelayIdentity
    public let url: String
    public let supportedNIPs: [Int]
    public let relays: DiscoveredRelays
    /// The NIP-65 lists of the users this relay serves, re-put every `republishInterval`.
    let servedLists: @Sendable () async -> [Event]
    /// The secrets of the hosted relays this node created (issue 18): each one's record
    /// (`HostedRelayRecord`) is put every round.
    let hostedRelays: @Sendable () async -> [SecretKey]
    /// Where the relays found and the authors served are kept between runs, if anywhere.
    let syncStore: (any SyncStore)?
    let metrics: DiscoveryMetrics?
    let logger: Logger
    let now: @Sendable () -> Int64
    /// Slot values that were not valid announcements, seen so far.
    let rejected = Atomic<Int>(0)
    /// Hosted relays' records stored by at least one node so far.
    let hostedRecordsPut = Atomic<Int>(0)
    let state = Mutex(State())

    struct State: Sendable {
        var node: DHTNode?
        var slot: Int?
        var nextAnnouncement: Int64 = 0
        var nextLists: Int64 = 0
        var listsPut = 0
        /// Lists accepted since the last round (`accepted`).
        var freshLists: [Event] = []
    }

    public init(
        configuration: DiscoveryConfiguration, identity: RelayIdentity, url: String, supportedNIPs: [Int],
        servedLists: @escaping @Sendable () async -> [Event] = { [] },
        hostedRelays: @escaping @Sendable () async -> [SecretKey] = { [] }, syncStore: (any SyncStore)? = nil,
        metrics: (any MetricsFactory)? = nil, logger: Logger = Logger(label: "martlet.discovery"),
        now: @escaping @Sendable () -> Int64 = Discovery.unixTime
    ) {
        self.configuration = configuration
        self.identity = identity
        self.url = url
        self.supportedNIPs = supportedNIPs
        self.servedLists = servedLists
        self.hostedRelays = hostedRelays
        self.syncStore = syncStore
        self.metrics = metrics.map(DiscoveryMetrics.init(factory:))
        self.relays = DiscoveredRelays(capacity: configuration.maxRelays, excluding: identity.publicKey)
        self.logger = logger
        self.now = now
    }

    @Sendable public static func unixTime() -> Int64 { Int64(Date().timeIntervalSince1970) }

    /// The slot this relay's announcement was last put in, if any put succeeded.
    public var announcedSlot: Int? { state.withLock { $0.slot } }
    /// The running DHT node (nil before `run` has bound it, and after it stopped).
    public var node: DHTNode? { state.withLock { $0.node } }
    public var rejectedAnnouncements: Int { rejected.load(ordering: .relaxed) }
    /// Users' relay lists stored by at least one node so far.
    public var relayListsPut: Int { state.withLock { $0.listsPut } }

    public func run() async throws {
        var dht = DHTConfiguration(host: configuration.host, port: configuration.port)
        dht.queryTimeout = configuration.queryTimeout
        let node = try await DHTNode.start(dht)
        state.withLock { $0.node = node }
        logger.info("DHT node listening", metadata: ["udp": "\(node.localAddress)", "self": "\(identity.publicKey)"])
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                await self.cycle(node)
                try? await Task.sleep(for: self.pause())
            }
        }
        relays.finish()
        state.withLock { $0.node = nil }
        try? await node.close()
    }

    /// One round: join (again) if the routing table is thin, search every slot, and announce
    /// when it is time or the slot was lost.
    func cycle(_ node: DHTNode) async {
        // A thin table means a fresh start or a lost network; the seeds get us back in.
        let seeds = node.routingTable.count >= 8 ? [] : await resolveBootstrap()
        if !seeds.isEmpty { await node.bootstrap(seeds) }
        let now = self.now()
        let contents = await scan(node, seeds: seeds, now: now)
        var found: [RelayAnnouncement] = []
        for case let (slot, .relay(announcement, _)) in contents {
            found.append(announcement)
            if relays.record(announcement, slot: slot, now: now) {
                logger.info("relay discovered", metadata: ["url": "\(announcement.url)", "slot": "\(slot)"])
            }
        }
        await remember(found, now: now)
        let (held, due, listsDue) = state.withLock { ($0.slot, now >= $0.nextAnnouncement, now >= $0.nextLists) }
        let stillOurs: Bool = held.map { if case .ours = contents[$0] { true } else { false } } ?? false
        if due || !stillOurs { await announce(node, contents: contents, seeds: seeds, now: now) }
        if listsDue {
            state.withLock { $0.freshLists = [] }
            await putRelayLists(node, seeds: seeds, now: now)
        } else {
            await putFreshRelayLists(node, seeds: seeds)
        }
        await putHostedRelayRecords(node, seeds: seeds, now: now)
        metrics?.record(relays: relays.all.count, announced: announcedSlot != nil, drops: node.dropCounts)
        await recordSyncStoreFigures()
    }

    /// Puts a freshly signed announcement in the slot we hold, else in the first one free.
    func announce(_ node: DHTNode, contents: [Int: SlotContent], seeds: [IPv4Endpoint], now: Int64) async {
        let held = state.withLock { $0.slot }
        let ours = contents.first { if case .ours = $0.value { true } else { false } }?.key
        let candidates = [ours, held].compactMap { $0 } + contents.keys.sorted()
        guard let slot = candidates.first(where: { contents[$0]?.isTakeable ?? false }) else {
            logger.warning("no free discovery slot", metadata: ["slots": "\(configuration.slots)"])
            return
        }
        let previous = contents[slot]?.previous
        let announcement = RelayAnnouncement.signed(
            url: url, supportedNIPs: supportedNIPs, createdAt: now, by: identity.secretKey)
        // BEP 44: `seq` must grow; the clock makes it grow across restarts as well.
        let sequence = max(now, (previous?.sequence ?? 0) + 1)
        guard
            let item = try? MutableItem.signed(
                value: .bytes(announcement.json()), sequence: sequence, salt: RelaySlots.salt(slot), key: RelaySlots.key)
        else { return }
        // CAS: if another relay took the slot since we read it, its nodes refuse this put.
        let stored = await node.put(item, compareAndSwap: previous?.sequence, bootstrap: seeds)
        if stored > 0 {
            state.withLock {
                $0.slot = slot
                $0.nextAnnouncement = now + configuration.republishInterval.components.seconds
            }
            logger.info("relay announced", metadata: ["slot": "\(slot)", "nodes": "\(stored)"])
        } else {
            logger.notice("announcement stored by no node; trying again next round", metadata: ["slot": "\(slot)"])
        }
    }

    /// Until the next search, or the next announcement if that comes first (never below a second).
    private func pause() -> Duration {
        let untilAnnouncement = state.withLock { $0.nextAnnouncement } - now()
        let seconds = min(configuration.syncInterval.components.seconds, max(1, untilAnnouncement))
        return .seconds(max(1, seconds))
    }

    /// The bootstrap nodes as IPv4 endpoints; names are looked up off the cooperative pool.
    func resolveBootstrap() async -> [IPv4Endpoint] {
        await Self.resolve(configuration.bootstrap)
    }

    /// `host:port` entries as IPv4 endpoints; entries that do not resolve are left out.
    static func resolve(_ entries: [String]) async -> [IPv4Endpoint] {
        var endpoints: [IPv4Endpoint] = []
        for entry in entries {
            guard let colon = entry.lastIndex(of: ":"), let port = Int(entry[entry.index(after: colon)...]) else {
                continue
            }
            let host = String(entry[..<colon])
            if let endpoint = IPv4Endpoint(host: host, port: port) {
                endpoints.append(endpoint)
                continue
            }
            let resolved = try? await NIOThreadPool.singleton.runIfActive {
                try SocketAddress.makeAddressResolvingHost(host, port: port)
            }
            if let resolved, let endpoint = IPv4Endpoint(resolved) { endpoints.append(endpoint) }
        }
        return endpoints
    }
}
