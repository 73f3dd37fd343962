public import NostrCore

extension RelayConfiguration {
    /// NIP-50 full-text search.
    ///
    /// ```swift
    /// var configuration = RelayConfiguration()
    /// configuration.search.enabled = false   // a REQ with `search` is CLOSED "unsupported: ..."
    /// ```
    public struct Search: Sendable {
        /// Off: `search` filters are refused and NIP-11 does not list 50.
        public var enabled = true
        /// The kinds whose content is indexed and found (`search.kinds`): both stores index
        /// by it and live subscriptions match by it. The ciphertext kinds never are.
        public var kinds = SearchableKinds.all

        public init() {}
    }
}

/// Refuses `search` filters when the operator turned search off: answering them as if the
/// field were absent would send every event the rest of the filter matches.
struct SearchDisabledPolicy: ReadPolicy {
    func check(_ filters: [Filter], context: ReadContext) -> RejectReason? {
        guard filters.contains(where: { $0.search != nil }) else { return nil }
        return RejectReason(.unsupported, "search is not enabled on this relay")
    }

    func canSee(_ event: some EventFields, context: ReadContext) -> Bool { true }
}
