import Foundation
import GRDB
import GRDBSQLite

/// A time budget for one read on one SQLite connection.
///
/// SQLite calls a progress handler every `instructionsPerCheck` virtual-machine steps; past
/// the deadline it answers "stop", the statement fails with `SQLITE_INTERRUPT`, and the
/// connection goes back to the pool healthy (unlike `sqlite3_interrupt`, it stops only this
/// connection's work). A lookup that runs fewer steps is never interrupted. Swift loops that
/// run many short statements (the stream merge) call `check()` themselves.
///
/// ```swift
/// let events = try SQLiteQueryBudget.run(db, timeout: .seconds(2)) { budget in
///     try NewestEvents.read(plan, limit: 500, .init(catalog: catalog, budget: budget), db)
/// }
/// ```
final class SQLiteQueryBudget: @unchecked Sendable {
    /// About 0.1-0.5 ms of work between two looks at the clock.
    static let instructionsPerCheck: Int32 = 10_000

    /// Uptime nanoseconds after which the read stops; `UInt64.max` for none. Read by the
    /// progress handler on the connection's thread only, during this read.
    private let deadline: UInt64
    private let timeout: Duration?

    private init(timeout: Duration?) {
        self.timeout = timeout
        if let timeout {
            let nanoseconds = timeout.components.seconds * 1_000_000_000 + timeout.components.attoseconds / 1_000_000_000
            deadline = DispatchTime.now().uptimeNanoseconds &+ UInt64(max(0, nanoseconds))
        } else {
            deadline = .max
        }
    }

    var isExpired: Bool { DispatchTime.now().uptimeNanoseconds > deadline }

    /// Throws the timeout error once the deadline has passed.
    func check() throws {
        if isExpired { throw timedOut }
    }

    private var timedOut: StoreError {
        StoreError.timedOut("the query took longer than its budget of \(timeout.map { "\($0)" } ?? "none")")
    }

    /// Runs `body` with the handler installed on `db`, and removes it after.
    static func run<T>(_ db: Database, timeout: Duration?, _ body: (SQLiteQueryBudget) throws -> T) throws -> T {
        let budget = SQLiteQueryBudget(timeout: timeout)
        guard timeout != nil, let connection = db.sqliteConnection else { return try body(budget) }
        let context = Unmanaged.passUnretained(budget).toOpaque()
        sqlite3_progress_handler(connection, instructionsPerCheck, { context in
            guard let context else { return 0 }
            return Unmanaged<SQLiteQueryBudget>.fromOpaque(context).takeUnretainedValue().isExpired ? 1 : 0
        }, context)
        defer { sqlite3_progress_handler(connection, 0, nil, nil) }
        do {
            return try withExtendedLifetime(budget) { try body(budget) }
        } catch let error as DatabaseError where error.resultCode == .SQLITE_INTERRUPT {
            throw budget.timedOut
        }
    }
}
