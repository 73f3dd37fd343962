import Foundation
public import Logging
import NIOCore
public import NostrCore
import PostgresNIO
import Synchronization

/// The event store on PostgreSQL, for many relay nodes sharing one database.
///
/// The contract is `SQLiteEventStore`'s; the differences are those of a server database:
/// ingest, reads and maintenance use three bounded connection pools (`PostgresClient`s), so
/// that a burst of queries never holds up a commit and a purge, a NIP-86 change or a
/// partition drop never takes the connections REQ and COUNT need; `events` is partitioned
/// by time (`PostgresPartitions`), and retention drops whole partitions where it can;
/// each `save` batch is one transaction (group commit);
/// replacement races between nodes are settled inside the database (see
/// `PostgresEventWriter`); as an `EventFeed` it tells each node about the events the
/// others saved and the ephemeral events they accepted (see `PostgresFeedReader` and
/// `PostgresEphemeralNotice`); and as a `RelaySettingsFeed` it tells each node when the
/// operator changed a setting through another. One connection per node LISTENs for all of
/// it (`PostgresListener`). Every call is bounded by `Options.timeout`, so
/// a database that is down or stalled costs a client an `error:` answer, not a hung
/// request, and the pools reconnect by themselves when it is back.
///
/// ```swift
/// let store = try await PostgresEventStore(url: "postgres://martlet@db:5432/martlet")
/// _ = try await store.save([event])
/// let notes = try await store.query([Filter(kinds: [1], limit: 20)], maxLimit: 500, now: now)
/// ```
public final class PostgresEventStore: EventStore, PartitionedEventStore, EventFeed, RelaySettingsFeed {
    /// Pool sizes and time limits.
    ///
    /// ```swift
    /// var options = PostgresEventStore.Options()
    /// options.readConnections = 16
    /// let store = try await PostgresEventStore(url: url, options: options)
    /// ```
    public struct Options: Sendable {
        /// Connections that serve REQ, COUNT and negentropy queries at once (one more
        /// LISTENs for the other nodes' news).
        public var readConnections: Int
        /// Connections that commit ingested batches at once. The relay's one batching writer
        /// uses one; a NIP-62 request to vanish, which rides the ingest path, may use another.
        public var writeConnections: Int
        /// Connections for maintenance: the NIP-40 and retention purges, partition upkeep,
        /// removals and NIP-86 changes, and the schema migration at open. A pool of its own,
        /// so that a long purge waits for its own connections, never for a reader's.
        public var maintenanceConnections: Int
        /// How long a time partition of `events` spans (`storage.partition_interval`).
        public var partitionInterval: PartitionInterval
        /// Partitions created ahead of the clock.
        public var partitionsAhead: Int
        /// The longest any one call may take before it fails with `StoreError`; also the
        /// server-side `statement_timeout`.
        public var timeout: Duration
        /// How long opening a connection may take.
        public var connectTimeout: Duration
        /// How long bringing the schema up to date at start may take (a new step may build
        /// an index over every stored event).
        public var migrationTimeout: Duration
        /// How often the live feed looks for other nodes' events when no notification came;
        /// also how soon a lost listening connection is tried again.
        public var feedPollInterval: Duration
        /// A schema to keep the tables in, created when missing (tests use one each);
        /// nil for the connection's default (`public`).
        public var schema: String?

        /// The kinds NIP-50 search indexes (`search.kinds`); a change rebuilds the documents at open.
        public var searchableKinds = SearchableKinds.all

        public init(
            readConnections: Int = 8, writeConnections: Int = 2, maintenanceConnections: Int = 2,
            timeout: Duration = .seconds(5), connectTimeout: Duration = .seconds(3),
            migrationTimeout: Duration = .seconds(600), feedPollInterval: Duration = .seconds(2),
            partitionInterval: PartitionInterval = .month, partitionsAhead: Int = 2, schema: String? = nil
        ) {
            self.readConnections = readConnections
            self.writeConnections = writeConnections
            self.maintenanceConnections = maintenanceConnections
            self.partitionInterval = partitionInterval
            self.partitionsAhead = partitionsAhead
            self.timeout = timeout
            self.connectTimeout = connectTimeout
            self.migrationTimeout = migrationTimeout
            self.feedPollInterval = feedPollInterval
            self.schema = schema
        }
    }

    /// Where the database is, without the password.
    public let location: String
    /// The schema the tables are in, when one was asked for.
    public var schema: String? { options.schema }
    private let options: Options
    /// The ingest pool.
    let writes: PostgresClient
    /// The REQ/COUNT pool, and the listening connection.
    let reads: PostgresClient
    /// The maintenance pool.
    let maintenance: PostgresClient
    let partitions: PostgresPartitions
    private let running: Task<Void, Never>
    private let readers = PostgresFeedReaders()
    private let closed = Atomic<Bool>(false)
    let logger: Logger
    let channels: PostgresChannels
    let listener: PostgresListener
    /// Names this store among the nodes, so that it skips its own ephemeral notifications.
    let node: String
    let ephemeralPublishFailing = Atomic<Bool>(false)

    /// Connects to the database at `url` (`postgres://user:password@host:port/database`,
    /// with `?sslmode=disable|prefer|require`) and brings its schema up to date.
    public init(
        url: String, options: Options = Options(), logger: Logger = Logger(label: "martlet.store.postgres")
    ) async throws {
        let target = try PostgresURL(url)
        self.location = target.description
        self.options = options
        self.logger = logger
        // postgres-nio logs every failed connection attempt; the store reports outages itself.
        var background = logger
        background.logLevel = max(logger.logLevel, .error)
        let writes = PostgresClient(
            configuration: target.configuration(connections: options.writeConnections, options: options),
            backgroundLogger: background)
        let reads = PostgresClient(
            configuration: target.configuration(connections: options.readConnections + 1, options: options),
            backgroundLogger: background)
        let maintenance = PostgresClient(
            configuration: target.configuration(connections: options.maintenanceConnections, options: options),
            backgroundLogger: background)
        self.writes = writes
        self.reads = reads
        self.maintenance = maintenance
        let partitions = PostgresPartitions(interval: options.partitionInterval, ahead: options.partitionsAhead)
        self.partitions = partitions
        let channels = PostgresChannels(schema: options.schema)
        self.channels = channels
        self.listener = PostgresListener(
            client: reads, channels: channels, retryInterval: options.feedPollInterval, logger: logger)
        self.node = (0..<2).map { _ in
            let hex = String(UInt64.random(in: .min ... .max), radix: 16)
            return String(repeating: "0", count: 16 - hex.count) + hex
        }.joined()
        running = Task {
            await withDiscardingTaskGroup { group in
                group.addTask { await writes.run() }
                group.addTask { await reads.run() }
                group.addTask { await maintenance.run() }
            }
        }
        do {
            try await Deadline.run(options.timeout + options.connectTimeout, "first connection") {
                try await maintenance.perform("SELECT 1")
            }
            try await Deadline.run(options.migrationTimeout, "schema migration") {
                let now = Self.wallClock()
                try await PostgresSchema.migrate(
                    maintenance, schema: options.schema, partitions: partitions, now: now, logger: logger)
                do {
                    _ = try await maintenance.withTransaction(logger: logger) { connection in
                        try await partitions.ensure(now: now, on: connection, logger: logger)
                    }
                } catch {
                    // Not fatal: the default partition takes what no partition covers, and
                    // every purge round tries again.
                    logger.warning("PostgreSQL partitions not created ahead yet: \(Self.describe(error))")
                }
                if try await PostgresSearchIndex.apply(
                    options.searchableKinds, client: maintenance, schema: options.schema, logger: logger)
                {
                    logger.info(
                        "search index rebuilt for the kinds search.kinds names",
                        metadata: ["kinds": "\(options.searchableKinds)"])
                }
            }
        } catch {
            running.cancel()
            throw StoreError("cannot open PostgreSQL store at \(location): \(Self.describe(error))")
        }
    }

    public func save(_ events: [Event]) async throws -> [SaveResult] {
        guard !events.isEmpty else { return [] }
        let searchableKinds = options.searchableKinds
        return try await bounded("save", on: writes) { [logger, readers, channels] client in
            try await client.withConnection { connection in
                let (results, maxSeq) = try await connection.withTransaction(logger: logger) { connection in
                    let saved = try await PostgresEventWriter(connection, logger: logger, searchableKinds: searchableKinds)
                        .save(events)
                    readers.recordOwn(saved.transaction)
                    return (saved.results, saved.maxSeq)
                }
                // After the commit, not inside the transaction: a NOTIFY in a transaction
                // holds a database-wide lock through the commit, which would serialize the
                // commits of every node. A lost notification only waits for the next poll.
                if let maxSeq {
                    try? await connection.perform(
                        "SELECT pg_notify(\(channels.events), \(String(maxSeq)))", logger: logger)
                }
                return results
            }
        }
    }

    public func contains(_ id: EventID) async throws -> Bool {
        try await bounded("duplicate check", on: reads) { client in
            let rows = try await client.query("SELECT 1 FROM events WHERE id = \(id.postgresBytes)")
            for try await _ in rows { return true }
            return false
        }
    }

    public func storedIDs(after: EventID?, limit: Int) async throws -> [EventID] {
        // Every partition's index on (id, created_at), merged in id order.
        let query: PostgresQuery =
            if let after {
                "SELECT id FROM events WHERE id > \(after.postgresBytes) ORDER BY id LIMIT \(limit)"
            } else {
                "SELECT id FROM events ORDER BY id LIMIT \(limit)"
            }
        return try await bounded("stored ids", on: maintenance) { client in
            var ids: [EventID] = []
            ids.reserveCapacity(limit)
            for try await id in try await client.query(query).decode(ByteBuffer.self) {
                ids.append(EventID(try Bytes32(postgres: id)))
            }
            return ids
        }
    }

    public func queryStored(
        _ filters: [Filter], maxLimit: Int, now: Int64, visibility: ReadVisibility, timeout: Duration?
    ) async throws -> [StoredEvent] {
        let plans = filters.compactMap { filter in
            PostgresFilterSQL(filter, now: now, visibility: visibility).map { (plan: $0, limit: filter.limit) }
        }
        guard !plans.isEmpty else { return [] }
        return try await bounded("query", on: reads, within: timeout) { client in
            var seen = Set<EventID>()
            var events: [StoredEvent] = []
            for (plan, limit) in plans {
                let limit = max(0, min(limit ?? maxLimit, maxLimit))
                guard limit > 0 else { continue }
                for event in try await client.query(plan.newest(limit: limit)).storedEvents()
                where seen.insert(event.id).inserted {
                    events.append(event)
                }
            }
            // NIP-50: search results stay in their ranked order, filter after filter.
            if plans.count > 1, !filters.contains(where: { $0.search != nil }) { events.sort(by: newestFirst) }
            return events
        }
    }

    public func count(_ filters: [Filter], now: Int64) async throws -> Int {
        let plans = filters.compactMap { PostgresFilterSQL($0, now: now) }
        guard !plans.isEmpty else { return 0 }
        var binds = SQLBinds()
        // UNION, not UNION ALL: an event matching two filters is counted once.
        let union = plans.map { $0.rowSet(columns: "e.seq", &binds) }.joined(separator: " UNION ")
        let query = binds.query("SELECT count(*) FROM (\(union)) AS matching")
        return try await bounded("count", on: reads) { client in
            for try await count in try await client.query(query).decode(Int64.self) { return Int(count) }
            return 0
        }
    }

    public func countWithHyperLogLog(_ filters: [Filter], offset: Int, now: Int64) async throws
        -> (count: Int, hll: HyperLogLog)
    {
        let plans = filters.compactMap { PostgresFilterSQL($0, now: now) }
        guard !plans.isEmpty else { return (0, HyperLogLog(offset: offset)) }
        var binds = SQLBinds()
        let union = plans.map { $0.rowSet(columns: "e.seq, e.pubkey", &binds) }.joined(separator: " UNION ")
        let register = binds.bind(Int32(offset))
        let rest = binds.bind(Int32(offset + 2))
        // The registers are computed where the rows are: at most 256 rows travel, not one
        // pubkey per matching author. A register keeps NIP-45's "number of leading zero
        // bits ... plus one" from the byte after it on, which is the 1-based position of
        // the first 1 in those bits (their width plus one when there is none). The count
        // comes first, as register -1.
        let query = binds.query(
            """
            WITH matching AS (\(union)),
            bits AS (SELECT pubkey, ('x' || encode(substring(pubkey FROM \(rest)), 'hex'))::varbit AS rest FROM matching)
            SELECT -1::int8, count(*)::int8 FROM matching
            UNION ALL
            SELECT get_byte(pubkey, \(register))::int8,
                max(CASE position(B'1' IN rest) WHEN 0 THEN length(rest) + 1 ELSE position(B'1' IN rest) END)::int8
            FROM bits GROUP BY 1
            """)
        return try await bounded("count", on: reads) { client in
            var count = 0
            var hll = HyperLogLog(offset: offset)
            for try await (register, value) in try await client.query(query).decode((Int64, Int64).self) {
                if register < 0 {
                    count = Int(value)
                } else {
                    hll.raise(register: Int(register), to: UInt8(value))
                }
            }
            return (count, hll)
        }
    }

    public func distinctAuthors(_ filters: [Filter], now: Int64) async throws -> [PublicKey] {
        let plans = filters.compactMap { PostgresFilterSQL($0, now: now) }
        guard !plans.isEmpty else { return [] }
        var binds = SQLBinds()
        let union = plans.map { $0.rowSet(columns: "e.pubkey", &binds) }.joined(separator: " UNION ")
        // DISTINCT: a pubkey once, however many of its events match.
        let query = binds.query("SELECT DISTINCT pubkey FROM (\(union)) AS matching")
        return try await bounded("authors", on: reads) { client in
            var authors: [PublicKey] = []
            for try await pubkey in try await client.query(query).decode(ByteBuffer.self) {
                authors.append(PublicKey(try Bytes32(postgres: pubkey)))
            }
            return authors
        }
    }

    public func vanish(pubkey: PublicKey, until: Int64) async throws -> Int {
        try await bounded("vanish", on: writes) { [logger] client in
            try await client.withTransaction(logger: logger) { connection in
                try await PostgresEventWriter(connection, logger: logger).vanish(pubkey: pubkey, until: until)
            }
        }
    }

    /// NIP-40, and partition upkeep: creates the partitions the clock will soon need, drops
    /// the whole partitions whose every event has expired, then deletes the expired rows
    /// of the others.
    public func purgeExpired(now: Int64) async throws -> Int {
        try await bounded("partition upkeep", on: maintenance) { [logger, partitions] client in
            try await client.withTransaction(logger: logger) { connection in
                try await partitions.ensure(now: now, on: connection, logger: logger)
            }
        }
        let dropped = try await dropWholePartitions(endingBy: now, scope: .expiredAt(now))
        return try await bounded("purge", on: maintenance) { [logger] client in
            try await client.withTransaction(logger: logger) { connection in
                let writer = PostgresEventWriter(connection, logger: logger)
                let purged = try await writer.purgeExpired(now: now)
                try await writer.foldKindCounts()
                return dropped + purged
            }
        }
    }

    public func remove(_ ids: [EventID]) async throws -> Int {
        guard !ids.isEmpty else { return 0 }
        return try await bounded("remove", on: maintenance) { client in
            let rows = try await client.query(
                """
                WITH removed AS (DELETE FROM events WHERE id = ANY(\(ids.map(\.postgresBytes))::bytea[]) RETURNING 1)
                SELECT count(*) FROM removed
                """)
            for try await count in rows.decode(Int64.self) { return Int(count) }
            return 0
        }
    }

    public func negentropyItems(_ filter: Filter, now: Int64) async throws -> [TimestampedEventID] {
        guard let plan = PostgresFilterSQL(filter, now: now) else { return [] }
        var binds = SQLBinds()
        let sql = plan.rowSet(columns: "e.created_at, e.id", &binds) + " ORDER BY e.created_at, e.id"
        let query = binds.query(sql)
        return try await bounded("negentropy query", on: reads) { client in
            var items: [TimestampedEventID] = []
            for try await (createdAt, id) in try await client.query(query).decode((Int64, ByteBuffer).self) {
                items.append(TimestampedEventID(createdAt: createdAt, id: EventID(try Bytes32(postgres: id))))
            }
            return items
        }
    }

    public func stats() async throws -> StoreStats {
        try await bounded("stats", on: reads) { client in
            var kinds: [(kind: Kind, count: Int)] = []
            let rows = try await client.query(
                """
                SELECT kind, sum(delta)::bigint FROM kind_counts GROUP BY kind HAVING sum(delta) > 0
                ORDER BY 2 DESC, 1
                """)
            for try await (kind, count) in rows.decode((Int32, Int64).self) {
                kinds.append((Kind(UInt16(truncatingIfNeeded: kind)), Int(count)))
            }
            var bytes: Int64 = 0
            let sizes = try await client.query(
                """
                SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0)::bigint FROM pg_class c
                JOIN pg_namespace n ON n.oid = c.relnamespace
                WHERE n.nspname = current_schema() AND c.relkind = 'r'
                """)
            for try await size in sizes.decode(Int64.self) { bytes = size }
            return StoreStats(
                eventCount: kinds.reduce(0) { $0 + $1.count }, bytesOnDisk: bytes, topKinds: Array(kinds.prefix(20)))
        }
    }

    public func removeWholePartitions(createdBefore cutoff: Int64, kinds: Set<Kind>?) async throws -> Int {
        try await dropWholePartitions(endingBy: cutoff, scope: kinds.map { .kinds($0) } ?? .everything)
    }

    /// Drops whole partitions on the maintenance pool. Bounded by `migrationTimeout`, not
    /// `timeout`: counting a large partition's kinds takes longer than a query may, and
    /// nothing waits on it but the purge.
    private func dropWholePartitions(endingBy cutoff: Int64, scope: PostgresPartitions.Scope) async throws -> Int {
        guard !closed.load(ordering: .relaxed) else { throw StoreError("the PostgreSQL store is closed") }
        do {
            return try await Deadline.run(options.migrationTimeout, "partition drop") { [partitions, maintenance, logger] in
                try await partitions.dropWhole(endingBy: cutoff, scope: scope, client: maintenance, logger: logger)
            }
        } catch let error as StoreError {
            throw error
        } catch {
            throw StoreError("PostgreSQL partition drop failed: \(Self.describe(error))")
        }
    }

    /// The time the partitions are laid out by at open.
    static func wallClock() -> Int64 { Int64(Date().timeIntervalSince1970) }

    public func close() async throws {
        guard !closed.exchange(true, ordering: .relaxed) else { return }
        for reader in readers.all { reader.stop() }
        listener.close()
        running.cancel()
        await running.value
    }

    public func eventsFromOtherNodes() -> AsyncStream<Event> {
        let reader = PostgresFeedReader(
            client: reads, listener: listener, channels: channels, node: node, pollInterval: options.feedPollInterval,
            timeout: options.timeout, logger: logger)
        readers.add(reader)
        if closed.load(ordering: .relaxed) { reader.stop() }
        reader.start()
        return AsyncStream(
            unfolding: { await reader.next() },
            onCancel: { [readers] in
                reader.stop()
                readers.remove(reader)
            })
    }

    /// Runs `body` against `client` within `Options.timeout` (or `within`, when shorter),
    /// turning every failure into a `StoreError` the relay answers as `error:`.
    ///
    /// A shorter budget is the caller's wait only: the statement itself runs on until the
    /// connection's `statement_timeout` (`Options.timeout`), as setting a shorter one would
    /// cost a transaction and two more round trips on every query.
    @discardableResult
    func bounded<T: Sendable>(
        _ what: String, on client: PostgresClient, within budget: Duration? = nil,
        _ body: @escaping @Sendable (PostgresClient) async throws -> T
    ) async throws -> T {
        guard !closed.load(ordering: .relaxed) else { throw StoreError("the PostgreSQL store is closed") }
        let limit = min(budget ?? options.timeout, options.timeout)
        do {
            return try await Deadline.run(limit, what) { try await body(client) }
        } catch let error as StoreError {
            throw error
        } catch let error as PSQLError where error.serverInfo?[.sqlState] == "57014" {
            // query_canceled: the server's statement_timeout.
            throw StoreError.timedOut("PostgreSQL \(what) failed: \(Self.describe(error))")
        } catch {
            throw StoreError("PostgreSQL \(what) failed: \(Self.describe(error))")
        }
    }

    /// A one-line account of a postgres-nio error. `PSQLError`'s own description hides the
    /// server's message (it may quote data); the message says what went wrong and is kept.
    static func describe(_ error: any Error) -> String {
        if let error = error as? PSQLError {
            if let message = error.serverInfo?[.message] { return "\(error.code): \(message)" }
            return "\(error.code)"
        }
        if let error = error as? PostgresTransactionError {
            return [error.beginError, error.closureError, error.commitError].compactMap { $0 }.map(describe)
                .first ?? "transaction failed"
        }
        return "\(error)"
    }
}
