import Logging
import MartletDHT
public import MartletRelay
public import NostrCore

extension Discovery {
    /// Users' lists put in one round at most, `searchParallelism` at a time.
    static let maxListsPerRound = 256

    /// Puts the relay list of every user this relay serves (as `servedLists` says).
    func putRelayLists(_ node: DHTNode, seeds: [IPv4Endpoint], now: Int64) async {
        let complete = await putRelayLists(await servedLists(), node: node, seeds: seeds)
        state.withLock {
            if complete { $0.nextLists = now + configuration.republishInterval.components.seconds }
        }
    }

    /// Puts the lists accepted since the last round (`accepted`), so that a new list is in the
    /// DHT within one `sync_interval`, not one `republish_interval`.
    func putFreshRelayLists(_ node: DHTNode, seeds: [IPv4Endpoint]) async {
        let fresh = state.withLock { state in
            defer { state.freshLists = [] }
            return state.freshLists
        }
        if !fresh.isEmpty { await putRelayLists(fresh, node: node, seeds: seeds) }
    }

    /// Returns whether every list was stored by at least one node.
    @discardableResult
    private func putRelayLists(_ events: [Event], node: DHTNode, seeds: [IPv4Endpoint]) async -> Bool {
        let items = events.prefix(Self.maxListsPerRound).compactMap { event in
            UserRelayList.item(for: event).map { (author: event.pubkey, item: $0) }
        }
        var put: [PublicKey] = []
        var start = 0
        while start < items.count, !Task.isCancelled {
            let batch = items[start..<min(start + configuration.searchParallelism, items.count)]
            start += batch.count
            put += await withTaskGroup(of: PublicKey?.self) { group in
                for (author, item) in batch {
                    group.addTask { await node.put(item, bootstrap: seeds) > 0 ? author : nil }
                }
                return await group.reduce(into: [PublicKey]()) { if let author = $1 { $0.append(author) } }
            }
        }
        let stored = put.count
        state.withLock { $0.listsPut += stored }
        await rememberAuthors(put, now: now())
        if !items.isEmpty {
            logger.info("users' relay lists put", metadata: ["stored": "\(stored)", "lists": "\(items.count)"])
        }
        // Lists that no node took are tried again next round, not after a whole interval.
        return stored == items.count
    }

    /// `author`'s NIP-65 list found in the DHT from the pubkey alone, verified; nil when none
    /// is found, none verifies, or the node is not running.
    public func relayList(of author: PublicKey) async -> Event? {
        guard let node else { return nil }
        let seeds = node.routingTable.count >= 8 ? [] : await resolveBootstrap()
        let item = await node.getMutable(publicKey: UserRelayList.publicKey(for: author), bootstrap: seeds)
        return UserRelayList.verified(item, author: author)
    }
}

extension Discovery: AcceptedEventObserver {
    /// Fresh lists kept for the next round; past it the oldest wait for the periodic put.
    static let maxFreshLists = 256

    /// Notes a kind 10002 that names this relay, to be put next round.
    public func accepted(_ event: Event, from origin: IngestOrigin) {
        guard event.kind == UserRelayList.kind,
            UserRelayList.relays(event).contains(where: { RelayURL.normalize($0) == RelayURL.normalize(url) })
        else { return }
        state.withLock { state in
            state.freshLists.append(event)
            if state.freshLists.count > Self.maxFreshLists { state.freshLists.removeFirst() }
        }
    }
}
