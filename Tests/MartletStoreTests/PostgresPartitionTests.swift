import Foundation
import Logging
@testable import MartletStore
import MartletTestSupport
import NostrCore
import PostgresNIO
import Testing

@Suite("Partition intervals")
struct PartitionIntervalTests {
    @Test("periods start at UTC midnight, on Mondays, on the first of the month")
    func periodStarts() {
        // 2023-11-14T22:13:20Z, a Tuesday.
        let time: Int64 = 1_700_000_000
        #expect(PartitionInterval.day.start(of: time) == 1_699_920_000)  // 2023-11-14T00:00:00Z
        #expect(PartitionInterval.week.start(of: time) == 1_699_833_600)  // Monday 2023-11-13
        #expect(PartitionInterval.month.start(of: time) == 1_698_796_800)  // 2023-11-01
        #expect(PartitionInterval.month.end(of: time) == 1_701_388_800)  // 2023-12-01
        #expect(PartitionInterval.month.end(of: 1_701_388_800) == 1_704_067_200)  // into 2024-01-01
        #expect(PartitionInterval.month.end(of: 1_706_745_600) == 1_709_251_200)  // leap February 2024
        #expect(PartitionInterval.dayStamp(1_709_164_800) == "20240229")
        #expect(PartitionInterval.week.start(of: -1) == -259_200)  // Monday 1969-12-29
        #expect(PartitionInterval.dayStamp(-1) == "19691231")
    }

    @Test("every period ends where the next one starts", arguments: PartitionInterval.allCases)
    func contiguous(_ interval: PartitionInterval) {
        var start = interval.start(of: 946_684_800)  // 2000-01-01
        for _ in 0..<400 {
            let end = interval.end(of: start)
            #expect(end > start)
            #expect(interval.start(of: end) == end)
            #expect(interval.start(of: end - 1) == start)
            start = end
        }
    }
}

/// `events` partitioned by time: the layout, the migration of an unpartitioned database,
/// and whole partitions dropped by the purges.
@Suite("PostgreSQL partitions", .enabled(if: TestPostgres.url != nil, TestPostgres.skipNote))
struct PostgresPartitionTests {
    static let now = PostgresEventStore.wallClock()
    static let month = PartitionInterval.month

    /// Rows of `sql` (one text column) in `schema`.
    static func texts(_ sql: String, schema: String) async throws -> [String] {
        try await TestPostgres.withAdminClient { client in
            try await client.query(PostgresQuery(unsafeSQL: "SET search_path = \"\(schema)\""))
            var texts: [String] = []
            for try await text in try await client.query(PostgresQuery(unsafeSQL: sql)).decode(String.self) {
                texts.append(text)
            }
            return texts
        }
    }

    static func withStore(_ body: (PostgresEventStore, String) async throws -> Void) async throws {
        let schema = TestPostgres.freshSchema()
        let store = try await TestPostgres.store(schema: schema)
        do {
            try await body(store, schema)
        } catch {
            try? await store.close()
            try? await TestPostgres.dropSchema(schema)
            throw error
        }
        try await store.close()
        try await TestPostgres.dropSchema(schema)
    }

    @Test("a new store has history, default and monthly partitions up to two months ahead")
    func layout() async throws {
        try await Self.withStore { _, schema in
            let partitions = try await Self.texts(
                "SELECT c.relname::text FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
                    + "JOIN pg_class p ON p.oid = i.inhparent WHERE p.relname = 'events' "
                    + "AND p.relnamespace = current_schema()::regnamespace ORDER BY 1",
                schema: schema)
            let current = Self.month.start(of: Self.now)
            let next = Self.month.end(of: current)
            let afterNext = Self.month.end(of: next)
            #expect(
                Set(partitions) == [
                    "events_default", "events_history", "events_p" + PartitionInterval.dayStamp(current),
                    "events_p" + PartitionInterval.dayStamp(next), "events_p" + PartitionInterval.dayStamp(afterNext),
                ])
            let tagPartitions = try await Self.texts(
                "SELECT count(*)::text FROM pg_inherits i JOIN pg_class p ON p.oid = i.inhparent "
                    + "WHERE p.relname = 'tags' AND p.relnamespace = current_schema()::regnamespace",
                schema: schema)
            #expect(tagPartitions == ["5"])
        }
    }

    @Test("an event saved twice is a duplicate, and one far in the future lands in the default partition")
    func duplicatesAndDefault() async throws {
        try await Self.withStore { store, schema in
            let author = Author()
            let future = author.event(content: "from the future", createdAt: Self.now + 400 * 86_400)
            let recent = author.event(content: "recent", createdAt: Self.now - 60)
            #expect(try await store.save([future, recent]) == [.saved, .saved])
            #expect(try await store.save([future, recent]) == [.duplicate, .duplicate])
            let inDefault = try await Self.texts("SELECT encode(id, 'hex') FROM events_default", schema: schema)
            #expect(inDefault == [future.id.hex])
            // When the clock gets there, its period is created and the event moves into it.
            _ = try await store.purgeExpired(now: future.createdAt)
            #expect(try await Self.texts("SELECT encode(id, 'hex') FROM events_default", schema: schema).isEmpty)
            let home = "events_p" + PartitionInterval.dayStamp(Self.month.start(of: future.createdAt))
            #expect(try await Self.texts("SELECT encode(id, 'hex') FROM \(home)", schema: schema) == [future.id.hex])
            #expect(try await store.save([future]) == [.duplicate])
            #expect(try await store.query([Filter(authors: [author.pubkey])], maxLimit: 10, now: Self.now).count == 2)
        }
    }

    @Test("retention drops a whole partition past its cutoff, its tags and counts with it, and keeps the rest")
    func dropWholePartition() async throws {
        try await Self.withStore { store, schema in
            let author = Author()
            let current = Self.month.start(of: Self.now)
            let next = Self.month.end(of: current)
            let old = (0..<5).map {
                author.event(content: "old \($0)", tags: [["e", String(repeating: "ab", count: 32)]], createdAt: current + 100 + Int64($0))
            }
            let kept = author.event(content: "kept", tags: [["e", String(repeating: "ab", count: 32)]], createdAt: next + 100)
            _ = try await store.save(old + [kept])
            // A cutoff inside the next period: only the current one lies wholly before it.
            let reaction = [Kind(7)]
            #expect(try await store.removeWholePartitions(createdBefore: next + 50, kinds: Set(reaction)) == 0)
            #expect(try await store.removeWholePartitions(createdBefore: next + 50, kinds: nil) == 5)
            let events = try await store.query(
                [Filter(tags: [UInt8(ascii: "e"): [String(repeating: "ab", count: 32)]])], maxLimit: 10, now: Self.now)
            #expect(events.map(\.id) == [kept.id])
            #expect(try await store.stats().eventCount == 1)
            let orphanTags = try await Self.texts(
                "SELECT count(*)::text FROM tags WHERE created_at < \(next)", schema: schema)
            #expect(orphanTags == ["0"])
            // The dropped range goes to the default partition from now on: no insert fails.
            let late = author.event(content: "late", createdAt: current + 500)
            #expect(try await store.save([late]) == [.saved])
        }
    }

    @Test("NIP-40: a partition whose every event has expired is dropped whole; one with a lasting event is not")
    func expiredPartition() async throws {
        try await Self.withStore { store, schema in
            let author = Author()
            let current = Self.month.start(of: Self.now)
            let next = Self.month.end(of: current)
            let afterNext = Self.month.end(of: next)
            let expiring = (0..<3).map {
                author.event(content: "brief \($0)", tags: [["expiration", "\(next + 10)"]], createdAt: current + 10)
            }
            let lasting = author.event(content: "lasting", createdAt: next + 10)
            let expiringNext = author.event(content: "brief next", tags: [["expiration", "\(next + 20)"]], createdAt: next + 11)
            _ = try await store.save(expiring + [lasting, expiringNext])
            #expect(try await store.purgeExpired(now: afterNext + 1) == 4)
            let partitions = try await Self.texts("SELECT suffix FROM event_partitions", schema: schema)
            #expect(!partitions.contains("p" + PartitionInterval.dayStamp(current)), "dropped whole")
            #expect(partitions.contains("p" + PartitionInterval.dayStamp(next)), "kept: it holds a lasting event")
            #expect(try await store.query([Filter(authors: [author.pubkey])], maxLimit: 10, now: afterNext + 1).map(\.id) == [lasting.id])
        }
    }

    @Test("maintenance stuck on a lock holds its own pool only: REQs and ingest go on")
    func separatePools() async throws {
        try await Self.withStore { store, schema in
            let author = Author()
            let victim = author.event(content: "row-locked")
            _ = try await store.save([victim])
            let logger = Logger(label: "martlet.test.pools") { _ in SwiftLogNoOpLogHandler() }
            try await TestPostgres.withAdminClient { admin in
                try await admin.withConnection { locker in
                    try await locker.query("BEGIN", logger: logger)
                    try await locker.query(
                        PostgresQuery(
                            unsafeSQL: "SELECT 1 FROM \"\(schema)\".events WHERE id = decode('\(victim.id.hex)', 'hex') FOR UPDATE"),
                        logger: logger)
                    // More removals than the maintenance pool has connections, all waiting on the row.
                    let removals = Task {
                        try await withThrowingTaskGroup(of: Int.self) { group in
                            for _ in 0..<4 { group.addTask { try await store.remove([victim.id]) } }
                            return try await group.reduce(0, +)
                        }
                    }
                    let blocked = await waitUntil(timeout: .seconds(20)) {
                        let waiting = try? await admin.query(
                            """
                            SELECT count(*) FROM pg_stat_activity
                            WHERE application_name = \("martlet/" + schema) AND wait_event_type = 'Lock'
                            """
                        ).decode(Int64.self).reduce(0, +)
                        return (waiting ?? 0) >= Int64(TestPostgres.options.maintenanceConnections)
                    }
                    #expect(blocked, "the maintenance pool is taken up by the waiting removals")
                    let started = ContinuousClock.now
                    let fresh = author.event(content: "still ingesting")
                    #expect(try await store.save([fresh]) == [.saved])
                    let read = try await store.query([Filter(authors: [author.pubkey])], maxLimit: 10, now: Self.now + 60)
                    #expect(Set(read.map(\.id)) == [victim.id, fresh.id])
                    #expect(try await store.count([Filter(authors: [author.pubkey])], now: Self.now + 60) == 2)
                    #expect(ContinuousClock.now - started < .seconds(5), "reads and ingest did not wait for maintenance")
                    try await locker.query("ROLLBACK", logger: logger)
                    #expect(try await removals.value == 1, "the removal went through once the lock was gone")
                }
            }
        }
    }

    @Test("an unpartitioned database from an earlier Martlet is partitioned at open, every event still there")
    func migrateUnpartitioned() async throws {
        let schema = TestPostgres.freshSchema()
        let url = try #require(TestPostgres.url)
        var options = TestPostgres.options
        options.schema = schema
        let logger = Logger(label: "martlet.test.migration") { _ in SwiftLogNoOpLogHandler() }
        let client = PostgresClient(
            configuration: try PostgresURL(url).configuration(connections: 2, options: options), backgroundLogger: logger)
        let author = Author()
        let other = Author()
        let events =
            (0..<40).map { index in
                author.event(
                    content: "note \(index)", tags: [["p", other.pubkey.hex], ["t", "tag\(index % 3)"]],
                    createdAt: Self.now - Int64(index) * 20 * 86_400)
            }
            + [
                author.event(kind: 0, content: "{\"name\":\"old\"}", createdAt: Self.now - 1000),
                author.event(kind: 30023, content: "article", tags: [["d", "a"]], createdAt: Self.now - 900),
            ]
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await client.run() }
            defer { group.cancelAll() }
            // The schema as Martlet had it before partitioning, holding events.
            let unpartitioned = PostgresSchema.steps.filter { $0.name != PostgresSchema.partitionedEvents.name }
            try await PostgresSchema.migrate(client, schema: schema, now: Self.now, steps: unpartitioned, logger: logger)
            let saved = try await client.withTransaction(logger: logger) { connection in
                try await PostgresEventWriter(connection, logger: logger).save(events).results
            }
            #expect(saved.allSatisfy { $0 == .saved })
            let kind = try await Self.texts(
                "SELECT relkind::text FROM pg_class WHERE relname = 'events' AND relnamespace = current_schema()::regnamespace",
                schema: schema)
            #expect(kind == ["r"], "a plain table before")
        }

        let store = try await TestPostgres.store(schema: schema)
        do {
            let kind = try await Self.texts(
                "SELECT relkind::text FROM pg_class WHERE relname = 'events' AND relnamespace = current_schema()::regnamespace",
                schema: schema)
            #expect(kind == ["p"], "partitioned after")
            let stored = try await store.query([Filter(authors: [author.pubkey])], maxLimit: 100, now: Self.now)
            #expect(Set(stored.map(\.id)) == Set(events.map(\.id)))
            let mentions = try await store.query(
                [Filter(tags: [UInt8(ascii: "p"): [other.pubkey.hex]])], maxLimit: 100, now: Self.now)
            #expect(mentions.count == 40)
            #expect(try await store.count([Filter(tags: [UInt8(ascii: "t"): ["tag1"]])], now: Self.now) == 13)
            #expect(try await store.stats().eventCount == events.count)
            // Still one event per id, and still one version per address.
            #expect(try await store.save([events[3]]) == [.duplicate])
            let newer = author.event(kind: 30023, content: "article v2", tags: [["d", "a"]], createdAt: Self.now - 800)
            #expect(try await store.save([newer]) == [.saved])
            let articles = try await store.query([Filter(authors: [author.pubkey], kinds: [Kind(30023)])], maxLimit: 10, now: Self.now)
            #expect(articles.map(\.id) == [newer.id])
            // New events after the migration keep the sequence going (the live feed orders by it).
            let seqs = try await Self.texts("SELECT (count(DISTINCT seq) = count(*))::text FROM events", schema: schema)
            #expect(seqs == ["true"])
        } catch {
            try? await store.close()
            try? await TestPostgres.dropSchema(schema)
            throw error
        }
        try await store.close()
        try await TestPostgres.dropSchema(schema)
    }
}
