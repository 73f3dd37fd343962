import Logging
import NostrCore
import PostgresNIO

/// Keeps PostgreSQL's `search` column (the NIP-50 documents, under a GIN index) to the
/// kinds `search.kinds` names: when the rule changes, rows it leaves out lose their
/// document and rows it takes in get theirs, folded in Swift as at insert (`SearchText`),
/// a batch at a time. `search_index` records the rule the column was built by (no row:
/// every kind but the ciphertext ones). Nodes sharing a database must share the rule, or
/// each start would rebuild the column for its own.
enum PostgresSearchIndex {
    static let batchSize = 1_000

    /// Rebuilds the documents if `kinds` is not the rule they were built by, in one
    /// transaction under the migration lock. Returns whether it did.
    @discardableResult
    static func apply(_ kinds: SearchableKinds, client: PostgresClient, schema: String?, logger: Logger) async throws
        -> Bool
    {
        var schemaHash = StableHash()
        schemaHash.add((schema ?? "").utf8)
        let lockKey = schemaHash.int32
        return try await client.withTransaction(logger: logger) { (connection) async throws -> Bool in
            try await connection.perform("SET LOCAL statement_timeout = 0", logger: logger)
            try await connection.perform(
                "SELECT pg_advisory_xact_lock(\(PostgresSchema.migrationLockClass), \(lockKey))", logger: logger)
            var built = SearchableKinds.all.description
            for try await kinds in try await connection.query("SELECT kinds FROM search_index", logger: logger)
                .decode(String.self)
            {
                built = kinds
            }
            guard built != kinds.description else { return false }
            try await connection.perform(
                PostgresQuery(
                    unsafeSQL: "UPDATE events SET search = NULL WHERE search IS NOT NULL AND NOT (\(kinds.sqlCondition("kind")))"),
                logger: logger)
            var after: Int64 = 0
            while true {
                var sequence: [Int64] = []
                var documents: [String] = []
                let rows = try await connection.query(
                    PostgresQuery(
                        unsafeSQL: """
                            SELECT seq, convert_from(json, 'UTF8')::jsonb ->> 'content' FROM events
                            WHERE search IS NULL AND \(kinds.sqlCondition("kind")) AND seq > \(after)
                            ORDER BY seq LIMIT \(batchSize)
                            """), logger: logger)
                for try await (seq, content) in rows.decode((Int64, String?).self) {
                    sequence.append(seq)
                    documents.append(SearchText.document(capped: content ?? ""))
                }
                guard let last = sequence.last else { break }
                after = last
                try await connection.perform(
                    """
                    UPDATE events SET search = to_tsvector('simple', v.document)
                    FROM unnest(\(sequence)::bigint[], \(documents)::text[]) AS v(seq, document)
                    WHERE events.seq = v.seq
                    """, logger: logger)
            }
            try await connection.perform("DELETE FROM search_index", logger: logger)
            try await connection.perform("INSERT INTO search_index (kinds) VALUES (\(kinds.description))", logger: logger)
            return true
        }
    }
}
