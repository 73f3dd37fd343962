import Logging
import MartletStore
import NostrCore

extension Relay {
    /// The groups of a relay with `groups.enabled`, on a store that keeps them. They need
    /// the relay's key: the configured one, else one made for this run, which then is
    /// NIP-11's `self` too (`martlet serve` always passes the key of its data folder).
    static func makeGroups(_ configuration: inout RelayConfiguration, store: any EventStore, logger: Logger) -> Groups? {
        guard configuration.groups.enabled else { return nil }
        guard let groupStore = store as? any GroupStore else {
            logger.warning("groups.enabled is on, but this store keeps no groups: NIP-29 is off")
            return nil
        }
        let identity = configuration.identity ?? RelayIdentity(secretKey: .generate())
        configuration.identity = identity
        if configuration.info.selfPubkey == nil { configuration.info.selfPubkey = identity.publicKey }
        return Groups(store: groupStore, identity: identity, settings: configuration.groups, logger: logger)
    }
}
