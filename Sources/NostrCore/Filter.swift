/// A NIP-01 subscription filter: every condition present must hold.
///
/// List conditions are sets so that matching one event costs a hash lookup per condition,
/// whatever the size of the lists.
///
/// ```swift
/// var filter = Filter()
/// filter.kinds = [1]
/// filter.tags[UInt8(ascii: "t")] = ["nostr"]
/// filter.matches(event)
/// ```
public struct Filter: Hashable, Sendable {
    public var ids: Set<EventID>?
    public var authors: Set<PublicKey>?
    public var kinds: Set<Kind>?
    /// `#x` conditions keyed by the tag letter (a-z, A-Z).
    public var tags: [UInt8: Set<String>]
    public var since: Int64?
    public var until: Int64?
    /// Applies to the initial query only (NIP-01); ignored for live events.
    public var limit: Int?
    /// NIP-50 full-text query.
    public var search: String? {
        didSet { searchQuery = search.map(SearchQuery.init) }
    }
    /// `search` split into words once, not on every live event a subscription is tested
    /// against (the relay benchmarks showed a search subscription costing 4-5 µs an event).
    private var searchQuery: SearchQuery?

    public init(
        ids: Set<EventID>? = nil, authors: Set<PublicKey>? = nil, kinds: Set<Kind>? = nil,
        tags: [UInt8: Set<String>] = [:], since: Int64? = nil, until: Int64? = nil, limit: Int? = nil,
        search: String? = nil
    ) {
        self.ids = ids
        self.authors = authors
        self.kinds = kinds
        self.tags = tags
        self.since = since
        self.until = until
        self.limit = limit
        self.search = search
        self.searchQuery = search.map(SearchQuery.init)
    }

    /// Whether `event` passes every condition. `limit` plays no part; `search` is matched
    /// by the stores' rules (`SearchQuery`), so a live event matches exactly when it would
    /// be found once stored.
    public func matches(_ event: Event) -> Bool {
        if let since, event.createdAt < since { return false }
        if let until, event.createdAt > until { return false }
        if let kinds, !kinds.contains(event.kind) { return false }
        if let authors, !authors.contains(event.pubkey) { return false }
        if let ids, !ids.contains(event.id) { return false }
        for (letter, values) in tags {
            let hit = event.tags.contains { tag in
                tag.indexLetter == letter && tag.fields.count > 1 && values.containsExactly(tag.fields[1])
            }
            if !hit { return false }
        }
        if let searchQuery, !searchQuery.matches(event) { return false }
        return true
    }

    /// True when some list condition is empty, so that no event can match.
    public var isImpossible: Bool {
        ids?.isEmpty == true || authors?.isEmpty == true || kinds?.isEmpty == true
            || tags.values.contains { $0.isEmpty } || (since != nil && until != nil && since! > until!)
    }
}

extension Set<String> {
    /// Membership by code units. `contains` alone uses `String ==`, which holds canonically
    /// equivalent spellings equal ("é" and "e\u{301}"); NIP-01 tag values are compared as
    /// sent, as every store compares them, so a live match must not be looser than a query.
    func containsExactly(_ value: String) -> Bool {
        // A few values are compared directly: at fan-out every subscription a new event is
        // tested against hashed the event's tag value again, for a set of one value or two.
        if count <= Self.directComparisons { return contains { $0.hasSameCodeUnits(as: value) } }
        guard let index = firstIndex(of: value) else { return false }
        return self[index].hasSameCodeUnits(as: value)
    }

    private static let directComparisons = 4
}

extension String {
    /// Whether both hold the same UTF-8 code units, compared as buffers where they are
    /// contiguous (native strings are): `utf8.elementsEqual` went code unit by code unit
    /// through the generic view.
    func hasSameCodeUnits(as other: String) -> Bool {
        let (mine, theirs) = (utf8, other.utf8)
        guard mine.count == theirs.count else { return false }
        let compared = mine.withContiguousStorageIfAvailable { mine in
            theirs.withContiguousStorageIfAvailable { theirs in mine.elementsEqual(theirs) }
        }
        return (compared ?? nil) ?? mine.elementsEqual(theirs)
    }
}
