import Configuration
import MartletDiscovery
import MartletReplication
import NostrCore

/// The relay's own key (`relay.secret_key`) and the `discovery` section (issue 17).
extension Settings {
    static func relaySecretKey(_ config: ConfigReader) throws -> SecretKey? {
        guard let text = config.string(forKey: "relay.secret_key"), !text.isEmpty else { return nil }
        guard let key = SecretKey(hexOrNsec: text) else {
            throw SettingsError("relay.secret_key is not a secret key (64 hex characters or nsec1...)")
        }
        return key
    }

    /// The `discovery` section: the DHT node, its bootstrap nodes and the two intervals.
    static func discovery(_ config: ConfigReader, relayURL: String?) throws -> DiscoveryConfiguration {
        var discovery = DiscoveryConfiguration()
        discovery.enabled = config.bool(forKey: "enabled", default: false)
        discovery.host = config.string(forKey: "host", default: discovery.host)
        discovery.port = config.int(forKey: "port", default: discovery.port)
        let bootstrap = config.stringArray(forKey: "bootstrap", default: discovery.bootstrap)
            .map { String($0.filter { !$0.isWhitespace }) }.filter { !$0.isEmpty }
        discovery.bootstrap = bootstrap
        discovery.republishInterval = .seconds(config.int(forKey: "republish_interval", default: 3600))
        discovery.syncInterval = .seconds(config.int(forKey: "sync_interval", default: 600))
        if discovery.enabled, relayURL == nil {
            // The announcement is the URL other relays connect to; a guess would send them astray.
            throw SettingsError("discovery.enabled needs relay.url, the ws:// or wss:// URL other relays connect to")
        }
        return discovery
    }

    /// `discovery.sync_filter`: what the mesh replicates with discovered relays.
    static func discoveredFilter(_ config: ConfigReader) throws -> Filter? {
        guard let text = config.string(forKey: "discovery.sync_filter"), !text.isEmpty else { return nil }
        do {
            return try Filter.decode(json: Array(text.utf8))
        } catch {
            throw SettingsError("discovery.sync_filter is not a NIP-01 filter: \(error.reason)")
        }
    }

    /// `discovery.fetch_*`: looking elsewhere for events a REQ asks for by id (`fetch_missing`).
    static func fetchMissing(_ config: ConfigReader) -> MissingEventsConfiguration {
        var fetch = MissingEventsConfiguration()
        fetch.enabled = config.bool(forKey: "fetch_missing", default: false)
        fetch.timeout = .milliseconds(config.int(forKey: "fetch_timeout_ms", default: 3000))
        fetch.maxRelays = config.int(forKey: "fetch_max_relays", default: fetch.maxRelays)
        fetch.maxConcurrentSearches = config.int(forKey: "fetch_max_concurrent", default: fetch.maxConcurrentSearches)
        return fetch
    }
}
