public import MartletDHT
public import NostrCore

/// Where a hosted relay (issue 18) is found by its key alone: the BEP 44 mutable item under
/// the salt space's well-known key (`RelaySlots.key`) with salt `martlet:relay:` followed by
/// the relay key's 32 raw bytes (46 bytes; BEP 44 allows 64). Its value is a
/// `RelayAnnouncement` signed by the hosted relay's own key, naming the URL of a node that
/// serves it (`<node url>/<relay key>`).
///
/// Trust: anyone can sign under the well-known key, so the item's BEP 44 signature proves
/// nothing; a reader believes the value only when the announcement's `self` is the relay
/// key it asked for and its BIP-340 signature verifies. A vandal can put junk (or a
/// higher `seq`) there and hide the relay until its node puts again, but cannot make a
/// reader join a URL the relay's key did not sign.
///
/// ```swift
/// let item = try HostedRelayRecord.item(url: "wss://host/\(key.hex)", signedBy: relaySecret, now: now)
/// let found = try await HostedRelayRecord.find(relayKey: key, configuration: settings.discovery)
/// found.url // where to join
/// ```
public enum HostedRelayRecord {
    static let saltPrefix = Array("martlet:relay:".utf8)

    /// `martlet:relay:` and the 32 key bytes.
    public static func salt(for relayKey: PublicKey) -> [UInt8] { saltPrefix + relayKey.raw.bytes }

    /// A freshly signed record for the relay whose secret is `secret`; `seq` is the clock,
    /// so it grows from round to round and across restarts.
    public static func item(url: String, signedBy secret: SecretKey, now: Int64) throws -> MutableItem {
        let announcement = RelayAnnouncement.signed(url: url, supportedNIPs: [], createdAt: now, by: secret)
        return try MutableItem.signed(
            value: .bytes(announcement.json()), sequence: now, salt: salt(for: secret.publicKey), key: RelaySlots.key)
    }

    /// Why no record could be used; `description` is one line.
    public enum Failure: Error, Equatable, CustomStringConvertible {
        case notFound(PublicKey)
        case invalid(PublicKey, String)

        public var description: String {
            switch self {
            case .notFound(let key): "relay \(key) was not found in the DHT"
            case .invalid(let key, let why): "the DHT record for relay \(key) is not valid (\(why))"
            }
        }
    }

    /// The announcement `item` holds, only if it is signed by `relayKey` and recent.
    public static func verified(_ item: MutableItem?, relayKey: PublicKey, now: Int64, maxAge: Int64) throws(Failure)
        -> RelayAnnouncement
    {
        guard let item else { throw .notFound(relayKey) }
        guard case .bytes(let json) = item.value else { throw .invalid(relayKey, "the value is not a byte string") }
        let announcement: RelayAnnouncement
        do {
            announcement = try RelayAnnouncement.decode(json)
        } catch {
            throw .invalid(relayKey, error.description)
        }
        guard announcement.relayKey == relayKey else { throw .invalid(relayKey, "signed by another key") }
        guard announcement.isValid(now: now, maxAge: maxAge) else {
            throw .invalid(relayKey, "bad signature or stale")
        }
        return announcement
    }

    /// Looks the relay up from a DHT node of its own, started for this one lookup (as
    /// `Discovery.lookUpRelayList` does): it joins through `configuration.bootstrap`, asks, and closes.
    public static func find(
        relayKey: PublicKey, configuration: DiscoveryConfiguration, now: @Sendable () -> Int64 = Discovery.unixTime
    ) async throws -> RelayAnnouncement {
        var dht = DHTConfiguration(host: configuration.host, port: 0)
        dht.queryTimeout = configuration.queryTimeout
        let node = try await DHTNode.start(dht)
        let seeds = await Discovery.resolve(configuration.bootstrap)
        _ = await node.bootstrap(seeds)
        let item = await node.getMutable(publicKey: RelaySlots.publicKey, salt: salt(for: relayKey), bootstrap: seeds)
        try? await node.close()
        return try verified(item, relayKey: relayKey, now: now(), maxAge: configuration.maxAnnouncementAge)
    }
}
