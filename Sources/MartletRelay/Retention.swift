import NostrCore

/// The operator's retention rules (`retention` in `martlet.yaml`, NIP-11's shape) put into
/// effect: events of a rule's kinds older than its `time` are removed, and past its `count`
/// an author's oldest events of those kinds are. Each purge round removes a bounded number,
/// so a first run over a large store spreads over several rounds instead of holding the
/// writer for minutes.
///
/// ```swift
/// // keep notes and reactions a year, and at most 100 addressable events per author
/// [RetentionRule(kinds: [.kind(1), .kind(7)], time: 31_536_000),
///  RetentionRule(kinds: [.range(30000, 39999)], count: 100)]
/// ```
struct Retention: Sendable {
    let rules: [RetentionRule]
    /// Events removed per statement, and statements per rule per round.
    static let batch = 500
    static let batchesPerRound = 20

    /// Removes what the rules no longer keep; returns how many events went.
    func enforce(on relay: Relay, now: Int64) async throws -> Int {
        var removed = 0
        for rule in rules {
            let kinds = rule.kinds.map(Self.kinds(of:))
            if let time = rule.time {
                removed += try await removeOlder(than: now - Int64(time), kinds: kinds, relay: relay, now: now)
            }
            if let count = rule.count {
                removed += try await keepNewest(count, perAuthorOf: kinds, relay: relay, now: now)
            }
        }
        return removed
    }

    private func removeOlder(than cutoff: Int64, kinds: Set<Kind>?, relay: Relay, now: Int64) async throws -> Int {
        // Whole time partitions first (PostgreSQL), then what is left row by row.
        var removed = try await relay.removeWholePartitions(createdBefore: cutoff, kinds: kinds)
        for _ in 0..<Self.batchesPerRound {
            let old = Filter(kinds: kinds, until: cutoff - 1, limit: Self.batch)
            let events = try await relay.store.query([old], maxLimit: Self.batch, now: now)
            if events.isEmpty { break }
            removed += try await relay.removeEvents(events.map(\.id))
            if events.count < Self.batch { break }
        }
        return removed
    }

    private func keepNewest(_ count: Int, perAuthorOf kinds: Set<Kind>?, relay: Relay, now: Int64) async throws -> Int {
        var removed = 0
        var budget = Self.batch * Self.batchesPerRound
        for author in try await relay.store.distinctAuthors([Filter(kinds: kinds)], now: now) where budget > 0 {
            let theirs = Filter(authors: [author], kinds: kinds)
            let excess = try await relay.store.count([theirs], now: now) - count
            guard excess > 0 else { continue }
            // Newest first: what lies past the first `count` is the excess.
            var newest = theirs
            newest.limit = count + min(excess, budget)
            let events = try await relay.store.query([newest], maxLimit: newest.limit!, now: now)
            let oldest = events.dropFirst(count).map(\.id)
            removed += try await relay.removeEvents(oldest)
            budget -= oldest.count
        }
        return removed
    }

    /// The kinds a rule names, its ranges spelled out.
    static func kinds(of selectors: [RetentionRule.KindSelector]) -> Set<Kind> {
        var kinds = Set<Kind>()
        for selector in selectors {
            switch selector {
            case .kind(let kind): kinds.insert(Kind(UInt16(clamping: kind)))
            case .range(let first, let last):
                let low = UInt16(clamping: max(first, 0))
                let high = UInt16(clamping: min(last, Int(UInt16.max)))
                if low <= high { for kind in low...high { kinds.insert(Kind(kind)) } }
            }
        }
        return kinds
    }
}
