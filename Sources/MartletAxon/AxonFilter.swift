public import NostrCore

/// An axon subscription filter: NIP-01's filter with binary `ids` and `authors`, each of
/// which may be a prefix (1 to 32 bytes), as the seed's subscription manager matches them.
///
/// Full-length values go into `filter` and use the stores' indexes and the subscription
/// index like any NIP-01 filter; a shorter prefix leaves that condition out of `filter`
/// and is checked on each candidate event by `matches` (docs/axon.md: the newest
/// `max_limit` events the rest of the filter selects are searched for it).
public struct AxonFilter: Sendable, Hashable {
    /// What the store and the subscription index are asked.
    public var filter: Filter
    /// Set when some id is a prefix: every id given, any of which may begin the event's id.
    public var idPrefixes: [[UInt8]]?
    /// Set when some author is a prefix.
    public var authorPrefixes: [[UInt8]]?

    public init(filter: Filter, idPrefixes: [[UInt8]]? = nil, authorPrefixes: [[UInt8]]? = nil) {
        self.filter = filter
        self.idPrefixes = idPrefixes
        self.authorPrefixes = authorPrefixes
    }

    /// Whether a prefix condition leaves the store's answer to be filtered here.
    public var hasPrefixes: Bool { idPrefixes != nil || authorPrefixes != nil }

    public func matches(_ event: Event) -> Bool {
        guard filter.matches(event) else { return false }
        if let idPrefixes, !AxonFilter.anyPrefix(idPrefixes, of: event.id.raw) { return false }
        if let authorPrefixes, !AxonFilter.anyPrefix(authorPrefixes, of: event.pubkey.raw) { return false }
        return true
    }

    private static func anyPrefix(_ prefixes: [[UInt8]], of value: Bytes32) -> Bool {
        let bytes = value.bytes
        return prefixes.contains { bytes.starts(with: $0) }
    }

    static let known: Set<String> = ["ids", "authors", "kinds", "since", "until", "limit", "search"]

    /// Reads a filter map: `{ids?: [bin], authors?: [bin], kinds?: [uint], "#x"?: [str],
    /// since?: int, until?: int, limit?: uint, search?: str}`.
    public static func decode(_ value: MessagePackValue) throws(AxonDecodingError) -> AxonFilter {
        let fields = try Fields(value, "filter")
        var filter = Filter()
        var result = AxonFilter(filter: filter)
        if fields.has("ids") {
            let (full, prefixes) = try keys(fields.array("ids"), "ids")
            filter.ids = prefixes == nil ? Set(full.map(EventID.init)) : nil
            result.idPrefixes = prefixes
        }
        if fields.has("authors") {
            let (full, prefixes) = try keys(fields.array("authors"), "authors")
            filter.authors = prefixes == nil ? Set(full.map(PublicKey.init)) : nil
            result.authorPrefixes = prefixes
        }
        if fields.has("kinds") {
            var kinds = Set<Kind>()
            for item in try fields.array("kinds") {
                guard case .int(let number) = item, let kind = UInt16(exactly: number) else {
                    throw AxonDecodingError("filter.kinds must hold integers 0...65535")
                }
                kinds.insert(Kind(kind))
            }
            filter.kinds = kinds
        }
        if fields.has("since") { filter.since = try fields.integer("since") }
        if fields.has("until") { filter.until = try fields.integer("until") }
        if fields.has("limit") {
            let limit = try fields.integer("limit")
            guard limit >= 0 else { throw AxonDecodingError("filter.limit must not be negative") }
            filter.limit = Int(clamping: limit)
        }
        if fields.has("search") { filter.search = try fields.string("search") }
        for (key, value) in fields.values where !known.contains(key) {
            let utf8 = Array(key.utf8)
            guard utf8.count == 2, utf8[0] == UInt8(ascii: "#"), utf8[1].isASCIILetter else {
                throw AxonDecodingError("filter has an unknown field \"\(key.prefix(32))\"")
            }
            guard case .array(let items) = value else { throw AxonDecodingError("filter.\(key) must be an array") }
            var values = Set<String>()
            for item in items {
                guard case .string(let text) = item else { throw AxonDecodingError("filter.\(key) must hold strings") }
                values.insert(text)
            }
            filter.tags[utf8[1]] = values
        }
        result.filter = filter
        return result
    }

    /// Full 32-byte keys, and every key as a prefix if any of them is shorter.
    private static func keys(_ items: [MessagePackValue], _ name: String) throws(AxonDecodingError) -> ([Bytes32], [[UInt8]]?) {
        var full: [Bytes32] = []
        var prefixes: [[UInt8]] = []
        var anyShort = false
        for item in items {
            guard case .binary(let bytes) = item, (1...32).contains(bytes.count) else {
                throw AxonDecodingError("filter.\(name) must hold binary values of 1 to 32 bytes")
            }
            prefixes.append(bytes)
            if let key = Bytes32(bytes: bytes) { full.append(key) } else { anyShort = true }
        }
        return (full, anyShort ? prefixes : nil)
    }

    /// The filter as a map (the bench's and the tests' clients).
    public func encode(into writer: inout MessagePackWriter) {
        var fields: [String: MessagePackValue] = [:]
        if let prefixes = idPrefixes {
            fields["ids"] = .array(prefixes.map { .binary($0) })
        } else if let ids = filter.ids {
            fields["ids"] = .array(ids.sorted().map { .binary($0.raw.bytes) })
        }
        if let prefixes = authorPrefixes {
            fields["authors"] = .array(prefixes.map { .binary($0) })
        } else if let authors = filter.authors {
            fields["authors"] = .array(authors.sorted().map { .binary($0.raw.bytes) })
        }
        if let kinds = filter.kinds { fields["kinds"] = .array(kinds.sorted().map { .int(Int64($0.rawValue)) }) }
        if let since = filter.since { fields["since"] = .int(since) }
        if let until = filter.until { fields["until"] = .int(until) }
        if let limit = filter.limit { fields["limit"] = .int(Int64(limit)) }
        if let search = filter.search { fields["search"] = .string(search) }
        for (letter, values) in filter.tags {
            fields["#" + String(UnicodeScalar(letter))] = .array(values.sorted().map { .string($0) })
        }
        writer.write(.map(fields))
    }
}

extension UInt8 {
    fileprivate var isASCIILetter: Bool { (0x41...0x5a).contains(self) || (0x61...0x7a).contains(self) }
}
