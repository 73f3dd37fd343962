import Foundation
import MartletDHT
public import MartletStore
public import NostrCore

/// Where an author's notes are to be found: the write relays of their NIP-65 list (kind
/// 10002), from the local store, else from the DHT (`UserRelayList`, found from the pubkey
/// alone). NIP-65: "When downloading events from a user, clients SHOULD use the write
/// relays of that user's kind:10002 event."
///
/// ```swift
/// let relays = AuthorRelays(store: store, lookUp: { await discovery.relayList(of: $0) })
/// await relays.relays(of: [pubkey])   // ["wss://relay.example", ...]
/// ```
public struct AuthorRelays: Sendable {
    /// Authors whose lists are read for one question; a filter may name many more.
    public static let maxAuthors = 8

    private let store: any EventStore
    private let lookUp: @Sendable (PublicKey) async -> Event?

    /// - Parameter lookUp: the author's list from elsewhere (the DHT), asked for authors
    ///   with no list stored here.
    public init(store: any EventStore, lookUp: @escaping @Sendable (PublicKey) async -> Event? = { _ in nil }) {
        self.store = store
        self.lookUp = lookUp
    }

    /// The write relays of `authors` (at most `maxAuthors` of them), taking each author's
    /// first relay, then each one's second, and so on, each URL once.
    public func relays(of authors: Set<PublicKey>) async -> [String] {
        let asked = Array(authors.sorted().prefix(Self.maxAuthors))
        guard !asked.isEmpty else { return [] }
        let now = Int64(Date().timeIntervalSince1970)
        let filter = Filter(authors: Set(asked), kinds: [UserRelayList.kind], limit: asked.count)
        let stored = (try? await store.query([filter], maxLimit: asked.count, now: now)) ?? []
        var lists: [PublicKey: Event] = [:]
        for event in stored where lists[event.pubkey].map({ $0.createdAt < event.createdAt }) ?? true {
            lists[event.pubkey] = event
        }
        let unknown = asked.filter { lists[$0] == nil }
        let found = await withTaskGroup(of: Event?.self) { group in
            for author in unknown { group.addTask { await lookUp(author) } }
            return await group.reduce(into: [Event]()) { if let list = $1 { $0.append(list) } }
        }
        for list in found { lists[list.pubkey] = list }
        let perAuthor = asked.compactMap { lists[$0] }.map(Self.writeRelays)
        var seen = Set<String>()
        var ordered: [String] = []
        for rank in 0..<(perAuthor.map(\.count).max() ?? 0) {
            for relays in perAuthor where rank < relays.count && seen.insert(relays[rank]).inserted {
                ordered.append(relays[rank])
            }
        }
        return ordered
    }

    /// The relays of a NIP-65 list an author writes to: `r` tags with no marker or `write`.
    public static func writeRelays(_ list: Event) -> [String] {
        list.tags.compactMap { tag in
            guard tag.name == "r", let url = tag.value, tag.fields.count < 3 || tag.fields[2] == "write" else { return nil }
            return url
        }
    }
}

extension Discovery {
    /// `author`'s NIP-65 list from the DHT, by a node of its own started for this one
    /// lookup (`martlet fetch`, with no relay running): it joins through
    /// `configuration.bootstrap`, asks, and closes. Nil when nothing verified was found.
    public static func lookUpRelayList(of author: PublicKey, configuration: DiscoveryConfiguration) async -> Event? {
        var dht = DHTConfiguration(host: configuration.host, port: 0)
        dht.queryTimeout = configuration.queryTimeout
        guard let node = try? await DHTNode.start(dht) else { return nil }
        let seeds = await resolve(configuration.bootstrap)
        _ = await node.bootstrap(seeds)
        let item = await node.getMutable(publicKey: UserRelayList.publicKey(for: author), bootstrap: seeds)
        try? await node.close()
        return UserRelayList.verified(item, author: author)
    }
}
