import ArgumentParser
import Foundation
import Logging
import MartletDiscovery
import MartletRelay
import MartletReplication
import MartletServer
import MartletStore
import NostrCore
import ServiceLifecycle

/// `martlet serve`: the relay on the embedded SQLite store, or on PostgreSQL with `--database`.
struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run the relay.")

    @Option(help: "Address to listen on.") var host: String?
    @Option(help: "Port to listen on (0 picks a free one).") var port: Int?
    @Option(help: "Folder of the SQLite store.") var data: String?
    @Option(help: "PostgreSQL URL (postgres://user:password@host:port/database) to keep events in instead of SQLite.")
    var database: String?
    @Option(help: "YAML configuration file (default: ./martlet.yaml when present).") var config: String?

    func validate() throws {
        if let port, !(0...65535).contains(port) {
            throw ValidationError("--port: \(port) is out of range; allowed: a whole number from 0 to 65535")
        }
    }

    /// The NIP-65 lists (kind 10002) stored here that name this relay: the users it serves,
    /// whose lists discovery keeps in the DHT. The newest 256.
    static func servedLists(store: any EventStore, url: String) -> @Sendable () async -> [Event] {
        var trimmed = url
        while trimmed.hasSuffix("/") { trimmed.removeLast() }
        let filter = Filter(kinds: [10002], tags: [UInt8(ascii: "r"): [url, trimmed, trimmed + "/"]], limit: 256)
        return {
            let now = Int64(Date().timeIntervalSince1970)
            return (try? await store.query([filter], maxLimit: 256, now: now)) ?? []
        }
    }

    /// `discovery.fetch_missing`: a REQ by ids that misses asks the authors' write relays
    /// (their kind 10002, stored here or found in the DHT); one without `authors` asks the
    /// relays discovery found, most recently seen first.
    static func missingEventFetcher(
        relay: Relay, settings: Settings, discovery: Discovery?, logger: Logger
    ) -> MissingEventFetcher {
        let authorRelays = AuthorRelays(store: relay.store) { author in await discovery?.relayList(of: author) }
        return MissingEventFetcher(
            relay: relay, configuration: settings.fetchMissing, signer: settings.mesh.secretKey, logger: logger
        ) { authors in
            guard authors.isEmpty else { return await authorRelays.relays(of: authors) }
            return (discovery?.relays.all ?? []).sorted { $0.lastSeen > $1.lastSeen }.map(\.announcement.url)
        }
    }

    func run() async throws {
        var settings = try await Settings.load(file: config)
        if let host { settings.host = host }
        if let port { settings.port = port }
        if let data { settings.dataDirectory = data }
        if let database { settings.database = database }
        let resolved = settings

        resolved.bootstrapLogging()
        let logger = Logger(label: "martlet")
        // Every connection is a descriptor: take all the system allows, and say how many.
        if let files = FileDescriptorLimit.raiseToHardLimit() {
            logger.info("open files limit", metadata: ["soft": "\(files.soft)", "hard": "\(files.hard)"])
        } else {
            logger.warning("could not read the open files limit (RLIMIT_NOFILE)")
        }
        // The relay's own key (NIP-11 `self`), also the signer of its DHT announcement.
        let identity = try RelayIdentity.load(configured: settings.secretKey, directory: settings.dataDirectory)
        settings.relay.info.selfPubkey = identity.publicKey
        settings.relay.identity = identity
        let (store, location) = try await settings.openStore(servingREQs: true)
        let metrics = MetricsExporter()
        let relay = Relay(configuration: settings.relay, store: store, logger: logger, metrics: metrics.makeRelayMetrics())
        // The operator's NIP-86 changes hold over the configuration file, from the first connection on.
        try await RelayAdministration(relay: relay).restore()
        // Hosted relays (issue 18) at /<key>, beside the default relay, each opened on first use.
        let hosted = settings.hostedRelays(node: identity, addresses: relay.addresses, logger: logger)
        let discovery = settings.discovery.enabled
            ? Discovery(
                configuration: settings.discovery, identity: identity, url: settings.relay.info.url ?? "",
                supportedNIPs: RelayInformationDocument.supportedNIPs(for: settings.relay),
                servedLists: Serve.servedLists(store: store, url: settings.relay.info.url ?? ""),
                // The relays created here (their secret is here) are findable by key: `relay join <key>`.
                hostedRelays: { hosted.keys.compactMap { hosted.folder.identity(of: $0)?.secretKey } },
                syncStore: store as? any SyncStore,
                metrics: metrics.factory, logger: logger)
            : nil
        // Discovered relays join the mesh as peers, so with discovery on there is a mesh even with no static peer.
        let mesh = settings.mesh.peers.isEmpty && discovery == nil
            ? nil
            : Mesh(
                relay: relay, configuration: settings.mesh, metrics: metrics.factory,
                discoveredPeers: discovery?.relays.urls, forgottenPeers: discovery?.relays.forgotten, logger: logger)
        // A NIP-65 list naming this relay goes into the DHT at the next round, not the next republish.
        if let discovery { relay.acceptedEvents.add(discovery) }
        if settings.fetchMissing.enabled {
            relay.missingEvents.use(
                Serve.missingEventFetcher(relay: relay, settings: settings, discovery: discovery, logger: logger))
        }
        let services: [any Service] = [mesh as (any Service)?, discovery].compactMap { $0 }
        let app = RelayServer.application(
            relay: relay, host: settings.host, port: settings.port,
            pingInterval: .seconds(settings.pingInterval), metrics: metrics, services: services, hosted: hosted,
            onServerRunning: { port in
                logger.info(
                    "martlet listening",
                    metadata: ["url": "ws://\(resolved.host):\(port)", "store": "\(location)", "hosted": "\(hosted.count)"])
                // A line on stdout that scripts and tests wait for.
                FileHandle.standardOutput.write(Data("listening on ws://\(resolved.host):\(port)\n".utf8))
            },
            logger: logger)
        let reloading = ConfigurationReload.onHangUp(file: config, relay: relay, logger: logger)
        defer { reloading.cancel() }
        try await ServiceGroup(configuration: Self.shutdownBounds(services: [app], logger: logger)).run()
        try await store.close()
    }

    /// SIGTERM or SIGINT begins a graceful shutdown: connections are closed, meshes stop and
    /// the writer commits what it holds. A shutdown that has not ended after 20 s (a peer
    /// that never answers, a stuck store) is escalated to cancellation, and one that still
    /// has not ended 10 s later aborts the process: an operator's `systemctl stop` and a
    /// supervisor's restart must always finish. Nothing acknowledged is lost either way,
    /// since an event is committed before its OK is sent.
    static func shutdownBounds(services: [any Service], logger: Logger) -> ServiceGroupConfiguration {
        var configuration = ServiceGroupConfiguration(
            services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        configuration.maximumGracefulShutdownDuration = .seconds(20)
        configuration.maximumCancellationDuration = .seconds(10)
        return configuration
    }
}
