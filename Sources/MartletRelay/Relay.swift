public import Logging
public import MartletStore
public import NostrCore
public import ServiceLifecycle
import Synchronization

/// The relay engine: the rules of the protocol, shared by every connection.
///
/// It owns the ingest pipeline (`IngestPipeline`: checks, verification, policies, the
/// batching writer, fan-out), the subscription index and the store. The server hands each
/// WebSocket a `RelaySession` made here. As a `Service` it runs the writer and the NIP-40 purge, and on
/// graceful shutdown commits everything already queued before returning.
///
/// ```swift
/// let relay = Relay(configuration: configuration, store: store, logger: logger)
/// let group = ServiceGroup(services: [relay, server], logger: logger)
/// try await group.run()
/// ```
public final class Relay: Service, Sendable {
    /// The configuration the relay started with. Its lists, limits and NIP-11 fields may
    /// have changed since (NIP-86, SIGHUP): read those from `access`, `limits` and `info`.
    public let configuration: RelayConfiguration
    private let reloadableLimits: ReloadableLimits
    /// The limits now in force (`configuration.limits` until a reload).
    public var limits: RelayConfiguration.Limits { reloadableLimits.current }
    public let store: any EventStore
    /// The store's news of the other relay nodes on it, when it is shared (PostgreSQL).
    let feed: (any EventFeed)?
    public let subscriptions: SubscriptionIndex
    public let logger: Logger
    /// The one way events get in, whoever brings them.
    let pipeline: IngestPipeline
    let readPolicies: [any ReadPolicy]
    /// Allow and block lists, changed at run time by the management API.
    public let access: AccessLists
    /// The NIP-11 descriptive fields as they are now (the management API changes them).
    public let info: RelayInfoBox
    /// The URLs NIP-42 and NIP-98 authentications must name.
    public let addresses: RelayAddresses
    /// Counters and timings of the pipeline (exported at `/metrics`).
    public let metrics: RelayMetrics
    /// Told of every event accepted, with where it came from (mesh replication listens here).
    public let acceptedEvents = AcceptedEvents()
    /// Where a REQ by ids looks for events not stored here (`discovery.fetch_missing`), if anywhere.
    public let missingEvents = MissingEvents()
    /// REQ and COUNT rate per IP address, when configured.
    let requestLimiter: RateLimiter?
    /// The items every NIP-77 session of this relay holds, against `negentropy.maxTotalRecords`.
    public let negentropyBudget: NegentropyBudget
    /// NIP-29 groups, when `groups.enabled` (`Relay+Groups`).
    public let groups: Groups?
    private let startedAt = ContinuousClock.now
    /// The current time in seconds (tests move it).
    public let clock: @Sendable () -> Int64
    let nextSessionID = Atomic<UInt64>(1)
    let openSessions = Atomic<Int>(0)
    /// The ed25519 keys that may open an axon session (`Axon/`).
    public let axonAllowlist: AxonAllowlist

    /// - Parameters:
    ///   - policies: extra write rules, asked after the built-in ones.
    ///   - readPolicies: extra read rules, asked after the built-in ones.
    ///   - clock: the current time in seconds (tests move it).
    public init(
        configuration: RelayConfiguration, store: any EventStore, policies: [any WritePolicy] = [],
        readPolicies: [any ReadPolicy] = [],
        logger: Logger = Logger(label: "martlet.relay"),
        metrics: RelayMetrics = RelayMetrics(),
        clock: @escaping @Sendable () -> Int64 = { Int64(Duration.secondsSinceEpoch) }
    ) {
        var configuration = configuration
        let groups = Relay.makeGroups(&configuration, store: store, logger: logger)
        self.groups = groups
        self.configuration = configuration
        self.subscriptions = SubscriptionIndex(searchableKinds: configuration.search.kinds)
        self.store = store
        self.feed = store as? any EventFeed
        self.logger = logger
        self.clock = clock
        self.info = RelayInfoBox(configuration.info)
        self.addresses = RelayAddresses(configured: configuration.info.configuredURLs)
        self.metrics = metrics
        let access = AccessLists(configuration.access)
        self.access = access
        let reloadableLimits = ReloadableLimits(configuration.limits)
        self.reloadableLimits = reloadableLimits
        self.axonAllowlist = AxonAllowlist(configuration.axon.allowlist)
        let rates = configuration.access.rateLimits
        self.requestLimiter =
            rates.requestsPerSecondPerIP > 0 ? RateLimiter(rate: rates.requestsPerSecondPerIP, burst: rates.burst) : nil
        self.negentropyBudget = NegentropyBudget(limit: configuration.negentropy.maxTotalRecords)
        self.pipeline = IngestPipeline(
            .init(
                store: store, subscriptions: subscriptions, acceptedEvents: acceptedEvents, addresses: addresses,
                metrics: metrics, writerBatchSize: configuration.writerBatchSize, clock: clock, logger: logger,
                extraEphemeralKinds: configuration.axon.enabled ? configuration.axon.ephemeralKinds : nil),
            policies: Relay.builtInWritePolicies(configuration, access: access, limits: reloadableLimits) + policies,
            hooks: groups?.hooks ?? [])
        self.readPolicies =
            (configuration.access.privateKinds.isEmpty
                ? [] : [PrivateKindsPolicy(kinds: configuration.access.privateKinds)])
            + (configuration.search.enabled ? [] : [SearchDisabledPolicy()]) + readPolicies
            + (groups.map { [$0.readPolicy] as [any ReadPolicy] } ?? [])
        groups?.attach(self)
    }

    /// The rules every write passes, cheapest and most decisive first. Public so that the
    /// Benchmarks package times the very chain a relay with `configuration` runs.
    public static func builtInWritePolicies(
        _ configuration: RelayConfiguration, access: AccessLists, limits: ReloadableLimits? = nil
    ) -> [any WritePolicy] {
        var policies: [any WritePolicy] = [
            AuthenticationEventPolicy(),
            AccessListPolicy(lists: access, mode: configuration.access.mode),
            EventLimitsPolicy(limits: limits ?? ReloadableLimits(configuration.limits)),
            ProtectedEventPolicy(),
            JobRequestExpirationPolicy(),
        ]
        if configuration.mls.enabled {
            policies.append(MLSEventPolicy(groupEventRetention: configuration.mls.groupEventRetention))
        }
        if configuration.access.minPowDifficulty > 0 {
            policies.append(ProofOfWorkPolicy(minimum: configuration.access.minPowDifficulty))
        }
        let rates = configuration.access.rateLimits
        if rates.eventsPerSecondPerIP > 0 || rates.eventsPerSecondPerPubkey > 0 {
            let start = ContinuousClock.now
            policies.append(
                EventRateLimitPolicy(limits: rates, clock: { (ContinuousClock.now - start) / .seconds(1) }))
        }
        // Last: the plugin is the costliest rule, and should see only events the relay
        // would otherwise take.
        if let plugin = configuration.access.writePlugin { policies.append(WritePlugin(plugin)) }
        return policies
    }

    /// A session for one new connection.
    /// - Parameter remoteAddress: the client's IP address (blocklists, rate limits).
    public func makeSession(remoteAddress: String?) -> RelaySession {
        let id = nextSessionID.wrappingAdd(1, ordering: .relaxed).oldValue
        openSessions.wrappingAdd(1, ordering: .relaxed)
        metrics.recordConnectionOpened()
        let session = RelaySession(id: id, relay: self, remoteAddress: remoteAddress)
        if configuration.access.mode == .privateRelay { session.sendChallenge() }
        return session
    }

    func sessionClosed(_ session: RelaySession) {
        sessionClosed(id: session.id)
    }

    func sessionClosed(id: UInt64) {
        subscriptions.removeAll(session: id)
        openSessions.wrappingSubtract(1, ordering: .relaxed)
    }

    /// Connections open now.
    public var connectionCount: Int { openSessions.load(ordering: .relaxed) }

    public func run() async throws {
        async let writing: Void = pipeline.writer.run()
        let loading = Task { await pipeline.loadStoredIDs() }
        let purging = Task { await self.purgeExpiredPeriodically() }
        let following = Task { await self.followOtherNodes() }
        let administering = Task { await RelayAdministration(relay: self).followChangesOfOtherNodes() }
        let grouping = Task { await self.groups?.run() }
        // Until the service group asks us to stop; the server has stopped taking
        // connections by then, and the writer still commits what was queued.
        try? await gracefulShutdown()
        loading.cancel()
        purging.cancel()
        following.cancel()
        administering.cancel()
        grouping.cancel()
        pipeline.writer.stop()
        await writing
        logger.info("relay stopped; every acknowledged event is committed")
    }

    /// Scale-out: when several relay nodes share one store (PostgreSQL), the events the other
    /// nodes save or pass on as ephemeral reach this node's live subscribers too. This node
    /// fans out what it accepts itself; the feed carries only the others'.
    private func followOtherNodes() async {
        guard let feed else { return }
        for await event in feed.eventsFromOtherNodes() {
            // The same ephemeral event may come here from another node and from a client or
            // a mesh peer too: each subscriber gets it once, and a resend is a duplicate.
            pipeline.fanOutFromOtherNode(event)
        }
    }

    private func purgeExpiredPeriodically() async {
        while !Task.isCancelled {
            try? await Task.sleep(for: configuration.purgeInterval)
            if Task.isCancelled { return }
            do {
                let purged = try await store.purgeExpired(now: clock())
                if purged > 0 { logger.debug("purged expired events", metadata: ["count": "\(purged)"]) }
                try await purgeStaleJobRequests()
                if !configuration.retention.isEmpty {
                    let removed = try await Retention(rules: configuration.retention).enforce(on: self, now: clock())
                    if removed > 0 { logger.info("retention rules removed events", metadata: ["count": "\(removed)"]) }
                }
                try await purgeExpiredGroupEvents()
            } catch {
                logger.warning("purging expired events failed: \(error)")
            }
        }
    }

    /// NIP-90 job requests are only useful while a service provider may still act on them;
    /// past the configured lifetime they are removed, a bounded batch per round.
    func purgeStaleJobRequests() async throws {
        let now = clock()
        let jobKinds = Set(JobRequestExpirationPolicy.jobKinds.map { Kind($0) })
        let cutoff = now - configuration.access.jobRequestLifetime
        _ = try await removeWholePartitions(createdBefore: cutoff + 1, kinds: jobKinds)
        let stale = Filter(kinds: jobKinds, until: cutoff, limit: 500)
        let events = try await store.query([stale], maxLimit: 500, now: now)
        guard !events.isEmpty else { return }
        let removed = try await pipeline.remove(events.map(\.id))
        logger.debug("purged job requests past their lifetime", metadata: ["count": "\(removed)"])
    }

    // MARK: Ingest

    /// Runs one event through the ingest pipeline, with the rules its origin calls for.
    /// Nothing is `.accepted` before its transaction has committed.
    public func ingest(_ event: Event, origin: IngestOrigin) async -> IngestOutcome {
        await pipeline.ingest(event, origin: origin)
    }

    /// Runs `body` with the pipeline's writer running, for a tool that ingests without
    /// serving (`martlet import`, `martlet sync`): on return everything `body` ingested is
    /// committed. A relay that serves runs the writer in `run()` instead.
    public func withIngest<T: Sendable>(_ body: () async throws -> T) async throws -> T {
        let writing = Task { await pipeline.writer.run() }
        let loading = Task { await pipeline.loadStoredIDs() }
        defer { loading.cancel() }
        do {
            let result = try await body()
            pipeline.writer.stop()
            await writing.value
            return result
        } catch {
            pipeline.writer.stop()
            await writing.value
            throw error
        }
    }

    /// Removes the store's whole time partitions of events created before `cutoff` and all
    /// of `kinds` (nil: any), where the store is partitioned; returns how many events went.
    func removeWholePartitions(createdBefore cutoff: Int64, kinds: Set<Kind>?) async throws -> Int {
        guard let partitioned = store as? any PartitionedEventStore else { return 0 }
        let removed = try await partitioned.removeWholePartitions(createdBefore: cutoff, kinds: kinds)
        if removed > 0 { pipeline.eventsRemoved() }
        return removed
    }

    /// Removes events from the store by id (a NIP-86 ban, a lifetime ended); a resend then
    /// meets the rule that removed them rather than a memory of having stored them.
    public func removeEvents(_ ids: [EventID]) async throws -> Int {
        try await pipeline.remove(ids)
    }

    /// Takes the lists, limits and NIP-11 fields of a configuration read again (SIGHUP),
    /// keeping every connection. `max_message_length` stays as started: the WebSocket
    /// layer's frame limit is fixed when the server starts. The caller replays the NIP-86
    /// changes over the new lists afterwards, as at start (`RelayAdministration.restore`).
    public func reload(_ configuration: RelayConfiguration) {
        var limits = configuration.limits
        limits.maxMessageLength = self.configuration.limits.maxMessageLength
        reloadableLimits.replace(with: limits)
        access.replace(with: configuration.access)
        info.update { info in
            let selfPubkey = info.selfPubkey
            info = configuration.info
            info.selfPubkey = selfPubkey ?? configuration.info.selfPubkey
        }
        // A newly banned event must be refused, not answered from memory as a duplicate.
        pipeline.bannedEventsChanged()
    }

    // MARK: Reading

    /// The first refusal of a read policy or of the request rate limit, if any.
    func checkRead(_ filters: [Filter], context: ReadContext) -> RejectReason? {
        // A block by the operator holds for connections already open, reads included.
        if let ip = context.remoteAddress, access.isBlocked(ip: ip) { return .blocked("your IP address is blocked") }
        if let requestLimiter, let ip = context.remoteAddress,
            !requestLimiter.take(address: ip, now: (ContinuousClock.now - startedAt) / .seconds(1))
        {
            return .rateLimited("too many requests from your address, slow down")
        }
        for policy in readPolicies {
            if let refusal = policy.check(filters, context: context) { return refusal }
        }
        return nil
    }

    /// Whether every read policy lets `context` see `event`.
    func canSee(_ event: some EventFields, context: ReadContext) -> Bool {
        readPolicies.allSatisfy { $0.canSee(event, context: context) }
    }

    /// The store-side part of every read policy, for REQ queries (`canSee` still checks
    /// each event on delivery).
    func visibility(for context: ReadContext) -> ReadVisibility {
        readPolicies.reduce(.everything) { $0.intersection($1.visibility(context: context)) }
    }

    /// NIP-45 COUNT over what this reader may see: hidden events are neither counted nor
    /// revealed by the difference.
    func visibleCount(_ filters: [Filter], context: ReadContext) async throws -> Int {
        let now = clock()
        var total = try await store.count(filters, now: now)
        for policy in readPolicies {
            guard let scope = policy.scope(of: filters, context: context) else { continue }
            let candidates = try await store.count(scope.candidates, now: now)
            let visible = scope.visible.isEmpty ? 0 : try await store.count(scope.visible, now: now)
            total -= candidates - visible
        }
        return max(0, total)
    }

    /// The NIP-77 item set of `filter` restricted to what this reader may see.
    public func visibleNegentropyItems(_ filter: Filter, context: ReadContext) async throws -> [TimestampedEventID] {
        let now = clock()
        var items = try await store.negentropyItems(filter, now: now)
        var hidden = Set<EventID>()
        for policy in readPolicies {
            guard let scope = policy.scope(of: [filter], context: context) else { continue }
            var visible = Set<EventID>()
            for part in scope.visible { visible.formUnion(try await store.negentropyItems(part, now: now).map(\.id)) }
            for part in scope.candidates {
                for item in try await store.negentropyItems(part, now: now) where !visible.contains(item.id) {
                    hidden.insert(item.id)
                }
            }
        }
        if !hidden.isEmpty { items.removeAll { hidden.contains($0.id) } }
        return items
    }

    /// Delivers a stored (or ephemeral) event to every matching live subscription.
    public func fanOut(_ event: Event) {
        pipeline.fanOut(event)
    }
}

extension Duration {
    /// Whole seconds since 1970, from the system's real-time clock.
    public static var secondsSinceEpoch: Int64 {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return Int64(spec.tv_sec)
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
