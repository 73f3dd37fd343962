import Foundation
import GRDB
@testable import MartletStore
import MartletTestSupport
import NostrCore
import Testing

/// The cache of stored events by rowid (`EventCache`) and what makes it safe without
/// invalidation: a rowid is never given to a second event (`RowidMark`).
@Suite("Event cache")
struct EventCacheTests {
    static func stored(_ event: Event) throws -> StoredEvent {
        try StoredEvent(storedJSON: event.json)
    }

    @Test("the cache stays within its bytes; the hand spares an entry looked up since it last passed")
    func boundedClock() throws {
        let author = Author()
        let events = try (0..<5).map { try Self.stored(author.event(content: "note \($0)", createdAt: testTime)) }
        let entry = events[0].json.count + EventCache.entryOverhead
        let cache = EventCache(byteLimit: 3 * entry)
        cache.insert((1...3).map { (Int64($0), events[$0 - 1]) })
        #expect(cache.count == 3)
        // Looked up, the first is spared once: the fourth takes the second's place.
        #expect(cache.events([1] as [Int64]).map { $0?.id } == [events[0].id])
        cache.insert([(Int64(4), events[3])])
        #expect(cache.events([1, 2, 3, 4] as [Int64]).map { $0?.id } == [events[0].id, nil, events[2].id, events[3].id])
        #expect(cache.bytes <= cache.byteLimit)
        // An event larger than the whole budget is not held, and evicts nothing.
        let large = try Self.stored(author.event(content: String(repeating: "x", count: 4 * entry), createdAt: testTime))
        cache.insert([(Int64(5), large)])
        #expect(cache.events([5] as [Int64]).map { $0?.id } == [nil])
        #expect(cache.count == 3)
        // A rowid held already keeps its event.
        cache.insert([(Int64(4), events[4])])
        #expect(cache.events([4] as [Int64]).map { $0?.id } == [events[3].id])
    }

    static func rowid(of id: EventID, in store: SQLiteEventStore) async throws -> Int64? {
        try await store.pool.read { db in
            try Int64.fetchOne(db, sql: "SELECT rowid FROM events WHERE id = ?", arguments: [id.databaseValue])
        }
    }

    @Test("the newest event deleted, the next one stored gets a rowid of its own, across a reopen too")
    func rowidsNeverReused() async throws {
        let factory = SQLiteFactory()
        var store = try await factory.makeSQLiteStore()
        let author = Author()
        let first = author.event(content: "first", createdAt: testTime)
        let newest = author.event(content: "newest", createdAt: testTime + 1)
        #expect(try await store.save([first, newest]) == [.saved, .saved])
        let deleted = try #require(try await Self.rowid(of: newest.id, in: store))
        #expect(try await store.remove([newest.id]) == 1)
        // SQLite alone would give the next event the rowid just freed.
        let next = author.event(content: "next", createdAt: testTime + 2)
        #expect(try await store.save([next]) == [.saved])
        let nextRowid = try #require(try await Self.rowid(of: next.id, in: store))
        #expect(nextRowid > deleted)
        #expect(try await store.remove([next.id]) == 1)
        store = try #require(try await factory.reopen(store) as? SQLiteEventStore)
        let afterReopen = author.event(content: "after reopen", createdAt: testTime + 3)
        #expect(try await store.save([afterReopen]) == [.saved])
        #expect(try #require(try await Self.rowid(of: afterReopen.id, in: store)) > nextRowid)
        try await factory.dispose(store)
    }

    @Test("a REQ read through the cache answers what is stored now: deleted events are gone, new ones there")
    func cachedReadsFollowTheStore() async throws {
        let factory = SQLiteFactory()
        let store = try await factory.makeSQLiteStore()
        let cache = try #require(store.eventCache)
        let author = Author()
        let notes = (0..<3).map { author.event(content: "note \($0)", createdAt: testTime + Int64($0)) }
        _ = try await store.save(notes)
        let filter = Filter(authors: [author.pubkey], limit: 2)
        #expect(try await store.query(filter).map(\.id) == [notes[2].id, notes[1].id])
        #expect(cache.count == 3)
        // The newest deleted and another stored: the rowid the deleted one had is not the
        // new one's, so its cached event cannot stand in for it.
        #expect(try await store.remove([notes[2].id]) == 1)
        let replacement = author.event(content: "replacement", createdAt: testTime + 1)
        _ = try await store.save([replacement])
        let expected = newestOrder([notes[1], replacement]).map(\.id)
        #expect(try await store.query(filter).map(\.id) == expected)
        // Read from the table alone, the same answer.
        var uncached = SQLiteEventStore.Options()
        uncached.eventCacheMiB = 0
        let direct = try SQLiteEventStore(path: store.path, options: uncached)
        #expect(try await direct.query(filter).map(\.id) == expected)
        try await direct.close()
        try await factory.dispose(store)
    }
}
