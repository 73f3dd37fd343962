import Foundation
public import Logging
public import MartletRelay
public import MartletReplication
import MartletStore
public import NostrCore
public import ServiceLifecycle
import Synchronization

/// The hosted relays of one node (issue 18): every relay under `<data>/relays`, served by
/// `martlet serve` at `/<key>` beside the default relay at `/`, on the same port.
///
/// An idle hosted relay costs its manifest and its roster, read at start; its store, its
/// `Relay` and the tasks it runs are made when it is first used (a WebSocket to `/<key>`,
/// a write to it), and kept until shutdown. Relays this node joined through another
/// (`upstreams`) are opened at start, since their mesh keeps them in step.
///
/// As a service it runs the relays it opened (each a `ServiceGroup` of its relay and its
/// mesh) and notices relays another process created or joined in the data folder.
///
/// ```swift
/// let hosted = try HostedRelays(options: options, addresses: relay.addresses)
/// let key = try await hosted.create(name: "Book club", description: "…")
/// let relay = try hosted.open(key)?.relay   // nil for a key not hosted here
/// ```
public final class HostedRelays: Service, Sendable {
    public struct Options: Sendable {
        public var dataDirectory: String
        /// The default relay's configuration; each hosted relay starts from it (access
        /// mode, limits, retention), with its own name, description and `self`.
        public var configuration: RelayConfiguration
        /// This node's key: a hosted relay's writers are node keys.
        public var node: SecretKey
        /// The writers policy of relays created without one (`hosted.writers`).
        public var admission = WriterRoster.Admission.approval
        /// How joined relays replicate (backoff, timeouts); peers and key are set per relay.
        public var mesh = MeshConfiguration()
        /// Where each relay's events are kept: a SQLite file of its own, or a schema of its
        /// own on the server's PostgreSQL database.
        public var storage = HostedRelayStorage.sqlite(durableCommits: true)
        /// How often the data folder is looked at for relays another process made.
        public var rescanInterval: Duration = .seconds(2)
        /// An opened relay with no connection and no mesh, not used for this long, is closed
        /// (its store too) until it is used again (`hosted.idle_close`); nil: kept open.
        public var idleClose: Duration? = .seconds(600)

        public init(dataDirectory: String, configuration: RelayConfiguration, node: SecretKey) {
            self.dataDirectory = dataDirectory
            self.configuration = configuration
            self.node = node
        }
    }

    private struct Entry {
        var manifest: HostedRelayManifest
        let roster: WriterRoster
        var state = State.closed
        /// When `open` last handed the relay out (a connection on its way, a write).
        var lastUsed = ContinuousClock.now

        /// Opening a store takes a while on PostgreSQL (a connection, the schema brought up
        /// to date): uses that come meanwhile wait for the one opening under way.
        enum State {
            case closed
            case opening(Task<HostedRelay, any Error>)
            case open(HostedRelay)
        }

        var opened: HostedRelay? {
            if case .open(let relay) = state { relay } else { nil }
        }
    }

    public let options: Options
    public let folder: HostedRelayFolder
    /// The default relay's URLs; a hosted relay's are these with `/<key>` after them.
    private let addresses: RelayAddresses
    private let entries: Mutex<[HostedRelayKey: Entry]>
    private let lastScan: Mutex<Date?>
    private let opened: AsyncStream<HostedRelay>
    private let openedContinuation: AsyncStream<HostedRelay>.Continuation
    private let logger: Logger

    public var node: PublicKey { options.node.publicKey }

    public init(options: Options, addresses: RelayAddresses, logger: Logger = Logger(label: "martlet.hosted")) {
        self.options = options
        self.folder = HostedRelayFolder(dataDirectory: options.dataDirectory)
        self.addresses = addresses
        self.logger = logger
        lastScan = Mutex(folder.modified)
        let found = folder.manifests().mapValues { Entry(manifest: $0, roster: WriterRoster($0.roster)) }
        entries = Mutex(found)
        (opened, openedContinuation) = AsyncStream.makeStream()
    }

    // MARK: Looking up

    /// Hosted relays known here.
    public var count: Int { entries.withLock { $0.count } }
    /// Hosted relays whose store is open.
    public var openCount: Int { entries.withLock { entries in entries.values.filter { $0.opened != nil }.count } }
    public var keys: [HostedRelayKey] { entries.withLock { $0.keys.sorted() } }

    /// How many relays are hosted here and the ones open now with their names, read at
    /// once (the status page and `/metrics`).
    var openRelays: (count: Int, open: [(relay: HostedRelay, name: String)]) {
        entries.withLock { entries in
            (entries.count, entries.values.compactMap { entry in entry.opened.map { ($0, entry.manifest.name) } })
        }
    }

    public func manifest(of key: HostedRelayKey) -> HostedRelayManifest? {
        entries.withLock { $0[key]?.manifest }
    }

    public func roster(of key: HostedRelayKey) -> WriterRoster? {
        entries.withLock { $0[key]?.roster }
    }

    /// The relay's URLs: the default relay's with `/<key>` after them.
    public func urls(of key: HostedRelayKey) -> [String] {
        addresses.all.map { url in
            var base = url
            while base.hasSuffix("/") { base.removeLast() }
            return base + "/" + key.hex
        }
    }

    /// The configuration a hosted relay runs with (also its NIP-11 document, which needs
    /// no open store); nil for a key not hosted here.
    public func configuration(of key: HostedRelayKey) -> RelayConfiguration? {
        guard let manifest = manifest(of: key) else { return nil }
        var configuration = options.configuration
        configuration.info.name = manifest.name
        configuration.info.description = manifest.description
        configuration.info.selfPubkey = key.publicKey
        let urls = urls(of: key)
        configuration.info.url = urls.first
        configuration.info.alternateURLs = Array(urls.dropFirst())
        // Groups sign with the relay's key and keep their own tables: the default relay's business.
        configuration.groups.enabled = false
        configuration.identity = nil
        return configuration
    }

    /// The hosted relay, its store opened and its tasks started on first use; nil for a
    /// key not hosted here.
    public func open(_ key: HostedRelayKey) async throws -> HostedRelay? {
        guard let configuration = configuration(of: key) else { return nil }
        let state: Entry.State? = entries.withLock { entries in
            guard var entry = entries[key] else { return nil }
            entry.lastUsed = .now
            defer { entries[key] = entry }
            switch entry.state {
            case .open, .opening:
                return entry.state
            case .closed:
                // Not tied to the caller: a connection that gives up must not leave a store half opened.
                let (manifest, roster) = (entry.manifest, entry.roster)
                let task = Task {
                    try await self.openNow(key, manifest: manifest, roster: roster, configuration: configuration)
                }
                entry.state = .opening(task)
                return entry.state
            }
        }
        switch state {
        case nil, .closed: return nil
        case .open(let relay): return relay
        case .opening(let task): return try await task.value
        }
    }

    /// Makes the relay and records it as the open one, handed to `run()`; a failure leaves
    /// it closed, so that the next use tries again.
    private func openNow(
        _ key: HostedRelayKey, manifest: HostedRelayManifest, roster: WriterRoster, configuration: RelayConfiguration
    ) async throws -> HostedRelay {
        do {
            let relay = try await make(key, manifest: manifest, roster: roster, configuration: configuration)
            entries.withLock { entries in
                entries[key]?.state = .open(relay)
                entries[key]?.lastUsed = .now
            }
            openedContinuation.yield(relay)
            return relay
        } catch {
            entries.withLock { $0[key]?.state = .closed }
            throw error
        }
    }

    private func make(
        _ key: HostedRelayKey, manifest: HostedRelayManifest, roster: WriterRoster, configuration: RelayConfiguration
    ) async throws -> HostedRelay {
        var logger = logger
        logger[metadataKey: "relay"] = "\(key)"
        let store = try await options.storage.openStore(
            for: key, in: folder, searchableKinds: configuration.search.kinds, logger: logger)
        let removed = RemovedWritersPolicy(roster: roster)
        let relay = Relay(
            configuration: configuration, store: store, policies: [removed], readPolicies: [removed], logger: logger)
        var mesh: Mesh?
        if !manifest.upstreams.isEmpty {
            var replication = options.mesh
            replication.peers = manifest.upstreams
            replication.secretKey = options.node
            replication.authenticatesFirst = true
            mesh = Mesh(relay: relay, configuration: replication, logger: logger)
        }
        return HostedRelay(key: key, relay: relay, roster: roster, mesh: mesh, store: store, logger: logger)
    }

    // MARK: Creating

    /// Makes a relay: its key pair, its manifest, and its creation event recorded through
    /// its own pipeline (`.relay` origin). Returns the new key.
    public func create(name: String, description: String, admission: WriterRoster.Admission? = nil) async throws
        -> HostedRelayKey
    {
        let manifest = HostedRelayManifest(
            name: name, description: description, createdAt: Int64(Duration.secondsSinceEpoch),
            admission: admission ?? options.admission, writers: [node])
        let (key, identity) = try folder.create(manifest: manifest)
        entries.withLock { $0[key] = Entry(manifest: manifest, roster: WriterRoster(manifest.roster)) }
        lastScan.withLock { $0 = folder.modified }
        guard let hosted = try await open(key) else { throw HostedRelayError.unknown(key) }
        let creation = HostedRelayCreation.event(signedBy: identity, manifest: manifest)
        // A running server's relay has its writer running; the command line runs it for this one event.
        let outcome: IngestOutcome
        if isRunning {
            outcome = await hosted.relay.ingest(creation, origin: .relay)
        } else {
            outcome = try await hosted.relay.withIngest { await hosted.relay.ingest(creation, origin: .relay) }
        }
        guard outcome.isAccepted else {
            throw HostedRelayError.refused("the creation event was not stored: \(outcome)")
        }
        logger.info("hosted relay created", metadata: ["relay": "\(key)", "name": "\(name)"])
        return key
    }

    /// Records a relay this node joined through `upstream` (`martlet relay join`).
    public func adopt(_ key: HostedRelayKey, manifest: HostedRelayManifest) throws {
        try folder.adopt(key, manifest: manifest)
        entries.withLock { entries in
            if entries[key] == nil {
                entries[key] = Entry(manifest: manifest, roster: WriterRoster(manifest.roster))
            }
        }
    }

    // MARK: Writers

    /// A node asks to become a writer of `key` (NIP-86 `joinrelay`).
    public func requestToJoin(_ key: HostedRelayKey, node: PublicKey) throws -> WriterRoster.JoinAnswer {
        guard let roster = roster(of: key) else { throw HostedRelayError.unknown(key) }
        let answer = roster.requestToJoin(node)
        try saveRoster(of: key)
        logger.info("join request", metadata: ["relay": "\(key)", "node": "\(node)", "answer": "\(answer.rawValue)"])
        return answer
    }

    public func addWriter(_ node: PublicKey, to key: HostedRelayKey) throws {
        guard let roster = roster(of: key) else { throw HostedRelayError.unknown(key) }
        roster.add(node)
        try saveRoster(of: key)
    }

    /// Removes a writer: its replication is refused from now on, on open connections too.
    @discardableResult
    public func removeWriter(_ node: PublicKey, from key: HostedRelayKey) throws -> Bool {
        guard let roster = roster(of: key) else { throw HostedRelayError.unknown(key) }
        let known = roster.remove(node)
        try saveRoster(of: key)
        return known
    }

    private func saveRoster(of key: HostedRelayKey) throws {
        let manifest: HostedRelayManifest? = entries.withLock { entries in
            guard var entry = entries[key] else { return nil }
            entry.manifest.take(entry.roster.snapshot)
            entries[key] = entry
            return entry.manifest
        }
        if let manifest { try folder.save(manifest, of: key) }
    }

    // MARK: Running

    private let running = Atomic<Bool>(false)
    private var isRunning: Bool { running.load(ordering: .relaxed) }

    public func run() async {
        running.store(true, ordering: .relaxed)
        // A hosted relay's URLs (what NIP-42 AUTH must name) are the server's with `/<key>`:
        // without configured ones they are known once it listens, which is after services start.
        while addresses.all.isEmpty, !Task.isShuttingDownGracefully, !Task.isCancelled {
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: .milliseconds(20)) }
        }
        // Replicas keep in step with their members whether or not anyone uses them here.
        for key in keys where manifest(of: key)?.upstreams.isEmpty == false { await openLogging(key) }
        await withDiscardingTaskGroup { group in
            group.addTask { await self.watchDataFolder() }
            if let idleClose = options.idleClose { group.addTask { await self.closeIdle(after: idleClose) } }
            for await hosted in opened.cancelOnGracefulShutdown() {
                group.addTask { await hosted.run() }
            }
        }
        running.store(false, ordering: .relaxed)
    }

    /// Relays that `martlet relay create` or `join` made in the data folder while this
    /// server runs: a new folder changes the folder's modification time.
    private func watchDataFolder() async {
        // Cancelled too, not only shut down: when the server cannot listen, the service group
        // cancels its services, and a loop that went on would spin on its sleep's
        // cancellation and keep the process from exiting.
        while !Task.isShuttingDownGracefully, !Task.isCancelled {
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: self.options.rescanInterval) }
            let modified = folder.modified
            let changed = lastScan.withLock { last in
                defer { last = modified }
                return last != modified
            }
            guard changed else { continue }
            for (key, manifest) in folder.manifests() {
                let added = entries.withLock { entries in
                    guard entries[key] == nil else { return false }
                    entries[key] = Entry(manifest: manifest, roster: WriterRoster(manifest.roster))
                    return true
                }
                guard added else { continue }
                logger.info("hosted relay found in the data folder", metadata: ["relay": "\(key)"])
                if !manifest.upstreams.isEmpty { await openLogging(key) }
            }
        }
    }

    /// Closes the relays nobody uses: no connection open, no mesh, not handed out by `open`
    /// for `idle`. A connection on its way got its relay from `open` moments ago, so it is
    /// never one of them; the next use opens the relay again.
    private func closeIdle(after idle: Duration) async {
        while !Task.isShuttingDownGracefully, !Task.isCancelled {
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: min(idle, .seconds(30))) }
            let now = ContinuousClock.now
            let closing: [HostedRelay] = entries.withLock { entries in
                var closing: [HostedRelay] = []
                for (key, entry) in entries {
                    guard let opened = entry.opened, opened.mesh == nil, opened.relay.connectionCount == 0,
                        now - entry.lastUsed >= idle
                    else { continue }
                    entries[key]?.state = .closed
                    closing.append(opened)
                }
                return closing
            }
            for hosted in closing { hosted.stop() }
            if !closing.isEmpty { logger.debug("idle hosted relays closed", metadata: ["count": "\(closing.count)"]) }
        }
    }

    private func openLogging(_ key: HostedRelayKey) async {
        do {
            _ = try await open(key)
        } catch {
            logger.error("could not open hosted relay", metadata: ["relay": "\(key)", "error": "\(error)"])
        }
    }

    /// Closes the stores of relays opened without `run()` (the command line's tools).
    public func closeOffline() async {
        guard !isRunning else { return }
        let opened = entries.withLock { $0.values.compactMap(\.opened) }
        for hosted in opened { try? await hosted.store.close() }
    }
}
