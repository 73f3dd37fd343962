import GRDB
import Synchronization

/// The SQL texts whose prepared statements the store's connections may keep.
///
/// GRDB keeps every cached statement for the life of its connection, and a statement of a
/// few `#x` conditions costs tens of KiB. The SQL of a filter depends only on its shape
/// (which lists it has, see `SQLList`), but shapes still multiply (52 tag letters), so the
/// first `capacity` texts are cached and any later one is prepared afresh for each use:
/// a per-connection cache that clients cannot grow past `capacity` statements.
///
/// ```swift
/// let statement = try catalog.statement(sql, db)
/// ```
final class StatementCatalog: Sendable {
    /// Common shapes number in the tens; 256 leaves room and bounds each connection.
    static let capacity = 256

    private let admitted = Mutex<Set<String>>([])

    func statement(_ sql: String, _ db: Database) throws -> Statement {
        let cached = admitted.withLock { admitted in
            if admitted.contains(sql) { return true }
            guard admitted.count < Self.capacity else { return false }
            admitted.insert(sql)
            return true
        }
        return cached ? try db.cachedStatement(sql: sql) : try db.makeStatement(sql: sql)
    }
}
