import GRDB
@testable import MartletStore
import NostrCore
import Testing

/// The writer's statements bound through SQLite's own functions (`DirectStatement`) must
/// spell every value as GRDB's `DatabaseValue`s do: the reads look rows up with the latter.
@Suite("Direct statements")
struct DirectStatementTests {
    static let key = Bytes32(hex: String(repeating: "ab", count: 32))!
    static let signature = Signature(r: Bytes32(hex: String(repeating: "01", count: 32))!, s: key)

    /// `body` in a write on a fresh in-memory table `t` of `columns`, with a direct
    /// statement inserting one row of them.
    static func withTable(_ columns: String, _ body: (Database, DirectStatement) throws -> Void) throws {
        try DatabaseQueue().write { db in
            try db.execute(sql: "CREATE TABLE t(\(columns))")
            let placeholders = columns.split(separator: ",").map { _ in "?" }.joined(separator: ", ")
            try body(db, DirectStatement(db, "INSERT INTO t VALUES (\(placeholders))"))
        }
    }

    @Test("values bound directly are found by GRDB's spelling of them, and read back the same")
    func spellingsAgree() throws {
        try Self.withTable("key BLOB, number INTEGER, text TEXT, absent BLOB, sig BLOB, tag") { db, insert in
            for tag in [Self.key.hex, "topic", Self.key.hex.uppercased()] {
                try insert.execute { values in
                    values.bind(Self.key)
                    values.bind(Int64.min)
                    values.bind("naïve")
                    values.bindNull()
                    values.bind(Self.signature)
                    values.bind(tagValue: tag)
                }
            }
            for tag in [Self.key.hex, "topic", Self.key.hex.uppercased()] {
                let found = try Int.fetchOne(
                    db,
                    sql: """
                        SELECT count(*) FROM t WHERE key = ? AND number = ? AND text = ? AND absent IS NULL
                        AND sig = ? AND tag = ?
                        """,
                    arguments: [
                        Self.key.databaseValue, Int64.min, "naïve", Self.signature.databaseValue,
                        TagValue.databaseValue(tag),
                    ])
                #expect(found == 1, "\(tag)")
            }
            // Only 64 lowercase hex digits are kept as a key's bytes.
            let tagTypes = try String.fetchAll(db, sql: "SELECT typeof(tag) FROM t ORDER BY rowid")
            #expect(tagTypes == ["blob", "text", "text"])

            let lookup = try DirectStatement(db, "SELECT number, key, absent FROM t WHERE text = ?")
            let row = try lookup.firstRow(binding: { $0.bind("naïve") }) { columns in
                (columns.int64(0), try columns.bytes32(1, "key"), columns.isNull(2))
            }
            #expect(row?.0 == Int64.min && row?.1 == Self.key && row?.2 == true)
            #expect(try lookup.firstRow(binding: { $0.bind("absent") }) { $0.int64(0) } == nil)
        }
    }

    @Test("a failing statement throws SQLite's error, and runs again afterwards")
    func failuresAreThrown() throws {
        try Self.withTable("key BLOB NOT NULL UNIQUE") { db, insert in
            try insert.execute { $0.bind(Self.key) }
            #expect {
                try insert.execute { $0.bind(Self.key) }
            } throws: { error in
                (error as? DatabaseError)?.extendedResultCode == .SQLITE_CONSTRAINT_UNIQUE
            }
            #expect(throws: DatabaseError.self) { try insert.execute { $0.bindNull() } }
            try insert.execute { $0.bind(Bytes32.zero) }
            #expect(try Int.fetchOne(db, sql: "SELECT count(*) FROM t") == 2)
        }
    }
}
