import Dispatch
import Foundation
import Logging
import MartletRelay

/// SIGHUP: the configuration file is read again and its lists (pubkeys, events, addresses,
/// kinds), limits and NIP-11 fields replace the running ones; the operator's NIP-86 changes
/// are replayed over them as at start. Connections stay open. A file that no longer reads
/// is logged and the running configuration kept.
enum ConfigurationReload {
    static func onHangUp(file: String?, relay: Relay, logger: Logger) -> any DispatchSourceSignal {
        // The default action of SIGHUP ends the process; the source sees it instead.
        signal(SIGHUP, SIG_IGN)
        let source = DispatchSource.makeSignalSource(signal: SIGHUP, queue: DispatchQueue(label: "martlet.sighup"))
        source.setEventHandler {
            Task { await reload(file: file, relay: relay, logger: logger) }
        }
        source.resume()
        return source
    }

    static func reload(file: String?, relay: Relay, logger: Logger) async {
        do {
            let settings = try await Settings.load(file: file)
            relay.reload(settings.relay)
            try await RelayAdministration(relay: relay).restore()
            logger.notice("configuration reloaded", metadata: ["file": "\(file ?? "martlet.yaml")"])
        } catch {
            logger.error("configuration not reloaded, the running one stays: \(error)")
        }
    }
}
