import NostrCore

extension Relay {
    /// NIP-45's answer to a COUNT: how many events this reader may see, and `hll` when the
    /// request is one the NIP defines it for (`hyperLogLogOffset`). With `hll`, the store
    /// reads the count and the registers together.
    func countAnswer(_ filters: [Filter], context: ReadContext) async throws -> (count: Int, hll: HyperLogLog?) {
        guard let offset = hyperLogLogOffset(filters, context: context) else {
            return (try await visibleCount(filters, context: context), nil)
        }
        // No read policy scopes these filters (`hyperLogLogOffset`), so every stored match
        // is visible: the store's count is `visibleCount`.
        let answer = try await store.countWithHyperLogLog(filters, offset: offset, now: clock())
        return (answer.count, answer.hll)
    }

    /// NIP-45's `offset` for a COUNT's `hll`, when the request is one NIP-45 defines it
    /// for: one filter with one tag attribute of one item (the shape of every "common
    /// filter" the NIP lists: reactions, reposts, quotes, replies, comments, followers).
    /// The NIP leaves other filters undefined ("for cases not covered above ... behavior
    /// isn't yet defined"), and with several tag attributes or items, which is "first" is
    /// lost in decoding.
    ///
    /// Nil as well when a read policy may hide some of the matching events from this
    /// reader: registers cannot be taken back, so they would leak the hidden authors.
    private func hyperLogLogOffset(_ filters: [Filter], context: ReadContext) -> Int? {
        guard filters.count == 1, let filter = filters.first, filter.tags.count == 1,
            let values = filter.tags.first?.value, values.count == 1, let value = values.first
        else { return nil }
        if readPolicies.contains(where: { $0.scope(of: filters, context: context) != nil }) { return nil }
        return HyperLogLog.offset(forTagValue: value)
    }
}
