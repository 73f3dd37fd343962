import Foundation
import GRDB
import GRDBSQLite
import Logging
public import NostrCore

/// The embedded event store: one SQLite file in WAL mode, one writer and a pool of readers.
///
/// Each `save` batch is one write transaction (group commit); queries run on the reader
/// pool against a consistent snapshot and never wait for the writer. The schema and the
/// reasons behind it are in `SQLiteSchema`; how a filter becomes SQL is in `FilterPlan`.
///
/// ```swift
/// let store = try SQLiteEventStore(path: "./data/martlet.sqlite")
/// _ = try await store.save([event])
/// let notes = try await store.query([Filter(kinds: [1], limit: 20)], maxLimit: 500, now: now)
/// ```
public final class SQLiteEventStore: EventStore {
    /// Tuning of the SQLite connections.
    ///
    /// ```swift
    /// var options = SQLiteEventStore.Options()
    /// options.readerCount = 8
    /// let store = try SQLiteEventStore(path: path, options: options)
    /// ```
    public struct Options: Sendable {
        /// Connections that serve queries at once; the writer is one more.
        public var readerCount: Int
        /// Page cache of each connection, in MiB.
        public var cacheSizeMiB: Int
        /// How much of the file is memory-mapped, in MiB: mapped pages are read without
        /// copying them into the page cache.
        public var mmapSizeMiB: Int
        /// Whether a committed batch survives a power cut (the WAL is synced after every
        /// commit, off the writer's thread: `WALSyncer`; the batching writer makes that one
        /// fsync per batch, or fewer), or only a crash of the process (synced at checkpoints).
        public var durableCommits: Bool
        /// Events kept in memory, as they are stored and as REQs read them, for the REQs
        /// after (`EventCache`), in MiB; 0 reads every event from the table. 256 MiB hold
        /// about 170,000 notes of 1.3 kB.
        public var eventCacheMiB = 256
        /// The kinds NIP-50 search indexes (`search.kinds`); a change rebuilds the index at open.
        public var searchableKinds = SearchableKinds.all
        /// How long a query may run on its caller's thread before it is handed to a reader
        /// (`InlineReads`).
        public var inlineReadSlice = Duration.milliseconds(5)
        /// Runs in place of the WAL's `fdatasync` when set: tests hold it to see what the
        /// store does while a commit waits to be made durable.
        var syncWAL: (@Sendable () throws -> Void)?

        public init(readerCount: Int = 4, cacheSizeMiB: Int = 64, mmapSizeMiB: Int = 16_384, durableCommits: Bool = true) {
            self.readerCount = readerCount
            self.cacheSizeMiB = cacheSizeMiB
            self.mmapSizeMiB = mmapSizeMiB
            self.durableCommits = durableCommits
        }
    }

    /// Which statement of a filter `explainQueryPlans` describes.
    public enum QueryUse: Sendable {
        /// REQ: the newest events, limited.
        case newest
        /// COUNT (NIP-45).
        case count
        /// The NIP-77 item set.
        case negentropy
    }

    /// The database file.
    public let path: String
    let pool: DatabasePool
    /// Syncs the WAL after commits, when they are to be durable.
    let walSyncer: WALSyncer?
    private let catalog = StatementCatalog()
    /// Events stored and read, for the REQs after; nil when `Options.eventCacheMiB` is 0.
    let eventCache: EventCache?
    /// Which queries run on their caller's thread (`queryRead`).
    let inlineReads: InlineReads

    /// Queries that started on their caller's thread, outlasted `Options.inlineReadSlice`
    /// and were run again on a reader's queue, since the store opened.
    public var queriesHandedToReaders: Int { inlineReads.handedOn }
    private static let logger = Logger(label: "martlet.store.sqlite")

    /// Opens the database at `path`, creating its directory and the file on first start and
    /// bringing an older file's schema up to date.
    public init(path: String, options: Options = Options()) throws {
        self.path = path
        inlineReads = InlineReads(readerCount: options.readerCount, slice: options.inlineReadSlice)
        eventCache = options.eventCacheMiB > 0 ? EventCache(byteLimit: options.eventCacheMiB << 20) : nil
        walSyncer =
            switch (options.durableCommits, options.syncWAL) {
            case (false, _): nil
            case (true, let sync?): WALSyncer(sync: sync)
            case (true, nil): WALSyncer(walPath: path + "-wal")
            }
        let directory = (path as NSString).deletingLastPathComponent
        if !directory.isEmpty {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        }
        var configuration = Configuration()
        configuration.label = "martlet.store"
        configuration.maximumReaderCount = max(1, options.readerCount)
        configuration.busyMode = .timeout(10)
        let cacheKiB = options.cacheSizeMiB * 1024
        let mmapBytes = Int64(options.mmapSizeMiB) * 1_048_576
        configuration.prepareDatabase { db in
            db.add(function: SQLiteSchema.tagValueFunction)
            try SearchRankFunction.register(db)
            try db.execute(sql: "PRAGMA cache_size = -\(cacheKiB)")
            try db.execute(sql: "PRAGMA mmap_size = \(mmapBytes)")
            try db.execute(sql: "PRAGMA temp_store = MEMORY")
            if !db.configuration.readonly {
                // Inserts dirty pages all over the id, pubkey and tag indexes; checkpointing
                // every 64 MiB instead of SQLite's 4 MiB writes each such page back once for
                // many batches and fsyncs a sixteenth as often (measured: 40% less system
                // time at a million events). The limit trims the WAL back after a checkpoint.
                try db.execute(sql: "PRAGMA wal_autocheckpoint = 16384")
                try db.execute(sql: "PRAGMA journal_size_limit = 67108864")
            }
        }
        do {
            // NORMAL: a commit writes its frames without syncing them, durable against a
            // crash of the process, with one fsync per checkpoint. `OK true` should mean
            // more, and `write` waits for `walSyncer` to sync the WAL after the commit. FULL
            // (Debian's default in WAL mode) would sync inside the commit, and the one writer
            // would wait out each fsync instead of committing the next batch. GRDB's pool
            // sets NORMAL too, after `prepareDatabase`; said here, it does not rest on that.
            // The writer is one lasting connection, so setting it there once holds.
            pool = try DatabasePool(path: path, configuration: configuration)
            try pool.writeWithoutTransaction { try $0.execute(sql: "PRAGMA synchronous = NORMAL") }
            let migrator = SQLiteSchema.migrator
            let pending = try pool.read { try migrator.hasCompletedMigrations($0) } == false
            try migrator.migrate(pool)
            if pending {
                // A step that rewrote rows left them in the WAL; until a checkpoint copies
                // them back, every read looks each page up there (measured: a REQ cost 40%
                // more on a store just split into bodies).
                _ = try pool.writeWithoutTransaction { try $0.checkpoint(.truncate) }
                Self.logger.debug("SQLite schema up to date", metadata: ["path": "\(path)"])
            }
            if try pool.write({ try SQLiteSearchIndex.apply(options.searchableKinds, to: $0) }) {
                Self.logger.info(
                    "search index rebuilt for the kinds search.kinds names",
                    metadata: ["kinds": "\(options.searchableKinds)"])
            }
        } catch {
            throw StoreError("cannot open SQLite store at \(path): \(error)")
        }
    }

    /// Opens the database at `path` with the default options.
    public convenience init(path: String) throws {
        try self.init(path: path, options: Options())
    }

    public func save(_ events: [Event]) async throws -> [SaveResult] {
        try await save(events, whenCommitted: {})
    }

    public func save(_ events: [Event], whenCommitted committed: @escaping @Sendable () -> Void) async throws
        -> [SaveResult]
    {
        guard !events.isEmpty else { return [] }
        let saved = try await writeEvents(whenCommitted: committed) { writer in try writer.save(events) }
        if let eventCache {
            // Committed, so each rowid is the event's for ever (`RowidMark`); the newest
            // events are the ones REQs ask for most.
            eventCache.insert(
                zip(events, saved).lazy.compactMap { event, saved in
                    saved.rowid.flatMap { rowid in (try? StoredEvent(stored: event)).map { (rowid, $0) } }
                })
        }
        return saved.map(\.result)
    }

    public func contains(_ id: EventID) async throws -> Bool {
        try await read { db in
            try Bool.fetchOne(
                db.cachedStatement(sql: "SELECT 1 FROM events WHERE id = ?"), arguments: [id.databaseValue]) != nil
        }
    }

    public func storedIDs(after: EventID?, limit: Int) async throws -> [EventID] {
        try await read(oneStatement: true) { db in
            // The unique index on id is read alone (a covering scan), from where the last page ended.
            let statement: Statement
            if let after {
                statement = try db.cachedStatement(sql: "SELECT id FROM events WHERE id > ? ORDER BY id LIMIT ?")
                statement.setUncheckedArguments([after.databaseValue, limit])
            } else {
                statement = try db.cachedStatement(sql: "SELECT id FROM events ORDER BY id LIMIT ?")
                statement.setUncheckedArguments([limit])
            }
            var ids: [EventID] = []
            ids.reserveCapacity(limit)
            let rows = try Row.fetchCursor(statement)
            while let row = try rows.next() { ids.append(EventID(try Bytes32(row: row, index: 0))) }
            return ids
        }
    }

    public func queryStored(
        _ filters: [Filter], maxLimit: Int, now: Int64, visibility: ReadVisibility, timeout: Duration?
    ) async throws -> [StoredEvent] {
        let plans = Self.plans(filters, now: now, visibility: visibility)
        guard !plans.isEmpty else { return [] }
        let catalog = self.catalog
        let cache = eventCache
        let oneStatement = plans.count == 1 && plans[0].streamCount == 1 && !plans[0].isRanked
        return try await queryRead(oneStatement: oneStatement, timeout: timeout) { db, timeout in
            try SQLiteQueryBudget.run(db, timeout: timeout) { budget in
                let context = NewestEvents.Context(catalog: catalog, budget: budget, cache: cache)
                var seen = Set<EventID>()
                var events: [StoredEvent] = []
                for plan in plans {
                    let limit = max(0, min(plan.filter.limit ?? maxLimit, maxLimit))
                    let read = try NewestEvents.read(plan, limit: limit, context, db)
                    // One filter's events are distinct already; only a union needs the check.
                    guard plans.count > 1 else { return read }
                    for event in read where seen.insert(event.id).inserted {
                        events.append(event)
                    }
                }
                // NIP-50: search results stay in their ranked order, filter after filter.
                if plans.count > 1, !filters.contains(where: { $0.search != nil }) { events.sort(by: newestFirst) }
                return events
            }
        }
    }

    public func count(_ filters: [Filter], now: Int64) async throws -> Int {
        let plans = Self.plans(filters, now: now)
        guard !plans.isEmpty else { return 0 }
        let catalog = self.catalog
        return try await read { db in
            let (sql, arguments) = Self.countSQL(plans)
            let statement = try catalog.statement(sql, db)
            return try Int.fetchOne(statement, arguments: StatementArguments(values: arguments)) ?? 0
        }
    }

    public func countWithHyperLogLog(_ filters: [Filter], offset: Int, now: Int64) async throws
        -> (count: Int, hll: HyperLogLog)
    {
        let plans = Self.plans(filters, now: now)
        guard !plans.isEmpty else { return (0, HyperLogLog(offset: offset)) }
        let catalog = self.catalog
        return try await read { db in
            // One pass over the matching events: each row is one event (UNION keeps an
            // event matching two filters once), counted and its author added.
            let parts = plans.map { $0.rowSetSQL(columns: "events.rowid, events.pubkey", readsRows: true) }
            let statement = try catalog.statement(
                "SELECT pubkey FROM (\(parts.map(\.sql).joined(separator: " UNION ")))", db)
            statement.setUncheckedArguments(StatementArguments(values: parts.flatMap(\.arguments)))
            var count = 0
            var hll = HyperLogLog(offset: offset)
            let rows = try Row.fetchCursor(statement)
            while let row = try rows.next() {
                hll.add(PublicKey(try Bytes32(row: row, index: 0)))
                count += 1
            }
            return (count, hll)
        }
    }

    public func distinctAuthors(_ filters: [Filter], now: Int64) async throws -> [PublicKey] {
        let plans = Self.plans(filters, now: now)
        guard !plans.isEmpty else { return [] }
        let catalog = self.catalog
        return try await read { db in
            let parts = plans.map { $0.rowSetSQL(columns: "events.pubkey", readsRows: true) }
            // DISTINCT: a pubkey once, however many of its events match.
            let union = parts.map(\.sql).joined(separator: " UNION ")
            let statement = try catalog.statement("SELECT DISTINCT pubkey FROM (\(union))", db)
            statement.setUncheckedArguments(StatementArguments(values: parts.flatMap(\.arguments)))
            var authors: [PublicKey] = []
            let rows = try Row.fetchCursor(statement)
            while let row = try rows.next() { authors.append(PublicKey(try Bytes32(row: row, index: 0))) }
            return authors
        }
    }

    public func vanish(pubkey: PublicKey, until: Int64) async throws -> Int {
        try await writeEvents { writer in try writer.vanish(pubkey: pubkey, until: until) }
    }

    public func purgeExpired(now: Int64) async throws -> Int {
        try await writeEvents { writer in try writer.purgeExpired(now: now) }
    }

    public func remove(_ ids: [EventID]) async throws -> Int {
        guard !ids.isEmpty else { return 0 }
        return try await writeEvents { writer in try writer.remove(ids) }
    }

    public func negentropyItems(_ filter: Filter, now: Int64) async throws -> [TimestampedEventID] {
        guard !FilterPlan.isImpossible(filter) else { return [] }
        let plan = FilterPlan(filter, now: now)
        let catalog = self.catalog
        return try await read { db in
            let (sql, arguments) = Self.negentropySQL(plan)
            let statement = try catalog.statement(sql, db)
            statement.setUncheckedArguments(StatementArguments(values: arguments))
            var items: [TimestampedEventID] = []
            let rows = try Row.fetchCursor(statement)
            while let row = try rows.next() {
                items.append(TimestampedEventID(createdAt: row[0], id: EventID(try Bytes32(row: row, index: 1))))
            }
            items.sort()
            return items
        }
    }

    public func stats() async throws -> StoreStats {
        let kinds = try await read { db in
            try Row.fetchAll(db, sql: "SELECT kind, count FROM kind_counts WHERE count > 0 ORDER BY count DESC, kind")
                .map { row -> (kind: Kind, count: Int) in (Kind(UInt16(truncatingIfNeeded: row[0] as Int64)), row[1]) }
        }
        return StoreStats(
            eventCount: kinds.reduce(0) { $0 + $1.count }, bytesOnDisk: bytesOnDisk(), topKinds: Array(kinds.prefix(20)))
    }

    /// Closes the file once every read in progress has ended.
    ///
    /// GRDB's `close()` blocks its thread until the pool's connections come back, and they
    /// come back only when the tasks using them run again. On the cooperative pool (one
    /// thread per core) two stores closing at once blocked both threads of this 2-core
    /// machine and waited for each other's readers for ever, so it runs on a queue of its own
    /// (a serial queue gets a thread of its own; the global queue is the same starved pool).
    public func close() async throws {
        let pool = self.pool
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            DispatchQueue(label: "martlet.sqlite.close").async {
                do {
                    try pool.close()
                    continuation.resume()
                } catch {
                    continuation.resume(throwing: error)
                }
            }
        }
    }

    /// SQLite's EXPLAIN QUERY PLAN of the statements `query`, `count` or `negentropyItems`
    /// would run for each filter, one string per filter with one line per plan step, so that
    /// a test can fail on a full scan of `events`.
    ///
    /// ```swift
    /// let plans = try store.explainQueryPlans([Filter(kinds: [1])])
    /// // ["SEARCH events USING INDEX events_kind_created (kind=?)\n..."]
    /// ```
    public func explainQueryPlans(_ filters: [Filter], for use: QueryUse = .newest, now: Int64 = 0) throws
        -> [String]
    {
        let cached = eventCache != nil
        return try inlineReads.counting {
            try pool.read { db in try Self.describePlans(filters, for: use, cached: cached, now: now, db) }
        }
    }

    /// `cached`: one stream too is read by position (`NewestEvents`).
    private static func describePlans(
        _ filters: [Filter], for use: QueryUse, cached: Bool, now: Int64, _ db: Database
    ) throws -> [String] {
        try filters.map { filter in
            guard !FilterPlan.isImpossible(filter) else { return "NO QUERY (the filter matches nothing)" }
            let plan = FilterPlan(filter, now: now)
            var statements: [(sql: String, arguments: [DatabaseValue])] = []
            switch use {
            case .newest where plan.streamCount > 1 || (cached && plan.isReadByPosition):
                let key = plan.streamCount > 1 ? plan.streamKeys[0] : nil
                let page = plan.pageSQL(key: key, screened: plan.screensFirst)
                statements = [(page.sql, page.arguments + [0, 0, 0, 1].map { DatabaseValue(value: $0) })]
                statements.append((NewestEvents.rowsSQL, [DatabaseValue(value: "[1]")]))
            case .newest: statements = [plan.newestSQL()]
            case .count: statements = [Self.countSQL([plan])]
            case .negentropy: statements = [Self.negentropySQL(plan)]
            }
            return try statements.flatMap { statement in
                try Row.fetchAll(
                    db, sql: "EXPLAIN QUERY PLAN " + statement.sql,
                    arguments: StatementArguments(values: statement.arguments)
                ).map { $0["detail"] as String }
            }.joined(separator: "\n")
        }
    }

    private static func plans(_ filters: [Filter], now: Int64, visibility: ReadVisibility = .everything)
        -> [FilterPlan]
    {
        filters.filter { !FilterPlan.isImpossible($0) }.map { FilterPlan($0, now: now, visibility: visibility) }
    }

    /// Distinct events over all filters: a UNION of their row sets.
    private static func countSQL(_ plans: [FilterPlan]) -> (sql: String, arguments: [DatabaseValue]) {
        let parts = plans.map { $0.rowSetSQL(columns: "events.rowid") }
        return (
            "SELECT COUNT(*) FROM (" + parts.map(\.sql).joined(separator: " UNION ") + ")",
            parts.flatMap(\.arguments)
        )
    }

    /// Unordered on purpose: `negentropyItems` sorts in memory. Ordered by `created_at`,
    /// SQLite walks an index and fetches each row from the table at random (4 s for a
    /// million events here); unordered, a filter without conditions is one sequential
    /// scan (0.6 s), and the sort of 40-byte values costs a fraction of that.
    private static func negentropySQL(_ plan: FilterPlan) -> (sql: String, arguments: [DatabaseValue]) {
        plan.rowSetSQL(columns: "events.created_at, events.id", readsRows: true)
    }

    /// How many prepared statements one reader connection holds (GRDB's caches included):
    /// bounded by `StatementCatalog.capacity` whatever clients send.
    public func preparedStatementCount() async throws -> Int {
        try await read { db in
            guard let connection = db.sqliteConnection else { return 0 }
            var count = 0
            var statement = sqlite3_next_stmt(connection, nil)
            while let current = statement {
                count += 1
                statement = sqlite3_next_stmt(connection, current)
            }
            return count
        }
    }

    func read<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        try await reporting("read") { try await inlineReads.counting { try await pool.read(body) } }
    }

    /// A read that runs one statement only, when `oneStatement`: SQLite reads a statement
    /// from one snapshot of its own, so GRDB's transaction around it (BEGIN and COMMIT
    /// prepared and run on every read) is skipped. Several statements keep it: they must
    /// see the same snapshot.
    func read<T: Sendable>(
        oneStatement: Bool, _ body: @escaping @Sendable (Database) throws -> T
    ) async throws -> T {
        guard oneStatement else { return try await read(body) }
        return try await reporting("read") { try await inlineReads.counting { try await pool.unsafeRead(body) } }
    }

    /// A query's read, run on the caller's thread when `InlineReads` lets it, for as long as
    /// its slice, and otherwise (or once the slice runs out) on a reader's queue. `body`
    /// gets the time budget it must keep: the slice, or the query's `timeout`.
    ///
    /// Inline, a REQ is read without waking a reader's thread and then its own again
    /// (10,000 REQs that match nothing: 232–235 µs of relay CPU each through the queues,
    /// 111–148 µs with one inline read at a time).
    func queryRead<T: Sendable>(
        oneStatement: Bool, timeout: Duration?, _ body: @escaping @Sendable (Database, Duration?) throws -> T
    ) async throws -> T {
        if let value = try await reporting("read", { try readInline(oneStatement: oneStatement, timeout: timeout, body) }) {
            return value
        }
        return try await read(oneStatement: oneStatement) { db in try body(db, timeout) }
    }

    /// `body` run here, within the inline slice; nil when it may not run here or outlasted
    /// the slice. Other errors are wrapped by `reporting`, as on a reader.
    private func readInline<T>(
        oneStatement: Bool, timeout: Duration?, _ body: (Database, Duration?) throws -> T
    ) throws -> T? {
        guard inlineReads.enter() else { return nil }
        defer { inlineReads.leave() }
        // A budget no longer than the slice is the query's own: running out of it is final.
        let sliceIsWholeBudget = timeout.map { $0 <= inlineReads.slice } ?? false
        let budget = sliceIsWholeBudget ? timeout : inlineReads.slice
        do {
            return try oneStatement ? pool.unsafeRead { try body($0, budget) } : pool.read { try body($0, budget) }
        } catch let error as StoreError where error.isTimeout && !sliceIsWholeBudget {
            inlineReads.noteHandedOn()
            return nil
        }
    }

    /// `body` in one write transaction; returns once the commit is durable (with
    /// `durableCommits`), having called `committed` when it committed.
    func write<T: Sendable>(
        whenCommitted committed: @Sendable () -> Void = {}, _ body: @escaping @Sendable (Database) throws -> T
    ) async throws -> T {
        try await reporting("write") {
            let result = try await pool.write(body)
            committed()
            try await walSyncer?.untilSynced()
            return result
        }
    }

    /// A write that stores or removes events; the search index catches up with it before
    /// it commits (`SQLiteSearchIndex`).
    func writeEvents<T: Sendable>(
        whenCommitted committed: @Sendable () -> Void = {}, _ body: @escaping @Sendable (EventWriter) throws -> T
    ) async throws -> T {
        try await write(whenCommitted: committed) { db in
            let result = try body(EventWriter(db))
            try SQLiteSearchIndex.catchUp(db)
            return result
        }
    }

    /// Runs a database access, passing a `StoreError` on as it is and wrapping any other.
    private func reporting<T>(_ access: String, _ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let error as StoreError {
            throw error
        } catch {
            throw StoreError("SQLite \(access) failed: \(error)")
        }
    }
}
