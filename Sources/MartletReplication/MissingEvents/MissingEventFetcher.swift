public import Logging
public import MartletRelay
public import NostrCore
import Synchronization

/// `discovery.fetch_missing`: the relay's `MissingEventFinder`. A REQ by ids that misses
/// here asks the relays `relaysFor` names (the authors' NIP-65 write relays, or, for a REQ
/// without `authors`, the relays discovery found), within `configuration.timeout`; what
/// comes back verified goes through `Relay.ingest(_:origin:)` as from a peer, so every
/// write policy applies, and is then part of the answer.
///
/// Bounded against clients that would use it to make the relay call around: a number of
/// searches at once (past it, a REQ just gets what is stored), ids per search, relays per
/// search, and a memory of ids found nowhere (also what stops two relays that both miss
/// an id from asking each other in a loop: the second ask finds it in flight).
///
/// ```swift
/// let fetcher = MissingEventFetcher(relay: relay, configuration: settings.fetchMissing) { authors in
///     await authorRelays.relays(of: authors)
/// }
/// relay.missingEvents.use(fetcher)
/// ```
public final class MissingEventFetcher: MissingEventFinder {
    public let configuration: MissingEventsConfiguration
    private let relay: Relay
    private let relaysFor: @Sendable (Set<PublicKey>) async -> [String]
    private let signer: SecretKey?
    private let logger: Logger
    private let state = Mutex(State())

    private struct State {
        var searches = 0
        var inFlight = Set<EventID>()
        /// Ids found nowhere, and until when that answer stands; `missOrder` is oldest first.
        var misses: [EventID: ContinuousClock.Instant] = [:]
        var missOrder: [EventID] = []
    }

    /// - Parameters:
    ///   - relaysFor: the relays to ask for events by these authors (none named: any
    ///     relay worth asking), best first; at most `maxRelays` of them are asked.
    ///   - signer: answers the remote relays' NIP-42 challenges (`mesh.secret_key`).
    public init(
        relay: Relay, configuration: MissingEventsConfiguration, signer: SecretKey? = nil,
        logger: Logger = Logger(label: "martlet.fetch"),
        relaysFor: @escaping @Sendable (Set<PublicKey>) async -> [String]
    ) {
        self.relay = relay
        self.configuration = configuration
        self.relaysFor = relaysFor
        self.signer = signer
        self.logger = logger
    }

    /// Searches running now (each until its last connection has ended).
    public var searchesInFlight: Int { state.withLock { $0.searches } }

    public func find(_ ids: Set<EventID>, authors: Set<PublicKey>) async -> [Event] {
        guard let wanted = begin(ids) else { return [] }
        let found = await RemoteEventSearch.run(
            ids: wanted, authors: authors, relays: { [self] in await candidates(authors) }, budget: configuration.timeout,
            signer: signer, logger: logger, whenDone: { [self] found in end(wanted, found: found) })
        var held: [Event] = []
        for (event, url) in found {
            switch await relay.ingest(event, origin: .peer(url)) {
            case .accepted, .duplicate(.alreadyStored):
                held.append(event)
            case .duplicate(.superseded), .shadowRejected:
                continue
            case .refused(let reason):
                logger.info("a fetched event was refused", metadata: ["id": "\(event.id)", "reason": "\(reason.message)"])
            }
        }
        return held
    }

    /// The relays asked: `relaysFor`'s, this relay excluded, each once, at most `maxRelays`.
    private func candidates(_ authors: Set<PublicKey>) async -> [String] {
        var seen = Set(relay.addresses.all.map(RelayURL.normalize))
        return await relaysFor(authors).filter { url in
            (url.hasPrefix("ws://") || url.hasPrefix("wss://")) && seen.insert(RelayURL.normalize(url)).inserted
        }.prefix(configuration.maxRelays).map { $0 }
    }

    /// The ids to look for now (neither in flight nor lately missed, at most `maxIDs`), with a
    /// search slot taken; nil when there is nothing to look for or no slot free.
    private func begin(_ ids: Set<EventID>) -> Set<EventID>? {
        let now = ContinuousClock.now
        return state.withLock { state -> Set<EventID>? in
            guard state.searches < configuration.maxConcurrentSearches else { return nil }
            let wanted = Set(
                ids.sorted().filter { id in
                    !state.inFlight.contains(id) && (state.misses[id].map { $0 <= now } ?? true)
                }.prefix(configuration.maxIDs))
            guard !wanted.isEmpty else { return nil }
            state.searches += 1
            state.inFlight.formUnion(wanted)
            return wanted
        }
    }

    /// Frees the search's slot once its last connection ended, and remembers the misses.
    private func end(_ wanted: Set<EventID>, found: Set<EventID>) {
        let until = ContinuousClock.now + configuration.missMemory
        state.withLock { state in
            state.searches -= 1
            state.inFlight.subtract(wanted)
            for id in wanted.subtracting(found) {
                if state.misses.updateValue(until, forKey: id) == nil { state.missOrder.append(id) }
            }
            while state.missOrder.count > configuration.maxRememberedMisses {
                state.misses[state.missOrder.removeFirst()] = nil
            }
        }
    }
}
