import CoreMetrics
import MartletDHT

/// Discovery's figures in swift-metrics, recorded at the end of every round:
/// `martlet_discovery_relays` (relays known), `martlet_discovery_announced` (1 while this
/// relay holds a slot), `martlet_dht_dropped_packets{reason}` (the node's `dropCounts`), and
/// the sync store's rows: `martlet_sync_relays`, `martlet_sync_authors`.
///
/// ```swift
/// let discovery = Discovery(..., metrics: exporter.factory)
/// ```
struct DiscoveryMetrics: Sendable {
    let relays: Gauge
    let announced: Gauge
    let dropped: [DHTDropReason: Gauge]
    let syncRelays: Gauge
    let syncAuthors: Gauge

    init(factory: any MetricsFactory) {
        relays = Gauge(label: "martlet_discovery_relays", factory: factory)
        announced = Gauge(label: "martlet_discovery_announced", factory: factory)
        var dropped: [DHTDropReason: Gauge] = [:]
        for reason in DHTDropReason.allCases {
            dropped[reason] = Gauge(
                label: "martlet_dht_dropped_packets", dimensions: [("reason", reason.rawValue)], factory: factory)
        }
        self.dropped = dropped
        syncRelays = Gauge(label: "martlet_sync_relays", factory: factory)
        syncAuthors = Gauge(label: "martlet_sync_authors", factory: factory)
    }

    /// The sync store's rows: relays remembered, authors whose lists are put.
    func record(syncRelays relays: Int, syncAuthors authors: Int) {
        syncRelays.record(relays)
        syncAuthors.record(authors)
    }

    func record(relays count: Int, announced isAnnounced: Bool, drops: [DHTDropReason: Int]) {
        relays.record(count)
        announced.record(isAnnounced ? 1 : 0)
        for (reason, gauge) in dropped { gauge.record(drops[reason, default: 0]) }
    }
}
