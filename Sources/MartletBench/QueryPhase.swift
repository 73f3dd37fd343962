import NostrCore
internal import NIOCore

/// The REQ shapes of the query scenario, each with `limit` 100 as clients ask.
enum QueryShape: Int, CaseIterable, Sendable {
    case author, kind, tag, window, authorKind

    var name: String {
        switch self {
        case .author: "author"
        case .kind: "kind"
        case .tag: "#t"
        case .window: "time window"
        case .authorKind: "author+kind"
        }
    }
}

/// Runs a list of REQs over one connection, `window` at a time, and times each from its
/// write to its `EOSE` (or `CLOSED`), closing each subscription once it is answered.
final class QueryDriver: SocketDriver {
    struct Finished: Sendable {
        var shape: QueryShape
        var nanos: UInt64
        var events: Int
        var refused: Bool
    }

    struct Outcome: Sendable {
        var finished: [Finished] = []
        var messages = MessageTally()
        var firstSend: UInt64 = .max
        var lastReply: UInt64 = 0
    }

    private struct InFlight {
        var shape: QueryShape
        var sentAt: UInt64
        var events: Int
    }

    private let requests: [(subscription: String, shape: QueryShape, frame: ByteBuffer)]
    private let window: Int
    private var next = 0
    private var inFlight: [String: InFlight] = [:]
    private var needsFlush = false
    private var result = Outcome()

    init(requests: [(subscription: String, shape: QueryShape, frame: ByteBuffer)], window: Int) {
        self.requests = requests
        self.window = max(1, window)
    }

    func opened(_ link: SocketLink) {
        link.markReady()
        guard !requests.isEmpty else { return link.finish() }
        while next < requests.count && inFlight.count < window { send(link) }
        link.flush()
    }

    private func send(_ link: SocketLink) {
        let request = requests[next]
        let now = monotonicNanos()
        if result.firstSend == .max { result.firstSend = now }
        inFlight[request.subscription] = InFlight(shape: request.shape, sentAt: now, events: 0)
        link.write(request.frame)
        next += 1
        needsFlush = true
    }

    func received(_ text: UnsafeRawBufferPointer, at nanos: UInt64, _ link: SocketLink) {
        let subscription: String
        var refused = false
        switch link.reply(text) {
        case .event(let owner, _):
            inFlight[owner]?.events += 1
            return
        case .eose(let id):
            subscription = id
        case .closed(let id, let message):
            subscription = id
            refused = true
            result.messages.add("CLOSED " + message)
        case .notice(let message):
            result.messages.add("NOTICE " + message)
            return
        default:
            return
        }
        guard let query = inFlight.removeValue(forKey: subscription) else { return }
        result.finished.append(
            Finished(shape: query.shape, nanos: nanos &- query.sentAt, events: query.events, refused: refused))
        result.lastReply = nanos
        if !refused { link.write(Frames.close(subscription)) }
        needsFlush = true
        if next < requests.count {
            send(link)
        } else if inFlight.isEmpty {
            link.flush()
            link.finish()
        }
    }

    func readComplete(_ link: SocketLink) {
        guard needsFlush else { return }
        needsFlush = false
        link.flush()
    }

    func outcome() -> Outcome { result }
}

extension RunContext {
    /// The `query` scenario: preload, then every shape in turn, timed to EOSE.
    func query(into report: inout BenchReport) async throws {
        let preloadNow = now
        if configuration.preload > 0 {
            let events = await signedEvents(configuration.preload, stream: 2, label: "preload")
            log("preload: \(events.count) events")
            report.phases.append(try await publish(events, name: "preload"))
        }
        // Most relays cap open subscriptions per connection (Martlet 50, strfry 20).
        let window = min(configuration.window, 16)
        var random = SplitMix64(seed: configuration.seed &+ 3)
        let requests = (0..<configuration.queries).map { index in
            let shape = QueryShape.allCases[index % QueryShape.allCases.count]
            let subscription = "q\(index)"
            return (subscription, shape, Frames.request(subscription, filter(shape, &random, now: preloadNow)))
        }
        let connections = max(1, min(configuration.connections, requests.count))
        let slices = (0..<connections).map { slice in
            stride(from: slice, to: requests.count, by: connections).map { requests[$0] }
        }
        log("query: \(requests.count) REQs over \(connections) connections, \(window) in flight on each")
        let deadline = phaseDeadline
        let (outcomes, usage) = try await timed {
            let (opened, _) = try await openMany(connections, deadline: deadline) { index, _ in
                QueryDriver(requests: slices[index], window: window)
            }
            var outcomes = [QueryDriver.Outcome]()
            for connection in opened { outcomes.append(try await connection.outcome.get()) }
            return outcomes
        }
        let finished = outcomes.flatMap(\.finished)
        var messages = MessageTally()
        for outcome in outcomes { messages.merge(outcome.messages) }
        let first = outcomes.map(\.firstSend).min() ?? 0
        let last = outcomes.map(\.lastReply).max() ?? 0
        let seconds = last > first ? Double(last - first) / 1e9 : usage.wallSeconds
        report.phases.append(
            PhaseResult(
                name: "query", count: finished.count, unit: "queries", seconds: seconds,
                latencies: finished.map(\.nanos), usage: usage,
                counters: [
                    "events returned": finished.reduce(0) { $0 + $1.events },
                    "refused": finished.filter(\.refused).count,
                    "unanswered": requests.count - finished.count,
                ],
                messages: messages.counts))
        for shape in QueryShape.allCases {
            let some = finished.filter { $0.shape == shape }
            report.phases.append(
                PhaseResult(
                    name: "  " + shape.name, count: some.count, unit: "queries", seconds: seconds,
                    latencies: some.map(\.nanos), usage: Usage(wallSeconds: seconds, relayCPUSeconds: nil, benchCPUSeconds: 0),
                    counters: ["events returned": some.reduce(0) { $0 + $1.events }]))
        }
        report.notes.append("per-shape rows share the phase's wall time; their throughput is that shape's share")
    }

    func filter(_ shape: QueryShape, _ random: inout SplitMix64, now: Int64) -> Filter {
        let author = workload.authors[workload.author(&random)].publicKey
        switch shape {
        case .author:
            return Filter(authors: [author], limit: 100)
        case .kind:
            let kinds: [Kind] = [.textNote, .textNote, .textNote, .reaction, .metadata, .contacts, Kind(30023)]
            return Filter(kinds: [kinds[Int.random(in: 0..<kinds.count, using: &random)]], limit: 100)
        case .tag:
            return Filter(tags: [UInt8(ascii: "t"): [workload.topic(&random)]], limit: 100)
        case .window:
            let since = now - Int64.random(in: 3_600..<(30 * 86_400), using: &random)
            return Filter(since: since, until: since + 6 * 3_600, limit: 100)
        case .authorKind:
            return Filter(authors: [author], kinds: [.textNote], limit: 100)
        }
    }
}
