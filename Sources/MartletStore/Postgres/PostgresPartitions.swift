import Logging
import NostrCore
import PostgresNIO

/// The time partitions of `events` and `tags`: both are partitioned by range of
/// `created_at` with the same bounds, so that a partition of events and the index tags of
/// its events come and go together.
///
/// Three sorts of partition, recorded in `event_partitions` (one row per pair):
/// - `history`, from the lowest value to the first period: whatever is older than the
///   periods the store was created or migrated with;
/// - one per period (`storage.partition_interval`), named by the day it starts
///   (`events_p20261201`), created `ahead` periods ahead of the clock by `ensure`, at open
///   and at every purge round, so that inserts never wait for DDL;
/// - `default`, which takes what no other partition covers (an event from beyond the
///   periods created, or from the gap a dropped partition left), so that no insert ever
///   fails for want of a partition. Creating a period whose range the default partition
///   holds rows of moves those rows into it.
///
/// Dropping a whole partition (`dropWhole`) is how retention removes old events at scale:
/// no row deletes, no index churn, no vacuum debt. It takes the partition's locks with a
/// short `lock_timeout`, so a long read holding the table makes the drop wait for the next
/// round rather than queue every other read behind it.
///
/// ```swift
/// let partitions = PostgresPartitions(interval: .month, ahead: 2)
/// try await partitions.ensure(now: now, on: connection, logger: logger)   // inside a transaction
/// ```
struct PostgresPartitions: Sendable {
    var interval: PartitionInterval
    /// Periods after the current one that exist before the clock reaches them.
    var ahead: Int
    /// How far back a migrated database gets periods of its own; older events go to
    /// `history`, so that a stray `created_at` of 1970 cannot ask for 600 partitions.
    static let maxPastPeriods = 24
    /// How long a drop waits for the locks of a partition that readers or writers hold.
    static let lockTimeout = "2s"

    init(interval: PartitionInterval = .month, ahead: Int = 2) {
        self.interval = interval
        self.ahead = max(1, ahead)
    }

    /// One recorded partition pair; `from` nil is the lowest value, both nil the default.
    struct Partition: Sendable, Equatable {
        var suffix: String
        var from: Int64?
        var to: Int64?

        var events: String { "events_\(suffix)" }
        var tags: String { "tags_\(suffix)" }
    }

    /// Creates the default and history partitions and the periods from the one holding
    /// `oldest` (bounded by `maxPastPeriods`) to `ahead` periods after `now`. Run once, by
    /// the migration step that partitions the tables, on empty partitioned tables.
    func createInitial(oldest: Int64?, now: Int64, on connection: PostgresConnection, logger: Logger) async throws {
        var earliest = interval.start(of: now)
        for _ in 0..<Self.maxPastPeriods { earliest = interval.start(of: earliest - 1) }
        let first = interval.start(of: min(max(oldest ?? now, earliest), now))
        try await create(Partition(suffix: "default", from: nil, to: nil), on: connection, logger: logger)
        try await create(Partition(suffix: "history", from: nil, to: first), on: connection, logger: logger)
        try await extend(from: first, now: now, on: connection, logger: logger)
    }

    /// Creates the periods missing between the newest partition and `ahead` periods after
    /// `now`. Inside a transaction; several nodes may call it at once (the lock on
    /// `event_partitions` makes them take turns). Returns the partitions created.
    @discardableResult
    func ensure(now: Int64, on connection: PostgresConnection, logger: Logger) async throws -> [Partition] {
        // Creating a partition locks `events`: rather than queue every read behind a long
        // query, give up and try again at the next round (the default partition takes
        // what arrives meanwhile).
        try await connection.perform(PostgresQuery(unsafeSQL: "SET LOCAL lock_timeout = '\(Self.lockTimeout)'"), logger: logger)
        try await connection.perform("LOCK TABLE event_partitions IN EXCLUSIVE MODE", logger: logger)
        let newest = try await recorded(on: connection, logger: logger).compactMap(\.to).max()
        guard let newest else { throw StoreError("the events table has no partitions recorded") }
        return try await extend(from: newest, now: now, on: connection, logger: logger)
    }

    @discardableResult
    private func extend(from start: Int64, now: Int64, on connection: PostgresConnection, logger: Logger) async throws
        -> [Partition]
    {
        var horizon = interval.end(of: now)
        for _ in 0..<ahead { horizon = interval.end(of: horizon) }
        var created: [Partition] = []
        var cursor = start
        while cursor < horizon {
            // A period cut short when the interval changed since the last partition.
            let end = interval.end(of: cursor)
            let partition = Partition(suffix: "p" + PartitionInterval.dayStamp(cursor), from: cursor, to: end)
            try await create(partition, on: connection, logger: logger)
            created.append(partition)
            cursor = end
        }
        return created
    }

    /// Every recorded partition, oldest first, the default last.
    func recorded(on connection: PostgresConnection, logger: Logger) async throws -> [Partition] {
        var partitions: [Partition] = []
        let rows = try await connection.query(
            "SELECT suffix, from_at, to_at FROM event_partitions ORDER BY to_at NULLS LAST", logger: logger)
        for try await (suffix, from, to) in rows.decode((String, Int64?, Int64?).self) {
            partitions.append(Partition(suffix: suffix, from: from, to: to))
        }
        return partitions
    }

    private func create(_ partition: Partition, on connection: PostgresConnection, logger: Logger) async throws {
        let bounds: String
        switch (partition.from, partition.to) {
        case (nil, nil): bounds = "DEFAULT"
        case (nil, let to?): bounds = "FOR VALUES FROM (MINVALUE) TO (\(to))"
        case (let from?, let to?): bounds = "FOR VALUES FROM (\(from)) TO (\(to))"
        case (let from?, nil): bounds = "FOR VALUES FROM (\(from)) TO (MAXVALUE)"
        }
        let stranded = try await defaultHoldsRows(of: partition, on: connection, logger: logger)
        if stranded { try await detachDefault(on: connection, logger: logger) }
        for table in ["events", "tags"] {
            try await connection.perform(
                PostgresQuery(unsafeSQL: "CREATE TABLE \(table)_\(partition.suffix) PARTITION OF \(table) \(bounds)"),
                logger: logger)
        }
        if stranded, let from = partition.from, let to = partition.to {
            // Straight into the partition, not through the parent: the parent's statement
            // triggers (kind counts, tag cleanup) must not see a move as an insert or delete.
            for table in ["events", "tags"] {
                let range = "created_at >= \(from) AND created_at < \(to)"
                try await connection.perform(
                    PostgresQuery(
                        unsafeSQL: """
                            WITH moved AS (DELETE FROM \(table)_default WHERE \(range) RETURNING *)
                            INSERT INTO \(table)_\(partition.suffix) SELECT * FROM moved
                            """), logger: logger)
            }
            try await attachDefault(on: connection, logger: logger)
        }
        try await connection.perform(
            "INSERT INTO event_partitions (suffix, from_at, to_at) VALUES (\(partition.suffix), \(partition.from), \(partition.to))",
            logger: logger)
        logger.info(
            "PostgreSQL partition created",
            metadata: ["partition": "\(partition.events)", "moved from default": "\(stranded)"])
    }

    private func defaultHoldsRows(of partition: Partition, on connection: PostgresConnection, logger: Logger)
        async throws -> Bool
    {
        guard partition.to != nil else { return false }
        let exists = try await connection.query(
            "SELECT 1 FROM pg_class WHERE relname = 'events_default' AND relnamespace = current_schema()::regnamespace",
            logger: logger)
        var hasDefault = false
        for try await _ in exists { hasDefault = true }
        guard hasDefault else { return false }
        let range = [partition.from.map { "created_at >= \($0)" }, partition.to.map { "created_at < \($0)" }]
            .compactMap { $0 }.joined(separator: " AND ")
        let rows = try await connection.query(
            PostgresQuery(unsafeSQL: "SELECT 1 FROM events_default WHERE \(range) LIMIT 1"), logger: logger)
        for try await _ in rows { return true }
        return false
    }

    private func detachDefault(on connection: PostgresConnection, logger: Logger) async throws {
        for table in ["events", "tags"] {
            try await connection.perform(
                PostgresQuery(unsafeSQL: "ALTER TABLE \(table) DETACH PARTITION \(table)_default"), logger: logger)
        }
    }

    private func attachDefault(on connection: PostgresConnection, logger: Logger) async throws {
        for table in ["events", "tags"] {
            try await connection.perform(
                PostgresQuery(unsafeSQL: "ALTER TABLE \(table) ATTACH PARTITION \(table)_default DEFAULT"), logger: logger)
        }
    }

    /// What must hold of every event of a partition for `dropWhole` to drop it.
    enum Scope: Sendable {
        /// Every event, whatever its kind.
        case everything
        /// Events of these kinds only (a retention rule naming kinds, NIP-90 job requests).
        case kinds(Set<Kind>)
        /// Events whose NIP-40 expiration is at or before this time.
        case expiredAt(Int64)

        /// The SQL condition true of an event that must stay (nil: none must).
        var keeping: String? {
            switch self {
            case .everything: nil
            case .kinds(let kinds): "kind <> ALL('{\(kinds.map { String($0.rawValue) }.sorted().joined(separator: ","))}'::integer[])"
            case .expiredAt(let now): "expires_at IS NULL OR expires_at > \(now)"
            }
        }
    }

    /// Drops each partition pair that ends at or before `cutoff` and holds nothing outside
    /// `scope`; returns how many events went. A partition whose locks are not granted
    /// within `lockTimeout` is left for the next round. `client` is the maintenance pool.
    func dropWhole(endingBy cutoff: Int64, scope: Scope, client: PostgresClient, logger: Logger) async throws -> Int {
        let candidates = try await client.withConnection { connection in
            try await recorded(on: connection, logger: logger).filter { ($0.to ?? .max) <= cutoff }
        }
        var removed = 0
        for partition in candidates {
            do {
                removed += try await client.withTransaction(logger: logger) { connection in
                    try await drop(partition, scope: scope, on: connection, logger: logger) ?? 0
                }
            } catch let error as PSQLError where error.serverInfo?[.sqlState] == "55P03" {
                logger.notice("partition drop postponed: its tables are busy", metadata: ["partition": "\(partition.events)"])
            }
        }
        return removed
    }

    /// Drops one partition pair inside the caller's transaction when `scope` allows; nil
    /// when it holds an event to keep.
    private func drop(_ partition: Partition, scope: Scope, on connection: PostgresConnection, logger: Logger)
        async throws -> Int?
    {
        try await connection.perform(PostgresQuery(unsafeSQL: "SET LOCAL lock_timeout = '\(Self.lockTimeout)'"), logger: logger)
        // Counting a large partition's kinds may outlast a query's limit; the caller bounds the whole.
        try await connection.perform("SET LOCAL statement_timeout = 0", logger: logger)
        try await connection.perform("LOCK TABLE event_partitions IN EXCLUSIVE MODE", logger: logger)
        // SHARE: no event comes or goes while we look, and reads go on.
        try await connection.perform(
            PostgresQuery(unsafeSQL: "LOCK TABLE \(partition.events), \(partition.tags) IN SHARE MODE"), logger: logger)
        if let keeping = scope.keeping {
            let rows = try await connection.query(
                PostgresQuery(unsafeSQL: "SELECT 1 FROM \(partition.events) WHERE \(keeping) LIMIT 1"), logger: logger)
            for try await _ in rows { return nil }
        }
        // A dropped table fires no delete trigger: the kind counts are told here.
        let counted = try await connection.query(
            PostgresQuery(
                unsafeSQL: """
                    WITH c AS (SELECT kind, count(*) AS n FROM \(partition.events) GROUP BY kind),
                    counted AS (INSERT INTO kind_counts (kind, delta) SELECT kind, -n FROM c)
                    SELECT coalesce(sum(n), 0)::bigint FROM c
                    """), logger: logger)
        var removed: Int64 = 0
        for try await count in counted.decode(Int64.self) { removed = count }
        // Nothing to gain, and the gap would send later events of its range to the default partition.
        guard removed > 0 else { return nil }
        try await connection.perform(
            PostgresQuery(unsafeSQL: "DROP TABLE \(partition.events), \(partition.tags)"), logger: logger)
        try await connection.perform("DELETE FROM event_partitions WHERE suffix = \(partition.suffix)", logger: logger)
        logger.info(
            "PostgreSQL partition dropped", metadata: ["partition": "\(partition.events)", "events": "\(removed)"])
        return Int(removed)
    }
}
