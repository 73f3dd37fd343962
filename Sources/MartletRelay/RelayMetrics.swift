public import CoreMetrics
public import MartletStore
import NostrCore
import Synchronization

/// The relay's measurements, through swift-metrics so that any backend can collect them
/// (the server exports them in Prometheus form at `/metrics`).
///
/// Every handle is made once, here; the hot path pays an atomic add per count and a clock
/// read per timed operation, never a lookup by name. Figures that are cheaper to read than
/// to track (connections, subscriptions, store size) are gauges set by `refresh` just
/// before an export. A few running totals are also kept here for the status page, since a
/// swift-metrics counter cannot be read back.
///
/// ```swift
/// let metrics = RelayMetrics(factory: PrometheusMetricsFactory(registry: registry))
/// metrics.refresh(connections: 3, subscriptions: 9, store: try await store.stats())
/// ```
public final class RelayMetrics: Sendable {
    /// Running totals since the relay started.
    public struct Totals: Sendable, Equatable {
        public var eventsReceived = 0
        public var eventsAccepted = 0
        public var eventsRejected = 0
        public var fanOutDeliveries = 0
        public var connectionsOpened = 0
    }

    /// Timer labels, for a backend that sets histogram buckets per metric.
    public static let ingestDurationLabel = "martlet_event_ingest_duration_seconds"
    public static let queryDurationLabel = "martlet_query_duration_seconds"

    /// Rejections are counted under NIP-01's prefix; one that has none counts as `error`.
    static let rejectionPrefixes: [RejectReason.Prefix] = [
        .duplicate, .pow, .blocked, .invalid, .restricted, .mute, .error, .unsupported, .rateLimited, .authRequired,
    ]

    private let received: Counter
    private let accepted: Counter
    private let rejected: [RejectReason.Prefix: Counter]
    private let deliveries: Counter
    private let opened: Counter
    private let ingestDuration: Timer
    private let queryDuration: Timer
    private let connections: Gauge
    private let subscriptions: Gauge
    private let storedEvents: Gauge
    private let storedBytes: Gauge

    /// Messages by verb, bytes, accepted events by kind.
    public let wire: WireMetrics

    private let receivedTotal = Atomic<Int>(0)
    private let acceptedTotal = Atomic<Int>(0)
    private let rejectedTotal = Atomic<Int>(0)
    private let deliveriesTotal = Atomic<Int>(0)
    private let openedTotal = Atomic<Int>(0)

    public init(factory: any MetricsFactory = MetricsSystem.factory) {
        received = Counter(label: "martlet_events_received_total", factory: factory)
        accepted = Counter(label: "martlet_events_accepted_total", factory: factory)
        var rejected: [RejectReason.Prefix: Counter] = [:]
        for prefix in Self.rejectionPrefixes {
            rejected[prefix] = Counter(
                label: "martlet_events_rejected_total", dimensions: [("reason", prefix.rawValue)], factory: factory)
        }
        self.rejected = rejected
        deliveries = Counter(label: "martlet_fanout_deliveries_total", factory: factory)
        opened = Counter(label: "martlet_connections_opened_total", factory: factory)
        ingestDuration = Timer(label: Self.ingestDurationLabel, factory: factory)
        queryDuration = Timer(label: Self.queryDurationLabel, factory: factory)
        connections = Gauge(label: "martlet_connections", factory: factory)
        subscriptions = Gauge(label: "martlet_subscriptions", factory: factory)
        storedEvents = Gauge(label: "martlet_store_events", factory: factory)
        storedBytes = Gauge(label: "martlet_store_bytes", factory: factory)
        wire = WireMetrics(factory: factory)
    }

    public var totals: Totals {
        Totals(
            eventsReceived: receivedTotal.load(ordering: .relaxed),
            eventsAccepted: acceptedTotal.load(ordering: .relaxed),
            eventsRejected: rejectedTotal.load(ordering: .relaxed),
            fanOutDeliveries: deliveriesTotal.load(ordering: .relaxed),
            connectionsOpened: openedTotal.load(ordering: .relaxed))
    }

    /// Sets the gauges that are read rather than tracked; call before exporting.
    public func refresh(connections: Int, subscriptions: Int, store: StoreStats?) {
        self.connections.record(connections)
        self.subscriptions.record(subscriptions)
        if let store {
            storedEvents.record(store.eventCount)
            storedBytes.record(store.bytesOnDisk)
        }
    }

    // MARK: Hot path

    /// One event's outcome: accepted, or rejected under its NIP-01 prefix (a duplicate
    /// too, since nothing new was stored).
    func recordIngest(_ outcome: IngestOutcome, kind: Kind, startedAt start: ContinuousClock.Instant) {
        ingestDuration.recordNanoseconds((ContinuousClock.now - start).nanoseconds)
        received.increment()
        receivedTotal.wrappingAdd(1, ordering: .relaxed)
        let prefix: RejectReason.Prefix
        switch outcome {
        case .accepted:
            accepted.increment()
            acceptedTotal.wrappingAdd(1, ordering: .relaxed)
            wire.recordAccepted(kind)
            return
        case .duplicate: prefix = .duplicate
        case .refused(let reason): prefix = reason.prefix
        case .shadowRejected: prefix = .blocked
        }
        rejected[prefix]?.increment()
        rejectedTotal.wrappingAdd(1, ordering: .relaxed)
    }

    func recordQuery(startedAt start: ContinuousClock.Instant) {
        queryDuration.recordNanoseconds((ContinuousClock.now - start).nanoseconds)
    }

    /// Counts one fan-out's deliveries with one add, however many subscriptions matched.
    func recordDeliveries(_ count: Int) {
        guard count > 0 else { return }
        deliveries.increment(by: count)
        deliveriesTotal.wrappingAdd(count, ordering: .relaxed)
    }

    func recordConnectionOpened() {
        opened.increment()
        openedTotal.wrappingAdd(1, ordering: .relaxed)
    }

}

extension Duration {
    fileprivate var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds &* 1_000_000_000 &+ attoseconds / 1_000_000_000
    }
}
