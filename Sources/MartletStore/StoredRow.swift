import GRDB
import GRDBSQLite
import NostrCore

/// How a row of `events` becomes a `StoredEvent`: the columns every read selects, in this
/// order, and the event they make (the JSON joined again from its body, `StoredBody`).
///
/// The values are read straight from SQLite's buffers: through GRDB's `Row` each went by
/// way of a `Data` first.
///
/// ```swift
/// let sql = "SELECT \(StoredRow.columns("events")) FROM events WHERE rowid = ?"
/// while try rows.next() != nil { events.append(try StoredRow.event(statement)) }
/// ```
enum StoredRow {
    /// `t.id, t.pubkey, t.created_at, t.kind, t.body, t.sig` for the table named `table`.
    static func columns(_ table: String) -> String {
        "\(table).id, \(table).pubkey, \(table).created_at, \(table).kind, \(table).body, \(table).sig"
    }

    /// Column of `id` and of `created_at` in `columns`, for readers that look at them alone.
    static let idColumn: Int32 = 0
    static let createdAtColumn: Int32 = 2
    /// How many columns `columns` names: a column selected after them has this index.
    static let columnCount: Int32 = 6

    /// The event of the statement's current row.
    static func event(_ statement: Statement) throws -> StoredEvent {
        let handle = statement.sqliteStatement
        let id = try bytes32(handle, idColumn, "id")
        let pubkey = try bytes32(handle, 1, "pubkey")
        let kind = sqlite3_column_int64(handle, 3)
        guard (0...65_535).contains(kind) else { throw StoreError("stored event has kind \(kind)") }
        return try decodingStored {
            try StoredEvent(
                id: EventID(id), pubkey: PublicKey(pubkey), createdAt: sqlite3_column_int64(handle, createdAtColumn),
                kind: Kind(UInt16(kind)), body: blob(handle, 4), sig: blob(handle, 5))
        }
    }

    /// The 32 bytes of a key column.
    static func bytes32(_ handle: OpaquePointer?, _ column: Int32, _ name: String) throws -> Bytes32 {
        let value = blob(handle, column)
        guard value.count == 32 else { throw StoreError("stored event has no \(name)") }
        return Bytes32(value)
    }

    /// A blob column as SQLite holds it, valid until the statement steps again; empty for NULL.
    private static func blob(_ handle: OpaquePointer?, _ column: Int32) -> UnsafeRawBufferPointer {
        guard let start = sqlite3_column_blob(handle, column) else { return UnsafeRawBufferPointer(start: nil, count: 0) }
        return UnsafeRawBufferPointer(start: start, count: Int(sqlite3_column_bytes(handle, column)))
    }
}
