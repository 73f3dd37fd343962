import Logging
import MartletDiscovery
import MartletReplication
import MartletStore
import MartletTestSupport
import NostrCore
import Testing

/// Relays found in the DHT that stop announcing themselves are forgotten: by discovery, by
/// the mesh (their peer stops and leaves), and their syncs are on record meanwhile (issue 17).
@Suite("Forgetting discovered relays")
struct ForgottenRelaysTests {
    @Test("a relay not seen since the cutoff is forgotten, handed to `forgotten`, and new again when found again")
    func discoveredRelaysForget() async {
        let relays = DiscoveredRelays(capacity: 8)
        let old = RelayAnnouncement.signed(url: "wss://old.example", supportedNIPs: [1], createdAt: 100, by: .generate())
        let fresh = RelayAnnouncement.signed(url: "wss://fresh.example", supportedNIPs: [1], createdAt: 100, by: .generate())
        #expect(relays.record(old, slot: 0, now: 100))
        #expect(relays.record(fresh, slot: 1, now: 300))
        #expect(relays.forget(seenBefore: 200) == ["wss://old.example"])
        #expect(relays.all.map(\.announcement.url) == ["wss://fresh.example"])
        var forgotten = relays.forgotten.makeAsyncIterator()
        #expect(await forgotten.next() == "wss://old.example")
        #expect(relays.record(old, slot: 0, now: 400), "a relay found again is new again")
    }

    @Test("a discovered peer is reconciled every sync interval, its syncs are in the sync store, and it leaves the mesh once forgotten")
    func meshDropsForgottenPeer() async throws {
        try await TestRelay.with { a in
            try await TestRelay.with { b in
                let relays = DiscoveredRelays(capacity: 8)
                var logger = Logger(label: "martlet.test.mesh")
                logger.logLevel = .error
                var configuration = MeshConfiguration()
                configuration.discoveredResyncInterval = .seconds(1)
                let mesh = Mesh(
                    relay: b.relay, configuration: configuration, discoveredPeers: relays.urls,
                    forgottenPeers: relays.forgotten, logger: logger)
                let running = Task { await mesh.run() }
                let announcement = RelayAnnouncement.signed(url: a.url, supportedNIPs: [1, 77], createdAt: 100, by: .generate())
                relays.record(announcement, slot: 0, now: 100)
                #expect(await waitUntil(timeout: .seconds(30)) { mesh.status.count(.live) == 1 })
                // The catch-up's end is on record (last sync), and counted as seeing the relay.
                let store = try #require(b.relay.store as? any SyncStore)
                var firstSync: Int64?
                #expect(try await waitUntil(timeout: .seconds(10)) {
                    firstSync = try await store.syncRelays().first { $0.url == a.url }?.lastSync
                    return firstSync != nil
                })
                // A discovered peer is reconciled again every interval (`discovery.sync_interval`)
                // while connected, and each round is on record.
                let start = try #require(firstSync)
                #expect(try await waitUntil(timeout: .seconds(20)) {
                    (try await store.syncRelays().first { $0.url == a.url }?.lastSync ?? 0) > start
                })
                let published = Author().event(content: "after the first catch-up")
                // Written to A's store beneath its pipeline, so no live stream carries it (as
                // with an event the stream lost): only a resync brings it to B.
                _ = try await a.relay.store.save([published])
                #expect(try await waitUntil(timeout: .seconds(20)) { try await b.relay.store.contains(published.id) })

                relays.forget(seenBefore: 200)
                #expect(await waitUntil(timeout: .seconds(30)) { mesh.peers.isEmpty })
                running.cancel()
                await running.value
            }
        }
    }
}
