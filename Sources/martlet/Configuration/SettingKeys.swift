import Foundation
import MartletRelay
import MartletStore
import MartletServer
import NostrCore

extension SettingKey {
    /// Every key `Settings` reads, in the order of the README's example file.
    static let all: [SettingKey] =
        server + storage + relay + informationDocument + limits + negentropy + management + mesh + access + search + mls + log
            + discovery + groups + axon + hosted

    private static let count = Int.max
    private static let seconds = Int.max

    private static let server: [SettingKey] = [
        .init(name: "server.host", shape: .text) { $0.host },
        .init(name: "server.port", shape: .integer(0...65535)) { "\($0.port)" },
        .init(name: "server.ping_interval", shape: .integer(1...3600)) { "\($0.pingInterval)" },
        .init(name: "server.max_connections_per_ip", shape: .integer(0...count)) { "\($0.relay.connections.maxPerIP)" },
        .init(name: "server.handshake_timeout", shape: .number(0.001...3600)) { seconds($0.relay.connections.handshakeTimeout) },
        .init(name: "server.status_access", shape: .choice(StatusAccess.allCases.map(\.rawValue))) {
            $0.relay.effectiveStatusAccess.rawValue
        },
        .init(name: "server.trusted_proxies", shape: .addresses) {
            list($0.relay.connections.trustedProxies.map(\.description))
        },
        .init(name: "server.compression", shape: .choice(["true", "false"])) { "\($0.relay.connections.compression)" },
        .init(name: "server.real_ip_header", shape: .choice(RelayConfiguration.RealIPHeader.allCases.map(\.rawValue))) {
            $0.relay.connections.realIPHeader.rawValue
        },
    ]

    private static let storage: [SettingKey] = [
        .init(name: "storage.data", shape: .text) { $0.dataDirectory },
        .init(name: "storage.database", shape: .databaseURL) { $0.database.map(redactingPassword) ?? "" },
        .init(name: "storage.synchronous", shape: .choice(["full", "normal"])) { $0.durableCommits ? "full" : "normal" },
        .init(name: "storage.event_cache_mib", shape: .integer(0...Settings.maxEventCacheMiB)) { "\($0.eventCacheMiB)" },
        .init(name: "storage.purge_interval", shape: .integer(1...seconds)) { "\($0.relay.purgeInterval.components.seconds)" },
        .init(name: "storage.partition_interval", shape: .choice(["month", "week", "day"])) {
            $0.postgres.partitionInterval.rawValue
        },
        .init(name: "storage.partitions_ahead", shape: .integer(1...120)) { "\($0.postgres.partitionsAhead)" },
        .init(name: "storage.postgres.pools.ingest", shape: .integer(1...1000)) { "\($0.postgres.ingestConnections)" },
        .init(name: "storage.postgres.pools.reads", shape: .integer(1...1000)) { "\($0.postgres.readConnections)" },
        .init(name: "storage.postgres.pools.maintenance", shape: .integer(1...1000)) {
            "\($0.postgres.maintenanceConnections)"
        },
        .init(name: "retention", shape: .retention) { $0.relay.retention.isEmpty ? "" : json($0.relay.retention) },
    ]

    private static let relay: [SettingKey] = [
        .init(name: "relay.name", shape: .text) { $0.relay.info.name },
        .init(name: "relay.description", shape: .text) { $0.relay.info.description },
        .init(name: "relay.pubkey", shape: .pubkey) { $0.relay.info.pubkey ?? "" },
        .init(name: "relay.contact", shape: .text) { $0.relay.info.contact ?? "" },
        .init(name: "relay.icon", shape: .text) { $0.relay.info.icon ?? "" },
        .init(name: "relay.url", shape: .relayURL) { $0.relay.info.url ?? "" },
        .init(name: "relay.alternate_urls", shape: .relayURLs) { list($0.relay.info.alternateURLs) },
    ]

    /// NIP-11's fields that only the document serves.
    private static let informationDocument: [SettingKey] = [
        .init(name: "relay.banner", shape: .webURL) { $0.relay.info.banner ?? "" },
        .init(name: "relay.privacy_policy", shape: .webURL) { $0.relay.info.privacyPolicy ?? "" },
        .init(name: "relay.terms_of_service", shape: .webURL) { $0.relay.info.termsOfService ?? "" },
        .init(name: "relay.posting_policy", shape: .webURL) { $0.relay.info.postingPolicy ?? "" },
        .init(name: "relay.payments_url", shape: .webURL) { $0.relay.info.paymentsURL ?? "" },
        .init(name: "relay.payment_required", shape: .choice(["true", "false"])) { "\($0.relay.info.paymentRequired)" },
        .init(name: "relay.fees", shape: .fees) { $0.relay.info.fees.map(json) ?? "" },
        .init(name: "relay.retention", shape: .retention) {
            $0.relay.info.retention.isEmpty ? "" : json($0.relay.info.retention)
        },
        .init(name: "relay.relay_countries", shape: .countries) { list($0.relay.info.relayCountries) },
        .init(name: "relay.language_tags", shape: .words) { list($0.relay.info.languageTags) },
        .init(name: "relay.tags", shape: .words) { list($0.relay.info.tags) },
        .init(name: "relay.software", shape: .webURL) { $0.relay.info.software ?? RelayInformationDocument.software },
        .init(name: "relay.version", shape: .text) { $0.relay.info.version ?? RelayInformationDocument.version },
    ]

    private static let groups: [SettingKey] = [
        .init(name: "groups.enabled", shape: .choice(["true", "false"])) { "\($0.relay.groups.enabled)" },
        .init(name: "groups.late_publication_window", shape: .integer(60...seconds)) {
            "\($0.relay.groups.latePublicationWindow)"
        },
        .init(name: "groups.max_groups", shape: .integer(1...count)) { "\($0.relay.groups.maxGroups)" },
        .init(name: "groups.max_members", shape: .integer(1...count)) { "\($0.relay.groups.maxMembers)" },
    ]

    /// Hosted relays (issue 18): the writers policy of a relay created without one.
    private static let hosted: [SettingKey] = [
        .init(name: "hosted.writers", shape: .choice(WriterRoster.Admission.allCases.map(\.rawValue))) {
            $0.hostedAdmission.rawValue
        },
        .init(name: "hosted.idle_close", shape: .integer(0...seconds)) { "\($0.hostedIdleClose)" },
    ]

    /// The axon profile (docs/axon.md).
    private static let axon: [SettingKey] = [
        .init(name: "axon.enabled", shape: .choice(["true", "false"])) { "\($0.relay.axon.enabled)" },
        .init(name: "axon.allowlist", shape: .axonKeys) { list($0.relay.axon.allowlist.map(\.hex).sorted()) },
        .init(name: "axon.max_content_bytes", shape: .integer(1...count)) { "\($0.relay.axon.maxContentBytes)" },
        .init(name: "axon.ephemeral_kinds", shape: .kindRange) {
            $0.relay.axon.ephemeralKinds.map { "\($0.lowerBound)-\($0.upperBound)" } ?? ""
        },
        .init(name: "axon.relay_url", shape: .relayURL) { $0.relay.axon.relayURL ?? "(the relay's own URLs)" },
    ]

    private static let search: [SettingKey] = [
        .init(name: "search.enabled", shape: .choice(["true", "false"])) { "\($0.relay.search.enabled)" },
        .init(name: "search.kinds", shape: .kinds) {
            $0.relay.search.kinds.only.map { kinds($0) } ?? "(every kind but 4, 13, 1059)"
        },
    ]

    /// NIP-EE, MLS messaging (`RelayConfiguration.MLS`).
    private static let mls: [SettingKey] = [
        .init(name: "features.mls", shape: .choice(["true", "false"])) { "\($0.relay.mls.enabled)" },
        .init(name: "mls.group_event_retention", shape: .integer(1...seconds)) {
            "\($0.relay.mls.groupEventRetention)"
        },
    ]

    private static let limits: [SettingKey] = [
        .init(name: "limits.max_message_length", shape: .integer(1024...count)) { "\($0.relay.limits.maxMessageLength)" },
        .init(name: "limits.max_subscriptions", shape: .integer(1...count)) { "\($0.relay.limits.maxSubscriptions)" },
        .init(name: "limits.max_filters", shape: .integer(1...count)) { "\($0.relay.limits.maxFilters)" },
        .init(name: "limits.max_limit", shape: .integer(1...count)) { "\($0.relay.limits.maxLimit)" },
        .init(name: "limits.max_filter_ids", shape: .integer(1...count)) { "\($0.relay.limits.maxFilterIDs)" },
        .init(name: "limits.max_filter_authors", shape: .integer(1...count)) { "\($0.relay.limits.maxFilterAuthors)" },
        .init(name: "limits.max_filter_kinds", shape: .integer(1...count)) { "\($0.relay.limits.maxFilterKinds)" },
        .init(name: "limits.max_filter_tag_values", shape: .integer(1...count)) {
            "\($0.relay.limits.maxFilterTagValues)"
        },
        .init(name: "limits.max_authors_times_kinds", shape: .integer(1...count)) {
            "\($0.relay.limits.maxAuthorsTimesKinds)"
        },
        .init(name: "limits.query_timeout", shape: .number(0...3600)) {
            $0.relay.limits.queryTimeout.map { seconds($0) } ?? "0"
        },
        .init(name: "limits.default_limit", shape: .integer(1...count)) { "\($0.relay.limits.defaultLimit)" },
        .init(name: "limits.max_subid_length", shape: .integer(1...64)) { "\($0.relay.limits.maxSubscriptionIDLength)" },
        .init(name: "limits.max_event_tags", shape: .integer(1...count)) { "\($0.relay.limits.maxEventTags)" },
        .init(name: "limits.max_content_length", shape: .integer(1...count)) { "\($0.relay.limits.maxContentLength)" },
        .init(name: "limits.created_at_lower_limit", shape: .integer(0...seconds)) {
            "\($0.relay.limits.createdAtLowerLimit)"
        },
        .init(name: "limits.created_at_upper_limit", shape: .integer(0...seconds)) {
            "\($0.relay.limits.createdAtUpperLimit)"
        },
    ]

    private static let negentropy: [SettingKey] = [
        .init(name: "negentropy.max_sessions", shape: .integer(0...count)) {
            "\($0.relay.negentropy.maxSessionsPerConnection)"
        },
        .init(name: "negentropy.max_records", shape: .integer(1...count)) { "\($0.relay.negentropy.maxRecords)" },
        .init(name: "negentropy.max_total_records", shape: .integer(0...count)) {
            "\($0.relay.negentropy.maxTotalRecords)"
        },
        .init(name: "negentropy.idle_timeout", shape: .integer(1...seconds)) {
            "\($0.relay.negentropy.idleTimeout.components.seconds)"
        },
        .init(name: "negentropy.frame_size_limit", shape: .integer(0...count)) { "\($0.relay.negentropy.frameSizeLimit)" },
        .init(name: "negentropy.initiator_frame_size_limit", shape: .integer(0...count)) {
            "\($0.relay.negentropy.initiatorFrameSizeLimit)"
        },
    ]

    private static let management: [SettingKey] = [
        .init(name: "management.admin_pubkeys", shape: .pubkeys) { list($0.relay.management.adminPubkeys.map(\.hex)) }
    ]

    private static let mesh: [SettingKey] = [
        .init(name: "mesh.peers", shape: .relayURLs) { list($0.mesh.peers) },
        .init(name: "mesh.filter", shape: .filter) { String(decoding: $0.mesh.filter.json, as: UTF8.self) },
        .init(name: "mesh.secret_key", shape: .secretKey) { $0.mesh.secretKey == nil ? "" : "(set)" },
    ]

    /// The relay's own key and DHT discovery (issue 17).
    private static let discovery: [SettingKey] = [
        .init(name: "relay.secret_key", shape: .secretKey) { $0.secretKey == nil ? "(generated: relay.key)" : "(set)" },
        .init(name: "discovery.enabled", shape: .choice(["true", "false"])) { "\($0.discovery.enabled)" },
        .init(name: "discovery.host", shape: .text) { $0.discovery.host },
        .init(name: "discovery.port", shape: .integer(0...65535)) { "\($0.discovery.port)" },
        .init(name: "discovery.bootstrap", shape: .endpoints) { list($0.discovery.bootstrap) },
        .init(name: "discovery.republish_interval", shape: .integer(1...seconds)) {
            "\($0.discovery.republishInterval.components.seconds)"
        },
        .init(name: "discovery.sync_interval", shape: .integer(1...seconds)) {
            "\($0.discovery.syncInterval.components.seconds)"
        },
        .init(name: "discovery.sync_filter", shape: .filter) {
            $0.mesh.discoveredFilter.map { String(decoding: $0.json, as: UTF8.self) } ?? "(mesh.filter)"
        },
        .init(name: "discovery.fetch_missing", shape: .choice(["true", "false"])) { "\($0.fetchMissing.enabled)" },
        .init(name: "discovery.fetch_timeout_ms", shape: .integer(1...60_000)) {
            "\(Int($0.fetchMissing.timeout / .milliseconds(1)))"
        },
        .init(name: "discovery.fetch_max_relays", shape: .integer(1...64)) { "\($0.fetchMissing.maxRelays)" },
        .init(name: "discovery.fetch_max_concurrent", shape: .integer(1...1024)) {
            "\($0.fetchMissing.maxConcurrentSearches)"
        },
    ]

    private static let access: [SettingKey] = [
        .init(name: "access.mode", shape: .choice(RelayConfiguration.Access.Mode.allCases.map(\.rawValue))) {
            $0.relay.access.mode.rawValue
        },
        .init(name: "access.allowed_pubkeys", shape: .pubkeys) { list($0.relay.access.allowedPubkeys.map(\.hex)) },
        .init(name: "access.banned_pubkeys", shape: .pubkeys) { list($0.relay.access.bannedPubkeys.map(\.hex)) },
        .init(name: "access.banned_events", shape: .eventIDs) { list($0.relay.access.bannedEvents.map(\.hex)) },
        .init(name: "access.blocked_ips", shape: .addresses) { list($0.relay.access.blockedIPs) },
        .init(name: "access.allowed_kinds", shape: .kinds) {
            $0.relay.access.allowedKinds.map { kinds($0) } ?? "(every kind)"
        },
        .init(name: "access.denied_kinds", shape: .kinds) { kinds($0.relay.access.deniedKinds) },
        .init(name: "access.private_kinds", shape: .kinds) { kinds($0.relay.access.privateKinds) },
        .init(name: "access.min_pow_difficulty", shape: .integer(0...256)) { "\($0.relay.access.minPowDifficulty)" },
        .init(name: "access.job_request_lifetime", shape: .integer(1...seconds)) {
            "\($0.relay.access.jobRequestLifetime)"
        },
        .init(name: "access.rate_limits.events_per_second_per_ip", shape: .number(0...Double.greatestFiniteMagnitude)) {
            "\($0.relay.access.rateLimits.eventsPerSecondPerIP)"
        },
        .init(
            name: "access.rate_limits.events_per_second_per_pubkey", shape: .number(0...Double.greatestFiniteMagnitude)
        ) { "\($0.relay.access.rateLimits.eventsPerSecondPerPubkey)" },
        .init(
            name: "access.rate_limits.requests_per_second_per_ip", shape: .number(0...Double.greatestFiniteMagnitude)
        ) { "\($0.relay.access.rateLimits.requestsPerSecondPerIP)" },
        .init(name: "access.rate_limits.burst", shape: .number(1...Double.greatestFiniteMagnitude)) {
            "\($0.relay.access.rateLimits.burst)"
        },
        .init(name: "access.write_plugin", shape: .text) { $0.relay.access.writePlugin?.command ?? "" },
        .init(name: "access.write_plugin_timeout", shape: .number(0.001...3600)) {
            seconds($0.relay.access.writePlugin?.timeout ?? .seconds(5))
        },
        .init(name: "access.write_plugin_failure", shape: .choice(["reject", "accept"])) {
            $0.relay.access.writePlugin?.failOpen == true ? "accept" : "reject"
        },
    ]

    private static let log: [SettingKey] = [
        .init(
            name: "log.level", shape: .choice(["trace", "debug", "info", "notice", "warning", "error", "critical"])
        ) { $0.logLevel },
        .init(name: "log.format", shape: .choice(LogFormat.allCases.map(\.rawValue))) { $0.logFormat.rawValue },
    ]

    private static func seconds(_ duration: Duration) -> String {
        "\(Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18)"
    }

    private static func json(_ value: some Encodable) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return (try? encoder.encode(value)).map { String(decoding: $0, as: UTF8.self) } ?? ""
    }

    private static func list(_ items: some Sequence<String>) -> String {
        "[" + items.sorted().joined(separator: ", ") + "]"
    }

    private static func kinds(_ kinds: Set<Kind>) -> String {
        "[" + kinds.map(\.rawValue).sorted().map(String.init).joined(separator: ", ") + "]"
    }

    /// `postgres://user:secret@host/db` as `postgres://user:***@host/db`.
    private static func redactingPassword(_ url: String) -> String {
        guard let at = url.firstIndex(of: "@"), let scheme = url.range(of: "://"),
            let colon = url[scheme.upperBound..<at].firstIndex(of: ":")
        else { return url }
        return String(url[..<url.index(after: colon)]) + "***" + String(url[at...])
    }
}
