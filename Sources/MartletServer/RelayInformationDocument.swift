import Foundation
public import MartletRelay

/// The NIP-11 relay information document, built from the relay's configuration so the
/// advertised limits are exactly the enforced ones.
///
/// ```swift
/// let body = RelayInformationDocument(configuration: relay.configuration).json()
/// ```
public struct RelayInformationDocument: Sendable {
    /// The NIPs this build implements end to end.
    public static let supportedNIPs = [1, 9, 11, 13, 17, 40, 42, 45, 59, 62, 70, 77, 86, 90]
    public static let software = "https://github.com/martlet-relay/martlet"
    public static let version = "0.1.0"

    public var configuration: RelayConfiguration

    public init(configuration: RelayConfiguration) {
        self.configuration = configuration
    }

    /// Martlet's own bounds on one filter, in `limitation` next to NIP-11's (which names
    /// none of these): a client that reads them can split a long follow list in advance.
    static func filterLimitation(_ limits: RelayConfiguration.Limits) -> [String: Any] {
        var limitation: [String: Any] = [
            "max_filter_ids": limits.maxFilterIDs,
            "max_filter_authors": limits.maxFilterAuthors,
            "max_filter_kinds": limits.maxFilterKinds,
            "max_filter_tag_values": limits.maxFilterTagValues,
            "max_authors_times_kinds": limits.maxAuthorsTimesKinds,
        ]
        if let timeout = limits.queryTimeout {
            let seconds = Double(timeout.components.seconds) + Double(timeout.components.attoseconds) / 1e18
            limitation["query_timeout"] = seconds
        }
        return limitation
    }

    /// The document as JSON (not a hot path, so Foundation's encoder is fine here).
    public func json() -> [UInt8] {
        let info = configuration.info
        let limits = configuration.limits
        var document: [String: Any] = [
            "name": info.name,
            "description": info.description,
            "supported_nips": Self.supportedNIPs,
            "software": Self.software,
            "version": Self.version,
            "limitation": [
                "max_message_length": limits.maxMessageLength,
                "max_subscriptions": limits.maxSubscriptions,
                "max_filters": limits.maxFilters,
                "max_limit": limits.maxLimit,
                "default_limit": limits.defaultLimit,
                "max_subid_length": limits.maxSubscriptionIDLength,
                "max_event_tags": limits.maxEventTags,
                "max_content_length": limits.maxContentLength,
                "created_at_lower_limit": limits.createdAtLowerLimit,
                "created_at_upper_limit": limits.createdAtUpperLimit,
                "min_pow_difficulty": configuration.access.minPowDifficulty,
                "auth_required": configuration.access.mode == .privateRelay,
                "payment_required": false,
                "restricted_writes": configuration.access.restrictsWrites,
            ] as [String: Any],
        ]
        if let pubkey = info.pubkey { document["pubkey"] = pubkey }
        if let me = info.selfPubkey { document["self"] = me.hex }
        if let contact = info.contact { document["contact"] = contact }
        if let icon = info.icon { document["icon"] = icon }
        if let standard = document["limitation"] as? [String: Any] {
            document["limitation"] = standard.merging(Self.filterLimitation(limits)) { standard, _ in standard }
        }
        let data = (try? JSONSerialization.data(withJSONObject: document, options: [.sortedKeys])) ?? Data("{}".utf8)
        return Array(data)
    }
}
