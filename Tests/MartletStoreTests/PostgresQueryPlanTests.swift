import Foundation
import Logging
@testable import MartletStore
import MartletTestSupport
import NostrCore
import PostgresNIO
import Testing

/// Query-plan regressions: the SQL the store sends for the REQ and COUNT shapes clients
/// send most, run under `EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON)` on a seeded, weekly
/// partitioned database. Each must read through the index meant for it and touch a bounded
/// number of buffers: a plan that falls back to scanning a table fails here long before a
/// ten-million-event relay notices.
@Suite("PostgreSQL query plans", .enabled(if: TestPostgres.url != nil, TestPostgres.skipNote))
struct PostgresQueryPlanTests {
    @Test("REQ and COUNT by author, kind, #e, #p, id and recent global read their indexes and few buffers")
    func representativeShapes() async throws {
        let seeded = try await SeededPlans.make()
        do {
            try await seeded.check()
        } catch {
            await seeded.dispose()
            throw error
        }
        await seeded.dispose()
    }
}

/// A weekly partitioned store seeded with some thousands of events by 40 authors (notes
/// and reactions, each mentioning an author and most replying to an earlier note), and
/// the plans of the store's SQL on it.
private struct SeededPlans {
    static let seeded = 6000
    let schema: String
    let now: Int64
    let store: PostgresEventStore
    let authors: [Author]
    let events: [Event]
    /// Child index name -> the partitioned index it belongs to.
    let parentIndex: [String: String]
    /// Pages of the events partitions together: what a scan of the table would read.
    let tablePages: Int

    static func make() async throws -> SeededPlans {
        let schema = TestPostgres.freshSchema()
        let now = PostgresEventStore.wallClock()
        var options = TestPostgres.options
        options.schema = schema
        options.partitionInterval = .week
        let store = try await PostgresEventStore(
            url: try #require(TestPostgres.url), options: options,
            logger: Logger(label: "martlet.test.plans") { _ in SwiftLogNoOpLogHandler() })
        let authors = (0..<40).map { _ in Author() }
        var events: [Event] = []
        do {
            let padding = String(repeating: "lorem ipsum ", count: 25)
            for start in stride(from: 0, to: seeded, by: 500) {
                await Task.yield()
                for index in start..<min(seeded, start + 500) {
                    let author = authors[index % authors.count]
                    let mentioned = authors[(index * 7 + 3) % authors.count]
                    let kind: Kind = index % 50 == 0 ? 6 : index % 5 == 0 ? 7 : 1
                    var tags: [Tag] = [["p", mentioned.pubkey.hex]]
                    if index > 0 { tags.append(["e", events[(index - 1) / 2].id.hex]) }
                    events.append(
                        author.event(kind: kind, content: "\(index) \(padding)", tags: tags, createdAt: now - Int64(index) * 600))
                }
                _ = try await store.save(Array(events[start...]))
            }
            try await store.reads.query("ANALYZE events")
            try await store.reads.query("ANALYZE tags")
            return SeededPlans(
                schema: schema, now: now, store: store, authors: authors, events: events,
                parentIndex: try await indexParents(store), tablePages: try await pages(store))
        } catch {
            try? await store.close()
            try? await TestPostgres.dropSchema(schema)
            throw error
        }
    }

    func dispose() async {
        try? await store.close()
        try? await TestPostgres.dropSchema(schema)
    }

    private static func indexParents(_ store: PostgresEventStore) async throws -> [String: String] {
        var parents: [String: String] = [:]
        let rows = try await store.reads.query(
            """
            SELECT c.relname::text, p.relname::text FROM pg_inherits i
            JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_class p ON p.oid = i.inhparent
            WHERE c.relkind = 'i' AND c.relnamespace = current_schema()::regnamespace
            """)
        for try await (child, parent) in rows.decode((String, String).self) { parents[child] = parent }
        return parents
    }

    private static func pages(_ store: PostgresEventStore) async throws -> Int {
        let rows = try await store.reads.query(
            """
            SELECT coalesce(sum(c.relpages), 0)::bigint FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
            JOIN pg_class p ON p.oid = i.inhparent
            WHERE p.relname = 'events' AND p.relnamespace = current_schema()::regnamespace
            """)
        for try await pages in rows.decode(Int64.self) { return Int(pages) }
        return 0
    }

    /// What a plan did: the partitioned indexes it read, the event partitions it touched,
    /// the shared buffers it hit or read.
    struct Plan: CustomStringConvertible {
        var indexes: Set<String> = []
        var eventPartitions: Set<String> = []
        var buffers = 0
        var description: String { "indexes \(indexes.sorted()), partitions \(eventPartitions.count), buffers \(buffers)" }
    }

    private func explain(_ query: PostgresQuery) async throws -> Plan {
        let explained = PostgresQuery(
            unsafeSQL: "EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + query.sql, binds: query.binds)
        var text = ""
        for try await json in try await store.reads.query(explained).decode(ByteBuffer.self) {
            text = String(buffer: json)
        }
        let root = try #require(
            (try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [[String: Any]])?.first?["Plan"] as? [String: Any])
        var plan = Plan()
        plan.buffers = (root["Shared Hit Blocks"] as? Int ?? 0) + (root["Shared Read Blocks"] as? Int ?? 0)
        func walk(_ node: [String: Any]) {
            if let index = node["Index Name"] as? String { plan.indexes.insert(parentIndex[index] ?? index) }
            if let relation = node["Relation Name"] as? String, relation.hasPrefix("events_"),
                (node["Actual Loops"] as? Int ?? 0) > 0
            {
                plan.eventPartitions.insert(relation)
            }
            for child in node["Plans"] as? [[String: Any]] ?? [] { walk(child) }
        }
        walk(root)
        return plan
    }

    private func newest(_ filter: Filter, limit: Int = 20) async throws -> Plan {
        try await explain(try #require(PostgresFilterSQL(filter, now: now)).newest(limit: limit))
    }

    private func count(_ filter: Filter) async throws -> Plan {
        var binds = SQLBinds()
        let rows = try #require(PostgresFilterSQL(filter, now: now)).rowSet(columns: "e.seq", &binds)
        return try await explain(binds.query("SELECT count(*) FROM (\(rows)) AS matching"))
    }

    /// Asserts the plan read one of `indexes` and at most `buffers` buffers, below a scan
    /// of the table. (A REQ reads its limit; a COUNT reads every match, ~150 here.)
    private func expect(_ plan: Plan, uses indexes: Set<String>, buffers: Int, _ shape: String) {
        print("plan \(shape): \(plan) (table \(tablePages) pages)")
        #expect(!plan.indexes.isDisjoint(with: indexes), "\(shape): \(plan)")
        #expect(plan.buffers <= buffers, "\(shape): \(plan)")
        #expect(buffers < tablePages, "\(shape): the bound is below the table's \(tablePages) pages")
    }

    func check() async throws {
        expect(try await newest(Filter(authors: [authors[3].pubkey])), uses: ["events_pubkey_created"], buffers: 120, "REQ by author")
        expect(try await newest(Filter(kinds: [6])), uses: ["events_kind_created"], buffers: 120, "REQ by a rare kind")
        // A common kind may as well be read off the time index, filtered: either is cheap.
        expect(try await newest(Filter(kinds: [1])), uses: ["events_kind_created", "events_created"], buffers: 120, "REQ by kind")
        expect(
            try await newest(Filter(tags: [UInt8(ascii: "e"): [events[100].id.hex]])), uses: ["tags_e"], buffers: 120,
            "REQ by #e")
        expect(
            try await newest(Filter(tags: [UInt8(ascii: "p"): [authors[5].pubkey.hex]])), uses: ["tags_p"], buffers: 160,
            "REQ by #p")
        expect(try await newest(Filter(ids: [events[4321].id])), uses: ["events_id"], buffers: 80, "REQ by id")
        expect(try await newest(Filter(), limit: 50), uses: ["events_created"], buffers: 120, "REQ recent global")
        expect(
            try await count(Filter(authors: [authors[8].pubkey])),
            uses: ["events_pubkey_created", "events_pubkey_kind_created"], buffers: 300, "COUNT by author")
        expect(
            try await count(Filter(tags: [UInt8(ascii: "p"): [authors[9].pubkey.hex]])), uses: ["tags_p"], buffers: 700,
            "COUNT by #p")
        // since and until prune the partitions read to those they cover (a week's window: two at most).
        let window = try await newest(Filter(kinds: [1], since: now - 27 * 86_400, until: now - 20 * 86_400))
        print("plan window: \(window)")
        #expect(window.eventPartitions.count <= 2, "since/until prune: \(window)")
    }
}
