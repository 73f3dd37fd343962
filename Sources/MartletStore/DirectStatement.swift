import GRDB
import GRDBSQLite
import NostrCore

/// One of the writer's per-event statements, its values bound and its rows stepped through
/// SQLite's own functions.
///
/// Through GRDB's `StatementArguments` every value became a `DatabaseValue` (each blob a
/// `Data` of its own) and was checked against the statement again before it was bound:
/// with the rest of GRDB's bookkeeping, a tenth of the relay's CPU during ingest, on its
/// one writer thread, for the five statements each event runs (4% remains). Here the
/// bytes go from the event's own storage to `sqlite3_bind_blob`, spelled exactly as GRDB
/// spells them (`SQLiteValues`), so that a value written one way is found the other.
///
/// Only inside a transaction GRDB opened on the same connection: GRDB does not see these
/// statements run, so a transaction observer would miss their changes (the store installs
/// none).
///
/// ```swift
/// let lookup = try DirectStatement(db, "SELECT 1 FROM events WHERE id = ?")
/// let found = try lookup.firstRow(binding: { $0.bind(id.raw) }) { _ in true } ?? false
/// ```
struct DirectStatement {
    private let statement: Statement
    private let connection: OpaquePointer?

    init(_ db: Database, _ sql: String) throws {
        statement = try db.cachedStatement(sql: sql)
        connection = db.sqliteConnection
    }

    /// Runs the statement to its end with the values `bind` binds, in order.
    func execute(binding bind: (inout Arguments) -> Void) throws {
        _ = try run(bind, readingFirstRow: { _ in () }, untilDone: true)
    }

    /// Runs the statement until its first row and reads it; nil when it has none.
    func firstRow<Value>(binding bind: (inout Arguments) -> Void, _ read: (Columns) throws -> Value) throws -> Value? {
        try run(bind, readingFirstRow: read, untilDone: false)
    }

    private func run<Value>(
        _ bind: (inout Arguments) -> Void, readingFirstRow read: (Columns) throws -> Value, untilDone: Bool
    ) throws -> Value? {
        let handle = statement.sqliteStatement
        // Reset first: GRDB leaves a statement as its last use left it.
        sqlite3_reset(handle)
        sqlite3_clear_bindings(handle)
        // Reset again on the way out, so that no read stays open and no copy of a value
        // outlives the call.
        defer { sqlite3_reset(handle) }
        var arguments = Arguments(handle: handle)
        bind(&arguments)
        var value: Value?
        while true {
            switch sqlite3_step(handle) {
            case SQLITE_ROW:
                if value == nil { value = try read(Columns(handle: handle)) }
                if !untilDone { return value }
            case SQLITE_DONE:
                return value
            default:
                throw DatabaseError(
                    resultCode: ResultCode(rawValue: sqlite3_extended_errcode(connection)),
                    message: String(cString: sqlite3_errmsg(connection)), sql: statement.sql)
            }
        }
    }

    /// The statement's parameters, bound one after the other from the first.
    struct Arguments {
        fileprivate let handle: OpaquePointer?
        private var index: Int32 = 1

        fileprivate init(handle: OpaquePointer?) { self.handle = handle }

        mutating func bind(_ value: Int64) {
            next { sqlite3_bind_int64($0, $1, value) }
        }

        /// Text as GRDB binds a `String`.
        mutating func bind(_ value: String) {
            next { value.bind(to: $0!, at: $1) }
        }

        /// A blob, copied by SQLite as GRDB binds a `Data` (none is bound as NULL).
        mutating func bind(_ bytes: UnsafeRawBufferPointer) {
            next { sqlite3_bind_blob($0, $1, bytes.baseAddress, Int32(bytes.count), SQLITE_TRANSIENT) }
        }

        mutating func bind(_ value: Bytes32) {
            value.withUnsafeBytes { bind($0) }
        }

        mutating func bind(_ bytes: [UInt8]) {
            bytes.withUnsafeBytes { bind($0) }
        }

        /// The 64 bytes, `r` then `s`, as `Signature.databaseValue` spells them.
        mutating func bind(_ signature: Signature) {
            signature.withUnsafeBytes { bind($0) }
        }

        /// A tag's value in its stored spelling (`TagValue`).
        mutating func bind(tagValue value: String) {
            switch TagValue.spelling(value) {
            case .key(let raw): bind(raw)
            case .text(let text): bind(text)
            }
        }

        mutating func bindNull() {
            next { sqlite3_bind_null($0, $1) }
        }

        private mutating func next(_ bind: (OpaquePointer?, Int32) -> Int32) {
            // Binding only fails for an index out of range or a value over SQLite's
            // limits: a defect in the statement's text, not a condition to handle.
            let code = bind(handle, index)
            precondition(code == SQLITE_OK, "binding parameter \(index) failed with \(code)")
            index += 1
        }
    }

    /// The current row's columns, valid until the statement steps again.
    struct Columns {
        fileprivate let handle: OpaquePointer?

        func int64(_ column: Int32) -> Int64 { sqlite3_column_int64(handle, column) }

        func isNull(_ column: Int32) -> Bool { sqlite3_column_type(handle, column) == SQLITE_NULL }

        func bytes32(_ column: Int32, _ name: String) throws -> Bytes32 {
            try StoredRow.bytes32(handle, column, name)
        }
    }
}

/// SQLite's `SQLITE_TRANSIENT`: SQLite copies the value before the bind returns.
private let SQLITE_TRANSIENT = unsafeBitCast(-1, to: sqlite3_destructor_type.self)
