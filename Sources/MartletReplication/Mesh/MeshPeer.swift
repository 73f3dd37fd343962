import Logging
import MartletRelay
import MartletStore
import NostrCore
public import ServiceLifecycle
import Synchronization

/// One peer of the mesh, kept in step for as long as it runs: connect, catch up both ways
/// with NIP-77 (`RelaySync` over the open connection), then stream live both ways until
/// the connection ends; wait (`Backoff`) and start over, with a fresh catch-up, so that a
/// restart or a partition heals by itself.
///
/// Live, in: a subscription on the peer for new events (`limit: 0`), opened before the
/// catch-up so that nothing falls between the two; each event goes through this relay's
/// whole ingest pipeline as coming from `.peer(url)`. Live, out: every event this relay
/// accepts that did not come from this peer (`Mesh` routes them here), and that the peer
/// has not lately sent us, is published to it, `eventsInFlight` awaiting their `OK` at once.
/// Loops end at the first relay that already has the event: it answers `duplicate:` and
/// passes it on no further.
///
/// A peer that refuses NIP-77 (or never answers a `NEG-OPEN`) is streamed live all the
/// same, without the catch-up; its `lastError` says so.
///
/// `Mesh` makes and runs one per configured peer, and routes accepted events to it:
///
/// ```swift
/// let mesh = Mesh(relay: relay, configuration: configuration)
/// for peer in mesh.peers { print(peer.url, peer.status.state) } // .live once caught up
/// ```
public final class MeshPeer: Service, Sendable {
    /// The peer's URL, as configured.
    public let url: String
    let relay: Relay
    let configuration: MeshConfiguration
    /// Events this relay accepted, waiting to be sent to the peer.
    let queue: PeerQueue
    /// Ids the peer sent us lately. When it runs a mesh too, it also publishes to us what
    /// it accepts; that arrives as a client's EVENT, so this relay cannot tell it came from
    /// the peer, and only this memory keeps it from being sent straight back.
    private let heardFrom = RecentEventIDs(capacity: 65_536)
    private let current: Mutex<MeshStatus.Peer>
    /// The running loop, so that `stop()` can end this peer alone (a discovered relay forgotten).
    private let cycling = Mutex<Task<Void, Never>?>(nil)
    private let stopRequested = Atomic<Bool>(false)
    private let metrics: MeshMetrics?
    private let logger: Logger

    /// Why a connection ended from this side.
    enum Failure: Error, CustomStringConvertible {
        case fellBehind(Int)
        case notAuthenticated
        var description: String {
            switch self {
            case .fellBehind(let count): "more than \(count) events waited to be sent; starting over with a catch-up"
            case .notAuthenticated: "the peer did not challenge or did not accept our NIP-42 authentication"
            }
        }
    }

    init(url: String, relay: Relay, configuration: MeshConfiguration, metrics: MeshMetrics?, logger: Logger) {
        self.url = url
        self.relay = relay
        self.configuration = configuration
        self.queue = PeerQueue(capacity: configuration.maxQueuedEvents)
        self.current = Mutex(MeshStatus.Peer(url: url))
        self.metrics = metrics
        var logger = logger
        logger[metadataKey: "peer"] = "\(url)"
        self.logger = logger
    }

    /// Ends `run()`, whether it started yet or not; the connection closes.
    func stop() {
        stopRequested.store(true, ordering: .relaxed)
        cycling.withLock { $0 }?.cancel()
    }

    /// This peer's state and counters now.
    public var status: MeshStatus.Peer { current.withLock { $0 } }

    /// Connects, replicates and reconnects until cancelled or shut down gracefully.
    public func run() async {
        let cycling = Task { await self.cycle() }
        let stopped = self.cycling.withLock { current in
            current = cycling
            return stopRequested.load(ordering: .relaxed)
        }
        if stopped { cycling.cancel() }
        await withTaskCancellationOrGracefulShutdownHandler {
            await cycling.value
        } onCancelOrGracefulShutdown: {
            cycling.cancel()
        }
        set(.stopped)
    }

    private func cycle() async {
        var random = SystemRandomNumberGenerator()
        while !Task.isCancelled {
            update { $0.connections += 1 }
            set(.connecting)
            do {
                try await replicate()
                await fail("the connection closed")
            } catch {
                if Task.isCancelled { break }
                await fail("\(error)")
            }
            let failures = update { peer in
                defer { peer.failures += 1 }
                return peer.failures
            }
            set(.backoff)
            do {
                try await Task.sleep(for: configuration.backoff.delay(afterFailures: failures, using: &random))
            } catch {
                break
            }
        }
    }

    /// One connection, from open to its end (which is always an error or a cancellation).
    private func replicate() async throws {
        let client = try await RelayClient.connect(
            to: url, replyTimeout: configuration.replyTimeout, signer: configuration.secretKey,
            pingInterval: configuration.pingInterval, logger: logger)
        if configuration.authenticatesFirst, await !client.authenticated(waitingForChallenge: true) {
            await client.close()
            throw Failure.notAuthenticated
        }
        // From here every accepted event is queued, so the catch-up's snapshot, taken later,
        // misses nothing that the live stream does not send.
        queue.open()
        do {
            set(.syncing)
            let (live, stored) = try await client.subscribe([configuration.liveFilter])
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await self.pull(live, first: stored) }
                group.addTask { try await self.push(over: client) }
                group.addTask { try await self.catchUpAndResync(over: client) }
                try await group.waitForAll()
            }
        } catch {
            queue.close()
            await client.close()
            throw error
        }
        queue.close()
        await client.close()
    }

    // MARK: Catch-up

    /// The catch-up, then, when the configuration asks for it (discovered peers: every
    /// `discovery.sync_interval`), another one every `resyncInterval` for as long as the
    /// connection lasts: a NIP-77 round costs little when both sides agree, and it mends
    /// whatever the live stream missed.
    private func catchUpAndResync(over client: RelayClient) async throws {
        guard try await catchUp(over: client), let interval = configuration.resyncInterval else { return }
        while true {
            try await Task.sleep(for: interval)
            try await catchUp(over: client)
        }
    }

    /// Returns false when the peer does not reconcile (live events only).
    @discardableResult
    private func catchUp(over client: RelayClient) async throws -> Bool {
        var options = RelaySync.Options()
        options.filter = configuration.filter
        options.frameSizeLimit = configuration.frameSizeLimit
        options.replyTimeout = configuration.replyTimeout
        let start = ContinuousClock.now
        var sync = RelaySync(relay: relay, remote: url, options: options, logger: logger)
        sync.ingest = { [self] event in await self.ingest(event) }
        let answered = Flag()
        let report: RelaySync.Report
        do {
            report = try await sync.run(over: client) { progress in
                if case .round = progress { answered.set() }
            }
        } catch let error as RelayClientError
            where Self.lacksNegentropy(error, answered: answered.isSet, noticed: client.lastNotice != nil)
        {
            update {
                $0.failures = 0
                $0.lastError = "no catch-up, live events only: \(error)"
            }
            set(.live)
            logger.warning("peer does not reconcile; streaming live events only", metadata: ["reason": "\(error)"])
            return false
        }
        countOut(report.uploaded)
        update {
            $0.lastCatchUp = report
            $0.failures = 0
        }
        await recordSync(error: nil)
        set(.live)
        logger.info(
            "caught up with peer",
            metadata: ["report": "\(report)", "duration": "\(ContinuousClock.now - start)"])
        return true
    }

    /// A `NEG-ERR`, or a `NOTICE` and no answer to the `NEG-OPEN` (how relays that do not
    /// know NIP-77 answer it), is a relay without NIP-77 for us. A plain timeout is a slow
    /// or broken connection, and is retried on a new one.
    private static func lacksNegentropy(_ error: RelayClientError, answered: Bool, noticed: Bool) -> Bool {
        switch error {
        case .negentropyRefused: true
        case .timedOut: !answered && noticed
        default: false
        }
    }

    // MARK: Live, in

    private func pull(_ live: RelaySubscription, first: [Event]) async throws {
        var events = first
        while true {
            // In groups, so that the writer commits many in one transaction; order between
            // groups is kept, and within one the store's rules do not depend on it.
            for start in stride(from: 0, to: events.count, by: 64) {
                await withTaskGroup(of: Void.self) { group in
                    for event in events[start..<min(events.count, start + 64)] {
                        group.addTask { _ = await self.ingest(event) }
                    }
                }
            }
            events = try await live.next()
        }
    }

    /// One event from the peer through this relay's pipeline, as `.peer(url)`.
    private func ingest(_ event: Event) async -> IngestOutcome {
        heardFrom.insert(event.id)
        let outcome = await relay.ingest(event, origin: .peer(url))
        if outcome.isAccepted {
            update { $0.eventsIn += 1 }
            metrics?.eventsIn.increment()
        }
        return outcome
    }

    // MARK: Live, out

    private func push(over client: RelayClient) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<max(1, configuration.eventsInFlight) {
                group.addTask {
                    while let event = await self.queue.next() {
                        if self.heardFrom.contains(event.id) { continue }
                        let answer = try await client.publish(event)
                        if answer.accepted {
                            if answer.message.isEmpty { self.countOut(1) }
                        } else {
                            // The peer's own rules (NIP-70, its bans, its limits): its choice.
                            self.logger.debug(
                                "peer refused an event", metadata: ["id": "\(event.id)", "reason": "\(answer.message)"])
                        }
                    }
                }
            }
            try await group.waitForAll()
        }
        if queue.overflowed { throw Failure.fellBehind(queue.capacity) }
    }

    private func countOut(_ count: Int) {
        guard count > 0 else { return }
        update { $0.eventsOut += count }
        metrics?.eventsOut.increment(by: count)
    }

    // MARK: State

    @discardableResult
    private func update<T>(_ body: (inout MeshStatus.Peer) -> T) -> T {
        current.withLock { body(&$0) }
    }

    private func set(_ state: MeshStatus.State) {
        let previous = update { peer in
            defer { peer.state = state }
            return peer.state
        }
        if previous != state { metrics?.moved(from: previous, to: state) }
    }

    /// The end of a catch-up or of a connection, in the sync store (last sync, last error).
    private func recordSync(error: String?) async {
        guard let store = relay.store as? any SyncStore else { return }
        do {
            try await store.recordRelaySync(url, at: relay.clock(), error: error)
        } catch {
            logger.debug("could not record the sync", metadata: ["error": "\(error)"])
        }
    }

    private func fail(_ reason: String) async {
        await recordSync(error: reason)
        let first = update { peer in
            defer { peer.lastError = reason }
            return peer.failures == 0
        }
        // A peer that stays down fails every few seconds: one warning, then quieter.
        if first {
            logger.warning("mesh peer connection ended", metadata: ["reason": "\(reason)"])
        } else {
            logger.debug("mesh peer connection failed again", metadata: ["reason": "\(reason)"])
        }
    }
}
