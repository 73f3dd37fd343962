import MartletDHT

/// What one slot of the salt space holds, as a search found it.
enum SlotContent: Sendable {
    /// Nothing, or an item that is no valid announcement (a relay may take it).
    case free(previous: MutableItem?)
    /// A valid announcement by this relay.
    case ours(MutableItem)
    /// A valid announcement by another relay.
    case relay(RelayAnnouncement, MutableItem)

    /// Whether this relay may put its announcement here.
    var isTakeable: Bool {
        switch self {
        case .free(let previous): previous.map { $0.sequence < Int64.max } ?? true
        case .ours(let item): item.sequence < Int64.max
        case .relay: false
        }
    }

    var previous: MutableItem? {
        switch self {
        case .free(let previous): previous
        case .ours(let item), .relay(_, let item): item
        }
    }
}

extension Discovery {
    /// Reads slots `0..<configuration.slots`, `searchParallelism` lookups at a time.
    func scan(_ node: DHTNode, seeds: [IPv4Endpoint], now: Int64) async -> [Int: SlotContent] {
        var contents: [Int: SlotContent] = [:]
        let slots = Array(0..<configuration.slots)
        var start = 0
        while start < slots.count, !Task.isCancelled {
            let batch = slots[start..<min(start + configuration.searchParallelism, slots.count)]
            start += batch.count
            await withTaskGroup(of: (Int, SlotContent).self) { group in
                for slot in batch {
                    group.addTask {
                        let item = await node.getMutable(
                            publicKey: RelaySlots.publicKey, salt: RelaySlots.salt(slot), bootstrap: seeds)
                        return (slot, self.classify(item, now: now))
                    }
                }
                for await (slot, content) in group { contents[slot] = content }
            }
        }
        return contents
    }

    /// Reads one slot's item; only a verified announcement counts as a relay.
    func classify(_ item: MutableItem?, now: Int64) -> SlotContent {
        guard let item else { return .free(previous: nil) }
        guard case .bytes(let json) = item.value, let announcement = try? RelayAnnouncement.decode(json),
            announcement.isValid(now: now, maxAge: configuration.maxAnnouncementAge)
        else {
            rejected.add(1, ordering: .relaxed)
            return .free(previous: item)
        }
        return announcement.relayKey == identity.publicKey ? .ours(item) : .relay(announcement, item)
    }
}
