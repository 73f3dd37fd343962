import Foundation
import MartletStore

extension Settings {
    /// The event store these settings name: PostgreSQL when `storage.database` (or
    /// `--database`) is set, shared with the other nodes on that database, else the SQLite
    /// file in the data folder. Also returns where it is, for the log.
    ///
    /// `servingREQs`: the relay's own store keeps `storage.event_cache_mib` of events for
    /// the REQs after; a one-shot command (import, export, sync) would only fill the cache
    /// with what passes through it once, so it opens the store without one.
    func openStore(servingREQs: Bool = false) async throws -> (store: any EventStore, location: String) {
        if let database {
            var options = PostgresEventStore.Options()
            options.searchableKinds = relay.search.kinds
            postgres.apply(to: &options)
            let store = try await PostgresEventStore(url: database, options: options)
            return (store, store.location)
        }
        let path = URL(fileURLWithPath: dataDirectory).appendingPathComponent("martlet.sqlite").path
        var options = SQLiteEventStore.Options()
        options.durableCommits = durableCommits
        options.eventCacheMiB = servingREQs ? eventCacheMiB : 0
        options.searchableKinds = relay.search.kinds
        return (try SQLiteEventStore(path: path, options: options), path)
    }
}
