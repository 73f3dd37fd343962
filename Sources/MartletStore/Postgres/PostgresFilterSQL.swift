import NIOCore
import NostrCore
import PostgresNIO

/// One NIP-01 filter as PostgreSQL SQL.
///
/// Lists travel as array parameters (`= ANY($1)`), so a statement's text depends on the
/// filter's shape, never on how long its lists are. PostgreSQL's planner has statistics
/// and picks the index for a single stream itself; what it cannot do is merge many
/// streams that are each in `created_at` order (500 followed authors, three kinds, several
/// `#e` values): it would gather and sort every row of every stream. For those the newest
/// query reads each stream through a `LATERAL` subquery cut at the limit, then merges.
///
/// ```swift
/// let sql = PostgresFilterSQL(filter, now: now)!
/// let rows = try await client.query(sql.newest(limit: 100))
/// ```
struct PostgresFilterSQL {
    private let filter: Filter
    private let now: Int64
    private let driver: DrivingCondition
    private let tsQuery: String?
    /// `#x` conditions sorted by letter, values in their stored spelling.
    private let tags: [(name: String, values: [ByteBuffer])]
    /// The private kinds this filter may match and who may read them (`ReadVisibility`).
    private let hidden: (kinds: [Int32], readers: [ByteBuffer])?

    /// Nil when no event can match: an empty list, an empty time range, a search with no
    /// word the index holds. `visibility` applies to `newest` only.
    init?(_ filter: Filter, now: Int64, visibility: ReadVisibility = .everything) {
        if filter.isImpossible { return nil }
        tsQuery = filter.search.flatMap(SearchText.query)
        if let search = filter.search, !SearchQuery(search).words.isEmpty, tsQuery == nil { return nil }
        self.filter = filter
        self.now = now
        let privateKinds = visibility.privateKinds(in: filter)
        hidden = privateKinds.isEmpty
            ? nil : (kinds: privateKinds.map(\.postgresInt), readers: visibility.readers.sorted().map(\.postgresBytes))
        tags = filter.tags.sorted { $0.key < $1.key }.map { letter, values in
            (name: String(UnicodeScalar(letter)), values: values.sorted().map(TagValue.postgresBytes))
        }
        driver = DrivingCondition(filter, searchable: tsQuery != nil)
    }

    private var authors: [ByteBuffer] { (filter.authors ?? []).sorted().map(\.postgresBytes) }
    private var kinds: [Int32] { (filter.kinds ?? []).sorted().map(\.postgresInt) }

    /// Streams read through `LATERAL` subqueries at most: each is one index probe, and a
    /// REQ of 500 authors × 2,000 kinds as a million of them is the amplification this
    /// bounds. Beyond, one statement with `= ANY` lists, sorted by the server under `LIMIT`.
    static let maxMergedStreams = FilterPlan.maxMergedStreams

    /// The newest `limit` events (`json` only) the reader may see, newest first, ties by
    /// lowest id.
    func newest(limit: Int) -> PostgresQuery {
        var binds = SQLBinds()
        if let tsQuery {
            // NIP-50: "Results SHOULD be returned in descending order by quality of search
            // result ... The limit filter SHOULD be applied after sorting by matching score."
            // Ranked among the newest matches as stored, at most as many as SQLite ranks
            // (`FilterPlan.rankedCandidates`), so that both stores answer alike and a word
            // in most notes is not scored in all of them.
            let conditions = residuals(&binds, skipping: [], visible: true)
            let rank = "ts_rank(c.search, to_tsquery('simple', \(binds.bind(tsQuery))))"
            let limitBind = binds.bind(Int64(limit))
            let sql = """
                SELECT c.json FROM (SELECT e.json, e.created_at, e.id, e.search FROM events e \
                WHERE \(conditions.joined(separator: " AND ")) ORDER BY e.seq DESC LIMIT \(FilterPlan.rankedCandidates)) c \
                ORDER BY \(rank) DESC, c.created_at DESC, c.id LIMIT \(limitBind)
                """
            return binds.query(sql)
        }
        let order = "ORDER BY e.created_at DESC, e.id"
        let pairs = authors.count * max(1, kinds.count)
        switch driver {
        case .authors where pairs > 1 && pairs <= Self.maxMergedStreams:
            let authorList = binds.bind(authors)
            var streams = "unnest(\(authorList)::bytea[]) AS a(pubkey)"
            var key = "e.pubkey = a.pubkey"
            if filter.kinds != nil {
                streams += " CROSS JOIN unnest(\(binds.bind(kinds))::integer[]) AS k(kind)"
                key += " AND e.kind = k.kind"
            }
            return merged(streams: streams, key: key, skipping: [.authors, .kinds], limit: limit, &binds)
        case .kinds where kinds.count > 1 && kinds.count <= Self.maxMergedStreams:
            let streams = "unnest(\(binds.bind(kinds))::integer[]) AS k(kind)"
            return merged(streams: streams, key: "e.kind = k.kind", skipping: [.kinds], limit: limit, &binds)
        case .tag(let name) where tags.first { $0.name == name }!.values.count <= Self.maxMergedStreams:
            // An event tagged with two of the values is in two streams: DISTINCT ON keeps one.
            // Each tag row finds its event through a fenced subquery (OFFSET 0): the planner
            // prices a probe into partitioned `events` as one per partition, not knowing
            // that `created_at` prunes it to one at run time, and would rather walk every
            // event newest first; the fence leaves it only the tag index to drive with.
            let values = tags.first { $0.name == name }!.values
            let streams = "unnest(\(binds.bind(values))::bytea[]) AS v(value)"
            let conditions = ["t.name = \(Self.tagName(name, &binds))", "t.value = v.value"]
                + residuals(&binds, skipping: [.tag(name)], time: "t.created_at", visible: true)
            let limitBind = binds.bind(Int64(limit))
            return binds.query(
                """
                SELECT DISTINCT ON (s.created_at, s.id) s.json FROM \(streams) CROSS JOIN LATERAL (
                    SELECT e.json, e.created_at, e.id FROM tags t CROSS JOIN LATERAL (
                        SELECT * FROM events e WHERE e.seq = t.event_seq AND e.created_at = t.created_at OFFSET 0
                    ) e
                    WHERE \(conditions.joined(separator: " AND "))
                    ORDER BY t.created_at DESC, e.id LIMIT \(limitBind)
                ) s ORDER BY s.created_at DESC, s.id LIMIT \(limitBind)
                """)
        default:
            let conditions = residuals(&binds, skipping: [], visible: true)
            let limitBind = binds.bind(Int64(limit))
            return binds.query(
                "SELECT e.json FROM events e WHERE \(conditions.joined(separator: " AND ")) \(order) LIMIT \(limitBind)")
        }
    }

    /// Streams that each hold their events once (author, kind): the union needs no
    /// de-duplication.
    private func merged(
        streams: String, key: String, skipping: Set<Skip>, limit: Int, _ binds: inout SQLBinds
    ) -> PostgresQuery {
        let conditions = [key] + residuals(&binds, skipping: skipping, visible: true)
        let limitBind = binds.bind(Int64(limit))
        return binds.query(
            """
            SELECT s.json FROM \(streams) CROSS JOIN LATERAL (
                SELECT e.json, e.created_at, e.id FROM events e WHERE \(conditions.joined(separator: " AND "))
                ORDER BY e.created_at DESC, e.id LIMIT \(limitBind)
            ) s ORDER BY s.created_at DESC, s.id LIMIT \(limitBind)
            """)
    }

    /// `SELECT <columns> FROM events e WHERE ...`: every matching event once, unordered,
    /// for COUNT and negentropy. Columns are qualified with `e.`.
    func rowSet(columns: String, _ binds: inout SQLBinds) -> String {
        if case .tag(let name) = driver, let tag = tags.first(where: { $0.name == name }) {
            // Driven by the tag's index, each event found through the fence `newest`
            // explains; DISTINCT: an event tagged with two of the values is one row.
            let conditions = [
                "t.name = \(Self.tagName(name, &binds))", Self.oneOf("t.value", tag.values, "bytea", &binds),
            ] + residuals(&binds, skipping: [.tag(name)], time: "t.created_at")
            return """
                SELECT DISTINCT \(columns) FROM tags t CROSS JOIN LATERAL (
                    SELECT * FROM events e WHERE e.seq = t.event_seq AND e.created_at = t.created_at OFFSET 0
                ) e WHERE \(conditions.joined(separator: " AND "))
                """
        }
        return "SELECT \(columns) FROM events e WHERE \(residuals(&binds, skipping: []).joined(separator: " AND "))"
    }

    /// Conditions a driving stream may already apply.
    private enum Skip: Hashable {
        case authors, kinds, tag(String)
    }

    /// `column = $n` for one value, so that the planner can read an index in order (it
    /// cannot for `= ANY`), `column = ANY($n)` for several.
    private static func oneOf<Element: PostgresArrayEncodable & PostgresNonThrowingEncodable>(
        _ column: String, _ values: [Element], _ type: String, _ binds: inout SQLBinds
    ) -> String {
        if values.count == 1 { return "\(column) = \(binds.bind(values[0]))" }
        return "\(column) = ANY(\(binds.bind(values))::\(type)[])"
    }

    /// A tag name as SQL: a letter inline, so that the planner can match the partial
    /// indexes of `e`, `p` and `d` tags and pick `tags_other` for the rest (a parameter
    /// would hide which letter it is); anything else as a parameter.
    private static func tagName(_ name: String, _ binds: inout SQLBinds) -> String {
        let scalars = name.unicodeScalars
        if scalars.count == 1, let letter = scalars.first, letter.isASCII, letter.properties.isAlphabetic {
            return "'\(name)'"
        }
        return binds.bind(name)
    }

    /// Every condition of the filter but those in `skipping`, on `events e`.
    ///
    /// `visible`: only what `ReadVisibility` lets the reader see (COUNT and negentropy hide
    /// events through `HiddenScope` instead).
    private func residuals(
        _ binds: inout SQLBinds, skipping: Set<Skip>, time: String = "e.created_at", visible: Bool = false
    ) -> [String] {
        var conditions: [String] = []
        if let ids = filter.ids {
            conditions.append(Self.oneOf("e.id", ids.sorted().map(\.postgresBytes), "bytea", &binds))
        }
        if filter.authors != nil, !skipping.contains(.authors) {
            conditions.append(Self.oneOf("e.pubkey", authors, "bytea", &binds))
        }
        if filter.kinds != nil, !skipping.contains(.kinds) {
            conditions.append(Self.oneOf("e.kind", kinds, "integer", &binds))
        }
        for tag in tags where !skipping.contains(.tag(tag.name)) {
            let value = Self.oneOf("x.value", tag.values, "bytea", &binds)
            conditions.append(
                """
                EXISTS (SELECT 1 FROM tags x WHERE x.event_seq = e.seq AND x.created_at = e.created_at \
                AND x.name = \(Self.tagName(tag.name, &binds)) AND \(value))
                """)
        }
        if let since = filter.since { conditions.append("\(time) >= \(binds.bind(since))") }
        if let until = filter.until { conditions.append("\(time) <= \(binds.bind(until))") }
        if let tsQuery {
            conditions.append("e.search @@ to_tsquery('simple', \(binds.bind(tsQuery)))")
        }
        if visible, let hidden {
            // Before LIMIT: a private event the reader may not see must not take the place
            // of one it may (see `ReadVisibility`).
            var condition = "NOT (\(Self.oneOf("e.kind", hidden.kinds, "integer", &binds)))"
            if !hidden.readers.isEmpty {
                let reader = Self.oneOf("s.value", hidden.readers, "bytea", &binds)
                condition = """
                    (\(condition) OR EXISTS (SELECT 1 FROM tags s WHERE s.event_seq = e.seq \
                    AND s.created_at = e.created_at AND s.name = 'p' AND \(reader)))
                    """
            }
            conditions.append(condition)
        }
        // NIP-40: stored but expired events are never served, whether or not purged yet.
        conditions.append("(e.expires_at IS NULL OR e.expires_at > \(binds.bind(now)))")
        return conditions
    }
}
