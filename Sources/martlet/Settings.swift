import Configuration
import MartletRelay

/// The relay's settings, read from `martlet.yaml` and the environment.
///
/// Every key of the YAML file can be overridden by an environment variable named after it
/// with a `MARTLET_` prefix: `limits.max_subscriptions` is `MARTLET_LIMITS_MAX_SUBSCRIPTIONS`.
/// Command-line flags win over both.
struct Settings {
    var host = "127.0.0.1"
    var port = 7777
    var dataDirectory = "./data"
    var pingInterval = 30
    var logLevel = "info"
    var relay = RelayConfiguration()

    /// Reads `file` (missing is fine only when it is the default path) and the environment.
    static func load(file: String?, environment: [String: String]? = nil) async throws -> Settings {
        var providers: [any ConfigProvider] = [
            (environment.map { EnvironmentVariablesProvider(environmentVariables: $0) } ?? EnvironmentVariablesProvider())
                .prefixKeys(with: "martlet")
        ]
        providers.append(
            try await FileProvider<YAMLSnapshot>(filePath: .init(file ?? "martlet.yaml"), allowMissing: file == nil))
        return Settings(ConfigReader(providers: providers))
    }

    init() {}

    init(_ config: ConfigReader) {
        host = config.string(forKey: "server.host", default: host)
        port = config.int(forKey: "server.port", default: port)
        pingInterval = config.int(forKey: "server.ping_interval", default: pingInterval)
        dataDirectory = config.string(forKey: "storage.data", default: dataDirectory)
        logLevel = config.string(forKey: "log.level", default: logLevel)

        var info = relay.info
        info.name = config.string(forKey: "relay.name", default: info.name)
        info.description = config.string(forKey: "relay.description", default: info.description)
        info.pubkey = config.string(forKey: "relay.pubkey")
        info.contact = config.string(forKey: "relay.contact")
        info.icon = config.string(forKey: "relay.icon")
        info.url = config.string(forKey: "relay.url")
        relay.info = info

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
        relay.purgeInterval = .seconds(config.int(forKey: "storage.purge_interval", default: 60))
    }
}
