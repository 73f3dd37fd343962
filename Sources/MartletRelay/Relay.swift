public import Logging
public import MartletStore
public import NostrCore
public import ServiceLifecycle
import Synchronization

/// The relay engine: the rules of the protocol, shared by every connection.
///
/// It owns the ingest pipeline (checks, verification, policies, the batching writer,
/// fan-out), the subscription index and the store. The server hands each WebSocket a
/// `RelaySession` made here. As a `Service` it runs the writer and the NIP-40 purge, and on
/// graceful shutdown commits everything already queued before returning.
///
/// ```swift
/// let relay = Relay(configuration: configuration, store: store, logger: logger)
/// let group = ServiceGroup(services: [relay, server], logger: logger)
/// try await group.run()
/// ```
public final class Relay: Service, Sendable {
    public let configuration: RelayConfiguration
    public let store: any EventStore
    /// The store's news of the other relay nodes on it, when it is shared (PostgreSQL).
    let feed: (any EventFeed)?
    public let subscriptions = SubscriptionIndex()
    public let logger: Logger
    let writer: BatchingWriter
    let policies: [any WritePolicy]
    let readPolicies: [any ReadPolicy]
    /// Allow and block lists, changed at run time by the management API.
    public let access: AccessLists
    /// Ids answered as stored lately, so duplicates need neither the store nor a verify.
    let recentIDs = RecentEventIDs(capacity: 200_000)
    /// The NIP-11 descriptive fields as they are now (the management API changes them).
    public let info: RelayInfoBox
    /// The URLs NIP-42 and NIP-98 authentications must name.
    public let addresses: RelayAddresses
    /// Counters and timings of the pipeline (exported at `/metrics`).
    public let metrics: RelayMetrics
    /// Told of every event accepted, with where it came from (mesh replication listens here).
    public let acceptedEvents = AcceptedEvents()
    /// Events lately accepted without being stored (ephemeral ones, requests to vanish): the
    /// store cannot call a second copy a duplicate, and a relay mesh would loop it forever.
    let recentUnstored = RecentEventIDs(capacity: 16_384)
    /// REQ and COUNT rate per IP address, when configured.
    let requestLimiter: RateLimiter?
    /// The items every NIP-77 session of this relay holds, against `negentropy.maxTotalRecords`.
    public let negentropyBudget: NegentropyBudget
    private let startedAt = ContinuousClock.now
    /// The current time in seconds (tests move it).
    public let clock: @Sendable () -> Int64
    private let nextSessionID = Atomic<UInt64>(1)
    private let openSessions = Atomic<Int>(0)

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
        self.configuration = configuration
        self.store = store
        self.feed = store as? any EventFeed
        self.logger = logger
        self.clock = clock
        self.info = RelayInfoBox(configuration.info)
        self.addresses = RelayAddresses(configured: configuration.info.configuredURLs)
        self.metrics = metrics
        self.writer = BatchingWriter(store: store, batchSize: configuration.writerBatchSize)
        let access = AccessLists(configuration.access)
        self.access = access
        let rates = configuration.access.rateLimits
        self.requestLimiter =
            rates.requestsPerSecondPerIP > 0 ? RateLimiter(rate: rates.requestsPerSecondPerIP, burst: rates.burst) : nil
        self.negentropyBudget = NegentropyBudget(limit: configuration.negentropy.maxTotalRecords)
        self.policies = Relay.builtInWritePolicies(configuration, access: access) + policies
        self.readPolicies =
            (configuration.access.privateKinds.isEmpty
                ? [] : [PrivateKindsPolicy(kinds: configuration.access.privateKinds)]) + readPolicies
    }

    /// The rules every write passes, cheapest and most decisive first. Public so that the
    /// Benchmarks package times the very chain a relay with `configuration` runs.
    public static func builtInWritePolicies(_ configuration: RelayConfiguration, access: AccessLists) -> [any WritePolicy] {
        var policies: [any WritePolicy] = [
            AuthenticationEventPolicy(),
            AccessListPolicy(lists: access, mode: configuration.access.mode),
            EventLimitsPolicy(limits: configuration.limits),
            ProtectedEventPolicy(),
            JobRequestExpirationPolicy(),
        ]
        if configuration.access.minPowDifficulty > 0 {
            policies.append(ProofOfWorkPolicy(minimum: configuration.access.minPowDifficulty))
        }
        let rates = configuration.access.rateLimits
        if rates.eventsPerSecondPerIP > 0 || rates.eventsPerSecondPerPubkey > 0 {
            let start = ContinuousClock.now
            policies.append(
                EventRateLimitPolicy(limits: rates, clock: { (ContinuousClock.now - start) / .seconds(1) }))
        }
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
        subscriptions.removeAll(session: session.id)
        openSessions.wrappingSubtract(1, ordering: .relaxed)
    }

    /// Connections open now.
    public var connectionCount: Int { openSessions.load(ordering: .relaxed) }

    public func run() async throws {
        async let writing: Void = writer.run()
        let purging = Task { await self.purgeExpiredPeriodically() }
        let following = Task { await self.followOtherNodes() }
        let administering = Task { await RelayAdministration(relay: self).followChangesOfOtherNodes() }
        // Until the service group asks us to stop; the server has stopped taking
        // connections by then, and the writer still commits what was queued.
        try? await gracefulShutdown()
        purging.cancel()
        following.cancel()
        administering.cancel()
        writer.stop()
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
            if event.kind.isEphemeral, !recentUnstored.insert(event.id) { continue }
            fanOut(event)
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
        let stale = Filter(kinds: jobKinds, until: now - configuration.access.jobRequestLifetime, limit: 500)
        let events = try await store.query([stale], maxLimit: 500, now: now)
        guard !events.isEmpty else { return }
        let removed = try await store.remove(events.map(\.id))
        recentIDs.removeAll()
        logger.debug("purged job requests past their lifetime", metadata: ["count": "\(removed)"])
    }

    // MARK: Ingest

    /// Runs one EVENT through the pipeline and returns the `OK` to send. Nothing is
    /// acknowledged before its transaction has committed.
    func ingest(_ event: Event, from session: RelaySession) async -> RelayMessage {
        await ingest(event, origin: .connection(session.id), remoteAddress: session.remoteAddress) {
            session.authenticatedPubkeys
        }
    }

    /// Runs an event a replication peer sent through the whole pipeline, as a client's
    /// EVENT on a connection without an address or authentication, and returns the `OK`
    /// such a client would get. Observers see it as coming from `.peer(peer)`.
    public func ingest(_ event: Event, fromPeer peer: String) async -> RelayMessage {
        await ingest(event, origin: .peer(peer), remoteAddress: nil) { [] }
    }

    private func ingest(
        _ event: Event, origin: EventOrigin, remoteAddress: String?, authenticated: () -> Set<PublicKey>
    ) async -> RelayMessage {
        let start = ContinuousClock.now
        let reply = await process(event, origin: origin, remoteAddress: remoteAddress, authenticated: authenticated)
        metrics.recordIngest(reply, startedAt: start)
        return reply
    }

    private func process(
        _ event: Event, origin: EventOrigin, remoteAddress: String?, authenticated: () -> Set<PublicKey>
    ) async -> RelayMessage {
        func reply(_ reason: RejectReason) -> RelayMessage {
            .ok(event.id, accepted: reason.prefix == .duplicate, message: reason.message)
        }
        let isEphemeral = event.kind.isEphemeral
        if isEphemeral || event.kind == .requestToVanish, recentUnstored.contains(event.id) {
            return reply(.init(.duplicate, "already have this event"))
        }
        // Duplicates cost one index lookup and no cryptography.
        if !isEphemeral {
            if recentIDs.contains(event.id) { return reply(.init(.duplicate, "already have this event")) }
            do {
                if try await store.contains(event.id) {
                    recentIDs.insert(event.id)
                    return reply(.init(.duplicate, "already have this event"))
                }
            } catch {
                return reply(.error("could not reach the store"))
            }
        }
        do {
            try event.validate()
        } catch {
            return .ok(event.id, accepted: false, message: error.message)
        }
        let context = WriteContext(now: clock(), remoteAddress: remoteAddress, authenticated: authenticated())
        for policy in policies {
            if let refusal = await policy.check(event, context: context) { return reply(refusal) }
        }
        if isEphemeral {
            guard recentUnstored.insert(event.id) else { return reply(.init(.duplicate, "already have this event")) }
            fanOut(event)
            acceptedEvents.notify(event, from: origin)
            // Before the OK, as a stored event is committed before it: the other nodes have
            // been told (or the store has given up within its time limit).
            await feed?.publishEphemeral(event)
            return .ok(event.id, accepted: true, message: "")
        }
        if event.kind == .requestToVanish {
            let answer = await vanish(event)
            if case .ok(_, true, _) = answer, recentUnstored.insert(event.id) {
                acceptedEvents.notify(event, from: origin)
            }
            return answer
        }
        let result: SaveResult
        do {
            result = try await writer.write(event)
        } catch {
            logger.warning("write failed: \(error)")
            return reply(.error("could not save the event"))
        }
        switch result {
        case .saved:
            // A deletion can make remembered ids stale (a deleted event must be refused,
            // not called a duplicate), so the memory starts over.
            if event.kind == .deletion { recentIDs.removeAll() } else { recentIDs.insert(event.id) }
            fanOut(event)
            acceptedEvents.notify(event, from: origin)
            return .ok(event.id, accepted: true, message: "")
        case .duplicate:
            return reply(.init(.duplicate, "already have this event"))
        case .superseded:
            return reply(.init(.duplicate, "a newer version of this event is already stored"))
        case .deleted:
            return reply(.blocked("this event was deleted by its author"))
        case .vanished:
            return reply(.blocked("its author asked this relay to vanish"))
        }
    }

    /// NIP-62: a request to vanish naming this relay (or `ALL_RELAYS`) removes everything the
    /// author published up to its `created_at`, and the store refuses those events from then on.
    private func vanish(_ event: Event) async -> RelayMessage {
        let targets = event.tags.values(named: "relay")
        let addressed = targets.contains { target in target == "ALL_RELAYS" || addresses.names(target) }
        guard addressed else {
            let reason = RejectReason.invalid("request to vanish does not name this relay")
            return .ok(event.id, accepted: false, message: reason.message)
        }
        do {
            let removed = try await store.vanish(pubkey: event.pubkey, until: event.createdAt)
            recentIDs.removeAll()
            logger.notice("request to vanish honoured", metadata: ["pubkey": "\(event.pubkey)", "removed": "\(removed)"])
            return .ok(event.id, accepted: true, message: "")
        } catch {
            return .ok(event.id, accepted: false, message: RejectReason.error("could not remove the events").message)
        }
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
    func canSee(_ event: Event, context: ReadContext) -> Bool {
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
        let matches = subscriptions.matches(event)
        for subscription in matches {
            subscription.session.deliver(event, to: subscription.id)
        }
        metrics.recordDeliveries(matches.count)
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
