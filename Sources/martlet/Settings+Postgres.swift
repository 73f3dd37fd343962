import Configuration
import MartletStore

/// The PostgreSQL store's own settings: how `events` is partitioned and how large each of
/// its three connection pools is (`PostgresEventStore.Options`).
///
/// ```yaml
/// storage:
///   partition_interval: month      # month, week or day
///   partitions_ahead: 2
///   postgres:
///     pools: { ingest: 2, reads: 8, maintenance: 2 }
/// ```
struct PostgresStoreSettings {
    var partitionInterval = PartitionInterval.month
    var partitionsAhead = 2
    var ingestConnections = 2
    var readConnections = 8
    var maintenanceConnections = 2

    init() {}

    init(_ config: ConfigReader) throws {
        let interval = config.string(forKey: "storage.partition_interval", default: partitionInterval.rawValue)
        guard let partitionInterval = PartitionInterval(rawValue: interval) else {
            throw SettingsError("storage.partition_interval must be month, week or day, not \"\(interval)\"")
        }
        self.partitionInterval = partitionInterval
        partitionsAhead = config.int(forKey: "storage.partitions_ahead", default: partitionsAhead)
        ingestConnections = config.int(forKey: "storage.postgres.pools.ingest", default: ingestConnections)
        readConnections = config.int(forKey: "storage.postgres.pools.reads", default: readConnections)
        maintenanceConnections = config.int(forKey: "storage.postgres.pools.maintenance", default: maintenanceConnections)
    }

    /// These settings over the store's defaults.
    func apply(to options: inout PostgresEventStore.Options) {
        options.partitionInterval = partitionInterval
        options.partitionsAhead = partitionsAhead
        options.writeConnections = ingestConnections
        options.readConnections = readConnections
        options.maintenanceConnections = maintenanceConnections
    }
}
