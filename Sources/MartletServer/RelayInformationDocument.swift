import Foundation
public import MartletRelay

/// The NIP-11 relay information document, built from the relay's configuration so the
/// advertised limits are exactly the enforced ones and `supported_nips` lists only what is on.
///
/// ```swift
/// let body = RelayInformationDocument(configuration: relay.configuration).json()
/// ```
public struct RelayInformationDocument: Sendable {
    public static let software = "https://github.com/martlet-relay/martlet"
    public static let version = "0.1.0"

    public var configuration: RelayConfiguration

    public init(configuration: RelayConfiguration) {
        self.configuration = configuration
    }

    /// The relay NIPs this relay implements with `configuration`: each listed only when what
    /// it needs is on (NIP-11: "an array of the integer identifiers of NIPs that are
    /// implemented in the relay").
    public static func supportedNIPs(for configuration: RelayConfiguration) -> [Int] {
        var nips = [1, 9, 11, 40, 42, 45, 62, 70, 90]
        // NIP-13 on the relay's side is refusing weak events; at 0 nothing is checked.
        if configuration.access.minPowDifficulty > 0 { nips.append(13) }
        // NIP-17 and NIP-59 ask relays to serve gift wraps only to their recipients.
        if configuration.access.privateKinds.contains(1059) { nips += [17, 59] }
        if configuration.search.enabled { nips.append(50) }
        if configuration.groups.enabled { nips += [29, 43] }
        if configuration.negentropy.maxSessionsPerConnection > 0 { nips.append(77) }
        // Without an admin every NIP-86 call is refused.
        if !configuration.management.adminPubkeys.isEmpty { nips.append(86) }
        return nips.sorted()
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

    /// NIP-11's `limitation` object, every field of it.
    func limitation() -> [String: Any] {
        let limits = configuration.limits
        let access = configuration.access
        let standard: [String: Any] = [
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
            "min_pow_difficulty": access.minPowDifficulty,
            "auth_required": access.mode == .privateRelay,
            "payment_required": configuration.info.paymentRequired,
            "restricted_writes": access.restrictsWrites || configuration.info.paymentRequired,
        ]
        return standard.merging(Self.filterLimitation(limits)) { standard, _ in standard }
    }

    /// The document as JSON (not a hot path, so Foundation's encoder is fine here).
    public func json() -> [UInt8] {
        let info = configuration.info
        var document: [String: Any] = [
            "name": info.name,
            "description": info.description,
            "supported_nips": Self.supportedNIPs(for: configuration),
            "software": info.software ?? Self.software,
            "version": info.version ?? Self.version,
            "limitation": limitation(),
        ]
        let links: [(String, String?)] = [
            ("pubkey", info.pubkey), ("contact", info.contact), ("icon", info.icon), ("banner", info.banner),
            ("privacy_policy", info.privacyPolicy), ("terms_of_service", info.termsOfService),
            ("posting_policy", info.postingPolicy), ("payments_url", info.paymentsURL),
        ]
        for (key, value) in links {
            if let value, !value.isEmpty { document[key] = value }
        }
        // NIP-11 `self`: the relay's own key, which signs what the relay publishes.
        if let me = info.selfPubkey { document["self"] = me.hex }
        let lists: [(String, [String])] = [
            ("relay_countries", info.relayCountries), ("language_tags", info.languageTags), ("tags", info.tags),
        ]
        for (key, value) in lists where !value.isEmpty { document[key] = value }
        if let fees = info.fees { document["fees"] = Self.jsonObject(fees) }
        // NIP-EE group events go after their retention: the document says so while MLS is on.
        let retention = info.retention + configuration.mls.retentionRules
        if !retention.isEmpty { document["retention"] = Self.jsonObject(retention) }
        let data = (try? JSONSerialization.data(withJSONObject: document, options: [.sortedKeys])) ?? Data("{}".utf8)
        return Array(data)
    }

    /// A Codable value as the Foundation objects `JSONSerialization` takes.
    private static func jsonObject(_ value: some Encodable) -> Any {
        guard let data = try? JSONEncoder().encode(value) else { return NSNull() }
        return (try? JSONSerialization.jsonObject(with: data)) ?? NSNull()
    }
}
