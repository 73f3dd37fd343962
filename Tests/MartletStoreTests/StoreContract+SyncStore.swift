import MartletStore
import MartletTestSupport
import NostrCore
import Testing

/// The sync store (issue 17; the seed's "sync store": "a sqlite db that stores info about
/// relays for uploading to dht and syncing"): the same rules on SQLite and PostgreSQL.
extension StoreContract {
    @Test("the sync store keeps relays' last seen, last sync and last error, and forgets stale ones", arguments: storeFactories)
    func syncStoreRelays(_ factory: any StoreFactory) async throws {
        let store = try await factory.makeStore()
        do {
            let sync = try #require(store as? any SyncStore)
            #expect(try await sync.syncRelays().isEmpty)
            try await sync.recordRelaySeen("wss://a.example", information: #"{"self":"ab"}"#, at: 100)
            try await sync.recordRelaySeen("wss://b.example", information: nil, at: 200)
            // An older sighting and one without information change neither.
            try await sync.recordRelaySeen("wss://a.example", information: nil, at: 50)
            try await sync.recordRelaySync("wss://a.example", at: 300, error: nil)
            try await sync.recordRelaySync("wss://b.example", at: 310, error: "connection refused")
            // A peer never announced (a configured one) is added by its first sync.
            try await sync.recordRelaySync("wss://c.example", at: 320, error: String(repeating: "x", count: 5000))

            let relays = try await sync.syncRelays()
            #expect(relays.map(\.url) == ["wss://c.example", "wss://a.example", "wss://b.example"])
            let a = try #require(relays.first { $0.url == "wss://a.example" })
            #expect(a == SyncRelay(url: "wss://a.example", information: #"{"self":"ab"}"#, lastSeen: 300, lastSync: 300))
            let b = try #require(relays.first { $0.url == "wss://b.example" })
            // A failed sync is not a sighting.
            #expect(b == SyncRelay(url: "wss://b.example", lastSeen: 200, lastError: "connection refused", lastErrorAt: 310))
            // Another relay's words are bounded before they are kept.
            #expect((relays.first { $0.url == "wss://c.example" }?.lastError?.count ?? 0) <= 512)

            #expect(try await sync.forgetRelays(seenBefore: 250).sorted() == ["wss://b.example"])
            #expect(try await sync.syncRelays().map(\.url) == ["wss://c.example", "wss://a.example"])

        } catch {
            try? await factory.dispose(store)
            throw error
        }
        // Kept across a restart.
        let reopened = try await factory.reopen(store)
        let again = try #require(reopened as? any SyncStore)
        #expect(try await again.syncRelays().map(\.url) == ["wss://c.example", "wss://a.example"])
        try await factory.dispose(reopened)
    }

    @Test("the sync store keeps the authors whose relay lists are put in the DHT", arguments: storeFactories)
    func syncStoreAuthors(_ factory: any StoreFactory) async throws {
        try await factory.withStore { (store: any EventStore) async throws in
            let sync = try #require(store as? any SyncStore)
            let alice = Author().pubkey
            let bob = Author().pubkey
            try await sync.recordSyncAuthor(alice, at: 100)
            try await sync.recordSyncAuthor(bob, at: 200)
            try await sync.recordSyncAuthor(alice, at: 300)
            try await sync.recordSyncAuthor(bob, at: 150)
            #expect(try await sync.syncAuthors() == [SyncAuthor(pubkey: alice, lastPut: 300), SyncAuthor(pubkey: bob, lastPut: 200)])
        }
    }
}
