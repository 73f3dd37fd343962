import Foundation
import Logging
import DHTTestSupport
import MartletDHT
import MartletDiscovery
import MartletRelay
import MartletTestSupport
import NostrCore
import Testing

/// Two `Discovery` services and plain Martlet DHT nodes on 127.0.0.1: announcing into free
/// slots, finding each other, and believing only announcements that verify.
@Suite("Relay discovery among loopback DHT nodes", .serialized)
struct DiscoveryServiceTests {
    @Test("two relays announce in free slots, skip a live relay's slot, find each other and the live relay, and ignore a forged slot")
    func announceAndFind() async throws {
        try await withLoopbackNodes(3) { nodes in
            let seeds = nodes.map(\.localAddress)
            for node in nodes { await node.bootstrap(seeds) }
            let now = Discovery.unixTime()

            // Slot 0: a live relay that is not running here; its slot must be left alone.
            let live = RelayAnnouncement.signed(
                url: "wss://live.example", supportedNIPs: [1], createdAt: now, by: SecretKey.generate())
            let liveItem = try Self.slotItem(live.json(), slot: 0, sequence: now)
            #expect(await nodes[0].put(liveItem, bootstrap: seeds) >= 1)
            // Slot 1: signed with the shared slot key (anyone can) but not by the relay it names.
            let genuine = RelayAnnouncement.signed(
                url: "wss://genuine.example", supportedNIPs: [1], createdAt: now, by: SecretKey.generate())
            let forged = RelayAnnouncement(
                url: "wss://forged.example", relayKey: genuine.relayKey, supportedNIPs: [1], createdAt: now,
                signature: genuine.signature)
            let forgedItem = try Self.slotItem(forged.json(), slot: 1, sequence: now)
            #expect(await nodes[0].put(forgedItem, bootstrap: seeds) >= 1)

            let a = Self.discovery(url: "ws://127.0.0.1:1/", bootstrap: seeds)
            let b = Self.discovery(url: "ws://127.0.0.1:2/", bootstrap: seeds)
            let running = [Task { try await a.run() }, Task { try await b.run() }]
            defer { for task in running { task.cancel() } }

            func urls(_ discovery: Discovery) -> Set<String> { Set(discovery.relays.all.map(\.announcement.url)) }
            // Seconds on an idle machine; the bound is for a loaded one.
            let converged = await waitUntil(timeout: .seconds(120)) {
                urls(a) == ["ws://127.0.0.1:2/", "wss://live.example"]
                    && urls(b) == ["ws://127.0.0.1:1/", "wss://live.example"]
            }
            #expect(converged, "A knows \(urls(a)), B knows \(urls(b))")
            #expect(a.announcedSlot != 0 && b.announcedSlot != 0 && a.announcedSlot != b.announcedSlot)
            #expect(a.rejectedAnnouncements + b.rejectedAnnouncements >= 1)
            for task in running { task.cancel() }
            for task in running { _ = try? await task.value }
        }
    }

    static func slotItem(_ json: [UInt8], slot: Int, sequence: Int64) throws -> MutableItem {
        try MutableItem.signed(value: .bytes(json), sequence: sequence, salt: RelaySlots.salt(slot), key: RelaySlots.key)
    }

    static func discovery(
        url: String, bootstrap: [IPv4Endpoint], servedLists: @escaping @Sendable () async -> [Event] = { [] }
    ) -> Discovery {
        var configuration = DiscoveryConfiguration()
        configuration.host = "127.0.0.1"
        configuration.port = 0
        configuration.bootstrap = bootstrap.map(\.description)
        configuration.syncInterval = .seconds(1)
        configuration.republishInterval = .seconds(5)
        configuration.slots = 8
        // A late answer on a loaded machine is not a lost node.
        configuration.queryTimeout = .seconds(10)
        var logger = Logger(label: "martlet.test.discovery")
        logger.logLevel = .error
        return Discovery(
            configuration: configuration, identity: RelayIdentity(secretKey: .generate()), url: url,
            supportedNIPs: [1, 11, 77], servedLists: servedLists, logger: logger)
    }
}

/// The relay's own key: configured, or made once and kept.
@Suite("The relay's identity")
struct RelayIdentityTests {
    @Test("a key made on first start is kept in relay.key with mode 0600 and read back on the next")
    func generatedOnce() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("martlet-identity-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        let first = try RelayIdentity.load(configured: nil, directory: folder.path)
        let path = folder.appendingPathComponent(RelayIdentity.fileName).path
        #expect(try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int == 0o600)
        let second = try RelayIdentity.load(configured: nil, directory: folder.path)
        #expect(first.publicKey == second.publicKey)
    }

    @Test("a configured key wins and no file is written")
    func configuredWins() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("martlet-identity-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        let key = SecretKey.generate()
        #expect(try RelayIdentity.load(configured: key, directory: folder.path).publicKey == key.publicKey)
        #expect(!FileManager.default.fileExists(atPath: folder.appendingPathComponent(RelayIdentity.fileName).path))
    }

    @Test("a relay.key that holds no key stops the start with the file named")
    func unreadable() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("martlet-identity-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try Data("not a key".utf8).write(to: folder.appendingPathComponent(RelayIdentity.fileName))
        #expect(throws: RelayIdentityError.self) { try RelayIdentity.load(configured: nil, directory: folder.path) }
    }
}
