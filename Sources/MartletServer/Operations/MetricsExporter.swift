public import MartletRelay
public import Prometheus

/// The relay's metrics in the Prometheus text format, served at `/metrics`.
///
/// It owns the registry that a relay's `RelayMetrics` writes into, so each relay (and each
/// test relay in one process) exports only its own figures; the latency histograms get
/// buckets fitted to a relay, from 100 µs up, where the library's default starts at 5 ms.
///
/// ```swift
/// let exporter = MetricsExporter()
/// let relay = Relay(configuration: configuration, store: store, metrics: exporter.makeRelayMetrics())
/// let app = RelayServer.application(relay: relay, host: host, port: port, metrics: exporter)
/// ```
public struct MetricsExporter: Sendable {
    public let registry: PrometheusCollectorRegistry
    public let factory: PrometheusMetricsFactory

    public init(registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry()) {
        self.registry = registry
        var factory = PrometheusMetricsFactory(registry: registry)
        let latency: [Duration] = [
            .microseconds(100), .microseconds(250), .microseconds(500), .milliseconds(1), .microseconds(2500),
            .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100),
            .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(5),
        ]
        factory.durationHistogramBuckets = [
            RelayMetrics.ingestDurationLabel: latency, RelayMetrics.queryDurationLabel: latency,
        ]
        self.factory = factory
    }

    /// The measurements a relay should record into this exporter's registry.
    public func makeRelayMetrics() -> RelayMetrics {
        RelayMetrics(factory: factory)
    }

    /// The exposition text, with the read-on-demand gauges brought up to date first, and
    /// the hosted relays' figures after them.
    func render(for relay: Relay, hosted: HostedRelays? = nil) async -> [UInt8] {
        let stats = try? await relay.store.stats()
        relay.metrics.refresh(connections: relay.connectionCount, subscriptions: relay.subscriptions.count, store: stats)
        var buffer: [UInt8] = []
        registry.emit(into: &buffer)
        if let hosted { buffer += Array(HostedRelayFigures(hosted).prometheus.utf8) }
        return buffer
    }
}
