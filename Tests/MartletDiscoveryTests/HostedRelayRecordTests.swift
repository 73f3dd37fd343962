import DHTTestSupport
import Foundation
import Logging
import MartletDHT
import MartletDiscovery
import MartletRelay
import MartletTestSupport
import NostrCore
import Testing

/// Hosted relays found by key alone (issue 18): a `Discovery` service puts each hosted
/// relay's record under the well-known key; a reader with nothing but the relay key and a
/// bootstrap node finds it, and believes only what the relay key signed.
@Suite("Hosted relay records in the DHT", .serialized)
struct HostedRelayRecordTests {
    @Test("the salt is martlet:relay: and the 32 key bytes, within BEP 44's 64")
    func salt() {
        let key = SecretKey.generate().publicKey
        let salt = HostedRelayRecord.salt(for: key)
        #expect(salt.count == 46 && salt.count <= 64)
        #expect(Array(salt.prefix(14)) == Array("martlet:relay:".utf8))
        #expect(Array(salt.suffix(32)) == key.raw.bytes)
    }

    @Test("a serving node's record is found from the key alone; a missing one and a forged one are refused")
    func putAndFind() async throws {
        try await withLoopbackNodes(3) { nodes in
            let seeds = nodes.map(\.localAddress)
            for node in nodes { await node.bootstrap(seeds) }
            var configuration = DiscoveryConfiguration()
            configuration.host = "127.0.0.1"
            configuration.port = 0
            configuration.bootstrap = seeds.map(\.description)
            configuration.syncInterval = .seconds(1)
            configuration.slots = 2
            configuration.queryTimeout = .seconds(10)

            // The serving node puts the record of the relay it holds the secret of.
            let hosted = SecretKey.generate()
            var logger = Logger(label: "martlet.test.hosted-record")
            logger.logLevel = .error
            let discovery = Discovery(
                configuration: configuration, identity: RelayIdentity(secretKey: .generate()),
                url: "ws://127.0.0.1:7000/", supportedNIPs: [1], hostedRelays: { [hosted] }, logger: logger)
            let running = Task { try await discovery.run() }
            defer { running.cancel() }
            #expect(await waitUntil(timeout: .seconds(60)) { discovery.hostedRelayRecordsPut >= 1 })

            let found = try await HostedRelayRecord.find(relayKey: hosted.publicKey, configuration: configuration)
            #expect(found.url == "ws://127.0.0.1:7000/\(hosted.publicKey.hex)")
            #expect(found.relayKey == hosted.publicKey)
            running.cancel()
            _ = try? await running.value

            // Nothing under a key nobody serves.
            let nobody = SecretKey.generate().publicKey
            await #expect(throws: HostedRelayRecord.Failure.notFound(nobody)) {
                try await HostedRelayRecord.find(relayKey: nobody, configuration: configuration)
            }

            // Anyone can write under the well-known key: a vandal puts, under K's salt, an
            // announcement of its own key naming its URL, and one claiming K with a bad signature.
            let victim = SecretKey.generate().publicKey
            let vandal = SecretKey.generate()
            let now = Discovery.unixTime()
            let own = RelayAnnouncement.signed(url: "ws://127.0.0.1:9/", supportedNIPs: [], createdAt: now, by: vandal)
            let item = try MutableItem.signed(
                value: .bytes(own.json()), sequence: now, salt: HostedRelayRecord.salt(for: victim), key: RelaySlots.key)
            #expect(await nodes[0].put(item, bootstrap: seeds) >= 1)
            await #expect(throws: HostedRelayRecord.Failure.invalid(victim, "signed by another key")) {
                try await HostedRelayRecord.find(relayKey: victim, configuration: configuration)
            }
            let claimed = RelayAnnouncement(
                url: "ws://127.0.0.1:9/", relayKey: victim, supportedNIPs: [], createdAt: now + 1,
                signature: own.signature)
            let forged = try MutableItem.signed(
                value: .bytes(claimed.json()), sequence: now + 1, salt: HostedRelayRecord.salt(for: victim),
                key: RelaySlots.key)
            #expect(await nodes[0].put(forged, bootstrap: seeds) >= 1)
            await #expect(throws: HostedRelayRecord.Failure.invalid(victim, "bad signature or stale")) {
                try await HostedRelayRecord.find(relayKey: victim, configuration: configuration)
            }
        }
    }
}
