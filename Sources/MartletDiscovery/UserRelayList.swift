public import Crypto
public import MartletDHT
public import NostrCore

/// A user's NIP-65 relay list (kind 10002) in the DHT, where anyone can find it from the
/// user's public key alone.
///
/// As in the seed, the item's key is derived from the public key: the ed25519 key whose seed
/// is SHA-256 of the 32 pubkey bytes, salt empty; so anyone can compute it, to read and to
/// write. What makes the list trustworthy is its content: `v` is a bencoded byte string
/// holding the user's kind 10002 event as JSON, signed by the user's Nostr key, which every
/// reader verifies (id, BIP-340 signature, kind, author). `seq` is the event's `created_at`,
/// so a newer list replaces an older one and a replayed older list is refused (BEP 44's
/// "302 sequence number less than current").
///
/// ```swift
/// if let item = UserRelayList.item(for: event) { await node.put(item) }
/// let found = UserRelayList.verified(await node.getMutable(publicKey: UserRelayList.publicKey(for: pubkey)), author: pubkey)
/// found.map(UserRelayList.relays)   // ["wss://relay.example", ...]
/// ```
public enum UserRelayList {
    public static let kind: Kind = 10002

    /// The ed25519 key of `pubkey`'s slot; its seed is public, by design.
    public static func key(for pubkey: PublicKey) -> Curve25519.Signing.PrivateKey {
        let seed = Array(SHA256.hash(data: pubkey.raw.bytes))
        // 32 bytes is exactly what rawRepresentation takes.
        return try! Curve25519.Signing.PrivateKey(rawRepresentation: seed)
    }

    public static func publicKey(for pubkey: PublicKey) -> [UInt8] {
        Array(key(for: pubkey).publicKey.rawRepresentation)
    }

    /// The item holding `event`; nil unless it is a kind 10002 that fits BEP 44's 1,000 bytes.
    public static func item(for event: Event) -> MutableItem? {
        guard event.kind == kind, event.createdAt >= 0 else { return nil }
        let value = Bencode.bytes(event.json)
        guard value.encoded().count <= BEP44.maxValueSize else { return nil }
        return try? MutableItem.signed(value: value, sequence: event.createdAt, key: key(for: event.pubkey))
    }

    /// The list in `item` when it is `author`'s kind 10002 with a valid id and signature.
    public static func verified(_ item: MutableItem?, author: PublicKey) -> Event? {
        guard let item, item.publicKey == publicKey(for: author), case .bytes(let json) = item.value else { return nil }
        return verified(json: json, author: author)
    }

    /// The list in a slot's value (the event's JSON) when it is `author`'s valid kind 10002.
    public static func verified(json: [UInt8], author: PublicKey) -> Event? {
        guard let event = try? EventDecoder.decode(json: json), event.kind == kind, event.pubkey == author,
            (try? event.validate()) != nil
        else { return nil }
        return event
    }

    /// The relay URLs of a NIP-65 list (its `r` tags), in order.
    public static func relays(_ event: Event) -> [String] {
        event.tags.values(named: "r")
    }
}
