import Foundation
import GRDB
@testable import MartletStore
import MartletTestSupport
import NostrCore
import Testing

/// What only SQLite has: files, query plans, rowids, prepared statements. The rules every
/// store shares are in `StoreContract`, which runs on SQLite too.
@Suite("SQLite event store")
struct SQLiteEventStoreTests {
    @Test("the file and its directory are created on first start")
    func createsFile() async throws {
        let directory = SQLiteFactory.root.appendingPathComponent(UUID().uuidString)
        let path = directory.appendingPathComponent("nested/data/martlet.sqlite").path
        let store = try SQLiteEventStore(path: path)
        #expect(FileManager.default.fileExists(atPath: path))
        try await store.close()
        try FileManager.default.removeItem(at: directory)
    }

    @Test("with durable commits (the default) each save returns after a sync of the WAL that began after it; without, nothing is synced")
    func durableByDefault() async throws {
        let directory = SQLiteFactory.root.appendingPathComponent(UUID().uuidString)
        defer { try? FileManager.default.removeItem(at: directory) }
        let author = Author()
        let durable = try SQLiteEventStore(path: directory.appendingPathComponent("durable.sqlite").path)
        #expect(durable.commitsAreDurable)
        // The commit itself does not sync (Debian's SQLite would, FULL being its default in
        // WAL mode): the syncer does, off the writer's thread.
        #expect(try await durable.pool.writeWithoutTransaction { try Int.fetchOne($0, sql: "PRAGMA synchronous") } == 1)
        for second in 1...3 {
            let synced = durable.walSyncs
            #expect(try await durable.save([author.event(createdAt: testTime + Int64(second))]) == [.saved])
            // One save at a time: no sync that began before this save's commit may answer it.
            #expect(durable.walSyncs > synced)
        }
        try await durable.close()
        var options = SQLiteEventStore.Options()
        options.durableCommits = false
        let fast = try SQLiteEventStore(path: directory.appendingPathComponent("fast.sqlite").path, options: options)
        #expect(fast.commitsAreDurable == false)
        #expect(try await fast.save([author.event(createdAt: testTime)]) == [.saved])
        #expect(fast.walSyncs == 0)
        try await fast.close()
    }

    /// The REQ shapes clients send most, each of which must be served from an index.
    static let commonShapes: [(String, Filter)] = {
        let key = Author().pubkey
        let keys = Set((0..<3).map { _ in Author().pubkey })
        let manyKeys = Set((0..<50).map { _ in Author().pubkey })
        let manyKinds = Set((0..<50).map { Kind(UInt16($0)) })
        let id = Author().event(createdAt: testTime).id
        let e = UInt8(ascii: "e")
        let p = UInt8(ascii: "p")
        let t = UInt8(ascii: "t")
        let d = UInt8(ascii: "d")
        return [
            ("everything, newest", Filter(limit: 100)),
            ("by ids", Filter(ids: [id])),
            ("one author", Filter(authors: [key], limit: 20)),
            ("home feed: authors and kinds", Filter(authors: keys, kinds: [1, 6], limit: 50)),
            ("profile: author and kind 0", Filter(authors: [key], kinds: [0])),
            ("authors since", Filter(authors: keys, since: 1_700_000_000)),
            ("global kind", Filter(kinds: [1], limit: 100)),
            ("kinds in a window", Filter(kinds: [1, 7], since: 1_700_000_000, until: 1_700_100_000)),
            ("time window only", Filter(since: 1_700_000_000, until: 1_700_100_000)),
            ("replies and reactions: #e", Filter(kinds: [1, 7], tags: [e: [id.hex]])),
            ("mentions: #p", Filter(tags: [p: [key.hex]], limit: 50)),
            ("DMs: kind and #p", Filter(kinds: [4], tags: [p: [key.hex, Author().pubkey.hex]])),
            ("hashtag", Filter(kinds: [1], tags: [t: ["nostr"]], limit: 50)),
            ("two tags", Filter(tags: [t: ["nostr"], p: [key.hex]])),
            ("article address", Filter(authors: [key], kinds: [30023], tags: [d: ["intro"]])),
            ("ids and authors", Filter(ids: [id], authors: [key])),
            ("search", Filter(search: "nostr relay")),
            ("search in kinds", Filter(kinds: [0], limit: 20, search: "alice")),
            ("search by authors", Filter(authors: keys, search: "swift")),
            // Past `maxMergedStreams` pairs or values: the whole lists as one stream.
            ("authors × kinds past the merge", Filter(authors: manyKeys, kinds: manyKinds, limit: 50)),
            ("many #t values", Filter(tags: [t: Set((0..<2_100).map { "topic\($0)" })], limit: 50)),
        ]
    }()

    /// SQLite gives a new row the rowid of the last one deleted, so a tag left behind by a
    /// deleted event would be found by a `#x` query and served as the new event's.
    @Test("a removed event leaves no tag behind, whichever rule removed it", arguments: RemovalRule.allCases)
    func removalLeavesNoTags(rule: RemovalRule) async throws {
        let store = try await SQLiteFactory().makeSQLiteStore()
        let author = Author()
        let at: Int64 = 1_700_000_000
        let hex = String(repeating: "ab", count: 32)
        // Every shape of value the index keeps: 64-hex as 32 bytes, upper-case hex, text, Unicode.
        let tags: [Tag] = [
            ["e", hex], ["p", hex.uppercased()], ["t", "nostr"], ["t", "ünïcode ✓"], ["d", "article"],
            ["expiration", "\(at + 10)"], ["alt", "not indexed"], ["x"],
        ]
        let first = author.event(kind: Kind(30023), tags: tags, createdAt: at)
        _ = try await store.save(first)
        switch rule {
        case .deletion: _ = try await store.save(author.deletion(of: [first]))
        case .replacement: _ = try await store.save(author.event(kind: Kind(30023), tags: [["d", "article"]], createdAt: at + 1))
        case .vanish: _ = try await store.vanish(pubkey: author.pubkey, until: at + 5)
        case .expiration: _ = try await store.purgeExpired(now: at + 20)
        case .removal: _ = try await store.remove([first.id])
        }
        // Empty the table (the rule's own events too), so that the next event takes the
        // rowid `first` had, with the same created_at and no tags of its own.
        let rest = try await store.query(Filter(), now: 0).map(\.id)
        _ = try await store.remove(rest + [first.id])
        let next = Author().event(kind: .textNote, createdAt: at)
        _ = try await store.save(next)
        for (letter, value) in [("e", hex), ("p", hex), ("t", "nostr"), ("t", "ünïcode ✓"), ("d", "article")] {
            let found = try await store.query(Filter(tags: [UInt8(ascii: Unicode.Scalar(letter)!): [value]]))
            #expect(found.isEmpty, "#\(letter) \(value) after \(rule): \(found.map(\.kind))")
        }
        try await SQLiteFactory().dispose(store)
    }

    enum RemovalRule: CaseIterable, Sendable { case deletion, replacement, vanish, expiration, removal }

    @Test(
        "every common REQ shape reads through an index, never a full scan of events",
        arguments: [SQLiteFactory(), SQLiteFactory(eventCacheMiB: 0)])
    func queryPlans(_ factory: SQLiteFactory) async throws {
        let store = try await factory.makeSQLiteStore()
        let filters = Self.commonShapes.map(\.1)
        for use in [SQLiteEventStore.QueryUse.newest, .count, .negentropy] {
            let plans = try store.explainQueryPlans(filters, for: use)
            for ((name, _), plan) in zip(Self.commonShapes, plans) {
                // A negentropy set of everything is every row: one pass over the table in
                // rowid order is the cheapest way to read it, and the scan is the point.
                if use == .negentropy, name == "everything, newest" {
                    #expect(plan.hasPrefix("SCAN events\n"), "\(plan)")
                    continue
                }
                for line in plan.split(separator: "\n") {
                    let fullScan = (line.hasPrefix("SCAN events") || line.hasPrefix("SCAN tags")) && !line.contains("INDEX")
                    #expect(!fullScan, "\(use) \(name): \(plan)")
                }
                let lines = plan.split(separator: "\n")
                #expect(lines.contains { $0.contains("SEARCH") || $0.contains("USING") }, "\(use) \(name): \(plan)")
            }
        }
        let feed = try store.explainQueryPlans([Filter(authors: [Author().pubkey], kinds: [1])])[0]
        #expect(feed.contains("events_pubkey_kind_created"), "\(feed)")
        let tag = try store.explainQueryPlans([Filter(tags: [UInt8(ascii: "e"): ["x"]])])[0]
        #expect(tag.contains("SEARCH tags USING PRIMARY KEY (name=? AND value=?"), "\(tag)")
        if store.eventCache != nil {
            // Read by position, a stream of one author, of a time window or of one tag value
            // is found in its index alone, with no lookup of each row's event.
            let shapes = [
                Filter(authors: [Author().pubkey], limit: 100), Filter(since: 1_700_000_000, limit: 100),
                Filter(tags: [UInt8(ascii: "t"): ["nostr"]], limit: 100),
            ]
            for (filter, plan) in zip(shapes, try store.explainQueryPlans(shapes)) {
                let lines = plan.split(separator: "\n")
                #expect(lines[0].contains("COVERING INDEX") || lines[0].contains("SEARCH tags USING PRIMARY KEY"), "\(plan)")
                // One lookup by rowid: the rows' own read, after the page.
                let lookups = lines.filter { $0.hasPrefix("SEARCH events USING INTEGER PRIMARY KEY") }
                #expect(lookups.count == 1, "\(filter): \(plan)")
            }
        }
        // A one-stream REQ is read in its index's order and its ties ordered by the reader:
        // no row (with its JSON) goes through a sorter.
        let oneStream = [
            Filter(authors: [Author().pubkey], kinds: [1], limit: 100), Filter(authors: [Author().pubkey], limit: 100),
            Filter(kinds: [1], limit: 100), Filter(tags: [UInt8(ascii: "t"): ["nostr"]], limit: 100),
            Filter(since: 1_700_000_000, until: 1_700_086_400, limit: 100), Filter(limit: 100),
        ]
        for (filter, plan) in zip(oneStream, try store.explainQueryPlans(oneStream)) {
            #expect(!plan.contains("TEMP B-TREE"), "\(filter): \(plan)")
        }
        try await factory.dispose(store)
    }

    enum StoredOrder: CaseIterable, Sendable {
        case highestIDFirst, lowestIDFirst, shuffled

        /// `events` in the order they are to be stored.
        func arranged(_ events: [Event]) -> [Event] {
            switch self {
            case .highestIDFirst: events.sorted { $0.id > $1.id }
            case .lowestIDFirst: events.sorted { $0.id < $1.id }
            case .shuffled: events.shuffled()
            }
        }
    }

    @Test(
        "a limit that falls inside a run of equal created_at keeps that run's lowest ids, whatever order they were stored in",
        arguments: StoredOrder.allCases)
    func limitInsideTies(_ order: StoredOrder) async throws {
        let store = try await SQLiteFactory().makeSQLiteStore()
        let author = Author()
        // NIP-01: "in the case of the same created_at the lowest id (lexical order) should be first".
        let tied = (0..<300).map { author.event(content: "tie \($0)", createdAt: 1_700_000_000) }
        let newer = (0..<5).map { author.event(content: "newer \($0)", createdAt: 1_700_000_100) }
        let older = (0..<5).map { author.event(content: "older \($0)", createdAt: 1_600_000_000) }
        _ = try await store.save(older + order.arranged(tied) + newer)
        for filter in [Filter(kinds: [1], limit: 20), Filter(authors: [author.pubkey], limit: 20), Filter(limit: 20)] {
            let found = try await store.query([filter], maxLimit: 500, now: 1_800_000_000)
            let expected = newer.sorted { $0.id < $1.id } + tied.sorted { $0.id < $1.id }.prefix(15)
            #expect(found.map(\.id) == expected.map(\.id), "\(filter)")
        }
        try await SQLiteFactory().dispose(store)
    }

    @Test(
        "a limit that falls between ids sharing their first 15 bits (the indexes' tie rank) still keeps the lowest ids",
        arguments: StoredOrder.allCases)
    func limitInsideRankTies(_ order: StoredOrder) async throws {
        let store = try await SQLiteFactory().makeSQLiteStore()
        let author = Author()
        let t = UInt8(ascii: "t")
        // 2,000 ids give about 60 pairs sharing 15 bits; none at all once in e^61 runs.
        let tied = (0..<2_000).map {
            author.event(content: "burst \($0)", tags: [["t", "burst"]], createdAt: 1_700_000_000)
        }
        let byID = tied.sorted { $0.id < $1.id }
        let sharedBits = byID.indices.dropLast().filter { byID[$0].id.raw.w0 >> 49 == byID[$0 + 1].id.raw.w0 >> 49 }
        try #require(!sharedBits.isEmpty)
        _ = try await store.save(order.arranged(tied))
        let filters = [
            Filter(kinds: [1]), Filter(kinds: [1, 7]), Filter(authors: [author.pubkey]),
            Filter(authors: [author.pubkey, Author().pubkey]), Filter(authors: [author.pubkey], kinds: [1, 7]),
            Filter(tags: [t: ["burst"]]), Filter(tags: [t: ["burst", "other"]]), Filter(),
        ]
        // Each limit ends between two ids with the same first bits: the first is kept, the
        // second is not, whichever the index holds first.
        for limit in sharedBits.prefix(3).map({ $0 + 1 }) {
            for var filter in filters {
                filter.limit = limit
                let found = try await store.query([filter], maxLimit: 5_000, now: 1_800_000_000)
                #expect(found.map(\.id) == byID.prefix(limit).map(\.id), "\(filter)")
            }
        }
        try await SQLiteFactory().dispose(store)
    }
}

extension SQLiteEventStoreTests {
    @Test("REQs differing only in the sizes of their lists keep a reader's prepared statements few")
    func statementCacheBounded() async throws {
        let root = SQLiteFactory.root.appendingPathComponent(UUID().uuidString)
        var options = SQLiteEventStore.Options()
        options.readerCount = 1
        let store = try SQLiteEventStore(path: root.appendingPathComponent("martlet.sqlite").path, options: options)
        let t = UInt8(ascii: "t")
        for index in 0..<400 {
            let filter = Filter(
                ids: Set((0..<(1 + index % 13)).map { _ in Author().event(content: "\(index)").id }),
                authors: Set((0..<(1 + index % 7)).map { _ in Author().pubkey }),
                kinds: Set((0..<(1 + index % 5)).map { Kind(UInt16($0)) }),
                tags: [t: Set((0..<(1 + index % 11)).map { "topic\($0)" })])
            #expect(try await store.query(filter).isEmpty)
        }
        // One text per shape (a list of one is `= ?`, of more one JSON array): 2^4 here.
        let prepared = try await store.preparedStatementCount()
        #expect(prepared <= 24, "\(prepared) prepared statements on one reader")
        try await store.close()
        try FileManager.default.removeItem(at: root)
    }
}

extension SQLiteEventStoreTests {
    /// A store whose queries start on their caller's thread with `slice` to run in.
    static func store(inlineSlice slice: Duration) throws -> (SQLiteEventStore, URL) {
        let root = SQLiteFactory.root.appendingPathComponent(UUID().uuidString)
        var options = SQLiteEventStore.Options()
        options.inlineReadSlice = slice
        return (try SQLiteEventStore(path: root.appendingPathComponent("martlet.sqlite").path, options: options), root)
    }

    /// 3,000 notes by one author, tagged `t` `here`.
    static func fill(_ store: SQLiteEventStore) async throws -> (Author, [Event]) {
        let author = Author()
        let events = (0..<3_000).map { index in
            author.event(content: "note n\(index)", tags: [["t", "here"]], createdAt: testNow - 5_000 + Int64(index))
        }
        _ = try await store.save(events)
        return (author, events)
    }

    @Test("a query that outlasts its inline slice is run again on a reader, with its whole budget, and answers in full")
    func inlineSliceHandsOn() async throws {
        // A slice of one nanosecond is over at SQLite's first look at the clock.
        let (store, root) = try Self.store(inlineSlice: .nanoseconds(1))
        defer { try? FileManager.default.removeItem(at: root) }
        let (author, events) = try await Self.fill(store)
        // One stream (inline without a transaction), a union of two (inline in one), a search.
        let one = [Filter(authors: [author.pubkey], limit: 500)]
        let union = [Filter(authors: [author.pubkey], limit: 500), Filter(tags: [UInt8(ascii: "t"): ["here"]], limit: 10)]
        // 3,000 rows each checked for a tag none has: thousands of SQLite steps.
        let absent = [Filter(authors: [author.pubkey], tags: [UInt8(ascii: "t"): ["absent"]])]
        // Ranked (NIP-50): every note scores the same, so newest first.
        let search = [Filter(limit: 50, search: "note")]
        let newest = newestOrder(events)
        let cases = [
            (one, Array(newest.prefix(500))), (union, Array(newest.prefix(500))), (absent, []),
            (search, Array(newest.prefix(50))),
        ]
        for (filters, expected) in cases {
            // Other tests' stores may hold the process's inline slots: a query then goes
            // straight to a reader. Ask until one started inline and was handed on.
            var handedOn = false
            for _ in 0..<200 where !handedOn {
                let before = store.queriesHandedToReaders
                let found = try await store.query(
                    filters, maxLimit: 1_000, now: testNow, visibility: .everything, timeout: .seconds(60))
                #expect(found.map(\.id) == expected.map(\.id))
                handedOn = store.queriesHandedToReaders > before
            }
            #expect(handedOn, "\(filters) was never handed on")
        }
        try await store.close()
    }

    @Test("a query whose own budget is shorter than the inline slice still times out")
    func shortBudgetStaysFinal() async throws {
        let (store, root) = try Self.store(inlineSlice: .seconds(10))
        defer { try? FileManager.default.removeItem(at: root) }
        let (author, _) = try await Self.fill(store)
        let absent = [Filter(authors: [author.pubkey], tags: [UInt8(ascii: "t"): ["absent"]])]
        let error = await #expect(throws: StoreError.self) {
            try await store.queryStored(absent, maxLimit: 1_000, now: testNow, visibility: .everything, timeout: .nanoseconds(1))
        }
        #expect(error?.isTimeout == true)
        #expect(store.queriesHandedToReaders == 0)
        // With no budget it reads to the end.
        #expect(try await store.query(absent, maxLimit: 1_000, now: testNow, visibility: .everything, timeout: nil).isEmpty)
        try await store.close()
    }
}
