import NostrCore

/// The condition of a NIP-01 filter whose index a store reads the filter's events through:
/// one preference, most selective first, that both stores consult and translate into their
/// own SQL (`FilterPlan` for SQLite, `PostgresFilterSQL` for PostgreSQL).
///
/// The order: `ids` (a handful of exact lookups), `search`, `authors`, one `#x` tag, `kinds`,
/// and the time index when the filter has none of these.
///
/// Search ranks before authors in both stores. Matching a row against NIP-50 words costs
/// far more than matching it against a list of keys: SQLite's FTS5 answers "does this row
/// match" slowly (a prefix query costs milliseconds per row), and PostgreSQL driven by
/// authors reads each author's stream newest first, testing `@@` on every row until the
/// limit is filled, which for words that author never used is every row the author has.
/// Driven by search, the matches come from the full-text index once (FTS5's, or the GIN
/// index with the authors checked on each match) and the key list is a cheap check on
/// each. Measured on PostgreSQL (40,000 notes by 200 authors, a search by 50 of them,
/// limit 100, EXPLAIN ANALYZE): a word in 20 notes took 19-28 ms and 10,257 buffers
/// through per-author streams, 3-7 ms and 561 buffers as one statement the planner
/// answers from the GIN and pubkey indexes together; a word in most notes 32 ms against
/// 19-23 ms. A search is also ranked by relevance, not merged by `created_at`, so the
/// per-author streams that make authors worth driving buy nothing for it.
///
/// ```swift
/// switch DrivingCondition(filter, searchable: ftsQuery != nil) {
/// case .authors: // one stream per author (and kind)
/// default: ...
/// }
/// ```
enum DrivingCondition: Equatable, Sendable {
    /// The id index: a handful of exact lookups.
    case ids
    /// The full-text index, for NIP-50 `search`.
    case search
    /// The (pubkey, kind, created_at) or (pubkey, created_at) index.
    case authors
    /// The tag index, keyed by (name, value, created_at), for this one `#x` condition.
    case tag(String)
    /// The (kind, created_at) index.
    case kinds
    /// The created_at index: newest events of any kind.
    case time

    /// `searchable`: the filter has search words the store's full-text index can look up
    /// (a search of nothing but stop characters is no condition at all).
    init(_ filter: Filter, searchable: Bool) {
        if filter.ids != nil {
            self = .ids
        } else if searchable {
            self = .search
        } else if filter.authors != nil {
            self = .authors
        } else if let tag = Self.drivingTag(of: filter.tags.keys.map { String(UnicodeScalar($0)) }) {
            self = .tag(tag)
        } else if filter.kinds != nil {
            self = .kinds
        } else {
            self = .time
        }
    }

    /// Tags naming events and keys are rare per value; `t`, `d`, `k` values are shared by
    /// many events, so they drive only when nothing better is there (then the first by
    /// letter, so that a filter's SQL does not depend on dictionary order).
    private static func drivingTag(of names: [String]) -> String? {
        for preferred in ["e", "a", "E", "A", "q", "p", "P", "i"] where names.contains(preferred) {
            return preferred
        }
        return names.min()
    }
}
