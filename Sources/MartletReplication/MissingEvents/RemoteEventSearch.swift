public import Logging
public import NostrCore
import Synchronization

/// Asks a few relays at once for events by id, and returns the valid ones found within a
/// time budget: what `martlet fetch` and `discovery.fetch_missing` have in common.
///
/// Every relay gets one REQ (`ids`, the `authors` if known, `limit` the number of ids); an
/// event counts only when it is one of the ids asked for and its id and signature verify,
/// so a relay that answers with something else cannot hide the real event behind it. The
/// search ends when every id is found, every relay has answered, or the budget is spent;
/// the connections still open then are left to close on their own timeouts (the budget),
/// and `whenDone` is told, with every id found, once the last of them has.
///
/// ```swift
/// let found = await RemoteEventSearch.run(ids: [id], authors: [], relays: ["wss://a.example"], budget: .seconds(3))
/// for (event, url) in found { _ = await relay.ingest(event, origin: .peer(url)) }
/// ```
public enum RemoteEventSearch {
    /// One event found, and the relay that had it.
    public typealias Found = (event: Event, relay: String)

    public static func run(
        ids: Set<EventID>, authors: Set<PublicKey>, relays: [String], budget: Duration, signer: SecretKey? = nil,
        logger: Logger = Logger(label: "martlet.fetch")
    ) async -> [Found] {
        await run(ids: ids, authors: authors, relays: { relays }, budget: budget, signer: signer, logger: logger)
    }

    /// The same, with the relays to ask found first (a DHT lookup, a store query): that
    /// part spends the same budget.
    public static func run(
        ids: Set<EventID>, authors: Set<PublicKey>, relays: @escaping @Sendable () async -> [String], budget: Duration,
        signer: SecretKey? = nil, logger: Logger = Logger(label: "martlet.fetch"),
        whenDone: @escaping @Sendable (_ found: Set<EventID>) -> Void = { _ in }
    ) async -> [Found] {
        let collector = Collector(wanted: ids)
        let search = Task {
            let urls = ids.isEmpty ? [] : await relays()
            await withTaskGroup(of: Void.self) { group in
                for url in urls {
                    group.addTask {
                        await ask(url, ids: ids, authors: authors, budget: budget, signer: signer, into: collector, logger: logger)
                    }
                }
            }
            collector.finish()
            whenDone(collector.foundIDs)
        }
        let timer = Task {
            try? await Task.sleep(for: budget)
            collector.finish()
        }
        let found = await withTaskCancellationHandler {
            await collector.result()
        } onCancel: {
            collector.finish()
        }
        timer.cancel()
        search.cancel()
        return found
    }

    private static func ask(
        _ url: String, ids: Set<EventID>, authors: Set<PublicKey>, budget: Duration, signer: SecretKey?,
        into collector: Collector, logger: Logger
    ) async {
        let filter = Filter(ids: ids, authors: authors.isEmpty ? nil : authors, limit: ids.count)
        do {
            let client = try await RelayClient.connect(to: url, replyTimeout: budget, signer: signer, logger: logger)
            let events: [Event]
            do {
                // Every event asked for, and as many again of whatever else the relay sends.
                events = try await client.fetch([filter], maxEvents: 2 * ids.count)
            } catch {
                await client.close()
                throw error
            }
            await client.close()
            for event in events where ids.contains(event.id) && (try? event.validate()) != nil {
                collector.add(event, from: url)
            }
        } catch {
            logger.debug("a relay did not answer a fetch", metadata: ["url": "\(url)", "error": "\(error)"])
        }
    }

    /// The events found so far, handed out once: when every id is in, when the search ends,
    /// or when the budget is spent, whichever is first.
    private final class Collector: Sendable {
        private struct State {
            var found: [EventID: Found] = [:]
            var waiting: CheckedContinuation<[Found], Never>?
            var finished = false
        }

        private let wanted: Set<EventID>
        private let state = Mutex(State())

        init(wanted: Set<EventID>) { self.wanted = wanted }

        var foundIDs: Set<EventID> { state.withLock { Set($0.found.keys) } }

        func add(_ event: Event, from url: String) {
            let complete = state.withLock { state -> Bool in
                if state.found[event.id] == nil { state.found[event.id] = (event, url) }
                return state.found.count == wanted.count
            }
            if complete { finish() }
        }

        func finish() {
            let (waiting, found) = state.withLock { state -> (CheckedContinuation<[Found], Never>?, [Found]) in
                state.finished = true
                defer { state.waiting = nil }
                return (state.waiting, Array(state.found.values))
            }
            waiting?.resume(returning: found)
        }

        func result() async -> [Found] {
            await withCheckedContinuation { continuation in
                let ready = state.withLock { state -> [Found]? in
                    if state.finished { return Array(state.found.values) }
                    state.waiting = continuation
                    return nil
                }
                if let ready { continuation.resume(returning: ready) }
            }
        }
    }
}
