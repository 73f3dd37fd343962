import Foundation
import GRDB
import NostrCore

/// One NIP-01 filter turned into SQL: the index that drives the search, the streams it
/// reads in `created_at` order, and the conditions left to check on each row.
///
/// The driving index is chosen here, by rule, rather than left to SQLite's planner: without
/// statistics the planner cannot tell that `#e` values are rare and kind 1 is not, and a
/// wrong guess turns a lookup into a scan of a million rows.
///
/// ```swift
/// let plan = FilterPlan(filter, now: now, visibility: .everything)
/// let (sql, arguments) = plan.newestSQL() // SELECT events.id, ... FROM ... ORDER BY ...
/// ```
struct FilterPlan {
    /// Streams read one by one at most. Each costs a page read (about 9 µs: a REQ of 500
    /// authors × 2,000 kinds took 9.4 s and 335 MB as a million streams); beyond this many,
    /// the whole lists are read as one stream, which SQLite sorts under the page's `LIMIT`.
    /// 2,048 keeps a home feed of a long follow list (one kind) on separate streams, where
    /// they win: each stops after a page instead of every row of every author being sorted.
    static let maxMergedStreams = 2_048

    let filter: Filter
    let driver: DrivingCondition
    let now: Int64
    /// The FTS5 query of `filter.search`, or nil when the filter has no search words.
    let ftsQuery: String?
    /// How many streams of the driving index, each already in `created_at` order, the
    /// filter reads: one per author and kind, per `#x` value, per kind; 1 for ids, search
    /// and time.
    let streamCount: Int

    private let ids: SQLList?
    private let authors: SQLList?
    private let kinds: SQLList?
    /// `#x` conditions sorted by letter, so that the SQL text (the statement cache key) does
    /// not depend on dictionary order.
    private let tags: [(name: String, values: SQLList)]
    /// The private kinds this filter may match, and who may read them.
    private let hidden: (kinds: SQLList, readers: SQLList?)?
    /// The private kinds of `hidden`, for readers that check events themselves (`hidesSome`).
    private let hiddenKinds: Set<Kind>

    init(_ filter: Filter, now: Int64, visibility: ReadVisibility = .everything) {
        self.filter = filter
        self.now = now
        ids = filter.ids.map { SQLList(keys: $0.sorted().map(\.raw)) }
        authors = filter.authors.map { SQLList(keys: $0.sorted().map(\.raw)) }
        kinds = filter.kinds.map { SQLList(integers: $0.sorted().map { Int64($0.rawValue) }) }
        tags = filter.tags.sorted { $0.key < $1.key }.map { letter, values in
            (name: String(UnicodeScalar(letter)), values: SQLList(strings: values.sorted()))
        }
        let privateKinds = visibility.privateKinds(in: filter)
        hiddenKinds = Set(privateKinds)
        hidden = privateKinds.isEmpty ? nil : (
            kinds: SQLList(integers: privateKinds.map { Int64($0.rawValue) }),
            readers: visibility.readers.isEmpty ? nil : SQLList(keys: visibility.readers.sorted().map(\.raw))
        )
        ftsQuery = filter.search.flatMap(FilterPlan.ftsQuery)

        driver = DrivingCondition(filter, searchable: ftsQuery != nil)

        let authorCount = authors?.values.count ?? 0
        let kindCount = kinds?.values.count ?? 0
        switch driver {
        case .authors: streamCount = authorCount * max(1, kindCount)
        case .tag(let name): streamCount = tags.first { $0.name == name }!.values.values.count
        case .kinds: streamCount = kindCount
        case .ids, .search, .time: streamCount = 1
        }
    }

    /// The streams `NewestEvents` merges, each as the values bound to the driving index's
    /// leading columns (`pageSQL(key:)`); a single nil key when there are more than
    /// `maxMergedStreams`: one stream over the whole lists. Empty when the filter is one
    /// stream (`newestSQL`). A product of two long lists is never materialized.
    var streamKeys: [[DatabaseValue]?] {
        guard streamCount > 1 else { return [] }
        guard streamCount <= Self.maxMergedStreams else { return [nil] }
        switch driver {
        case .authors where kinds != nil:
            return authors!.values.flatMap { author in kinds!.values.map { [author, $0] } }
        case .authors:
            return authors!.values.map { [$0] }
        case .tag(let name):
            return tags.first { $0.name == name }!.values.values.map { [DatabaseValue(value: name), $0] }
        case .kinds:
            return kinds!.values.map { [$0] }
        case .ids, .search, .time:
            return []
        }
    }

    /// True when no event can match: an empty list, an empty range, a search with no word
    /// the index can hold.
    static func isImpossible(_ filter: Filter) -> Bool {
        if filter.isImpossible { return true }
        if let search = filter.search, !SearchQuery(search).words.isEmpty, ftsQuery(search) == nil {
            return true
        }
        return false
    }

    /// NIP-50 words as an FTS5 query: every token must appear, as a word or, from three
    /// characters on, a word prefix, the rule live events are matched by too.
    static func ftsQuery(_ search: String) -> String? {
        // The tokens live matching uses (`SearchQuery`): letters and digits only, so the
        // quotes need no escaping; each must be a word, or from three characters a prefix.
        let tokens = SearchQuery(search).tokens
        guard !tokens.isEmpty else { return nil }
        return tokens.map { token in
            "\"" + token + (token.count >= SearchQuery.minimumPrefixLength ? "\"*" : "\"")
        }.joined(separator: " AND ")
    }

    /// The columns streams are ordered by, `created_at` then `TieRank`, and the row id next
    /// to them in the same index.
    private var timeColumn: String {
        if case .tag = driver { "tags.created_at" } else { "events.created_at" }
    }
    private var rankColumn: String {
        if case .tag = driver { "tags.tie_rank" } else { "events.tie_rank" }
    }
    private var rowidColumn: String {
        if case .tag = driver { "tags.event_rowid" } else { "events.rowid" }
    }

    /// Whether the driving index holds each match's position (`created_at`, rank, rowid),
    /// so that the newest can be found in it alone (`pageSQL`) and their rows read after:
    /// every driver but ids and search, whose few matches are read from the table anyway.
    var isReadByPosition: Bool {
        switch driver {
        case .authors, .kinds, .tag, .time: true
        case .ids, .search: false
        }
    }

    /// How many matches of a search, the newest stored first, are ranked at most: the
    /// bound that keeps a word found in most notes from being scored in all of them
    /// (BENCHMARKS.md, "Search and COUNT scenarios", has the figures it was chosen by).
    static let rankedCandidates = 2_000

    /// Whether the filter is read ranked by relevance (NIP-50), through `rankedSQL`.
    var isRanked: Bool { ftsQuery != nil && (driver == .search || driver == .ids) }

    /// A search filter's events best match first, `limit` applied after ranking (NIP-50:
    /// "Results SHOULD be returned in descending order by quality of search result ... The
    /// limit filter SHOULD be applied after sorting by matching score.").
    ///
    /// Ranked are the newest `rankedCandidates` matches that pass every other condition
    /// (by rowid: the order they were stored in), by `SearchRankFunction`; `match` is the
    /// FTS5 query with the phrases each token stands for (`SearchVocabulary.match`). With
    /// `ids`, the few events named are looked up and those that match are ranked.
    func rankedSQL(match: String, phrasesPerToken: [Int], limit: Int) -> (sql: String, arguments: [DatabaseValue]) {
        precondition(isRanked, "only a search is ranked")
        var conditions = Conditions()
        let from: String
        if driver == .ids {
            conditions.add(ids!.condition("events.id"))
            from = "events INDEXED BY events_id CROSS JOIN events_fts ON events_fts.rowid = events.rowid"
        } else {
            from = "events_fts CROSS JOIN events ON events.rowid = events_fts.rowid"
        }
        conditions.add("events_fts MATCH ?", [.init(value: match)])
        addResiduals(to: &conditions, visible: true, matching: false)
        let rankArguments = String(repeating: ", ?", count: phrasesPerToken.count)
        let order = driver == .ids ? "" : "ORDER BY events_fts.rowid DESC "
        // The candidates are scored and sorted without their JSON, which is read for the
        // `limit` kept only: carrying 2,000 rows of a few hundred bytes each through the
        // sort was most of a common word's cost.
        return (
            """
            SELECT \(StoredRow.columns("kept")) FROM (SELECT rowid, score, created_at, id FROM (\
            SELECT events.rowid AS rowid, events.created_at AS created_at, events.id AS id, \
            \(SearchRankFunction.name)(events_fts\(rankArguments)) AS score FROM \(from) \
            WHERE \(conditions.sql) \(order)LIMIT \(Self.rankedCandidates)) \
            ORDER BY score DESC, created_at DESC, id LIMIT ?) AS best \
            CROSS JOIN events AS kept ON kept.rowid = best.rowid \
            ORDER BY best.score DESC, best.created_at DESC, best.id
            """,
            phrasesPerToken.map { DatabaseValue(value: $0) } + conditions.arguments + [.init(value: limit)]
        )
    }

    /// The events of a filter that is one stream (`streamCount == 1`), newest first, in
    /// the driving index's order (`created_at`, then `TieRank`), as `StoredRow.columns`: the
    /// reader (`NewestEvents`) stops stepping once it has its limit and any row sharing the
    /// last one's rank, and orders those by the whole id itself. Ordered by id here, SQLite
    /// sorted every row it read, JSON and all, in a temporary b-tree: a third of a REQ's
    /// time in SQLite. A search is read by `rankedSQL` instead; here its words are only a
    /// condition (EXPLAIN, tests).
    func newestSQL() -> (sql: String, arguments: [DatabaseValue]) {
        precondition(streamCount == 1, "several streams are merged, see pageSQL")
        var conditions = Conditions()
        let from = source(key: nil, into: &conditions)
        addResiduals(to: &conditions, visible: true)
        return (
            """
            SELECT \(StoredRow.columns("events")) FROM \(from) WHERE \(conditions.sql) \
            ORDER BY \(timeColumn) DESC, \(rankColumn) DESC
            """,
            conditions.arguments
        )
    }

    /// One page of one stream, newest first: `(created_at, tie_rank, rowid)` strictly after
    /// the bound in stream order. The caller appends four arguments: the bound's
    /// `created_at`, its rank, its rowid, and the page size. A nil `key` reads the whole
    /// lists (a row of `tags` per value: the merge keeps each event once).
    ///
    /// `screened`: private kinds the reader may not see are left out here (`ReadVisibility`).
    /// Unscreened, the page is read from the driving index alone, which does not hold each
    /// event's kind; the caller must then check what it keeps (`hidesSome`).
    func pageSQL(key: [DatabaseValue]?, screened: Bool = true) -> (sql: String, arguments: [DatabaseValue]) {
        var conditions = Conditions()
        let alone = tagStreamStandsAlone && (hidden == nil || !screened)
        let from = source(key: key, into: &conditions, joiningEvents: !alone)
        addResiduals(to: &conditions, visible: screened, rowid: rowidColumn)
        let sql = """
            SELECT \(timeColumn), \(rankColumn), \(rowidColumn) FROM \(from) WHERE \(conditions.sql) \
            AND (\(timeColumn), \(rankColumn), \(rowidColumn)) < (?, ?, ?) \
            ORDER BY \(timeColumn) DESC, \(rankColumn) DESC, \(rowidColumn) DESC LIMIT ?
            """
        return (sql, conditions.arguments)
    }

    /// Every matching event once, unordered: `SELECT <columns> FROM events ...`, for COUNT
    /// and negentropy. Columns must be qualified with `events.`.
    ///
    /// `readsRows`: the columns are not all in the driving index, so each match is a row of
    /// `events`. A filter with no condition at all then reads the table in rowid order, one
    /// sequential pass, rather than `events_created` and a random lookup per row (for a
    /// million events, the difference between a negentropy set in 0.3 s and in 1.9 s).
    ///
    /// `visible`: only what `ReadVisibility` lets the reader see (COUNT and negentropy hide
    /// events through `HiddenScope` instead).
    func rowSetSQL(columns: String, readsRows: Bool = false, visible: Bool = false)
        -> (sql: String, arguments: [DatabaseValue])
    {
        if readsRows, driver == .time, filter.since == nil, filter.until == nil {
            var conditions = Conditions()
            addResiduals(to: &conditions, visible: visible)
            return ("SELECT \(columns) FROM events WHERE \(conditions.sql)", conditions.arguments)
        }
        var conditions = Conditions()
        let from: String
        if case .tag(let name) = driver {
            // Through a subquery: an event tagged with two of the values is one event.
            var inner = Conditions()
            inner.add("name = ?", [.init(value: name)])
            inner.add(tags.first { $0.name == name }!.values.condition("value"))
            addTimeRange(column: "created_at", to: &inner)
            from = "events NOT INDEXED"
            conditions.add(
                "events.rowid IN (SELECT event_rowid FROM tags WHERE \(inner.sql))",
                inner.arguments)
            addResiduals(to: &conditions, includingTime: false, visible: visible)
        } else {
            from = source(key: nil, into: &conditions)
            addResiduals(to: &conditions, visible: visible)
        }
        return ("SELECT \(columns) FROM \(from) WHERE \(conditions.sql)", conditions.arguments)
    }

    /// Whether a stream driven by a tag can be read from `tags` alone, without a lookup of
    /// each row's event: no other condition reads the event's own columns. Its rowid, the
    /// one thing asked of it (is it expiring?), is in the tag's row.
    private var tagStreamStandsAlone: Bool {
        guard case .tag = driver else { return false }
        return tags.count == 1 && kinds == nil && ftsQuery == nil
    }

    /// Whether pages are screened for private kinds from the start (`pageSQL`): when the
    /// filter names its kinds, which its driving index then holds, or which it joins anyway.
    /// Any other is read unscreened first, from the driving index alone (`NewestEvents`).
    var screensFirst: Bool { filter.kinds != nil }

    /// Whether the reader may be kept from some of `events` (a private kind, `ReadVisibility`):
    /// events read unscreened (`pageSQL`) must then be read again screened.
    func hidesSome(of events: [StoredEvent]) -> Bool {
        !hiddenKinds.isEmpty && events.contains { hiddenKinds.contains($0.kind) }
    }

    /// The FROM clause of the driving index and its conditions: equality on `key` when
    /// given, else the filter's whole lists. `joiningEvents`: false only when the statement
    /// reads nothing of `events` (`tagStreamStandsAlone`).
    private func source(key: [DatabaseValue]?, into conditions: inout Conditions, joiningEvents: Bool = true)
        -> String
    {
        func list(_ column: String, _ values: SQLList, keyIndex: Int) {
            if let key {
                conditions.add("\(column) = ?", [key[keyIndex]])
            } else {
                conditions.add(values.condition(column))
            }
        }
        switch driver {
        case .ids:
            conditions.add(ids!.condition("events.id"))
            return "events INDEXED BY events_id"
        case .authors:
            list("events.pubkey", authors!, keyIndex: 0)
            guard let kinds else { return "events INDEXED BY events_pubkey_created" }
            // Past `maxMergedStreams` pairs, one seek per author and the kinds checked in
            // the index (`+` keeps SQLite from seeking every pair: a million seeks).
            list(streamCount > Self.maxMergedStreams ? "+events.kind" : "events.kind", kinds, keyIndex: 1)
            return "events INDEXED BY events_pubkey_kind_created"
        case .search:
            conditions.add(
                "events.rowid IN (SELECT rowid FROM events_fts WHERE events_fts MATCH ?)", [.init(value: ftsQuery!)])
            return "events NOT INDEXED"
        case .tag(let name):
            conditions.add("tags.name = ?", [.init(value: name)])
            list("tags.value", tags.first { $0.name == name }!.values, keyIndex: 1)
            return joiningEvents ? "tags CROSS JOIN events ON events.rowid = tags.event_rowid" : "tags"
        case .kinds:
            list("events.kind", kinds!, keyIndex: 0)
            return "events INDEXED BY events_kind_created"
        case .time:
            return "events INDEXED BY events_created"
        }
    }

    /// Every condition the driving index does not already apply.
    /// `matching`: the search words too (false when the statement already matches them).
    /// `rowid`: the column holding the event's rowid, `events.rowid` unless `events` is not read.
    private func addResiduals(
        to conditions: inout Conditions, includingTime: Bool = true, visible: Bool = false, matching: Bool = true,
        rowid: String = "events.rowid"
    ) {
        if driver == .ids || driver == .search, let authors {
            conditions.add(authors.condition("events.pubkey"))
        }
        let kindsDrive = driver == .kinds || (driver == .authors && filter.kinds != nil)
        if !kindsDrive, let kinds {
            conditions.add(kinds.condition("events.kind"))
        }
        for tag in tags where driver != .tag(tag.name) {
            var inner = Conditions()
            // Every column of the key, so each test is one lookup in `tags`.
            inner.add(
                """
                also.name = ? AND also.created_at = events.created_at AND also.tie_rank = events.tie_rank \
                AND also.event_rowid = events.rowid
                """,
                [.init(value: tag.name)])
            inner.add(tag.values.condition("also.value"))
            conditions.add("EXISTS (SELECT 1 FROM tags AS also WHERE \(inner.sql))", inner.arguments)
        }
        if includingTime {
            addTimeRange(column: timeColumn, to: &conditions)
        }
        if driver != .search, matching, let ftsQuery {
            conditions.add(
                "events.rowid IN (SELECT rowid FROM events_fts WHERE events_fts MATCH ?)", [.init(value: ftsQuery)])
        }
        if visible, let hidden {
            // Before LIMIT: a private event the reader may not see must not take the place
            // of one it may (see `ReadVisibility`).
            let kind = hidden.kinds.condition("events.kind")
            if let readers = hidden.readers {
                var named = Conditions()
                named.add(
                    """
                    seen.name = 'p' AND seen.created_at = events.created_at AND seen.tie_rank = events.tie_rank \
                    AND seen.event_rowid = events.rowid
                    """)
                named.add(readers.condition("seen.value"))
                conditions.add(
                    "(NOT (\(kind.sql)) OR EXISTS (SELECT 1 FROM tags AS seen WHERE \(named.sql)))",
                    kind.arguments + named.arguments)
            } else {
                conditions.add("NOT (\(kind.sql))", kind.arguments)
            }
        }
        // NIP-40: stored but expired events are never served, whether or not purged yet.
        // Asked of the small expiration index, once per statement, rather than of each row,
        // so that reading a stream stays inside its covering index.
        conditions.add(
            """
            \(rowid) NOT IN (SELECT expiring.rowid FROM events AS expiring INDEXED BY events_expires \
            WHERE expiring.expires_at IS NOT NULL AND expiring.expires_at <= ?)
            """, [.init(value: now)])
    }

    private func addTimeRange(column: String, to conditions: inout Conditions) {
        if let since = filter.since { conditions.add("\(column) >= ?", [.init(value: since)]) }
        if let until = filter.until { conditions.add("\(column) <= ?", [.init(value: until)]) }
    }
}

/// A conjunction of SQL conditions with their bound arguments, in order.
struct Conditions {
    private var parts: [String] = []
    var arguments: [DatabaseValue] = []

    var sql: String { parts.isEmpty ? "1" : parts.joined(separator: " AND ") }

    mutating func add(_ sql: String, _ arguments: [DatabaseValue] = []) {
        parts.append(sql)
        self.arguments.append(contentsOf: arguments)
    }

    mutating func add(_ condition: (sql: String, arguments: [DatabaseValue])) {
        add(condition.sql, condition.arguments)
    }
}

extension DatabaseValue {
    init(value: some DatabaseValueConvertible) { self = value.databaseValue }
}
