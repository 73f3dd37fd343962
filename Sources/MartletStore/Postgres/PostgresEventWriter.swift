import Logging
import NIOCore
import NostrCore
import PostgresNIO

/// Applies a batch of events inside the caller's transaction, one event after the other,
/// so that events of one batch see each other exactly as if they had come in separate
/// batches: the rules are `EventWriter`'s, the SQL is PostgreSQL's.
///
/// Several relay nodes write at once. Two versions of one replaceable or addressable event
/// arriving at two nodes would each find no newer version, and both be kept, or a version
/// and an `a`-tag deletion of it would each miss the other. So before anything else a
/// batch takes a transaction-scoped advisory lock on every address it writes or deletes,
/// in sorted order (no two batches can wait on each other in a cycle): the second batch
/// waits until the first commits, and then, under READ COMMITTED, its next statement sees
/// what the first wrote. The unique index `events_address` stays as the backstop.
///
/// ```swift
/// let results = try await client.withTransaction(logger: logger) { connection in
///     try await PostgresEventWriter(connection, logger: logger).save(events)
/// }
/// ```
struct PostgresEventWriter {
    let connection: PostgresConnection
    let logger: Logger

    init(_ connection: PostgresConnection, logger: Logger) {
        self.connection = connection
        self.logger = logger
    }

    /// Saves `events` and returns one result per event, the id of the transaction (the live
    /// feed skips this node's own writes by it) and the highest `seq` written.
    func save(_ events: [Event]) async throws -> (results: [SaveResult], transaction: Int64, maxSeq: Int64?) {
        let keys = Set(events.flatMap(Self.addressLocks)).sorted()
        let transaction = try await lockAddresses(keys)
        var results: [SaveResult] = []
        results.reserveCapacity(events.count)
        var maxSeq: Int64?
        for event in events {
            let (result, seq) = try await save(event)
            results.append(result)
            if let seq { maxSeq = max(maxSeq ?? seq, seq) }
        }
        return (results, transaction, maxSeq)
    }

    /// The lock keys of the addresses `event` writes, or deletes by `a` tag.
    static func addressLocks(_ event: Event) -> [Int32] {
        func key(_ pubkey: PublicKey, _ kind: Kind, _ dTag: String) -> Int32 {
            var hash = StableHash()
            pubkey.raw.withUnsafeBytes { hash.add($0) }
            hash.add([UInt8(kind.rawValue >> 8), UInt8(kind.rawValue & 0xFF), 0])
            hash.add(dTag.utf8)
            return hash.int32
        }
        if let dTag = event.storedDTag { return [key(event.pubkey, event.kind, dTag)] }
        guard event.kind == .deletion else { return [] }
        return ownAddresses(of: event).map { key(event.pubkey, $0.kind, $0.dTag) }
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

    private func save(_ event: Event) async throws -> (SaveResult, seq: Int64?) {
        let dTag = event.storedDTag
        var vanishKeys: [ByteBuffer] = []
        if event.kind != .requestToVanish {
            vanishKeys.append(event.pubkey.postgresBytes)
            // NIP-62: gift wraps addressed to a key that vanished go with it.
            if event.kind == .giftWrap { vanishKeys += event.referencedPubkeys.map(\.postgresBytes) }
        }
        let rows = try await connection.query(
            """
            SELECT EXISTS (SELECT 1 FROM events WHERE id = \(event.id.postgresBytes)),
                (SELECT max(until) FROM vanished WHERE pubkey = ANY(\(vanishKeys)::bytea[])),
                EXISTS (SELECT 1 FROM deleted_ids WHERE id = \(event.id.postgresBytes) AND pubkey = \(event.pubkey.postgresBytes)),
                (SELECT deleted_until FROM deleted_addresses
                 WHERE pubkey = \(event.pubkey.postgresBytes) AND kind = \(event.kind.postgresInt) AND d_tag = \(dTag)::text),
                cur.seq, cur.created_at, cur.id
            FROM (SELECT 1) AS one LEFT JOIN LATERAL (
                SELECT seq, created_at, id FROM events
                WHERE pubkey = \(event.pubkey.postgresBytes) AND kind = \(event.kind.postgresInt) AND d_tag = \(dTag)::text
            ) AS cur ON true
            """, logger: logger)
        typealias Checks = (Bool, Int64?, Bool, Int64?, Int64?, Int64?, ByteBuffer?)
        var checks: Checks?
        for try await row in rows.decode(Checks.self) { checks = row }
        guard let (exists, vanishedUntil, deletedByID, deletedUntil, currentSeq, currentCreatedAt, currentID) = checks
        else { throw StoreError("PostgreSQL returned no row for the checks of an event") }

        if exists { return (.duplicate, nil) }
        if let vanishedUntil, event.createdAt <= vanishedUntil { return (.vanished, nil) }
        // NIP-09 and NIP-62: deletion requests and requests to vanish cannot be deleted.
        if event.kind != .deletion, event.kind != .requestToVanish {
            if deletedByID { return (.deleted, nil) }
            if let deletedUntil, event.createdAt <= deletedUntil { return (.deleted, nil) }
        }
        if let currentSeq, let currentCreatedAt, let currentID {
            let current = EventID(try Bytes32(postgres: currentID))
            let currentWins = currentCreatedAt != event.createdAt ? currentCreatedAt > event.createdAt : current < event.id
            if currentWins { return (.superseded, nil) }
            try await connection.perform("DELETE FROM events WHERE seq = \(currentSeq)", logger: logger)
        }
        guard let seq = try await insert(event, dTag: dTag) else { return (.duplicate, nil) }
        if event.kind == .deletion { try await applyDeletion(event) }
        return (.saved, seq)
    }

    /// Inserts the event and its index tags and returns its `seq`; nil when another
    /// transaction stored the same id first (this insert waited for that one to commit).
    private func insert(_ event: Event, dTag: String?) async throws -> Int64? {
        var names: [String] = []
        var values: [ByteBuffer] = []
        var seen = Set<[UInt8]>()
        for tag in event.tags where tag.indexLetter != nil && tag.fields.count > 1 {
            let value = TagValue.postgresBytes(tag.fields[1])
            if seen.insert(Array(tag.fields[0].utf8) + [0] + Array(value.readableBytesView)).inserted {
                names.append(tag.fields[0])
                values.append(value)
            }
        }
        let rows = try await connection.query(
            """
            WITH inserted AS (
                INSERT INTO events (id, pubkey, created_at, kind, d_tag, expires_at, json, search)
                VALUES (\(event.id.postgresBytes), \(event.pubkey.postgresBytes), \(event.createdAt),
                    \(event.kind.postgresInt), \(dTag)::text, \(event.expiration)::bigint, \(ByteBuffer(bytes: event.json)),
                    to_tsvector('simple', \(SearchText.document(for: event))::text))
                ON CONFLICT DO NOTHING RETURNING seq
            ), tagged AS (
                INSERT INTO tags (event_seq, name, value, created_at)
                SELECT inserted.seq, t.name, t.value, \(event.createdAt)
                FROM inserted CROSS JOIN unnest(\(names)::text[], \(values)::bytea[]) AS t(name, value)
            )
            SELECT seq FROM inserted
            """, logger: logger)
        for try await seq in rows.decode(Int64.self) { return seq }
        return nil
    }

    /// NIP-09: removes the author's own events named by `e` tags and the author's versions
    /// of `a` addresses up to the request's time, and remembers both.
    private func applyDeletion(_ deletion: Event) async throws {
        let author = deletion.pubkey.postgresBytes
        let ids = Array(Set(deletion.referencedEventIDs)).map(\.postgresBytes)
        if !ids.isEmpty {
            try await connection.perform(
                """
                INSERT INTO deleted_ids (id, pubkey) SELECT unnest(\(ids)::bytea[]), \(author)
                ON CONFLICT DO NOTHING
                """, logger: logger)
            try await connection.perform(
                """
                DELETE FROM events WHERE id = ANY(\(ids)::bytea[]) AND pubkey = \(author) AND kind NOT IN (5, 62)
                """, logger: logger)
        }
        let addresses = Self.ownAddresses(of: deletion)
        guard !addresses.isEmpty else { return }
        let kinds = addresses.map(\.kind.postgresInt)
        let dTags = addresses.map(\.dTag)
        try await connection.perform(
            """
            INSERT INTO deleted_addresses (pubkey, kind, d_tag, deleted_until)
            SELECT \(author), a.kind, a.d_tag, \(deletion.createdAt)
            FROM unnest(\(kinds)::integer[], \(dTags)::text[]) AS a(kind, d_tag)
            ON CONFLICT (pubkey, kind, d_tag)
            DO UPDATE SET deleted_until = greatest(deleted_addresses.deleted_until, excluded.deleted_until)
            """, logger: logger)
        try await connection.perform(
            """
            DELETE FROM events e USING unnest(\(kinds)::integer[], \(dTags)::text[]) AS a(kind, d_tag)
            WHERE e.pubkey = \(author) AND e.kind = a.kind AND e.d_tag = a.d_tag
                AND e.created_at <= \(deletion.createdAt)
            """, logger: logger)
    }

    /// The replaceable and addressable addresses a deletion names under its own key, once
    /// each (an `a` tag naming someone else's key deletes nothing).
    private static func ownAddresses(of deletion: Event) -> [(kind: Kind, dTag: String)] {
        var seen = Set<EventAddress>()
        var addresses: [(kind: Kind, dTag: String)] = []
        for address in deletion.referencedAddresses where address.pubkey == deletion.pubkey {
            let dTag: String
            switch address.kind.category {
            case .replaceable: dTag = ""
            case .addressable: dTag = address.identifier
            case .regular, .ephemeral: continue
            }
            if seen.insert(EventAddress(kind: address.kind, pubkey: address.pubkey, identifier: dTag)).inserted {
                addresses.append((address.kind, dTag))
            }
        }
        return addresses
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
            WHERE t.event_seq = e.seq AND t.name = 'p' AND t.value = \(key) AND t.created_at <= \(until)
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
            PostgresQuery(unsafeSQL: "WITH touched AS (\(statement.sql)) SELECT count(*) FROM touched",
                binds: statement.binds), logger: logger)
        for try await count in rows.decode(Int64.self) { return Int(count) }
        return 0
    }
}
