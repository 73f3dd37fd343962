import Foundation
import GRDB
import GRDBSQLite
import NostrCore

/// Reads the newest events of one filter, reading no more rows than the limit needs.
///
/// A filter whose driving index holds one stream in `created_at` order (one author and
/// kind, one tag value, no list at all) is one statement that SQLite stops after `limit`
/// rows. A filter with several streams (500 followed authors, three kinds) would make
/// SQLite collect and sort every row of every stream, so the streams are merged here
/// instead, each read a page at a time from the index: the cost is about one page per
/// stream plus the limit, whatever the streams hold. Beyond `FilterPlan.maxMergedStreams`
/// streams (a million for 500 authors × 2,000 kinds) the pages themselves would cost more
/// than the rows, so the whole lists are read as one stream, sorted by SQLite under the
/// page's `LIMIT`.
///
/// With an `EventCache`, one stream is read as a merge of one too: its positions from the
/// driving index alone, then the events from the cache, and from the table only those it
/// lacks. The table's rows, each a seek, a copy of its columns and its JSON joined again,
/// were most of what a REQ cost.
///
/// ```swift
/// let events = try NewestEvents.read(FilterPlan(filter, now: now), limit: 500, context, db)
/// ```
enum NewestEvents {
    /// What a read needs besides the plan: where statements are cached, and its budget.
    struct Context {
        var catalog: StatementCatalog
        var budget: SQLiteQueryBudget
        /// Where events read before are taken from; nil reads every row from the table.
        var cache: EventCache?
    }

    static func read(_ plan: FilterPlan, limit: Int, _ context: Context, _ db: Database) throws -> [StoredEvent] {
        guard limit > 0 else { return [] }
        if plan.isRanked, let search = plan.filter.search {
            let match = try SearchVocabulary.match(SearchQuery(search).tokens, db)
            let (sql, arguments) = plan.rankedSQL(
                match: match.expression, phrasesPerToken: match.phrasesPerToken, limit: limit)
            let statement = try context.catalog.statement(sql, db)
            statement.setUncheckedArguments(StatementArguments(values: arguments))
            return try storedEvents(statement)
        }
        // With a cache, one stream too is read as positions first (`merge`): the events then
        // come from the cache, and only those it lacks from the table.
        if plan.streamCount == 1, context.cache == nil || !plan.isReadByPosition {
            let (sql, arguments) = plan.newestSQL()
            let statement = try context.catalog.statement(sql, db)
            statement.setUncheckedArguments(StatementArguments(values: arguments))
            return try newest(statement, limit: limit)
        }
        // Unscreened, the pages come from the driving index alone, which has no kinds. A
        // private event the reader may not see must not take the place of one it may, so
        // if one made the limit, the pages are read again screened in SQL: rare, as a
        // filter without kinds seldom finds a private event among its newest.
        if plan.screensFirst { return try merge(plan, limit: limit, screened: true, context, db) }
        let events = try merge(plan, limit: limit, screened: false, context, db)
        guard plan.hidesSome(of: events) else { return events }
        return try merge(plan, limit: limit, screened: true, context, db)
    }

    /// Every row of a statement selecting `StoredRow.columns`, as stored events.
    static func storedEvents(_ statement: Statement) throws -> [StoredEvent] {
        var events: [StoredEvent] = []
        let rows = try Row.fetchCursor(statement)
        while try rows.next() != nil {
            events.append(try StoredRow.event(statement))
        }
        return events
    }

    /// The newest `limit` rows of a statement that yields `StoredRow.columns` by
    /// `created_at` and `TieRank` descending (`FilterPlan.newestSQL`), in NIP-01's order: "in
    /// the case of the same created_at the lowest id (lexical order) should be first".
    ///
    /// The rank orders ties by the first bits of their ids, so once `limit` are kept only
    /// rows sharing the last kept one's `created_at` and rank can still belong (a lower id
    /// with the same first bits, further on in the index): rows are read on while they do,
    /// which is nearly never, and a row's body is taken only if its id displaces a kept one.
    static func newest(_ statement: Statement, limit: Int) throws -> [StoredEvent] {
        var kept: [StoredEvent] = []
        kept.reserveCapacity(limit)
        let handle = statement.sqliteStatement
        let rows = try Row.fetchCursor(statement)
        while try rows.next() != nil {
            if kept.count < limit {
                kept.append(try StoredRow.event(statement))
                // Nearly in order already: only runs of equal created_at move.
                if kept.count == limit { kept.sort(by: newestFirst) }
                continue
            }
            let last = kept[limit - 1]
            guard sqlite3_column_int64(handle, StoredRow.createdAtColumn) == last.createdAt else { break }
            let id = EventID(try StoredRow.bytes32(handle, StoredRow.idColumn, "id"))
            guard TieRank.of(id) == TieRank.of(last.id) else { break }
            guard id < last.id else { continue }
            let event = try StoredRow.event(statement)
            kept.removeLast()
            // Kept rows stay in order: the newcomer goes after every row it does not precede.
            var position = kept.count
            while position > 0, newestFirst(event, kept[position - 1]) { position -= 1 }
            kept.insert(event, at: position)
        }
        if kept.count < limit { kept.sort(by: newestFirst) }
        return kept
    }

    /// Where a stream's row stands in the driving index: `FilterPlan.pageSQL`'s order.
    fileprivate struct Position {
        var createdAt: Int64
        var rank: Int64
        var rowid: Int64

        static let beforeAll = Position(createdAt: .max, rank: .max, rowid: .max)

        func precedes(_ other: Position) -> Bool {
            (createdAt, rank, rowid) > (other.createdAt, other.rank, other.rowid)
        }

        /// Whether NIP-01's order can tell the two apart without their whole ids.
        func ties(_ other: Position) -> Bool {
            createdAt == other.createdAt && rank == other.rank
        }
    }

    private struct Stream {
        var arguments: [DatabaseValue]
        var page: [Position] = []
        var position = 0
        var exhausted = false
        var pageSize: Int
    }

    private static func merge(
        _ plan: FilterPlan, limit: Int, screened: Bool, _ context: Context, _ db: Database
    ) throws -> [StoredEvent] {
        let keys = plan.streamCount > 1 ? plan.streamKeys : [nil]
        let (sql, firstArguments) = plan.pageSQL(key: keys[0], screened: screened)
        let shared = firstArguments.dropFirst(keys[0]?.count ?? 0)
        let statement = try context.catalog.statement(sql, db)
        // Enough for an even spread to fill the limit in one round; uneven streams refill.
        let firstPage = max(4, limit / keys.count + 1)

        func fill(_ stream: inout Stream) throws {
            // Each page is too short for SQLite's progress handler to see the clock.
            try context.budget.check()
            let bound = stream.page.last ?? .beforeAll
            var arguments = stream.arguments
            arguments += [
                .init(value: bound.createdAt), .init(value: bound.rank), .init(value: bound.rowid),
                .init(value: stream.pageSize),
            ]
            statement.setUncheckedArguments(StatementArguments(values: arguments))
            var page: [Position] = []
            page.reserveCapacity(stream.pageSize)
            let handle = statement.sqliteStatement
            let rows = try Row.fetchCursor(statement)
            while try rows.next() != nil {
                page.append(
                    Position(
                        createdAt: sqlite3_column_int64(handle, 0), rank: sqlite3_column_int64(handle, 1),
                        rowid: sqlite3_column_int64(handle, 2)))
            }
            stream.exhausted = page.count < stream.pageSize
            stream.page = page
            stream.position = 0
            stream.pageSize = min(stream.pageSize * 2, limit + 1)
        }

        var streams: [Stream] = keys.map { key in
            Stream(arguments: (key ?? []) + shared, pageSize: firstPage)
        }
        var heads = HeadHeap()
        for index in streams.indices {
            try fill(&streams[index])
            if let first = streams[index].page.first {
                heads.push(.init(position: first, stream: index))
            }
        }

        var picked: [Int64] = []
        picked.reserveCapacity(limit + 1)
        // Only tag values can name one event twice (two values of the list, or two streams).
        let mayRepeat = if case .tag = plan.driver { true } else { false }
        var seen = Set<Int64>()
        var boundary: Position?
        while let head = heads.pop() {
            // Past the limit, only rows sharing the last one's created_at and rank are still
            // candidates: the final order breaks those by the whole id.
            if let boundary, !head.position.ties(boundary) { break }
            if !mayRepeat || seen.insert(head.position.rowid).inserted {
                picked.append(head.position.rowid)
                if picked.count == limit { boundary = head.position }
            }
            var stream = streams[head.stream]
            stream.position += 1
            if stream.position == stream.page.count, !stream.exhausted {
                try fill(&stream)
            }
            if stream.position < stream.page.count {
                heads.push(.init(position: stream.page[stream.position], stream: head.stream))
            }
            streams[head.stream] = stream
        }

        let events = try eventsByRowid(picked, context, db)
        return Array(events.sorted(by: newestFirst).prefix(limit))
    }

    /// The events of `rowids`, in no particular order: from the cache where it holds them,
    /// from the table (and then into the cache) where it does not.
    ///
    /// The rowids come from the reader's own snapshot. Read one statement at a time, the
    /// rows are read in a snapshot of their own: an event deleted in between, and not
    /// cached, is left out, as a read a moment later would leave it out.
    static func eventsByRowid(_ rowids: [Int64], _ context: Context, _ db: Database) throws -> [StoredEvent] {
        guard !rowids.isEmpty else { return [] }
        guard let cache = context.cache else { return try rows(rowids, context.catalog, db).map(\.event) }
        var events: [StoredEvent] = []
        events.reserveCapacity(rowids.count)
        var missing: [Int64] = []
        for (rowid, event) in zip(rowids, cache.events(rowids)) {
            if let event { events.append(event) } else { missing.append(rowid) }
        }
        guard !missing.isEmpty else { return events }
        let read = try rows(missing, context.catalog, db)
        cache.insert(read)
        events.append(contentsOf: read.lazy.map(\.event))
        return events
    }

    /// The rows of a JSON array of rowids, with each rowid after the stored columns.
    static let rowsSQL = """
        SELECT \(StoredRow.columns("events")), events.rowid FROM events \
        WHERE rowid IN (SELECT value FROM json_each(?))
        """

    /// The rows of `rowids` from the table, in no particular order.
    private static func rows(_ rowids: [Int64], _ catalog: StatementCatalog, _ db: Database) throws
        -> [(rowid: Int64, event: StoredEvent)]
    {
        let list = "[" + rowids.map(String.init).joined(separator: ",") + "]"
        let statement = try catalog.statement(rowsSQL, db)
        statement.setUncheckedArguments([list])
        let handle = statement.sqliteStatement
        var rows: [(rowid: Int64, event: StoredEvent)] = []
        rows.reserveCapacity(rowids.count)
        let cursor = try Row.fetchCursor(statement)
        while try cursor.next() != nil {
            rows.append((sqlite3_column_int64(handle, StoredRow.columnCount), try StoredRow.event(statement)))
        }
        return rows
    }
}

/// NIP-01 order of results: newest first, ties broken by the lowest id.
func newestFirst(_ lhs: some EventFields, _ rhs: some EventFields) -> Bool {
    lhs.createdAt != rhs.createdAt ? lhs.createdAt > rhs.createdAt : lhs.id < rhs.id
}

/// A max-heap of stream heads ordered as the index is read: `created_at`, rank, rowid.
private struct HeadHeap {
    struct Head {
        var position: NewestEvents.Position
        var stream: Int

        func precedes(_ other: Head) -> Bool { position.precedes(other.position) }
    }

    private var items: [Head] = []

    mutating func push(_ head: Head) {
        items.append(head)
        var child = items.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard items[child].precedes(items[parent]) else { break }
            items.swapAt(child, parent)
            child = parent
        }
    }

    mutating func pop() -> Head? {
        guard !items.isEmpty else { return nil }
        items.swapAt(0, items.count - 1)
        let top = items.removeLast()
        var parent = 0
        while true {
            let left = 2 * parent + 1
            let right = left + 1
            var first = parent
            if left < items.count, items[left].precedes(items[first]) { first = left }
            if right < items.count, items[right].precedes(items[first]) { first = right }
            if first == parent { break }
            items.swapAt(parent, first)
            parent = first
        }
        return top
    }
}
