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
/// let results = try await store.writeEvents { writer in try writer.save(events) }
/// ```
struct EventWriter {
    let db: Database

    init(_ db: Database) { self.db = db }

    func save(_ events: [Event]) throws -> [SaveResult] {
        let results = try events.map(save)
        // NIP-50: the terms of what was stored, so that a prefix search can name them.
        try SearchVocabulary.record(zip(events, results).lazy.filter { $0.1 == .saved }.map(\.0), db)
        return results
    }

    private func save(_ event: Event) throws -> SaveResult {
        switch try WriteRules.decide(event, facts: self) {
        case .refuse(let result):
            return result
        case .save(let effects):
            if let replaced = effects.replacing?.row {
                try execute("DELETE FROM events WHERE rowid = ?", [.init(value: replaced)])
            }
            try insert(event, dTag: effects.address?.dTag)
            if let deletion = effects.deletion { try apply(deletion) }
            return .saved
        }
    }

    private func insert(_ event: Event, dTag: String?) throws {
        let tieRank = TieRank.of(event.id)
        try execute(
            """
            INSERT INTO events(id, pubkey, created_at, kind, d_tag, expires_at, body, sig, tie_rank)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
            """,
            [
                event.id.databaseValue, event.pubkey.databaseValue, .init(value: event.createdAt),
                event.kind.databaseValue, dTag?.databaseValue ?? .null,
                event.expiration?.databaseValue ?? .null, Data(StoredBody.cut(event)).databaseValue,
                event.sig.databaseValue, .init(value: tieRank),
            ])
        let rowid = db.lastInsertedRowID
        let tagStatement = try db.cachedStatement(
            sql: "INSERT OR IGNORE INTO tags(event_rowid, name, value, created_at, tie_rank) VALUES (?, ?, ?, ?, ?)")
        for tag in event.tags where tag.indexLetter != nil && tag.fields.count > 1 {
            tagStatement.setUncheckedArguments([
                rowid, tag.fields[0], TagValue.databaseValue(tag.fields[1]), event.createdAt, tieRank,
            ])
            try tagStatement.execute()
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
        try Bool.fetchOne(
            db.cachedStatement(sql: "SELECT 1 FROM events WHERE id = ?"),
            arguments: [id.databaseValue]) != nil
    }

    func vanishedUntil(_ pubkey: PublicKey) throws -> Int64? {
        try Int64.fetchOne(
            db.cachedStatement(sql: "SELECT until FROM vanished WHERE pubkey = ?"),
            arguments: [pubkey.databaseValue])
    }

    func isDeleted(_ id: EventID, author: PublicKey) throws -> Bool {
        try Bool.fetchOne(
            db.cachedStatement(sql: "SELECT 1 FROM deleted_ids WHERE id = ? AND pubkey = ?"),
            arguments: [id.databaseValue, author.databaseValue]) != nil
    }

    func deletedUntil(_ address: StoredAddress) throws -> Int64? {
        try Int64.fetchOne(
            db.cachedStatement(
                sql: "SELECT deleted_until FROM deleted_addresses WHERE pubkey = ? AND kind = ? AND d_tag = ?"),
            arguments: [address.pubkey.databaseValue, address.kind.databaseValue, address.dTag])
    }

    func currentVersion(at address: StoredAddress) throws -> StoredVersion? {
        let statement = try db.cachedStatement(
            sql: "SELECT rowid, created_at, id FROM events WHERE pubkey = ? AND kind = ? AND d_tag = ?")
        guard
            let row = try Row.fetchOne(
                statement, arguments: [address.pubkey.databaseValue, address.kind.databaseValue, address.dTag])
        else { return nil }
        return StoredVersion(row: row[0], createdAt: row[1], id: EventID(try Bytes32(row: row, index: 2)))
    }
}
