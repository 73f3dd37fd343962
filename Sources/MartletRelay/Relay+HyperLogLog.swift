import NostrCore

extension Relay {
    /// NIP-45's `hll` for a COUNT, when the request is one NIP-45 defines it for: one filter
    /// with one tag attribute of one item (the shape of every "common filter" the NIP lists:
    /// reactions, reposts, quotes, replies, comments, followers). The NIP leaves other
    /// filters undefined ("for cases not covered above ... behavior isn't yet defined"),
    /// and with several tag attributes or items, which is "first" is lost in decoding.
    ///
    /// Nil as well when a read policy may hide some of the matching events from this
    /// reader: registers cannot be taken back, so they would leak the hidden authors.
    func hyperLogLog(_ filters: [Filter], context: ReadContext) async throws -> HyperLogLog? {
        guard filters.count == 1, let filter = filters.first, filter.tags.count == 1,
            let values = filter.tags.first?.value, values.count == 1, let value = values.first
        else { return nil }
        if readPolicies.contains(where: { $0.scope(of: filters, context: context) != nil }) { return nil }
        var hll = HyperLogLog(offset: HyperLogLog.offset(forTagValue: value))
        for pubkey in try await store.distinctAuthors(filters, now: clock()) { hll.add(pubkey) }
        return hll
    }
}
