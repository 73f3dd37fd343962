import NIOCore

/// The BEP 44 items this node keeps for others, bounded in count and bytes, each expiring
/// two hours after its last put ("items may be discarded after 2 hours", BEP 44).
struct ItemStorage: Sendable {
    static let lifetime = TimeAmount.hours(2)

    enum PutResult: Equatable {
        case stored
        case sequenceTooLow
        case casMismatch
        case full
    }

    private struct Entry {
        var item: DHTItem
        var size: Int
        var storedAt: NIODeadline
    }

    let maxItems: Int
    let maxBytes: Int
    private var entries: [NodeID: Entry] = [:]
    private(set) var bytes = 0

    init(maxItems: Int, maxBytes: Int) {
        self.maxItems = maxItems
        self.maxBytes = maxBytes
    }

    var count: Int { entries.count }

    mutating func item(for target: NodeID, now: NIODeadline) -> DHTItem? {
        guard let entry = entries[target] else { return nil }
        guard now - entry.storedAt < Self.lifetime else {
            remove(target)
            return nil
        }
        return entry.item
    }

    /// Stores a checked item. A newer `seq` replaces; an equal one refreshes only with the same
    /// value; a lower one is refused (BEP 44 error 302), as is a `cas` that does not match (301).
    mutating func put(_ item: DHTItem, compareAndSwap: Int64?, now: NIODeadline) -> PutResult {
        let target = item.target
        let size = item.value.encoded().count + 100
        if case .mutable(let new) = item, let existing = self.item(for: target, now: now),
            case .mutable(let old) = existing
        {
            if let compareAndSwap, compareAndSwap != old.sequence { return .casMismatch }
            if new.sequence < old.sequence || (new.sequence == old.sequence && new.value != old.value) {
                return .sequenceTooLow
            }
        }
        let replaced = entries[target]?.size ?? 0
        if entries[target] == nil, entries.count >= maxItems || bytes + size > maxBytes {
            removeExpired(now: now)
        }
        guard entries[target] != nil || entries.count < maxItems, bytes - replaced + size <= maxBytes else {
            return .full
        }
        bytes += size - replaced
        entries[target] = Entry(item: item, size: size, storedAt: now)
        return .stored
    }

    private mutating func removeExpired(now: NIODeadline) {
        for (target, entry) in entries where now - entry.storedAt >= Self.lifetime { remove(target) }
    }

    private mutating func remove(_ target: NodeID) {
        if let entry = entries.removeValue(forKey: target) { bytes -= entry.size }
    }
}
