import Foundation
import GRDB
@testable import MartletStore
import MartletTestSupport
import NostrCore
import Testing

/// Steps of `SQLiteSchema` that rewrite what a store already holds, run on a file written
/// as the store wrote it before the step.
@Suite("SQLite schema steps on stored rows")
struct SQLiteMigrationTests {
    @Test("whole-JSON rows become bodies and signatures, and read, search and delete as before")
    func splitsStoredJSON() async throws {
        let directory = SQLiteFactory.root.appendingPathComponent(UUID().uuidString)
        defer { try? FileManager.default.removeItem(at: directory) }
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let path = directory.appendingPathComponent("martlet.sqlite").path
        let author = Author()
        let events = [
            author.event(content: "migrating relays", tags: [["t", "nostr"]], createdAt: 1_700_000_001),
            author.event(
                kind: Kind(30023), content: "an \"article\"\nwith ünïcode ✓", tags: [["d", "intro"], ["t", "nostr"]],
                createdAt: 1_700_000_002),
            Author().event(kind: .reaction, content: "+", tags: [["e", author.event().id.hex]], createdAt: 1_700_000_003),
        ]
        let damagedID = Author().event(content: "damaged").id

        // The schema and rows as the store wrote them before "bodies and signatures".
        let old = try DatabasePool(path: path)
        try SQLiteSchema.migrator.migrate(old, upTo: "search terms")
        try await old.write { db in
            for event in events {
                try db.execute(
                    sql: "INSERT INTO events(id, pubkey, created_at, kind, d_tag, expires_at, json) VALUES (?, ?, ?, ?, ?, NULL, ?)",
                    arguments: [
                        Data(event.id.raw.bytes), Data(event.pubkey.raw.bytes), event.createdAt, Int(event.kind.rawValue),
                        event.kind.rawValue == 30023 ? "intro" : nil, Data(event.json),
                    ])
                let rowid = db.lastInsertedRowID
                for tag in event.tags {
                    try db.execute(
                        sql: "INSERT OR IGNORE INTO tags(event_rowid, name, value, created_at) VALUES (?, ?, ?, ?)",
                        arguments: [rowid, tag.fields[0], TagValue.databaseValue(tag.fields[1]), event.createdAt])
                }
            }
            // Kind 4 is kept out of the search index, whose trigger would refuse the row.
            try db.execute(
                sql: "INSERT INTO events(id, pubkey, created_at, kind, json) VALUES (?, ?, 1700000004, 4, ?)",
                arguments: [Data(damagedID.raw.bytes), Data(author.pubkey.raw.bytes), Data(#"{"id":"trunc"#.utf8)])
        }
        try old.close()

        let store = try SQLiteEventStore(path: path)
        let ids = Set(events.map(\.id))
        let read = try await store.query([Filter(ids: ids)], maxLimit: 100, now: 0)
        #expect(Set(read.map(\.json)) == Set(events.map(\.json)), "served byte for byte as before")
        let stored = try await store.queryStored([Filter(ids: ids)], maxLimit: 10, now: 0, visibility: .everything, timeout: nil)
        #expect(Set(stored.map(\.json)) == Set(events.map(\.json)))
        #expect(try await store.query([Filter(search: "migrating")], maxLimit: 100, now: 0).map(\.id) == [events[0].id])
        #expect(try await store.query([Filter(tags: [UInt8(ascii: "t"): ["nostr"]])], maxLimit: 100, now: 0).count == 2)
        await #expect(throws: StoreError.self, "a damaged row is still reported, not served") {
            try await store.query([Filter(ids: [damagedID])], maxLimit: 100, now: 0)
        }

        // Deleting reads the tags and the content back out of the body.
        #expect(try await store.remove([events[0].id, events[1].id]) == 2)
        #expect(try await store.query([Filter(tags: [UInt8(ascii: "t"): ["nostr"]])], maxLimit: 100, now: 0).isEmpty)
        #expect(try await store.query([Filter(search: "migrating")], maxLimit: 100, now: 0).isEmpty)
        #expect(try await store.query([Filter(search: "article")], maxLimit: 100, now: 0).isEmpty)
        // And new events are stored the new way beside the migrated ones.
        let later = author.event(content: "after the step", tags: [["t", "nostr"]], createdAt: 1_700_000_010)
        #expect(try await store.save([later]) == [.saved])
        #expect(try await store.query([Filter(tags: [UInt8(ascii: "t"): ["nostr"]])], maxLimit: 100, now: 0).map(\.json) == [later.json])
        try await store.close()
    }
}
