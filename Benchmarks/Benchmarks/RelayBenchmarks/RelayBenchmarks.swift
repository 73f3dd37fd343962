import Benchmark
import MartletRelay
import MartletStore
import NostrCore

/// The stages of one EVENT after NostrCore's, each measured alone: the write-policy chain,
/// the store's write of one event inside a batch, and the subscription index's search for
/// the live subscriptions a new event goes to. Every input is built in a benchmark's setup,
/// outside what is measured.
let benchmarks: @Sendable () -> Void = {
    registerPolicyBenchmarks()
    registerStoreBenchmarks()
    registerMatchBenchmarks()
}

// MARK: policy

/// The relay's write-policy chain, built by `Relay.builtInWritePolicies` and asked the way
/// `Relay` asks it, for one kind-1 reply: with the default configuration (five rules) and
/// with the common rules switched on (seven).
func registerPolicyBenchmarks() {
    // A chain costs well under a microsecond, so 1000 checks make one sample; the figures
    // are still per check.
    let configuration = Benchmark.Configuration(
        metrics: [.wallClock, .throughput, .mallocCountTotal], scalingFactor: .kilo, maxDuration: .seconds(3),
        maxIterations: 100_000)
    let chains: [(name: String, chain: @Sendable () -> PolicyChain)] = [
        ("policy: default configuration, 5 rules", { PolicyInputs.shared.defaults }),
        ("policy: common rules on, 7 rules", { PolicyInputs.shared.configured }),
    ]
    for (name, makeChain) in chains {
        Benchmark(name, configuration: configuration) { benchmark in
            let chain = makeChain()
            for _ in benchmark.scaledIterations {
                blackHole(await chain.firstRefusal())
            }
        } setup: {
            let refusal = await makeChain().firstRefusal()
            precondition(refusal == nil, "the benchmark event must pass every rule, not \(refusal!)")
        }
    }
}

// MARK: store write

/// `SQLiteEventStore.save` of a batch of N distinct, pre-signed notes into a fresh store, as
/// the batching writer hands it one transaction of up to `writerBatchSize` (512) events.
///
/// package-benchmark scales only by powers of 1000, so the cost per event is a custom metric,
/// the time of each `save` divided by N; the wall clock and throughput columns are per batch.
///
/// A growing store gets slower (deeper B-trees, more pages to dirty). Each benchmark starts
/// from an empty file and keeps what it saves: after the one warmup batch, sample k writes
/// into a store of (k + 1) × N events. With the iteration counts below the store ends at
/// 5,001 events for N = 1, 32,064 for N = 64 and 32,256 for N = 512, so the median sample
/// writes into about half of that: ~2,500 and ~16,000 events.
func registerStoreBenchmarks() {
    let perEvent = BenchmarkMetric.custom("ns per event", polarity: .prefersSmaller, useScalingFactor: false)
    for (batchSize, batches) in [(1, 5_000), (64, 500), (512, 62)] {
        let configuration = Benchmark.Configuration(
            metrics: [.wallClock, .throughput, perEvent], units: [perEvent: .count], warmupIterations: 1,
            maxDuration: .seconds(30), maxIterations: batches)
        let fixture = StoreFixture(batchSize: batchSize, batchCount: batches + configuration.warmupIterations)
        let name = "store write: SQLiteEventStore.save, batch of \(batchSize)"
        Benchmark(name, configuration: configuration) { benchmark in
            let batch = fixture.batch(benchmark.currentIteration)
            let store = fixture.store
            benchmark.startMeasurement()
            let start = ContinuousClock.now
            let results = try await store.save(batch)
            let elapsed = ContinuousClock.now - start
            benchmark.stopMeasurement()
            benchmark.measurement(perEvent, Int((elapsed / .nanoseconds(1)) / Double(batchSize)))
            precondition(results.allSatisfy { $0 == .saved }, "every note is new, so every one is saved")
        } setup: {
            try await fixture.open()
        } teardown: {
            try await fixture.remove()
        }
    }
}

// MARK: subscription match

/// `SubscriptionIndex.matches` over 1,000 and 10,000 live subscriptions of the shapes clients
/// keep open (home feeds, mentions, threads, hashtags, profiles, kinds, a few with no
/// indexable field), for a note that four of them want and for one that none does.
func registerMatchBenchmarks() {
    let configuration = Benchmark.Configuration(
        metrics: [.wallClock, .throughput, .mallocCountTotal], scalingFactor: .one, maxDuration: .seconds(3),
        maxIterations: 1_000_000)
    for size in [1_000, 10_000] {
        let cases: [(name: String, hits: Bool)] = [
            ("match: SubscriptionIndex.matches, \(size) subscriptions, note for 4 of them", true),
            ("match: SubscriptionIndex.matches, \(size) subscriptions, note for none", false),
        ]
        for (name, hits) in cases {
            let fixture = SubscriptionFixture(subscriptionCount: size)
            Benchmark(name, configuration: configuration) { benchmark in
                let index = fixture.index
                let event = hits ? fixture.population.hit : fixture.population.miss
                for _ in benchmark.scaledIterations {
                    blackHole(index.matches(event))
                }
            } setup: {
                try fixture.open()
            } teardown: {
                try await fixture.remove()
            }
        }
    }
}
