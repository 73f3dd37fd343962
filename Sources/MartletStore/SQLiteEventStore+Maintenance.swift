import Foundation
import GRDB

extension SQLiteEventStore {
    /// Writes a consistent copy of the database to `destination` while the relay keeps
    /// serving: `VACUUM INTO` reads one snapshot (WAL lets writers go on beside it), so the
    /// copy holds every event committed before it began and none half-written.
    ///
    /// ```swift
    /// try await store.backup(to: "/var/backups/martlet-2026-12-03.sqlite")
    /// ```
    public func backup(to destination: String) async throws {
        guard !FileManager.default.fileExists(atPath: destination) else {
            throw StoreError("\(destination) exists already; a backup never overwrites a file")
        }
        // VACUUM cannot run inside a transaction, and this connection only reads the
        // database: the relay's writer is another connection and is not held up.
        try await pool.writeWithoutTransaction { db in
            try db.execute(sql: "VACUUM INTO ?", arguments: [destination])
        }
    }

    /// Rebuilds the file without the space deleted events left, then empties the WAL.
    /// Returns the bytes on disk (database and WAL) before and after.
    ///
    /// Writers wait while it runs (it rewrites the whole file), so run it when the relay is
    /// quiet.
    public func compact() async throws -> (before: Int64, after: Int64) {
        let before = bytesOnDisk()
        try await pool.writeWithoutTransaction { db in
            try db.execute(sql: "VACUUM")
            try db.execute(sql: "PRAGMA wal_checkpoint(TRUNCATE)")
        }
        return (before, bytesOnDisk())
    }

    /// The database file and its WAL.
    func bytesOnDisk() -> Int64 {
        [path, path + "-wal"].reduce(Int64(0)) { total, file in
            let size = (try? FileManager.default.attributesOfItem(atPath: file))?[.size] as? NSNumber
            return total + (size?.int64Value ?? 0)
        }
    }

    /// Whether every commit is synced to disk before its write returns (`WALSyncer`), as
    /// the relay reports it to operators who ask what `OK true` promises.
    public var commitsAreDurable: Bool { walSyncer != nil }

    /// How many syncs of the WAL have made commits durable since the store opened (none
    /// without `durableCommits`). One sync covers every batch committed while it waited.
    public var walSyncs: Int { walSyncer?.syncsCompleted ?? 0 }
}
