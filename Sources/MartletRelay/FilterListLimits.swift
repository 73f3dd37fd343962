public import NostrCore

extension RelayConfiguration.Limits {
    /// The first list of `filters` longer than these limits allow, as the `invalid:`
    /// refusal of the REQ, COUNT or NEG-OPEN that sent it.
    ///
    /// A 40 KiB REQ of 500 authors × 2,000 kinds cost 9.4 s and 335 MB before the limits,
    /// and five of them stalled every other client's REQs for 13 s.
    ///
    /// ```swift
    /// if let refusal = limits.checkFilterLists(filters) { closeRefused(subscription, refusal) }
    /// ```
    public func checkFilterLists(_ filters: [Filter]) -> RejectReason? {
        for filter in filters {
            if let ids = filter.ids, ids.count > maxFilterIDs {
                return .invalid("too many ids in a filter (max \(maxFilterIDs))")
            }
            if let authors = filter.authors, authors.count > maxFilterAuthors {
                return .invalid("too many authors in a filter (max \(maxFilterAuthors))")
            }
            if let kinds = filter.kinds, kinds.count > maxFilterKinds {
                return .invalid("too many kinds in a filter (max \(maxFilterKinds))")
            }
            for (letter, values) in filter.tags where values.count > maxFilterTagValues {
                let name = String(UnicodeScalar(letter))
                return .invalid("too many #\(name) values in a filter (max \(maxFilterTagValues))")
            }
            if let authors = filter.authors, let kinds = filter.kinds, authors.count * kinds.count > maxAuthorsTimesKinds {
                return .invalid("too many authors × kinds in a filter (max \(maxAuthorsTimesKinds) pairs)")
            }
        }
        return nil
    }
}
