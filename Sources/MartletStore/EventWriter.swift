import Foundation
import GRDB
import NostrCore

/// Applies a batch of events inside the caller's write transaction, one event after the
/// other, so that events of one batch see each other (a deletion after its target, two
/// versions of one replaceable event) exactly as if they had come in separate batches.
///
/// `WriteRules` decides what each event does, asking its questions of the tables as it
/// goes (a lookup costs a microsecond here); this type only reads and writes the rows.
/// Removing a row from `events` is all any rule does: triggers take its tags and its kind
/// count along, and note its full-text entry for `SQLiteSearchIndex.catchUp`, which every
/// write of events ends with (`SQLiteEventStore.writeEvents`).
///
/// ```swift
/// let saved = try await store.writeEvents { writer in try writer.save(events) }
/// ```
struct EventWriter {
    let db: Database

    init(_ db: Database) { self.db = db }

    /// Each event's result, and the rowid it was stored under (nil when it was not).
    func save(_ events: [Event]) throws -> [(result: SaveResult, rowid: Int64?)] {
        var rowids = try RowidMark(db)
        let saved = try events.map { try save($0, rowids: &rowids) }
        try rowids.record()
        // NIP-50: the terms of what was stored, so that a prefix search can name them.
        try SearchVocabulary.record(zip(events, saved).lazy.filter { $0.1.rowid != nil }.map(\.0), db)
        return saved
    }

    private func save(_ event: Event, rowids: inout RowidMark) throws -> (result: SaveResult, rowid: Int64?) {
        switch try WriteRules.decide(event, facts: self) {
        case .refuse(let result):
            return (result, nil)
        case .save(let effects):
            if let replaced = effects.replacing?.row {
                try DirectStatement(db, "DELETE FROM events WHERE rowid = ?").execute { $0.bind(replaced) }
            }
            let rowid = rowids.next()
            try insert(event, rowid: rowid, dTag: effects.address?.dTag)
            if let deletion = effects.deletion { try apply(deletion) }
            return (.saved, rowid)
        }
    }

    private func insert(_ event: Event, rowid: Int64, dTag: String?) throws {
        let tieRank = TieRank.of(event.id)
        let body = StoredBody.cut(event)
        try DirectStatement(
            db,
            """
            INSERT INTO events(rowid, id, pubkey, created_at, kind, d_tag, expires_at, body, sig, tie_rank)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """
        ).execute { values in
            values.bind(rowid)
            values.bind(event.id.raw)
            values.bind(event.pubkey.raw)
            values.bind(event.createdAt)
            values.bind(Int64(event.kind.rawValue))
            if let dTag { values.bind(dTag) } else { values.bindNull() }
            if let expiration = event.expiration { values.bind(expiration) } else { values.bindNull() }
            values.bind(body)
            values.bind(event.sig)
            values.bind(tieRank)
        }
        let insertTag = try DirectStatement(
            db, "INSERT OR IGNORE INTO tags(event_rowid, name, value, created_at, tie_rank) VALUES (?, ?, ?, ?, ?)")
        for tag in event.tags where tag.indexLetter != nil && tag.fields.count > 1 {
            try insertTag.execute { values in
                values.bind(rowid)
                values.bind(tag.fields[0])
                values.bind(tagValue: tag.fields[1])
                values.bind(event.createdAt)
                values.bind(tieRank)
            }
        }
    }

    /// NIP-09: records what `deletion` names, so that it stays deleted, and removes what
    /// it removes (`DeletionEffects`).
    private func apply(_ deletion: DeletionEffects) throws {
        let author = deletion.author.databaseValue
        for id in deletion.ids {
            try execute("INSERT OR IGNORE INTO deleted_ids(id, pubkey) VALUES (?, ?)", [id.databaseValue, author])
            try execute(
                "DELETE FROM events WHERE id = ? AND pubkey = ? AND kind NOT IN (\(WriteRules.undeletableKindsSQL))",
                [id.databaseValue, author])
        }
        for address in deletion.addresses {
            let arguments: [DatabaseValue] = [
                author, address.kind.databaseValue, address.dTag.databaseValue, .init(value: deletion.until),
            ]
            try execute(
                """
                INSERT INTO deleted_addresses(pubkey, kind, d_tag, deleted_until) VALUES (?, ?, ?, ?)
                ON CONFLICT DO UPDATE SET deleted_until = max(deleted_until, excluded.deleted_until)
                """, arguments)
            try execute(
                "DELETE FROM events WHERE pubkey = ? AND kind = ? AND d_tag = ? AND created_at <= ?", arguments)
        }
    }

    /// NIP-62: removes and refuses from now on everything by `pubkey` up to `until`, and the
    /// gift wraps addressed to it. Returns how many events were removed.
    func vanish(pubkey: PublicKey, until: Int64) throws -> Int {
        let key = pubkey.databaseValue
        try execute(
            """
            INSERT INTO vanished(pubkey, until) VALUES (?, ?)
            ON CONFLICT DO UPDATE SET until = max(until, excluded.until)
            """, [key, .init(value: until)])
        try execute(
            "DELETE FROM events WHERE pubkey = ? AND created_at <= ? AND kind != 62", [key, .init(value: until)])
        var removed = db.changesCount
        try execute(
            """
            DELETE FROM events NOT INDEXED WHERE rowid IN (
                SELECT event_rowid FROM tags
                WHERE name = 'p' AND value = ? AND created_at <= ?
            ) AND kind = 1059
            """, [key, .init(value: until)])
        removed += db.changesCount
        return removed
    }

    /// Removes the events `ids` name, whatever they are (`martlet delete`, NIP-86). Returns
    /// how many were stored.
    func remove(_ ids: [EventID]) throws -> Int {
        let statement = try db.cachedStatement(sql: "DELETE FROM events WHERE id = ?")
        var removed = 0
        for id in ids {
            try statement.execute(arguments: [id.databaseValue])
            removed += db.changesCount
        }
        return removed
    }

    /// NIP-40: removes events whose expiration is at or before `now`.
    func purgeExpired(now: Int64) throws -> Int {
        try execute("DELETE FROM events WHERE expires_at IS NOT NULL AND expires_at <= ?", [.init(value: now)])
        return db.changesCount
    }

    private func execute(_ sql: String, _ arguments: [DatabaseValue]) throws {
        let statement = try db.cachedStatement(sql: sql)
        statement.setUncheckedArguments(StatementArguments(values: arguments))
        try statement.execute()
    }
}

/// The tables' answers to `WriteRules`' questions, read at the moment each is asked.
extension EventWriter: WriteFacts {
    func isStored(_ id: EventID) throws -> Bool {
        try DirectStatement(db, "SELECT 1 FROM events WHERE id = ?")
            .firstRow(binding: { $0.bind(id.raw) }) { _ in true } ?? false
    }

    func vanishedUntil(_ pubkey: PublicKey) throws -> Int64? {
        try DirectStatement(db, "SELECT until FROM vanished WHERE pubkey = ?")
            .firstRow(binding: { $0.bind(pubkey.raw) }) { $0.int64(0) }
    }

    func isDeleted(_ id: EventID, author: PublicKey) throws -> Bool {
        try DirectStatement(db, "SELECT 1 FROM deleted_ids WHERE id = ? AND pubkey = ?").firstRow(binding: {
            $0.bind(id.raw)
            $0.bind(author.raw)
        }) { _ in true } ?? false
    }

    func deletedUntil(_ address: StoredAddress) throws -> Int64? {
        try DirectStatement(
            db, "SELECT deleted_until FROM deleted_addresses WHERE pubkey = ? AND kind = ? AND d_tag = ?"
        ).firstRow(binding: { $0.bind(address) }) { $0.int64(0) }
    }

    func currentVersion(at address: StoredAddress) throws -> StoredVersion? {
        try DirectStatement(db, "SELECT rowid, created_at, id FROM events WHERE pubkey = ? AND kind = ? AND d_tag = ?")
            .firstRow(binding: { $0.bind(address) }) { row in
                StoredVersion(row: row.int64(0), createdAt: row.int64(1), id: EventID(try row.bytes32(2, "id")))
            }
    }
}

extension DirectStatement.Arguments {
    /// `pubkey = ? AND kind = ? AND d_tag = ?`'s three values.
    fileprivate mutating func bind(_ address: StoredAddress) {
        bind(address.pubkey.raw)
        bind(Int64(address.kind.rawValue))
        bind(address.dTag)
    }
}

/// The rowid each stored event gets: one past the highest any event was ever given, so that
/// a rowid names one event for ever and `EventCache` needs no invalidation. SQLite's own
/// choice is one past the highest present, which hands a deleted newest event's rowid to
/// the next event stored.
///
/// The mark is read once a batch and written back once, inside its transaction: every
/// writer, in this process or another (`martlet import` beside a running relay), goes
/// through `EventWriter`.
///
/// ```swift
/// var rowids = try RowidMark(db)
/// let rowid = rowids.next()
/// try rowids.record()
/// ```
struct RowidMark {
    private let db: Database
    private var highest: Int64
    private let recorded: Int64

    init(_ db: Database) throws {
        self.db = db
        // The table's highest too: rows written by a Martlet from before the mark.
        highest =
            try DirectStatement(
                db, "SELECT max((SELECT highest FROM events_rowid_mark), coalesce((SELECT max(rowid) FROM events), 0))"
            ).firstRow(binding: { _ in }) { $0.int64(0) } ?? 0
        recorded = highest
    }

    mutating func next() -> Int64 {
        highest += 1
        return highest
    }

    /// Writes the mark back, if an event was given a rowid.
    func record() throws {
        guard highest != recorded else { return }
        try DirectStatement(db, "UPDATE events_rowid_mark SET highest = ?").execute { $0.bind(highest) }
    }
}
