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
    public let subscriptions = SubscriptionIndex()
    public let logger: Logger
    let writer: BatchingWriter
    let policies: [any WritePolicy]
    let clock: @Sendable () -> Int64
    private let nextSessionID = Atomic<UInt64>(1)
    private let openSessions = Atomic<Int>(0)

    /// - Parameters:
    ///   - policies: extra write rules, asked after the built-in limits.
    ///   - clock: the current time in seconds (tests move it).
    public init(
        configuration: RelayConfiguration, store: any EventStore, policies: [any WritePolicy] = [],
        logger: Logger = Logger(label: "martlet.relay"),
        clock: @escaping @Sendable () -> Int64 = { Int64(Duration.secondsSinceEpoch) }
    ) {
        self.configuration = configuration
        self.store = store
        self.logger = logger
        self.clock = clock
        self.writer = BatchingWriter(store: store, batchSize: configuration.writerBatchSize)
        self.policies = [EventLimitsPolicy(limits: configuration.limits)] + policies
    }

    /// A session for one new connection.
    public func makeSession(remoteAddress: String?) -> RelaySession {
        let id = nextSessionID.wrappingAdd(1, ordering: .relaxed).oldValue
        openSessions.wrappingAdd(1, ordering: .relaxed)
        return RelaySession(id: id, relay: self, remoteAddress: remoteAddress)
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
        // Until the service group asks us to stop; the server has stopped taking
        // connections by then, and the writer still commits what was queued.
        try? await gracefulShutdown()
        purging.cancel()
        writer.stop()
        await writing
        logger.info("relay stopped; every acknowledged event is committed")
    }

    private func purgeExpiredPeriodically() async {
        while !Task.isCancelled {
            try? await Task.sleep(for: configuration.purgeInterval)
            if Task.isCancelled { return }
            do {
                let purged = try await store.purgeExpired(now: clock())
                if purged > 0 { logger.debug("purged expired events", metadata: ["count": "\(purged)"]) }
            } catch {
                logger.warning("purging expired events failed: \(error)")
            }
        }
    }

    // MARK: Ingest

    /// Runs one EVENT through the pipeline and returns the `OK` to send. Nothing is
    /// acknowledged before its transaction has committed.
    func ingest(_ event: Event, from session: RelaySession) async -> RelayMessage {
        func reply(_ reason: RejectReason) -> RelayMessage {
            .ok(event.id, accepted: reason.prefix == .duplicate, message: reason.message)
        }
        let isEphemeral = event.kind.isEphemeral
        // Duplicates cost one index lookup and no cryptography.
        if !isEphemeral {
            do {
                if try await store.contains(event.id) { return reply(.init(.duplicate, "already have this event")) }
            } catch {
                return reply(.error("could not reach the store"))
            }
        }
        do {
            try event.validate()
        } catch {
            return .ok(event.id, accepted: false, message: error.message)
        }
        let context = WriteContext(now: clock(), remoteAddress: session.remoteAddress)
        for policy in policies {
            if let refusal = await policy.check(event, context: context) { return reply(refusal) }
        }
        if isEphemeral {
            fanOut(event)
            return .ok(event.id, accepted: true, message: "")
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
            fanOut(event)
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

    /// Delivers a stored (or ephemeral) event to every matching live subscription.
    public func fanOut(_ event: Event) {
        for subscription in subscriptions.matches(event) {
            subscription.session.deliver(event, to: subscription.id)
        }
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
