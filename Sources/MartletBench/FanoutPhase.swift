import NostrCore
internal import NIOCore

/// One live subscriber: subscribes, reports ready at EOSE, then stamps the arrival of
/// each published event in a table indexed like the publisher's, so a delivery costs
/// one id parse and one store, and the table's size is fixed before the run.
final class SubscriberDriver: SocketDriver {
    struct Outcome: Sendable {
        /// Arrival time per published event, 0 when it never came.
        var receivedAt: [UInt64]
        /// From the start of the connect to the subscription's EOSE.
        var nanosToEOSE: UInt64?
        var repeats = 0
        var strangers = 0
        var messages = MessageTally()
        var endedAt: UInt64 = 0
    }

    private let request: ByteBuffer
    private let index: [EventID: Int]
    private let startedAt: UInt64
    private var result: Outcome

    init(request: ByteBuffer, index: [EventID: Int], startedAt: UInt64) {
        self.request = request
        self.index = index
        self.startedAt = startedAt
        self.result = Outcome(receivedAt: [UInt64](repeating: 0, count: index.count))
    }

    func opened(_ link: SocketLink) {
        link.write(request)
        link.flush()
    }

    func received(_ text: UnsafeRawBufferPointer, at nanos: UInt64, _ link: SocketLink) {
        switch link.reply(text) {
        case .event(_, let id):
            guard let slot = index[id] else { return result.strangers += 1 }
            if result.receivedAt[slot] == 0 { result.receivedAt[slot] = nanos } else { result.repeats += 1 }
        case .eose:
            if result.nanosToEOSE == nil { result.nanosToEOSE = nanos &- startedAt }
            link.markReady()
        case .closed(_, let message):
            result.messages.add("CLOSED " + message)
        case .notice(let message):
            result.messages.add("NOTICE " + message)
        default:
            break
        }
    }

    func outcome() -> Outcome {
        var outcome = result
        outcome.endedAt = monotonicNanos()
        return outcome
    }
}

/// The one publisher: sends event `i` at `start + i / rate`, stamping each write, and
/// finishes once every event is sent and answered.
final class PublisherDriver: SocketDriver {
    struct Outcome: Sendable {
        var sentAt: [UInt64]
        var accepted: [Bool]
        var okLatencies: [UInt64] = []
        var rejected = 0
        var lastReply: UInt64 = 0
        var messages = MessageTally()
    }

    private let frames: [ByteBuffer]
    private let index: [EventID: Int]
    private let interval: UInt64
    private var start: UInt64 = 0
    private var next = 0
    private var answered = 0
    private var result: Outcome

    init(frames: [ByteBuffer], index: [EventID: Int], rate: Int) {
        self.frames = frames
        self.index = index
        self.interval = 1_000_000_000 / UInt64(max(1, rate))
        self.result = Outcome(
            sentAt: [UInt64](repeating: 0, count: frames.count), accepted: [Bool](repeating: false, count: frames.count))
    }

    func opened(_ link: SocketLink) {
        link.markReady()
        start = monotonicNanos()
        tick(link)
    }

    private func tick(_ link: SocketLink) {
        let now = monotonicNanos()
        let due = min(frames.count, Int((now - start) / interval) + 1)
        while next < due {
            result.sentAt[next] = monotonicNanos()
            link.write(frames[next])
            next += 1
        }
        link.flush()
        guard next < frames.count else { return }
        let wait = (start + UInt64(next) * interval) &- monotonicNanos()
        // Never busy-spin: a fast rate sends in small bursts instead.
        let delay = wait > UInt64(Int64.max) ? 200_000 : max(200_000, Int64(wait))
        link.schedule(after: .nanoseconds(delay)) { [weak self] in self?.tick(link) }
    }

    func received(_ text: UnsafeRawBufferPointer, at nanos: UInt64, _ link: SocketLink) {
        guard case .ok(let id, let accepted, let message) = link.reply(text), let slot = index[id] else { return }
        result.accepted[slot] = accepted && !message.hasPrefix("duplicate:")
        result.okLatencies.append(nanos &- result.sentAt[slot])
        result.lastReply = nanos
        if !accepted {
            result.rejected += 1
            result.messages.add(message)
        }
        answered += 1
        if answered == frames.count { link.finish() }
    }

    func outcome() -> Outcome { result }
}

extension RunContext {
    /// The `fanout` scenario.
    func fanout(into report: inout BenchReport) async throws {
        let tag = "martlet-bench-\(UInt32.random(in: 0...UInt32.max))"
        let count = max(1, configuration.rate * configuration.seconds)
        let events = await signedWithLog(count: count, tag: tag)
        let index = Dictionary(uniqueKeysWithValues: events.enumerated().map { ($0.element.id, $0.offset) })
        let frames = events.map { Frames.event($0, wire) }
        let request = Frames.request("live", Filter(tags: [UInt8(ascii: "t"): [tag]]), wire)
        let deadline = phaseDeadline

        log("fanout: opening \(configuration.subscribers) subscribers")
        let ((subscribers, failedToOpen), openUsage) = try await timed {
            let (subscribers, failed) = try await openMany(
                configuration.subscribers, deadline: deadline, tolerant: true
            ) { _, startedAt in
                SubscriberDriver(request: request, index: index, startedAt: startedAt)
            }
            _ = await awaitReady(subscribers)
            return (subscribers, failed)
        }
        let ready = await awaitReady(subscribers)
        log("fanout: \(ready) subscribers ready in \(String(format: "%.2f", openUsage.wallSeconds)) s; publishing \(count) events at \(configuration.rate)/s")

        let drain: Int64 = 3
        let (outcomes, usage) = try await timed {
            let publisher = try await BenchSocket.open(url, on: group, deadline: deadline, wire: wire) {
                PublisherDriver(frames: frames, index: index, rate: configuration.rate)
            }
            let published = try await publisher.outcome.get()
            // Deliveries still in flight after the last OK get a few seconds; later ones count as lost.
            try await Task.sleep(for: .seconds(drain))
            let stoppedAt = monotonicNanos()
            subscribers.forEach { $0.finish() }
            var received = [SubscriberDriver.Outcome]()
            for subscriber in subscribers { received.append(try await subscriber.outcome.get()) }
            return (published, received, stoppedAt)
        }
        let (published, everyone, stoppedAt) = outcomes
        // Only subscribers that saw EOSE were live when publishing began; the rest are "not ready".
        let received = everyone.filter { $0.nanosToEOSE != nil }
        let acceptedSlots = published.accepted.indices.filter { published.accepted[$0] }
        var latencies = [UInt64]()
        latencies.reserveCapacity(acceptedSlots.count * received.count)
        var lost = 0
        var messages = published.messages
        var endedEarly = 0
        for outcome in everyone { messages.merge(outcome.messages) }
        for outcome in received {
            // Ended before the bench stopped it: the relay closed it (a slow-consumer cut, say).
            if outcome.endedAt < stoppedAt { endedEarly += 1 }
            for slot in acceptedSlots {
                let at = outcome.receivedAt[slot]
                if at == 0 { lost += 1 } else { latencies.append(at &- published.sentAt[slot]) }
            }
        }
        let first = published.sentAt.filter { $0 > 0 }.min() ?? 0
        let last = received.map { $0.receivedAt.max() ?? 0 }.max() ?? 0
        let seconds = last > first ? Double(last - first) / 1e9 : usage.wallSeconds
        report.phases.append(
            PhaseResult(
                name: "subscribe", count: ready, unit: "connections", seconds: openUsage.wallSeconds,
                latencies: everyone.compactMap(\.nanosToEOSE), usage: openUsage,
                counters: ["failed to connect": failedToOpen, "not ready": subscribers.count - ready]))
        report.phases.append(
            PhaseResult(
                name: "publish OK", count: published.okLatencies.count, unit: "events",
                seconds: published.lastReply > first ? Double(published.lastReply - first) / 1e9 : 0,
                latencies: published.okLatencies, usage: usage,
                counters: [
                    "accepted": acceptedSlots.count, "rejected": published.rejected,
                    "unanswered": count - published.okLatencies.count,
                ]))
        report.phases.append(
            PhaseResult(
                name: "fanout delivery", count: latencies.count, unit: "deliveries", seconds: seconds,
                latencies: latencies, usage: usage,
                counters: [
                    "expected": acceptedSlots.count * received.count, "lost": lost,
                    "repeated": received.reduce(0) { $0 + $1.repeats },
                    "unknown events": received.reduce(0) { $0 + $1.strangers },
                    "subscribers cut off": endedEarly,
                ],
                messages: messages.counts))
        let expected = acceptedSlots.count * received.count
        if expected > 0 { report.ratios["lost deliveries"] = Double(lost) / Double(expected) }
        report.notes.append("relay and bench CPU of the delivery row cover publishing plus a \(drain) s drain")
    }

    private func signedWithLog(count: Int, tag: String) async -> [Event] {
        let start = monotonicNanos()
        let events = await workload.liveNotes(count: count, tag: tag, now: now)
        log("signed \(events.count) live events in \(Self.seconds(since: start)) s on \(System.coreCount) cores")
        return events
    }
}
