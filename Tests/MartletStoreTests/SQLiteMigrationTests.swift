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
    /// A fresh folder and the store file's path in it; the caller removes the folder.
    static func storeFile() throws -> (directory: URL, path: String) {
        let directory = SQLiteFactory.root.appendingPathComponent(UUID().uuidString)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        return (directory, directory.appendingPathComponent("martlet.sqlite").path)
    }

    @Test("whole-JSON rows become bodies and signatures, and read, search and delete as before")
    func splitsStoredJSON() async throws {
        let (directory, path) = try Self.storeFile()
        defer { try? FileManager.default.removeItem(at: directory) }
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

    @Test("rows stored before tie ranks are ranked, their tags keyed by rank, and read in NIP-01's order")
    func ranksStoredTies() async throws {
        let (directory, path) = try Self.storeFile()
        defer { try? FileManager.default.removeItem(at: directory) }
        let author = Author()
        let t = UInt8(ascii: "t")
        let tied = (0..<300).map {
            author.event(content: "burst \($0)", tags: [["t", "burst"]], createdAt: 1_700_000_000)
        }
        let byID = tied.sorted { $0.id < $1.id }

        // The rows as the store wrote them before "ties ranked in the indexes", lowest id
        // first, so that reading an index by rowid alone gets every tie the wrong way round.
        let old = try DatabasePool(path: path)
        try SQLiteSchema.migrator.migrate(old, upTo: "search indexed per batch")
        try await old.write { db in
            for event in byID {
                try db.execute(
                    sql: "INSERT INTO events(id, pubkey, created_at, kind, body, sig) VALUES (?, ?, ?, 1, ?, ?)",
                    arguments: [
                        Data(event.id.raw.bytes), Data(event.pubkey.raw.bytes), event.createdAt,
                        Data(StoredBody.cut(event)), event.sig.databaseValue,
                    ])
                try db.execute(
                    sql: "INSERT INTO tags(event_rowid, name, value, created_at) VALUES (?, 't', ?, ?)",
                    arguments: [db.lastInsertedRowID, TagValue.databaseValue("burst"), event.createdAt])
            }
        }
        try old.close()

        let store = try SQLiteEventStore(path: path)
        for filter in [Filter(kinds: [1], limit: 20), Filter(tags: [t: ["burst"]], limit: 20), Filter(limit: 20)] {
            let found = try await store.query([filter], maxLimit: 500, now: 1_800_000_000)
            #expect(found.map(\.id) == byID.prefix(20).map(\.id), "\(filter)")
        }
        // Deleting an event still finds its tags under their new key.
        #expect(try await store.remove([byID[0].id]) == 1)
        let tagged = try await store.query([Filter(tags: [t: ["burst"]])], maxLimit: 500, now: 1_800_000_000)
        #expect(tagged.map(\.id) == byID.dropFirst().map(\.id))
        try await store.close()

        let reopened = try DatabasePool(path: path)
        try await reopened.read { db in
            for row in try Row.fetchAll(db, sql: "SELECT id, tie_rank FROM events") {
                let id = EventID(try Bytes32(row: row, index: 0))
                #expect(row[1] as Int64 == TieRank.of(id))
            }
            let tags = try Int.fetchOne(db, sql: "SELECT count(*) FROM tags") ?? 0
            let ranked = try Int.fetchOne(
                db,
                sql: "SELECT count(*) FROM tags JOIN events ON events.rowid = tags.event_rowid WHERE tags.tie_rank = events.tie_rank")
            #expect(tags == 299 && ranked == 299)
        }
        try reopened.close()
    }
}
