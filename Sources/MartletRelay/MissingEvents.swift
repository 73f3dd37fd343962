public import NostrCore
import Synchronization

/// Looks elsewhere for events a REQ asked for by id that this relay does not hold
/// (`discovery.fetch_missing`), and brings back those it could ingest. A higher module
/// fulfils it (MartletReplication's `MissingEventFetcher`: the authors' relays, over
/// WebSockets); the relay only asks, within the finder's own time budget.
///
/// ```swift
/// relay.missingEvents.use(fetcher)
/// let found = await relay.missingEvents.finder?.find([id], authors: [pubkey])
/// ```
public protocol MissingEventFinder: Sendable {
    /// The events among `ids` found elsewhere and now held here: each went through
    /// `Relay.ingest(_:origin:)` and was accepted, or was already stored. `authors` are the
    /// pubkeys the request named beside the ids (possibly none). Returns within the
    /// finder's time budget, with what it has by then.
    func find(_ ids: Set<EventID>, authors: Set<PublicKey>) async -> [Event]
}

/// Where `RelaySession` finds the relay's `MissingEventFinder`, set once the services that
/// fulfil it exist (they are built after the relay).
public final class MissingEvents: Sendable {
    private let current = Mutex<(any MissingEventFinder)?>(nil)

    public init() {}

    public var finder: (any MissingEventFinder)? { current.withLock { $0 } }

    /// Sets (or, with nil, removes) the finder REQs by id fall back on.
    public func use(_ finder: (any MissingEventFinder)?) {
        current.withLock { $0 = finder }
    }

    /// What `filters` ask for by id and `stored` lacks, with the authors they name; nil when
    /// nothing is missing. Only filters with `ids` qualify: a search by kind or time that
    /// finds nothing is an answer, an id not found is a hole.
    public static func wanted(by filters: [Filter], stored: [some EventFields]) -> (ids: Set<EventID>, authors: Set<PublicKey>)? {
        let have = Set(stored.map(\.id))
        var ids = Set<EventID>()
        var authors = Set<PublicKey>()
        for filter in filters {
            guard let wanted = filter.ids, !filter.isImpossible else { continue }
            // A limit below the ids asked for may have cut stored ones from the answer.
            if let limit = filter.limit, limit < wanted.count { continue }
            let missing = wanted.subtracting(have)
            guard !missing.isEmpty else { continue }
            ids.formUnion(missing)
            authors.formUnion(filter.authors ?? [])
        }
        return ids.isEmpty ? nil : (ids, authors)
    }
}
