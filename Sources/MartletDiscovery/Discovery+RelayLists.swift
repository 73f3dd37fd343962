import Logging
import MartletDHT
public import NostrCore

extension Discovery {
    /// Users' lists put in one round at most, `searchParallelism` at a time.
    static let maxListsPerRound = 256

    /// Puts the relay list of every user this relay serves (as `servedLists` says).
    func putRelayLists(_ node: DHTNode, seeds: [IPv4Endpoint], now: Int64) async {
        let items = await servedLists().prefix(Self.maxListsPerRound).compactMap(UserRelayList.item(for:))
        var stored = 0
        var start = 0
        while start < items.count, !Task.isCancelled {
            let batch = items[start..<min(start + configuration.searchParallelism, items.count)]
            start += batch.count
            stored += await withTaskGroup(of: Bool.self) { group in
                for item in batch { group.addTask { await node.put(item, bootstrap: seeds) > 0 } }
                return await group.reduce(0) { $0 + ($1 ? 1 : 0) }
            }
        }
        // Lists that no node took are tried again next round, not after a whole interval.
        let complete = stored == items.count
        state.withLock {
            $0.listsPut += stored
            if complete { $0.nextLists = now + configuration.republishInterval.components.seconds }
        }
        if !items.isEmpty {
            logger.info("users' relay lists put", metadata: ["stored": "\(stored)", "lists": "\(items.count)"])
        }
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
