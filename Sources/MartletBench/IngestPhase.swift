import NostrCore
internal import NIOCore

/// Publishes a fixed list of events over one connection, keeping `window` of them
/// unanswered, and times each from its write to its `OK`.
final class IngestDriver: SocketDriver {
    struct Outcome: Sendable {
        var latencies: [UInt64] = []
        var accepted = 0
        var duplicate = 0
        var rejected = 0
        var unanswered = 0
        var notices = 0
        var messages = MessageTally()
        var firstSend: UInt64 = .max
        var lastReply: UInt64 = 0
    }

    private let frames: [ByteBuffer]
    private let ids: [EventID]
    private let window: Int
    private var next = 0
    private var sentAt: [EventID: UInt64] = [:]
    private var needsFlush = false
    private var result = Outcome()

    init(frames: [ByteBuffer], ids: [EventID], window: Int) {
        self.frames = frames
        self.ids = ids
        self.window = max(1, window)
        sentAt.reserveCapacity(self.window * 2)
        result.latencies.reserveCapacity(frames.count)
    }

    func opened(_ link: SocketLink) {
        link.markReady()
        guard !frames.isEmpty else { return link.finish() }
        while next < frames.count && sentAt.count < window { send(link) }
        link.flush()
    }

    private func send(_ link: SocketLink) {
        let now = monotonicNanos()
        if result.firstSend == .max { result.firstSend = now }
        sentAt[ids[next]] = now
        link.write(frames[next])
        next += 1
        needsFlush = true
    }

    func received(_ text: UnsafeRawBufferPointer, at nanos: UInt64, _ link: SocketLink) {
        switch link.reply(text) {
        case .ok(let id, let accepted, let message):
            guard let sent = sentAt.removeValue(forKey: id) else { return }
            result.latencies.append(nanos &- sent)
            result.lastReply = nanos
            if message.hasPrefix("duplicate:") {
                result.duplicate += 1
            } else if accepted {
                result.accepted += 1
            } else {
                result.rejected += 1
                result.messages.add(message)
            }
            if next < frames.count {
                send(link)
            } else if sentAt.isEmpty {
                link.finish()
            }
        case .notice(let message):
            result.notices += 1
            result.messages.add("NOTICE " + message)
        default:
            break
        }
    }

    func readComplete(_ link: SocketLink) {
        guard needsFlush else { return }
        needsFlush = false
        link.flush()
    }

    func outcome() -> Outcome {
        var outcome = result
        outcome.unanswered = frames.count - (result.accepted + result.duplicate + result.rejected)
        return outcome
    }
}

extension RunContext {
    /// Publishes `events` over `connections` connections (round robin), `window` unanswered
    /// on each, and measures per-event OK latency and events/s.
    func publish(_ events: [Event], name: String) async throws -> PhaseResult {
        let connections = max(1, min(configuration.connections, events.count))
        var slices = [[Event]](repeating: [], count: connections)
        for (index, event) in events.enumerated() { slices[index % connections].append(event) }
        let wire = self.wire
        let prepared = slices.map { slice in (slice.map { Frames.event($0, wire) }, slice.map(\.id)) }
        let window = configuration.window
        let deadline = phaseDeadline
        let (outcomes, usage) = try await timed {
            let (opened, _) = try await openMany(connections, deadline: deadline) { index, _ in
                IngestDriver(frames: prepared[index].0, ids: prepared[index].1, window: window)
            }
            var outcomes = [IngestDriver.Outcome]()
            for connection in opened { outcomes.append(try await connection.outcome.get()) }
            return outcomes
        }
        var latencies = [UInt64]()
        var messages = MessageTally()
        var counters = ["accepted": 0, "duplicate": 0, "rejected": 0, "unanswered": 0, "notices": 0]
        for outcome in outcomes {
            latencies += outcome.latencies
            messages.merge(outcome.messages)
            counters["accepted"]! += outcome.accepted
            counters["duplicate"]! += outcome.duplicate
            counters["rejected"]! += outcome.rejected
            counters["unanswered"]! += outcome.unanswered
            counters["notices"]! += outcome.notices
        }
        // From the first write to the last OK: connection set-up is not part of ingest.
        let first = outcomes.map(\.firstSend).min() ?? 0
        let last = outcomes.map(\.lastReply).max() ?? 0
        let seconds = last > first ? Double(last - first) / 1e9 : usage.wallSeconds
        return PhaseResult(
            name: name, count: latencies.count, unit: "events", seconds: seconds, latencies: latencies, usage: usage,
            counters: counters, messages: messages.counts)
    }

    /// The `ingest` and `duplicates` scenarios.
    func ingest(into report: inout BenchReport) async throws {
        let events = await signedEvents(configuration.events, stream: 1, label: "ingest", endingAt: now)
        log("timing \(configuration.verifySamples) verifications on one core")
        let bound = VerifyBound.measure(events: events, samples: configuration.verifySamples)
        report.verifyBound = bound
        log("ingest: \(events.count) events over \(configuration.connections) connections, window \(configuration.window)")
        let fresh = try await publish(events, name: "ingest")
        report.phases.append(fresh)
        report.boundRatio = fresh.throughput / bound.eventsPerSecond
        guard configuration.scenario == .duplicates else { return }
        log("duplicates: the same \(events.count) events again")
        let again = try await publish(events, name: "duplicates")
        report.phases.append(again)
        if fresh.throughput > 0 { report.ratios["duplicates/ingest throughput"] = again.throughput / fresh.throughput }
        if fresh.latency.p50 > 0 { report.ratios["duplicates/ingest p50 latency"] = again.latency.p50 / fresh.latency.p50 }
    }
}
