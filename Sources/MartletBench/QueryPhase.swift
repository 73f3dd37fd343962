import NostrCore
internal import NIOCore

/// The request shapes the scenarios time: the query scenario's REQs (each with `limit` 100
/// as clients ask), the search scenario's, and the count scenario's COUNT.
enum QueryShape: Int, CaseIterable, Sendable {
    case author, kind, tag, window, authorKind
    /// NIP-50: one word of the workload's vocabulary, which most stored notes contain.
    case commonWord
    /// NIP-50: one word that a few hundred stored notes contain.
    case rareWord
    /// NIP-45: the reactions (kind 7) to one event, `#e`.
    case reactionCount

    /// The query scenario's mix.
    static let mixed: [QueryShape] = [.author, .kind, .tag, .window, .authorKind]

    var name: String {
        switch self {
        case .author: "author"
        case .kind: "kind"
        case .tag: "#t"
        case .window: "time window"
        case .authorKind: "author+kind"
        case .commonWord: "search, common word"
        case .rareWord: "search, rare word"
        case .reactionCount: "COUNT reactions #e"
        }
    }
}

/// Runs a list of REQs (or COUNTs) over one connection, `window` at a time, and times each
/// from its write to its `EOSE` or `COUNT` (or `CLOSED`), closing each REQ once it is answered.
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
        case .eose(let id), .count(let id, _):
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
        // A COUNT leaves nothing open; a REQ stays open until CLOSE.
        if !refused && query.shape != .reactionCount { link.write(Frames.close(subscription)) }
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
    /// The `query` scenario: preload, then every shape in turn, timed to EOSE. Windows fall
    /// in the 30 days before the anchor, where the preloaded (or seeded) events are.
    func query(into report: inout BenchReport) async throws {
        // Read once, before the preload: without --anchor, windows end where its events do.
        let anchor = self.anchor
        try await preload(into: &report)
        var random = SplitMix64(seed: configuration.seed &+ 3)
        let requests = (0..<configuration.queries).map { index in
            let shape = QueryShape.mixed[index % QueryShape.mixed.count]
            let subscription = "q\(index)"
            return (subscription, shape, Frames.request(subscription, filter(shape, &random, now: anchor)))
        }
        try await time(requests, name: "query", shapes: QueryShape.mixed, into: &report)
    }

    /// Sends `requests` over `configuration.connections` connections (at most 16 in flight
    /// on each) and reports the phase `name`, then a row per shape in `shapes`.
    func time(
        _ requests: [(subscription: String, shape: QueryShape, frame: ByteBuffer)], name: String,
        shapes: [QueryShape], into report: inout BenchReport
    ) async throws {
        // Most relays cap open subscriptions per connection (Martlet 50, strfry 20).
        let window = min(configuration.window, 16)
        let connections = max(1, min(configuration.connections, requests.count))
        let slices = (0..<connections).map { slice in
            stride(from: slice, to: requests.count, by: connections).map { requests[$0] }
        }
        log("\(name): \(requests.count) requests over \(connections) connections, \(window) in flight on each")
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
                name: name, count: finished.count, unit: "queries", seconds: seconds,
                latencies: finished.map(\.nanos), usage: usage,
                counters: [
                    "events returned": finished.reduce(0) { $0 + $1.events },
                    "refused": finished.filter(\.refused).count,
                    "unanswered": requests.count - finished.count,
                ],
                messages: messages.counts))
        guard shapes.count > 1 else { return }
        for shape in shapes {
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
        case .commonWord, .rareWord, .reactionCount:
            preconditionFailure("\(shape.name) is not a shape of the query scenario")
        }
    }
}
