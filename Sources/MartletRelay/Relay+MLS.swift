import MartletStore
import NostrCore

extension Relay {
    /// Group events past the most a purge round removes: more wait for the next round, so
    /// one round never holds the writer for long.
    static let groupEventPurgeBatches = 20

    /// NIP-EE group events (kind 445) are kept `mls.groupEventRetention` seconds after their
    /// `created_at`, then removed, in batches of 500, by the purge task that also removes
    /// NIP-40's expired events. Until that round they are served like any stored event.
    func purgeExpiredGroupEvents() async throws {
        guard configuration.mls.enabled else { return }
        let now = clock()
        let stale = Filter(
            kinds: [.mlsGroupEvent], until: now - configuration.mls.groupEventRetention - 1, limit: 500)
        var purged = 0
        for _ in 0..<Self.groupEventPurgeBatches {
            let events = try await store.query([stale], maxLimit: 500, now: now)
            guard !events.isEmpty else { break }
            purged += try await pipeline.remove(events.map(\.id))
            if events.count < 500 { break }
        }
        if purged > 0 {
            logger.debug("purged MLS group events past their retention", metadata: ["count": "\(purged)"])
        }
    }
}
