import Logging
import MartletDHT
import NostrCore

/// Hosted relays by key (issue 18): each round, every hosted relay this node created (so
/// holds the secret of) is put again under its own record (`HostedRelayRecord`), naming
/// this node's URL for it, so `martlet relay join <key>` finds it with no `--via`.
extension Discovery {
    /// Records put so far that at least one node stored.
    public var hostedRelayRecordsPut: Int { hostedRecordsPut.load(ordering: .relaxed) }

    /// The URL a hosted relay is served at here: the one this relay announces, with `/<key>`.
    func hostedURL(of relayKey: PublicKey) -> String {
        var base = url
        while base.hasSuffix("/") { base.removeLast() }
        return base + "/" + relayKey.hex
    }

    /// Puts every hosted relay's record, `searchParallelism` at a time. Re-put every round
    /// (items live 2 hours on the nodes; a round is `sync_interval`), so a record a vandal
    /// hid with a higher `seq` wins back as soon as the clock passes it.
    func putHostedRelayRecords(_ node: DHTNode, seeds: [IPv4Endpoint], now: Int64) async {
        let secrets = await hostedRelays()
        var start = 0
        while start < secrets.count, !Task.isCancelled {
            let batch = secrets[start..<min(start + configuration.searchParallelism, secrets.count)]
            start += batch.count
            await withTaskGroup(of: Void.self) { group in
                for secret in batch {
                    group.addTask {
                        let key = secret.publicKey
                        guard let item = try? HostedRelayRecord.item(url: self.hostedURL(of: key), signedBy: secret, now: now)
                        else { return }
                        let stored = await node.put(item, bootstrap: seeds)
                        if stored > 0 {
                            self.hostedRecordsPut.add(1, ordering: .relaxed)
                            self.logger.debug("hosted relay record put", metadata: ["relay": "\(key)", "nodes": "\(stored)"])
                        } else {
                            self.logger.notice("hosted relay record stored by no node", metadata: ["relay": "\(key)"])
                        }
                    }
                }
            }
        }
    }
}
