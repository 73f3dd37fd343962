import Foundation
import GRDB
import NostrCore

/// Applies a batch of events inside the caller's write transaction, one event after the
/// other, so that events of one batch see each other (a deletion after its target, two
/// versions of one replaceable event) exactly as if they had come in separate batches.
///
/// Removing a row from `events` is all any rule does: triggers take its tags, its
/// full-text entry and its kind count along.
///
/// ```swift
/// let results = try await pool.write { db in try EventWriter(db).save(events) }
/// ```
struct EventWriter {
    let db: Database

    init(_ db: Database) { self.db = db }

    func save(_ events: [Event]) throws -> [SaveResult] {
        try events.map(save)
    }

    private func save(_ event: Event) throws -> SaveResult {
        if try exists(event.id) { return .duplicate }
        if try isVanished(event) { return .vanished }
        if try isDeleted(event) { return .deleted }
        let dTag = event.storedDTag
        if let dTag, let current = try currentVersion(of: event, dTag: dTag) {
            let currentWins =
                current.createdAt != event.createdAt ? current.createdAt > event.createdAt : current.id < event.id
            if currentWins { return .superseded }
            try execute("DELETE FROM events WHERE rowid = ?", [.init(value: current.rowid)])
        }
        try insert(event, dTag: dTag)
        if event.kind == .deletion {
            try applyDeletion(event)
        }
        return .saved
    }

    private func exists(_ id: EventID) throws -> Bool {
        try Bool.fetchOne(
            db.cachedStatement(sql: "SELECT 1 FROM events WHERE id = ?"),
            arguments: [id.databaseValue]) != nil
    }

    /// NIP-62: events by a key that asked to vanish, and gift wraps addressed to it, up to the
    /// request's time. The request itself stays, as the NIP allows, so that it can be served
    /// and replicated whichever of `save` and `vanish` a relay calls first.
    private func isVanished(_ event: Event) throws -> Bool {
        guard event.kind != .requestToVanish else { return false }
        if let until = try vanishedUntil(event.pubkey), event.createdAt <= until { return true }
        if event.kind == .giftWrap {
            for recipient in event.referencedPubkeys {
                if let until = try vanishedUntil(recipient), event.createdAt <= until { return true }
            }
        }
        return false
    }

    private func vanishedUntil(_ pubkey: PublicKey) throws -> Int64? {
        try Int64.fetchOne(
            db.cachedStatement(sql: "SELECT until FROM vanished WHERE pubkey = ?"),
            arguments: [pubkey.databaseValue])
    }

    /// NIP-09: deleted before, by its own author. Deletion requests and requests to vanish
    /// cannot be deleted (NIP-09, NIP-62).
    private func isDeleted(_ event: Event) throws -> Bool {
        guard event.kind != .deletion, event.kind != .requestToVanish else { return false }
        let byID = try Bool.fetchOne(
            db.cachedStatement(sql: "SELECT 1 FROM deleted_ids WHERE id = ? AND pubkey = ?"),
            arguments: [event.id.databaseValue, event.pubkey.databaseValue])
        if byID != nil { return true }
        guard let dTag = event.storedDTag else { return false }
        let until = try Int64.fetchOne(
            db.cachedStatement(
                sql: "SELECT deleted_until FROM deleted_addresses WHERE pubkey = ? AND kind = ? AND d_tag = ?"),
            arguments: [event.pubkey.databaseValue, event.kind.databaseValue, dTag])
        return until.map { event.createdAt <= $0 } ?? false
    }

    private func currentVersion(of event: Event, dTag: String) throws -> (rowid: Int64, createdAt: Int64, id: EventID)? {
        let statement = try db.cachedStatement(
            sql: "SELECT rowid, created_at, id FROM events WHERE pubkey = ? AND kind = ? AND d_tag = ?")
        guard
            let row = try Row.fetchOne(
                statement, arguments: [event.pubkey.databaseValue, event.kind.databaseValue, dTag])
        else { return nil }
        return (row[0], row[1], EventID(try Bytes32(row: row, index: 2)))
    }

    private func insert(_ event: Event, dTag: String?) throws {
        try execute(
            """
            INSERT INTO events(id, pubkey, created_at, kind, d_tag, expires_at, json)
            VALUES (?, ?, ?, ?, ?, ?, ?)
            """,
            [
                event.id.databaseValue, event.pubkey.databaseValue, .init(value: event.createdAt),
                event.kind.databaseValue, dTag?.databaseValue ?? .null,
                event.expiration?.databaseValue ?? .null, Data(event.json).databaseValue,
            ])
        let rowid = db.lastInsertedRowID
        let tagStatement = try db.cachedStatement(
            sql: "INSERT OR IGNORE INTO tags(event_rowid, name, value, created_at) VALUES (?, ?, ?, ?)")
        for tag in event.tags where tag.indexLetter != nil && tag.fields.count > 1 {
            tagStatement.setUncheckedArguments([
                rowid, tag.fields[0], TagValue.databaseValue(tag.fields[1]), event.createdAt,
            ])
            try tagStatement.execute()
        }
    }

    /// NIP-09: removes the author's own events named by `e` tags and the author's versions of
    /// `a` addresses up to the request's time, and remembers both so they stay deleted.
    private func applyDeletion(_ deletion: Event) throws {
        let author = deletion.pubkey.databaseValue
        for id in deletion.referencedEventIDs {
            try execute("INSERT OR IGNORE INTO deleted_ids(id, pubkey) VALUES (?, ?)", [id.databaseValue, author])
            try execute(
                "DELETE FROM events WHERE id = ? AND pubkey = ? AND kind NOT IN (5, 62)", [id.databaseValue, author])
        }
        for (kind, dTag) in deletion.ownDeletedAddresses {
            let arguments: [DatabaseValue] = [
                author, kind.databaseValue, dTag.databaseValue, .init(value: deletion.createdAt),
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

extension Event {
    /// The replaceable and addressable addresses this deletion names under its own key, as
    /// `(kind, d_tag column)`, once each (an `a` tag naming someone else's key deletes
    /// nothing). Both stores apply a deletion through this list.
    var ownDeletedAddresses: [(kind: Kind, dTag: String)] {
        var seen = Set<EventAddress>()
        var addresses: [(kind: Kind, dTag: String)] = []
        for address in referencedAddresses where address.pubkey == pubkey {
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

    /// The `d_tag` column: "" for replaceable kinds, the `d` value for addressable ones,
    /// nil for the rest, which have no address.
    var storedDTag: String? {
        switch kind.category {
        case .replaceable: ""
        case .addressable: dTag
        case .regular, .ephemeral: nil
        }
    }
}
