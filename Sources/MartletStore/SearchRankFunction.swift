import GRDB
import GRDBSQLite

/// `martlet_rank(events_fts, n₁, n₂, ...)`: an FTS5 auxiliary function that scores one
/// matching row by how well it matches, higher for better, for NIP-50's ranked results.
///
/// It is bm25 without the inverse document frequency: for each query word, the number of
/// times the row holds it (`nᵢ` phrases of the FTS5 query make up word `i`, as when a
/// prefix is spelled out as the terms it stands for; no argument: one phrase per word),
/// saturated and normalized by the row's length as bm25 does (k1 1.2, b 0.75), summed.
///
/// Why not FTS5's own `bm25`: to weigh the words against each other it counts, once per
/// query, every row holding each word, which for a word in most of a million notes costs
/// about as much as the whole time budget of the query (16 ms, measured), even when only
/// the newest few thousand matches are ranked (`RankedSearch`). Among those candidates
/// every row holds every word, so dropping the weights changes the order only between
/// rows that hold the words in different proportions.
///
/// ```sql
/// SELECT rowid, martlet_rank(events_fts, 2, 1) FROM events_fts
/// WHERE events_fts MATCH '("relay" OR "relays") AND "swift"'
/// ```
enum SearchRankFunction {
    static let name = "martlet_rank"

    /// Adds the function to `db`'s FTS5; each connection that ranks needs it.
    static func register(_ db: Database) throws {
        let api = FTS5.api(db)
        guard let create = api.pointee.xCreateFunction else { throw StoreError("FTS5 cannot add functions") }
        let code = create(UnsafeMutablePointer(mutating: api), name, nil, score, nil)
        guard code == SQLITE_OK else { throw StoreError("FTS5 refused \(name): code \(code)") }
    }

    private static let k1 = 1.2
    private static let b = 0.75

    private static let score: fts5_extension_function = { api, fts, context, valueCount, values in
        guard let api = api?.pointee, let fts, let instanceCount = api.xInstCount, let instance = api.xInst,
            let phraseCount = api.xPhraseCount, let columnSize = api.xColumnSize,
            let totalSize = api.xColumnTotalSize, let rowCount = api.xRowCount
        else {
            sqlite3_result_error(context, "\(name): FTS5 API incomplete", -1)
            return
        }
        let phrases = Int(phraseCount(fts))
        var instances: Int32 = 0
        var length: Int32 = 0
        var total: Int64 = 0
        var rows: Int64 = 0
        var code = instanceCount(fts, &instances)
        if code == SQLITE_OK { code = columnSize(fts, 0, &length) }
        if code == SQLITE_OK { code = totalSize(fts, 0, &total) }
        if code == SQLITE_OK { code = rowCount(fts, &rows) }
        guard code == SQLITE_OK else {
            sqlite3_result_error(context, "\(name): FTS5 could not read the row", -1)
            // Keeps SQLite's code: an interrupt (a query out of its time budget,
            // `SQLiteQueryBudget`) must end the statement as an interrupt, not as an error.
            sqlite3_result_error_code(context, code)
            return
        }
        let averageLength = rows > 0 && total > 0 ? Double(total) / Double(rows) : 1
        let norm = k1 * (1 - b + b * Double(length) / averageLength)
        withUnsafeTemporaryAllocation(of: Int32.self, capacity: max(1, phrases)) { hits in
            hits.initialize(repeating: 0)
            for index in 0..<instances {
                var phrase: Int32 = 0
                var column: Int32 = 0
                var offset: Int32 = 0
                guard instance(fts, index, &phrase, &column, &offset) == SQLITE_OK, phrase >= 0, Int(phrase) < phrases
                else { continue }
                hits[Int(phrase)] += 1
            }
            // Words as the arguments group the phrases; any phrase left over is a word alone.
            var result = 0.0
            var next = 0
            var word = 0
            while next < phrases {
                var size = 1
                if word < Int(valueCount), let values, let value = values[word] {
                    size = max(1, Int(sqlite3_value_int(value)))
                }
                var frequency = 0.0
                for phrase in next..<min(phrases, next + size) { frequency += Double(hits[phrase]) }
                result += frequency * (k1 + 1) / (frequency + norm)
                next += size
                word += 1
            }
            sqlite3_result_double(context, result)
        }
    }
}
