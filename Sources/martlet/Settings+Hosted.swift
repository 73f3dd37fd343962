import Configuration
import Foundation
import Logging
import MartletRelay
import MartletReplication
import MartletServer
import MartletStore

extension Settings {
    /// `hosted.writers`: open (every node that asks becomes a writer) or approval (a writer approves).
    static func hostedAdmission(_ config: ConfigReader) throws -> WriterRoster.Admission {
        guard let text = config.string(forKey: "hosted.writers") else { return .approval }
        guard let admission = WriterRoster.Admission(rawValue: text) else {
            throw SettingsError("hosted.writers must be open or approval, not \"\(text)\"")
        }
        return admission
    }

    /// The hosted relays under the data folder, served beside the default relay; `node` is
    /// this node's key (its relay identity), which hosted relays' writers are.
    func hostedRelays(node: RelayIdentity, addresses: RelayAddresses, logger: Logger) -> HostedRelays {
        var options = HostedRelays.Options(dataDirectory: dataDirectory, configuration: relay, node: node.secretKey)
        options.admission = hostedAdmission
        options.mesh = mesh
        options.mesh.peers = []
        options.storage = hostedStorage
        options.idleClose = hostedIdleClose > 0 ? .seconds(hostedIdleClose) : nil
        return HostedRelays(options: options, addresses: addresses, logger: logger)
    }

    /// Where hosted relays keep their events: beside the default relay's store, of the
    /// same kind (a SQLite file each, or a PostgreSQL schema each on `storage.database`).
    var hostedStorage: HostedRelayStorage {
        guard let database else { return .sqlite(durableCommits: durableCommits) }
        var options = PostgresEventStore.Options()
        postgres.apply(to: &options)
        return .postgres(url: database, options: options)
    }
}
