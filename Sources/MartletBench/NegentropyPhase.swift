import Negentropy
import NostrCore
internal import NIOCore

/// Runs one NIP-77 reconciliation over one connection, as `martlet sync` would: a
/// `NEG-OPEN` carrying the local items' first message, then a `NEG-MSG` for every answer
/// until the local side has nothing more to ask, then `NEG-CLOSE`. Each round trip is
/// timed; the ids found missing on either side are counted, never fetched.
final class NegentropyDriver: SocketDriver {
    struct Outcome: Sendable {
        var roundTrips: [UInt64] = []
        /// Ids the local side has and the relay lacks.
        var have = 0
        /// Ids the relay has and the local side lacks.
        var need = 0
        var bytesSent = 0
        var bytesReceived = 0
        var complete = false
        var failure: String?
    }

    private let initiator: NegentropyInitiator<SortedItems>
    private let filter: Filter
    private let subscription = SubscriptionID("neg-bench")
    private var sentAt: UInt64 = 0
    private var result = Outcome()

    init(initiator: NegentropyInitiator<SortedItems>, filter: Filter) {
        self.initiator = initiator
        self.filter = filter
    }

    func opened(_ link: SocketLink) {
        link.markReady()
        let first = NegentropyHex.encode(initiator.initiate())
        send(ClientMessage.negOpen(subscription, filter, first), link)
    }

    private func send(_ message: ClientMessage, _ link: SocketLink) {
        let bytes = message.encoded()
        result.bytesSent += bytes.count
        sentAt = monotonicNanos()
        link.write(bytes)
        link.flush()
    }

    func received(_ text: UnsafeRawBufferPointer, at nanos: UInt64, _ link: SocketLink) {
        // A handful of messages per run: the full decoder costs nothing here.
        guard let message = try? RelayMessage.decode(text) else { return }
        switch message {
        case .negMsg(let id, let hex) where id == subscription:
            result.roundTrips.append(nanos &- sentAt)
            result.bytesReceived += text.count
            do {
                let step = try initiator.reconcile(try NegentropyHex.decode(hex))
                result.have += step.haveIDs.count
                result.need += step.needIDs.count
                if let next = step.nextMessage {
                    send(.negMsg(subscription, NegentropyHex.encode(next)), link)
                } else {
                    result.complete = true
                    send(.negClose(subscription), link)
                    link.finish()
                }
            } catch {
                fail("unreadable NEG-MSG: \(error)", link)
            }
        case .negErr(let id, let reason) where id == subscription:
            fail("NEG-ERR " + reason, link)
        case .notice(let notice):
            fail("NOTICE " + notice, link)
        default:
            return
        }
    }

    private func fail(_ reason: String, _ link: SocketLink) {
        result.failure = reason
        link.finish()
    }

    func outcome() -> Outcome { result }
}

extension RunContext {
    /// The `negentropy` scenario: publish `preload` short notes, then reconcile a local
    /// set that lacks `differences / 2` of them and holds as many the relay has never
    /// seen, and time it.
    ///
    /// The relay should hold nothing else (start it on an empty folder): the filter is
    /// `{}`, as in a full sync between two relays, and anything else stored counts as a
    /// difference.
    func negentropy(into report: inout BenchReport) async throws {
        let anchor = self.anchor
        let notes = await workload.notes(count: configuration.preload, stream: 4, now: anchor)
        log("preload: \(notes.count) notes anchored at \(anchor) (--anchor \(anchor) repeats them)")
        report.phases.append(try await publish(notes, name: "preload"))

        let missing = min(configuration.differences / 2, notes.count)
        let extra = configuration.differences - missing
        var random = SplitMix64(seed: configuration.seed &+ 0xD1FF)
        var local = notes[missing...].map { NegentropyItem(timestamp: UInt64($0.createdAt), id: $0.id.raw) }
        for _ in 0..<extra {
            let createdAt = anchor - Int64.random(in: 0..<(30 * 86_400), using: &random)
            let id = Bytes32(w0: random.next(), w1: random.next(), w2: random.next(), w3: random.next())
            local.append(NegentropyItem(timestamp: UInt64(createdAt), id: id))
        }
        let items = try SortedItems(local)
        let initiator = try NegentropyInitiator(storage: items, frameSizeLimit: configuration.frameSizeLimit)
        log("negentropy: \(items.count) local items against the relay's, \(missing) + \(extra) differences")

        let deadline = phaseDeadline
        let (outcome, usage) = try await timed {
            let (opened, _) = try await openMany(1, deadline: deadline) { _, _ in
                NegentropyDriver(initiator: initiator, filter: Filter())
            }
            return try await opened[0].outcome.get()
        }
        var messages = MessageTally()
        if let failure = outcome.failure { messages.add(failure) }
        let seconds = Double(outcome.roundTrips.reduce(0, +)) / 1e9
        report.phases.append(
            PhaseResult(
                name: "reconcile", count: outcome.roundTrips.count, unit: "round trips",
                seconds: outcome.complete ? seconds : usage.wallSeconds, latencies: outcome.roundTrips, usage: usage,
                counters: [
                    "have (relay lacks)": outcome.have, "need (relay has)": outcome.need,
                    "expected have": extra, "expected need": missing,
                    "bytes sent": outcome.bytesSent, "bytes received": outcome.bytesReceived,
                    "complete": outcome.complete ? 1 : 0,
                ],
                messages: messages.counts))
        if outcome.have != extra || outcome.need != missing {
            report.notes.append(
                "the differences found are not the ones made: does the relay hold events besides the preload?")
        }
        report.notes.append("reconcile: seconds are the sum of the round trips; latencies are per round trip")
    }
}
