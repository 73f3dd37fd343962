import Foundation
import Configuration
import MartletDiscovery
import MartletRelay
import MartletReplication
import MartletServer
import MartletStore
import NostrCore

/// The relay's settings, read from `martlet.yaml` and the environment.
///
/// Every key of the YAML file can be overridden by an environment variable named after it
/// with a `MARTLET_` prefix: `limits.max_subscriptions` is `MARTLET_LIMITS_MAX_SUBSCRIPTIONS`.
/// Command-line flags win over both.
struct Settings {
    var host = "127.0.0.1"
    var port = 7777
    var dataDirectory = "./data"
    /// A PostgreSQL URL: events go there, shared with other relay nodes, instead of SQLite.
    var database: String?
    /// Partitions and pools of the PostgreSQL store.
    var postgres = PostgresStoreSettings()
    var pingInterval = 30
    var logLevel = "info"
    /// `storage.synchronous: full` (the default): SQLite syncs each committed batch.
    var durableCommits = true
    /// `storage.event_cache_mib`: stored events kept in memory for the REQs that ask for
    /// them again (`SQLiteEventStore.Options.eventCacheMiB`); 0 reads every one from disk.
    var eventCacheMiB = SQLiteEventStore.Options().eventCacheMiB
    static let maxEventCacheMiB = 1 << 20
    var logFormat = LogFormat.text
    var relay = RelayConfiguration()
    var mesh = MeshConfiguration()
    // Relay identity and DHT discovery (issue 17).
    var secretKey: SecretKey?
    var discovery = DiscoveryConfiguration()
    var fetchMissing = MissingEventsConfiguration()
    /// The writers policy of hosted relays created without one (`hosted.writers`, issue 18).
    var hostedAdmission = WriterRoster.Admission.approval
    /// Seconds an unused hosted relay stays open (`hosted.idle_close`; 0: until shutdown).
    var hostedIdleClose = 600

    /// Reads `file` (missing is fine only when it is the default path) and the environment.
    /// Every key is checked first (`ConfigurationCheck`): a problem stops here with one line each.
    static func load(file: String?, environment: [String: String]? = nil) async throws -> Settings {
        let check = try ConfigurationCheck(file: file, environment: environment ?? ProcessInfo.processInfo.environment)
        guard check.problems.isEmpty else {
            throw SettingsError(check.problems.map(\.description).joined(separator: "\n"))
        }
        var providers: [any ConfigProvider] = [
            (environment.map { EnvironmentVariablesProvider(environmentVariables: $0) } ?? EnvironmentVariablesProvider())
                .prefixKeys(with: "martlet")
        ]
        providers.append(
            try await FileProvider<YAMLSnapshot>(filePath: .init(file ?? "martlet.yaml"), allowMissing: file == nil))
        return try Settings(ConfigReader(providers: providers))
    }

    init() {}

    init(_ config: ConfigReader) throws {
        host = config.string(forKey: "server.host", default: host)
        port = config.int(forKey: "server.port", default: port)
        pingInterval = config.int(forKey: "server.ping_interval", default: pingInterval)
        dataDirectory = config.string(forKey: "storage.data", default: dataDirectory)
        let synchronous = config.string(forKey: "storage.synchronous", default: "full")
        guard ["full", "normal"].contains(synchronous) else {
            throw SettingsError("storage.synchronous must be full or normal, not \"\(synchronous)\"")
        }
        durableCommits = synchronous == "full"
        // Its range is checked with every key's (`SettingKey`), before settings are read.
        eventCacheMiB = config.int(forKey: "storage.event_cache_mib", default: eventCacheMiB)
        database = config.string(forKey: "storage.database").flatMap { $0.isEmpty ? nil : $0 }
        postgres = try PostgresStoreSettings(config)
        logLevel = config.string(forKey: "log.level", default: logLevel)
        let format = config.string(forKey: "log.format", default: logFormat.rawValue)
        guard let logFormat = LogFormat(rawValue: format) else {
            throw SettingsError("log.format must be text or json, not \"\(format)\"")
        }
        self.logFormat = logFormat

        var info = relay.info
        info.name = config.string(forKey: "relay.name", default: info.name)
        info.description = config.string(forKey: "relay.description", default: info.description)
        info.pubkey = try config.string(forKey: "relay.pubkey").flatMap { try Settings.pubkey($0, "relay.pubkey") }
        info.contact = config.string(forKey: "relay.contact")
        info.icon = config.string(forKey: "relay.icon")
        info.url = config.string(forKey: "relay.url").flatMap { $0.isEmpty ? nil : $0 }
        info.alternateURLs = config.stringArray(forKey: "relay.alternate_urls", default: [])
            .map { String($0.filter { !$0.isWhitespace }) }.filter { !$0.isEmpty }
        relay.info = try Settings.informationDocument(config.scoped(to: "relay"), info)
        relay.search.enabled = config.bool(forKey: "search.enabled", default: relay.search.enabled)
        relay.groups.enabled = config.bool(forKey: "groups.enabled", default: relay.groups.enabled)
        relay.groups.latePublicationWindow = Int64(
            config.int(forKey: "groups.late_publication_window", default: Int(relay.groups.latePublicationWindow)))
        relay.groups.maxGroups = config.int(forKey: "groups.max_groups", default: relay.groups.maxGroups)
        relay.groups.maxMembers = config.int(forKey: "groups.max_members", default: relay.groups.maxMembers)
        relay.axon = try Settings.axon(config.scoped(to: "axon"))
        relay.search.kinds = try Settings.searchableKinds(config.intArray(forKey: "search.kinds"))
        relay.mls.enabled = config.bool(forKey: "features.mls", default: relay.mls.enabled)
        relay.mls.groupEventRetention = Int64(
            config.int(forKey: "mls.group_event_retention", default: Int(relay.mls.groupEventRetention)))

        var limits = relay.limits
        limits.maxMessageLength = config.int(forKey: "limits.max_message_length", default: limits.maxMessageLength)
        limits.maxSubscriptions = config.int(forKey: "limits.max_subscriptions", default: limits.maxSubscriptions)
        limits.maxFilters = config.int(forKey: "limits.max_filters", default: limits.maxFilters)
        limits.maxLimit = config.int(forKey: "limits.max_limit", default: limits.maxLimit)
        limits.defaultLimit = config.int(forKey: "limits.default_limit", default: limits.defaultLimit)
        limits.maxSubscriptionIDLength = min(
            64, config.int(forKey: "limits.max_subid_length", default: limits.maxSubscriptionIDLength))
        limits.maxEventTags = config.int(forKey: "limits.max_event_tags", default: limits.maxEventTags)
        limits.maxContentLength = config.int(forKey: "limits.max_content_length", default: limits.maxContentLength)
        limits.createdAtLowerLimit = Int64(
            config.int(forKey: "limits.created_at_lower_limit", default: Int(limits.createdAtLowerLimit)))
        limits.createdAtUpperLimit = Int64(
            config.int(forKey: "limits.created_at_upper_limit", default: Int(limits.createdAtUpperLimit)))
        relay.limits = limits
        relay.limits = Settings.filterLimits(config, relay.limits)

        var negentropy = relay.negentropy
        negentropy.maxSessionsPerConnection = config.int(
            forKey: "negentropy.max_sessions", default: negentropy.maxSessionsPerConnection)
        negentropy.maxRecords = config.int(forKey: "negentropy.max_records", default: negentropy.maxRecords)
        negentropy.idleTimeout = .seconds(config.int(forKey: "negentropy.idle_timeout", default: 60))
        // Negentropy's smallest frame is 4096 bytes; 0 means unlimited.
        let frameSizeLimit = config.int(forKey: "negentropy.frame_size_limit", default: negentropy.frameSizeLimit)
        negentropy.frameSizeLimit = frameSizeLimit <= 0 ? 0 : max(4096, frameSizeLimit)
        let initiatorLimit = config.int(
            forKey: "negentropy.initiator_frame_size_limit", default: negentropy.initiatorFrameSizeLimit)
        negentropy.initiatorFrameSizeLimit = initiatorLimit <= 0 ? 0 : max(4096, initiatorLimit)
        relay.negentropy = negentropy
        // Relay-wide NIP-77 item budget (0: no limit).
        relay.negentropy.maxTotalRecords = config.int(
            forKey: "negentropy.max_total_records", default: relay.negentropy.maxTotalRecords)
        relay.purgeInterval = .seconds(config.int(forKey: "storage.purge_interval", default: 60))
        if let rules = config.string(forKey: "retention"), !rules.isEmpty {
            relay.retention = try Settings.decodeJSON([RetentionRule].self, rules, "retention")
            // NIP-11 advertises what the purge enforces, then what `relay.retention` adds.
            relay.info.retention = relay.retention + relay.info.retention
        }
        relay.access = try Settings.access(config.scoped(to: "access"))
        relay.management.adminPubkeys = try Settings.pubkeys(config, "management.admin_pubkeys")
        if let access = config.string(forKey: "server.status_access") {
            guard let parsed = StatusAccess(rawValue: access) else {
                let choices = StatusAccess.allCases.map(\.rawValue).joined(separator: ", ")
                throw SettingsError("server.status_access must be one of \(choices), not \"\(access)\"")
            }
            relay.statusAccess = parsed
        }
        mesh = try Settings.mesh(config.scoped(to: "mesh"), frameSizeLimit: negentropy.initiatorFrameSizeLimit)
        relay.connections = try Settings.connections(config.scoped(to: "server"))
        // Relay identity and DHT discovery (issue 17).
        secretKey = try Settings.relaySecretKey(config)
        discovery = try Settings.discovery(config.scoped(to: "discovery"), relayURL: relay.info.url)
        mesh.discoveredFilter = try Settings.discoveredFilter(config)
        mesh.discoveredResyncInterval = discovery.syncInterval
        fetchMissing = Settings.fetchMissing(config.scoped(to: "discovery"))
        hostedAdmission = try Settings.hostedAdmission(config)
        hostedIdleClose = config.int(forKey: "hosted.idle_close", default: hostedIdleClose)
        if relay.access.mode == .privateRelay, relay.info.url == nil {
            // Without it AUTH could only be checked against loopback URLs (or, as before, a
            // Host header the client chooses), and a private relay on a public address
            // would then let nobody in, or anyone whose AUTH a hostile relay relayed.
            throw SettingsError(
                "access.mode: private needs relay.url, the wss:// URL clients connect to: every NIP-42 AUTH must name it")
        }
    }

    // MARK: NIP-11 fields and NIP-50 search

    /// The `relay` keys that only the NIP-11 document serves: links, the fee schedule and
    /// retention (JSON text, as 11.md writes them), the community's countries, languages and tags.
    private static func informationDocument(_ config: ConfigReader, _ info: RelayInfo) throws -> RelayInfo {
        var info = info
        func link(_ key: String) -> String? { config.string(forKey: .init(key)).flatMap { $0.isEmpty ? nil : $0 } }
        func words(_ key: String) -> [String] {
            config.stringArray(forKey: .init(key), default: [])
                .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        }
        info.banner = link("banner")
        info.privacyPolicy = link("privacy_policy")
        info.termsOfService = link("terms_of_service")
        info.postingPolicy = link("posting_policy")
        info.paymentsURL = link("payments_url")
        info.paymentRequired = config.bool(forKey: "payment_required", default: false)
        info.software = link("software")
        info.version = link("version")
        info.relayCountries = words("relay_countries")
        info.languageTags = words("language_tags")
        info.tags = words("tags")
        if let fees = link("fees") {
            info.fees = try decodeJSON(RelayFees.self, fees, "relay.fees")
        }
        if let retention = link("retention") {
            info.retention = try decodeJSON([RetentionRule].self, retention, "relay.retention")
        }
        return info
    }

    /// `text` as NIP-11's JSON shape `type`, or the key named and what is wrong.
    static func decodeJSON<T: Decodable>(_ type: T.Type, _ text: String, _ key: String) throws -> T {
        do {
            return try JSONDecoder().decode(type, from: Data(text.utf8))
        } catch {
            throw SettingsError("\(key) is not NIP-11's JSON for it: \(error)")
        }
    }

    /// One public key, hex or npub, as the hex NIP-11 serves.
    private static func pubkey(_ text: String, _ key: String) throws -> String? {
        if text.isEmpty { return nil }
        guard let pubkey = PublicKey(hexOrNpub: text) else {
            throw SettingsError("\(key): \"\(text)\" is not a public key (64 hex characters or npub1...)")
        }
        return pubkey.hex
    }

    /// The `server` keys that bound connections before they become Nostr sessions.
    private static func connections(_ config: ConfigReader) throws -> RelayConfiguration.Connections {
        var connections = RelayConfiguration.Connections()
        connections.maxPerIP = config.int(forKey: "max_connections_per_ip", default: connections.maxPerIP)
        guard connections.maxPerIP >= 0 else {
            throw SettingsError("server.max_connections_per_ip must be 0 (no cap) or more, not \(connections.maxPerIP)")
        }
        let timeout = config.double(forKey: "handshake_timeout", default: 10)
        guard timeout > 0 else { throw SettingsError("server.handshake_timeout must be above 0 seconds, not \(timeout)") }
        connections.handshakeTimeout = .milliseconds(Int64(timeout * 1000))
        connections.trustedProxies = try config.stringArray(forKey: "trusted_proxies", default: []).map { text in
            guard let range = IPRange(text) else {
                throw SettingsError("server.trusted_proxies: \"\(text)\" is not an IP address or a CIDR range")
            }
            return range
        }
        let header = config.string(forKey: "real_ip_header", default: connections.realIPHeader.rawValue)
        guard let realIPHeader = RelayConfiguration.RealIPHeader(rawValue: header.lowercased()) else {
            let choices = RelayConfiguration.RealIPHeader.allCases.map(\.rawValue).joined(separator: ", ")
            throw SettingsError("server.real_ip_header must be one of \(choices), not \"\(header)\"")
        }
        connections.realIPHeader = realIPHeader
        connections.compression = config.bool(forKey: "compression", default: connections.compression)
        return connections
    }

    /// The `limits` keys bounding what one filter may ask (query amplification): list
    /// lengths, authors × kinds, and the time budget of a REQ's query (0 turns it off).
    private static func filterLimits(_ config: ConfigReader, _ limits: RelayConfiguration.Limits)
        -> RelayConfiguration.Limits
    {
        var limits = limits
        limits.maxFilterIDs = config.int(forKey: "limits.max_filter_ids", default: limits.maxFilterIDs)
        limits.maxFilterAuthors = config.int(forKey: "limits.max_filter_authors", default: limits.maxFilterAuthors)
        limits.maxFilterKinds = config.int(forKey: "limits.max_filter_kinds", default: limits.maxFilterKinds)
        limits.maxFilterTagValues = config.int(
            forKey: "limits.max_filter_tag_values", default: limits.maxFilterTagValues)
        limits.maxAuthorsTimesKinds = config.int(
            forKey: "limits.max_authors_times_kinds", default: limits.maxAuthorsTimesKinds)
        let timeout = config.double(forKey: "limits.query_timeout", default: 5)
        limits.queryTimeout = timeout > 0 ? .milliseconds(Int64(timeout * 1000)) : nil
        return limits
    }

    /// The `access` section: who may read and write.
    private static func access(_ config: ConfigReader) throws -> RelayConfiguration.Access {
        var access = RelayConfiguration.Access()
        let mode = config.string(forKey: "mode", default: access.mode.rawValue)
        guard let parsedMode = RelayConfiguration.Access.Mode(rawValue: mode) else {
            let choices = RelayConfiguration.Access.Mode.allCases.map(\.rawValue).joined(separator: ", ")
            throw SettingsError("access.mode must be one of \(choices), not \"\(mode)\"")
        }
        access.mode = parsedMode
        access.allowedPubkeys = try pubkeys(config, "allowed_pubkeys", section: "access.")
        access.bannedPubkeys = try pubkeys(config, "banned_pubkeys", section: "access.")
        access.bannedEvents = Set(
            try config.stringArray(forKey: "banned_events", default: []).map { text in
                guard let id = EventID(hex: text) else {
                    throw SettingsError("access.banned_events: \"\(text)\" is not a 64-character lowercase hex id")
                }
                return id
            })
        access.blockedIPs = Set(
            try config.stringArray(forKey: "blocked_ips", default: []).map { text in
                guard let range = IPRange(text) else {
                    throw SettingsError("access.blocked_ips: \"\(text)\" is not an IP address or a CIDR range")
                }
                return range.description
            })
        if let allowed = config.intArray(forKey: "allowed_kinds") { access.allowedKinds = try kinds(allowed, "allowed_kinds") }
        access.deniedKinds = try kinds(config.intArray(forKey: "denied_kinds", default: []), "denied_kinds")
        access.privateKinds = try kinds(config.intArray(forKey: "private_kinds", default: [1059]), "private_kinds")
        access.minPowDifficulty = config.int(forKey: "min_pow_difficulty", default: 0)
        access.jobRequestLifetime = Int64(config.int(forKey: "job_request_lifetime", default: 86_400))
        let rates = config.scoped(to: "rate_limits")
        access.rateLimits.eventsPerSecondPerIP = rates.double(forKey: "events_per_second_per_ip", default: 0)
        access.rateLimits.eventsPerSecondPerPubkey = rates.double(forKey: "events_per_second_per_pubkey", default: 0)
        access.rateLimits.requestsPerSecondPerIP = rates.double(forKey: "requests_per_second_per_ip", default: 0)
        access.rateLimits.burst = rates.double(forKey: "burst", default: access.rateLimits.burst)
        if let command = config.string(forKey: "write_plugin"), !command.isEmpty {
            var plugin = WritePlugin.Configuration(command: command)
            plugin.timeout = .milliseconds(Int64(config.double(forKey: "write_plugin_timeout", default: 5) * 1000))
            switch config.string(forKey: "write_plugin_failure", default: "reject") {
            case "reject": plugin.failOpen = false
            case "accept": plugin.failOpen = true
            case let other:
                throw SettingsError("access.write_plugin_failure: \"\(other)\" is neither reject nor accept")
            }
            access.writePlugin = plugin
        }
        return access
    }

    /// The `mesh` section: the peers kept in step with this relay.
    private static func mesh(_ config: ConfigReader, frameSizeLimit: Int) throws -> MeshConfiguration {
        var mesh = MeshConfiguration()
        mesh.peers = try config.stringArray(forKey: "peers", default: []).compactMap { entry in
            // `MARTLET_MESH_PEERS="ws://a, ws://b"` is a list too.
            let url = String(entry.filter { !$0.isWhitespace })
            if url.isEmpty { return nil }
            guard url.hasPrefix("ws://") || url.hasPrefix("wss://") else {
                throw SettingsError("mesh.peers: \"\(url)\" is not a ws:// or wss:// URL")
            }
            return url
        }
        if let filter = config.string(forKey: "filter") {
            do {
                mesh.filter = try Filter.decode(json: Array(filter.utf8))
            } catch {
                throw SettingsError("mesh.filter is not a NIP-01 filter: \(error.reason)")
            }
        }
        if let hex = config.string(forKey: "secret_key") {
            guard let key = SecretKey(hex: hex) else {
                throw SettingsError("mesh.secret_key is not a 64-character hex secret key")
            }
            mesh.secretKey = key
        }
        mesh.frameSizeLimit = frameSizeLimit
        return mesh
    }

    private static func pubkeys(_ config: ConfigReader, _ key: String, section: String = "") throws -> Set<PublicKey> {
        Set(
            try config.stringArray(forKey: .init(key), default: []).map { text in
                guard let pubkey = PublicKey(hexOrNpub: text) else {
                    throw SettingsError("\(section)\(key): \"\(text)\" is not a public key (64 hex characters or npub1...)")
                }
                return pubkey
            })
    }

    /// `search.kinds`: unset, every kind but the ciphertext ones; else only those listed.
    private static func searchableKinds(_ values: [Int]?) throws -> SearchableKinds {
        guard let values else { return .all }
        return SearchableKinds(
            only: Set(
                try values.map { value in
                    guard let kind = UInt16(exactly: value) else {
                        throw SettingsError("search.kinds: \(value) is not a kind between 0 and 65535")
                    }
                    return Kind(kind)
                }))
    }

    private static func kinds(_ values: [Int], _ key: String) throws -> Set<Kind> {
        Set(
            try values.map { value in
                guard let kind = UInt16(exactly: value) else {
                    throw SettingsError("access.\(key): \(value) is not a kind between 0 and 65535")
                }
                return Kind(kind)
            })
    }
}

/// A configuration value that cannot be used, with the key and the reason.
struct SettingsError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
