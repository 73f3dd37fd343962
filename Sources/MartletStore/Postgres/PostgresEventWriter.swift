import Logging
import NIOCore
import NostrCore
import PostgresNIO

/// Writes a batch of events inside the caller's transaction: reads what the batch can
/// touch (`readStored`), plays it through `PostgresBatchPlan` (`WriteRules` over the whole
/// batch), writes the outcome.
///
/// Several relay nodes write at once. Two versions of one replaceable or addressable event
/// arriving at two nodes would each find no newer version, and both be kept, or a version
/// and an `a`-tag deletion of it would each miss the other. So before reading anything a
/// batch takes a transaction-scoped advisory lock on every address it writes or deletes,
/// in sorted order (no two batches can wait on each other in a cycle): the second batch
/// waits until the first commits, and then, under READ COMMITTED, its reads see what the
/// first wrote. A lock rather than `INSERT ... ON CONFLICT` on `events_address`: the
/// conflict would settle only the insert, while the rules also need the deletion records
/// and the version being replaced to stay as read until the batch commits. The unique
/// index stays as the backstop.
///
/// ```swift
/// let saved = try await client.withTransaction(logger: logger) { connection in
///     try await PostgresEventWriter(connection, logger: logger).save(events)
/// }
/// ```
struct PostgresEventWriter {
    let connection: PostgresConnection
    let logger: Logger
    /// The kinds whose content gets a NIP-50 document.
    let searchableKinds: SearchableKinds

    init(_ connection: PostgresConnection, logger: Logger, searchableKinds: SearchableKinds = .all) {
        self.connection = connection
        self.logger = logger
        self.searchableKinds = searchableKinds
    }

    /// Saves `events` and returns one result per event, the id of the transaction (the live
    /// feed skips this node's own writes by it) and the highest `seq` written.
    func save(_ events: [Event]) async throws -> (results: [SaveResult], transaction: Int64, maxSeq: Int64?) {
        let transaction = try await lockAddresses(Set(events.flatMap(Self.addressLocks)).sorted())
        var plan = PostgresBatchPlan(stored: try await readStored(for: events))
        for event in events { try plan.add(event) }
        try await applyRemovals(plan)
        let inserts = plan.inserts
        let inserted = try await insert(inserts)
        // An id another node inserted after our read was not inserted again: a duplicate.
        let skipped = Set(inserts.map(\.id)).subtracting(inserted.keys)
        let results = zip(events, plan.results).map { event, result in
            result == .saved && skipped.contains(event.id) ? .duplicate : result
        }
        return (results, transaction, inserted.values.max())
    }

    /// The lock keys of the addresses `event` writes, or deletes by `a` tag.
    static func addressLocks(_ event: Event) -> [Int32] {
        func key(_ address: StoredAddress) -> Int32 {
            var hash = StableHash()
            address.pubkey.raw.withUnsafeBytes { hash.add($0) }
            hash.add([UInt8(address.kind.rawValue >> 8), UInt8(address.kind.rawValue & 0xFF), 0])
            hash.add(address.dTag.utf8)
            return hash.int32
        }
        if let address = StoredAddress(of: event) { return [key(address)] }
        guard event.kind == .deletion else { return [] }
        return DeletionEffects(of: event).addresses.map(key)
    }

    /// Takes the address locks and returns the transaction's id.
    private func lockAddresses(_ keys: [Int32]) async throws -> Int64 {
        if !keys.isEmpty {
            // The subquery's ORDER BY fixes the order the locks are taken in.
            try await connection.perform(
                """
                SELECT pg_advisory_xact_lock(\(PostgresSchema.lockClass), k)
                FROM (SELECT k FROM unnest(\(keys)::integer[]) AS k ORDER BY k) AS ordered
                """, logger: logger)
        }
        let rows = try await connection.query("SELECT pg_current_xact_id()::text::bigint", logger: logger)
        for try await transaction in rows.decode(Int64.self) { return transaction }
        throw StoreError("PostgreSQL returned no transaction id")
    }

    /// Replaced versions, events deleted by id or by address, and the deletion records.
    private func applyRemovals(_ plan: PostgresBatchPlan) async throws {
        if !plan.replacedSeqs.isEmpty {
            try await connection.perform(
                """
                DELETE FROM events e USING unnest(\(plan.replacedSeqs)::bigint[], \(plan.replacedCreatedAts)::bigint[])
                    AS r(seq, created_at)
                WHERE e.seq = r.seq AND e.created_at = r.created_at
                """, logger: logger)
        }
        if !plan.deletedIDs.isEmpty {
            let ids = plan.deletedIDs.map(\.id.postgresBytes)
            let authors = plan.deletedIDs.map(\.pubkey.postgresBytes)
            try await connection.perform(
                """
                INSERT INTO deleted_ids (id, pubkey) SELECT * FROM unnest(\(ids)::bytea[], \(authors)::bytea[])
                ON CONFLICT DO NOTHING
                """, logger: logger)
            try await connection.perform(
                """
                DELETE FROM events e USING unnest(\(ids)::bytea[], \(authors)::bytea[]) AS d(id, pubkey)
                WHERE e.id = d.id AND e.pubkey = d.pubkey
                    AND e.kind <> ALL(\(WriteRules.undeletableKinds.map(\.postgresInt))::integer[])
                """, logger: logger)
        }
        if !plan.deletedAddresses.isEmpty {
            let addresses = Array(plan.deletedAddresses)
            let authors = addresses.map(\.key.pubkey.postgresBytes)
            let kinds = addresses.map(\.key.kind.postgresInt)
            let dTags = addresses.map(\.key.dTag)
            let untils = addresses.map(\.value)
            try await connection.perform(
                """
                INSERT INTO deleted_addresses (pubkey, kind, d_tag, deleted_until)
                SELECT * FROM unnest(\(authors)::bytea[], \(kinds)::integer[], \(dTags)::text[], \(untils)::bigint[])
                ON CONFLICT (pubkey, kind, d_tag)
                DO UPDATE SET deleted_until = greatest(deleted_addresses.deleted_until, excluded.deleted_until)
                """, logger: logger)
            try await connection.perform(
                """
                DELETE FROM events e
                USING unnest(\(authors)::bytea[], \(kinds)::integer[], \(dTags)::text[], \(untils)::bigint[])
                    AS a(pubkey, kind, d_tag, until)
                WHERE e.pubkey = a.pubkey AND e.kind = a.kind AND e.d_tag = a.d_tag AND e.created_at <= a.until
                """, logger: logger)
        }
    }

    /// Inserts the events and their index tags in one statement; returns the `seq` of each
    /// inserted id (an id another transaction stored first is skipped).
    private func insert(_ events: [Event]) async throws -> [EventID: Int64] {
        guard !events.isEmpty else { return [:] }
        var columns = InsertColumns()
        for event in events { columns.add(event, searchableKinds: searchableKinds) }
        let rows = try await connection.query(
            """
            WITH inserted AS (
                INSERT INTO events (id, pubkey, created_at, kind, d_tag, expires_at, json, search)
                SELECT id, pubkey, created_at, kind, CASE WHEN has_d THEN d_tag END,
                    CASE WHEN expires THEN expires_at END, json,
                    CASE WHEN searchable THEN to_tsvector('simple', search) END
                FROM unnest(\(columns.ids)::bytea[], \(columns.pubkeys)::bytea[], \(columns.createdAts)::bigint[],
                    \(columns.kinds)::integer[], \(columns.hasDTag)::boolean[], \(columns.dTags)::text[],
                    \(columns.expires)::boolean[], \(columns.expiresAt)::bigint[], \(columns.jsons)::bytea[],
                    \(columns.searchable)::boolean[], \(columns.searchTexts)::text[])
                    AS v(id, pubkey, created_at, kind, has_d, d_tag, expires, expires_at, json, searchable, search)
                ON CONFLICT DO NOTHING
                RETURNING id, seq
            ), tagged AS (
                INSERT INTO tags (event_seq, name, value, created_at)
                SELECT inserted.seq, t.name, t.value, t.created_at
                FROM unnest(\(columns.tagEventIDs)::bytea[], \(columns.tagNames)::text[],
                    \(columns.tagValues)::bytea[], \(columns.tagCreatedAts)::bigint[]) AS t(id, name, value, created_at)
                JOIN inserted ON inserted.id = t.id
            )
            SELECT id, seq FROM inserted
            """, logger: logger)
        var inserted: [EventID: Int64] = [:]
        for try await (id, seq) in rows.decode((ByteBuffer, Int64).self) {
            inserted[EventID(try Bytes32(postgres: id))] = seq
        }
        return inserted
    }

    /// NIP-62: removes and refuses from now on everything by `pubkey` up to `until`, and
    /// the gift wraps addressed to it. Returns how many events were removed.
    func vanish(pubkey: PublicKey, until: Int64) async throws -> Int {
        let key = pubkey.postgresBytes
        try await connection.perform(
            """
            INSERT INTO vanished (pubkey, until) VALUES (\(key), \(until))
            ON CONFLICT (pubkey) DO UPDATE SET until = greatest(vanished.until, excluded.until)
            """, logger: logger)
        let byAuthor = try await count(
            "DELETE FROM events WHERE pubkey = \(key) AND created_at <= \(until) AND kind <> 62 RETURNING 1")
        let wraps = try await count(
            """
            DELETE FROM events e USING tags t
            WHERE t.event_seq = e.seq AND t.created_at = e.created_at AND t.name = 'p' AND t.value = \(key)
                AND t.created_at <= \(until)
                AND e.kind = 1059
            RETURNING 1
            """)
        return byAuthor + wraps
    }

    /// NIP-40: removes events whose expiration is at or before `now`.
    func purgeExpired(now: Int64) async throws -> Int {
        try await count("DELETE FROM events WHERE expires_at IS NOT NULL AND expires_at <= \(now) RETURNING 1")
    }

    /// Folds the appended kind count deltas into one row per kind. Rows another node
    /// appends meanwhile are not in this statement's snapshot and stay for the next fold.
    func foldKindCounts() async throws {
        try await connection.perform(
            """
            WITH gone AS (DELETE FROM kind_counts RETURNING kind, delta)
            INSERT INTO kind_counts (kind, delta)
            SELECT kind, sum(delta) FROM gone GROUP BY kind HAVING sum(delta) <> 0
            """, logger: logger)
    }

    /// Runs a `... RETURNING 1` statement and returns how many rows it touched.
    private func count(_ statement: PostgresQuery) async throws -> Int {
        let rows = try await connection.query(
            PostgresQuery(
                unsafeSQL: "WITH touched AS (\(statement.sql)) SELECT count(*) FROM touched", binds: statement.binds),
            logger: logger)
        for try await count in rows.decode(Int64.self) { return Int(count) }
        return 0
    }
}

/// The events of an insert as one array per column (arrays cannot hold NULL here, so
/// nullable columns travel with a flag), and their index tags likewise.
private struct InsertColumns {
    var ids: [ByteBuffer] = []
    var pubkeys: [ByteBuffer] = []
    var createdAts: [Int64] = []
    var kinds: [Int32] = []
    var hasDTag: [Bool] = []
    var dTags: [String] = []
    var expires: [Bool] = []
    var expiresAt: [Int64] = []
    var jsons: [ByteBuffer] = []
    var searchable: [Bool] = []
    var searchTexts: [String] = []
    var tagEventIDs: [ByteBuffer] = []
    var tagNames: [String] = []
    var tagValues: [ByteBuffer] = []
    var tagCreatedAts: [Int64] = []

    mutating func add(_ event: Event, searchableKinds: SearchableKinds) {
        let id = event.id.postgresBytes
        ids.append(id)
        pubkeys.append(event.pubkey.postgresBytes)
        createdAts.append(event.createdAt)
        kinds.append(event.kind.postgresInt)
        hasDTag.append(event.storedDTag != nil)
        dTags.append(event.storedDTag ?? "")
        expires.append(event.expiration != nil)
        expiresAt.append(event.expiration ?? 0)
        jsons.append(ByteBuffer(bytes: event.json))
        let search = SearchText.document(for: event, kinds: searchableKinds)
        searchable.append(search != nil)
        searchTexts.append(search ?? "")
        // The primary key (event, name, value) holds a repeated tag once.
        var seen = Set<[UInt8]>()
        for tag in event.tags where tag.indexLetter != nil && tag.fields.count > 1 {
            let value = TagValue.postgresBytes(tag.fields[1])
            guard seen.insert(Array(tag.fields[0].utf8) + [0] + Array(value.readableBytesView)).inserted else {
                continue
            }
            tagEventIDs.append(id)
            tagNames.append(tag.fields[0])
            tagValues.append(value)
            tagCreatedAts.append(event.createdAt)
        }
    }
}
